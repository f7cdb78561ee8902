"""The living-evidence registry: keeps a systematic review and meta-analysis current."""

__version__ = "0.1.0"

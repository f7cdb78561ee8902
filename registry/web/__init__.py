"""The team workspace: ``registry serve`` (Starlette app, Jinja2 pages, vendored static files).

Layout: :mod:`auth` (passwords, signed sessions, CSRF, login throttle, roles),
:mod:`services` (the thin adapter onto screening, dedup, curation and reports: the only
module that calls those packages), :mod:`extraction` (forms from the protocol and the sheet
schemas), :mod:`routes` (pages), :mod:`app` (assembly), :mod:`remote` (the CLI asking a
running server).
"""

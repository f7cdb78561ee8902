# The two commands of the README. Everything they need is installed from here.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
REVIEW ?= msc-cirrhosis
OUT ?= out
DB ?= $(OUT)/registry.duckdb

.PHONY: update test lint bench setup browser clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $(STAMP)

setup: $(STAMP)

## First command: refresh the bundled review's evidence summary (works offline), then the
## two example reviews (complete published data; they have no live search).
update: $(STAMP)
	mkdir -p $(OUT)
	$(BIN)/registry --db $(DB) update --review $(REVIEW) --out $(OUT)
	$(BIN)/registry --db $(DB) update --review bcg-vaccine --out $(OUT)
	$(BIN)/registry --db $(DB) update --review stroke-unit-los --out $(OUT)
	@echo "Open $(OUT)/$(REVIEW)/report.html (Markdown: $(OUT)/$(REVIEW)/report.md)"

## Headless Chromium from Debian for the report's browser test (no browser download).
browser:
	@if ! command -v chromium >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || echo "warning: could not install chromium; browser tests will fail"; \
	  else echo "warning: chromium missing and not root; install the Debian package 'chromium'"; fi; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check registry ingest schemas reports tests bench

## Second command: the whole test suite (what .ci/run calls).
test: $(STAMP) browser lint
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	for f in bench/bench_*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) $(OUT)

# Developer entry points. `make demo` runs the registry, `make test` runs every check CI runs.
# See DEVELOPERS.md.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Touched after a successful install; pip runs again only when pyproject.toml is newer.
STAMP := $(VENV)/.installed
# Extra pytest arguments, e.g. make test PYTEST_ARGS='-m "not browser" -x'
PYTEST_ARGS ?=
# Debian packages the test suite needs beyond Python: browser tests, Chinese glyphs in
# screenshots and labels, the throwaway PostgreSQL cluster (postgresql-15 includes pg_trgm),
# cairo (cairosvg rasterises SVG labels for the QR decoder), wrk and valgrind (the benchmark
# smoke tests: HTTP load, instruction counts) and
# redis-server (rate limits shared through Redis), and Go with golang.org/x/mod (the reference
# signed-note implementation our checkpoints are checked against).
CHROMIUM := /usr/bin/chromium
INITDB := /usr/lib/postgresql/15/bin/initdb

.PHONY: venv demo test lint bench system-deps constraints

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || { \
	  echo "error: Python 3.11 or newer is needed; '$(PYTHON)' is $$($(PYTHON) --version 2>&1 | head -n 1)." >&2; \
	  echo "       Install it, or run: make $(MAKECMDGOALS) PYTHON=/path/to/python3.11" >&2; \
	  exit 1; }
	@$(PYTHON) -m venv $(VENV) || { \
	  echo "error: '$(PYTHON) -m venv' failed; on Debian: apt-get install python3-venv" >&2; \
	  rm -rf $(VENV); exit 1; }

# The exact versions the suite last passed with, for the Python minor version they were resolved
# on (CI's, 3.11): other Pythons resolve freely. `make constraints` resolves them again.
CONSTRAINTS := constraints.txt

$(STAMP): pyproject.toml $(CONSTRAINTS) | $(BIN)/python
	$(BIN)/python -m pip install --disable-pip-version-check -c $(CONSTRAINTS) -e '.[dev]'
	@touch $@

venv: $(STAMP)

# Resolve the newest releases pyproject.toml allows into a fresh virtualenv and pin them; then
# run `make test` and commit constraints.txt if it passes.
constraints: | $(BIN)/python
	rm -rf $(VENV)-resolve
	$(PYTHON) -m venv $(VENV)-resolve
	$(VENV)-resolve/bin/python -m pip install --disable-pip-version-check -q -e '.[dev]'
	minor=$$($(VENV)-resolve/bin/python -c 'import sys; print("%d.%d" % sys.version_info[:2])'); \
	{ echo "# pip constraints: what make constraints resolved (see the Makefile)."; \
	  $(VENV)-resolve/bin/python -m pip freeze --exclude-editable | \
	  sed "s/\$$/ ; python_version == \"$$minor\"/"; } > $(CONSTRAINTS)
	rm -rf $(VENV)-resolve

demo: $(STAMP)
	$(BIN)/registry demo $(if $(HOST),--host $(HOST)) $(if $(PORT),--port $(PORT))

# Installs missing Debian packages when root; otherwise says how and carries on (the tests
# that need them skip, or fail under CI=true).
system-deps:
	@missing=""; \
	[ -x $(CHROMIUM) ] || missing="$$missing chromium"; \
	fc-list :lang=zh 2>/dev/null | grep -q . || missing="$$missing fonts-noto-cjk"; \
	[ -x $(INITDB) ] || missing="$$missing postgresql-15"; \
	ldconfig -p 2>/dev/null | grep -q 'libcairo\.so\.2' || missing="$$missing libcairo2"; \
	command -v wrk >/dev/null || missing="$$missing wrk"; \
	command -v valgrind >/dev/null || missing="$$missing valgrind"; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null || missing="$$missing nginx-light"; \
	command -v go >/dev/null || missing="$$missing golang-go"; \
	[ -d /usr/share/gocode/src/golang.org/x/mod/sumdb/note ] || missing="$$missing golang-golang-x-mod-dev"; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "Installing:$$missing"; \
	  apt-get update && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$missing; \
	else \
	  echo "note: missing$$missing; browser/PostgreSQL tests will skip (fail under CI=true)." >&2; \
	  echo "      Debian: sudo apt-get install --no-install-recommends$$missing" >&2; \
	fi

test: $(STAMP) system-deps
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The HTTP benchmark at a million certificates (the first run loads them: about 45 minutes).
# Quick look: make bench BENCH_ARGS=--quick. See docs/benchmarks.md.
BENCH_ARGS ?=
bench: $(STAMP)
	$(BIN)/python -m bench http $(BENCH_ARGS)

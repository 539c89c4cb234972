# civicgrid — the two set-up commands are `make demo` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/test
HOST ?= 127.0.0.1
PORT ?= 8000
VENDOR := civicgrid/web/static/vendor

.PHONY: demo test bench install assets messages services lint test-sqlite test-postgres migrate system-packages browser bench-tools clean

# --- set-up steps (each one is idempotent and cheap when nothing changed) --------------------
system-packages:
	@command -v msgfmt >/dev/null || { apt-get update -qq && apt-get install -y -qq gettext; }
	@command -v npm >/dev/null || { apt-get update -qq && apt-get install -y -qq nodejs npm; }

# Browser tests drive Debian's chromium with Playwright (never a downloaded browser build).
browser: system-packages
	@command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium; }
	@fc-list :lang=zh | grep -q . || { apt-get update -qq && apt-get install -y -qq fonts-noto-cjk; }

# The intake benchmark loads the server with wrk (a C load generator: the client must not be the
# bottleneck); without it the benchmark falls back to its Python client and says so.
bench-tools:
	@command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PY) -m pip install -q --disable-pip-version-check -e '.[test]'
	@touch $@

install: system-packages $(VENV)/.installed

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# Front-end libraries come from the npm registry and are served by us: no CDN.
$(VENDOR)/.copied: node_modules/.installed
	mkdir -p $(VENDOR)/htmx $(VENDOR)/leaflet $(VENDOR)/echarts $(VENDOR)/markercluster
	cp node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/htmx/
	cp -r node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.js.map node_modules/leaflet/dist/leaflet.css node_modules/leaflet/dist/images $(VENDOR)/leaflet/
	cp node_modules/echarts/dist/echarts.min.js $(VENDOR)/echarts/
	cp node_modules/leaflet.markercluster/dist/leaflet.markercluster.js node_modules/leaflet.markercluster/dist/leaflet.markercluster.js.map node_modules/leaflet.markercluster/dist/MarkerCluster.css node_modules/leaflet.markercluster/dist/MarkerCluster.Default.css $(VENDOR)/markercluster/
	@touch $@

messages: install
	DEBUG=1 $(PY) manage.py compilemessages --ignore=.venv --ignore=node_modules -v 0

assets: install $(VENDOR)/.copied messages
	DEBUG=1 $(PY) manage.py collectstatic --noinput -v 0

services:
	@pg_isready -q -h 127.0.0.1 -p 5432 || pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start
	@redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 || redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' --appendonly no

# --- the two commands ------------------------------------------------------------------------
demo: assets
	DEBUG=1 $(PY) manage.py migrate --noinput -v 0
	DEBUG=1 $(PY) manage.py load_demo
	DEBUG=1 $(PY) manage.py load_demo_history --if-missing
	@echo "Serving civicgrid on http://$(HOST):$(PORT)/ (admin: http://$(HOST):$(PORT)/admin/)"
	DEBUG=1 $(PY) manage.py runserver --noreload $(HOST):$(PORT)

lint: install
	$(VENV)/bin/ruff check civicgrid

test-sqlite: install assets browser
	env -u DATABASE_URL $(VENV)/bin/pytest -n 2

test-postgres: install assets browser services
	DATABASE_URL=$(PG_TEST_URL) $(VENV)/bin/pytest -n 2

test: lint test-sqlite test-postgres

bench: install assets services bench-tools
	DATABASE_URL=$(PG_TEST_URL) $(PY) -m civicgrid.bench

clean:
	rm -rf $(VENV) node_modules $(VENDOR) var/static

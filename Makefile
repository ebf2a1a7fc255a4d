# Bootstraps everything from a machine with only Python 3.11, pip and make.
PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
export UV_PROJECT_ENVIRONMENT := $(abspath $(VENV))

.PHONY: run test lint typecheck check-generated browser prometheus fmt clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --python $(PYTHON)
	touch $@

run: $(VENV)/.synced
	$(VENV)/bin/gordon up --demo

test: $(VENV)/.synced lint typecheck check-generated browser prometheus
	$(VENV)/bin/pytest

lint: $(VENV)/.synced
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(VENV)/.synced
	$(VENV)/bin/mypy gordon settings registry schemas domain producers consumers stores projections services migrations

check-generated: $(VENV)/.synced
	$(VENV)/bin/gordon asyncapi --check
	$(VENV)/bin/gordon schemas check
	$(VENV)/bin/gordon codegen --check
	$(VENV)/bin/gordon outbox-policies --check
	$(VENV)/bin/gordon nats-auth --check
	$(VENV)/bin/gordon alerts --check
	$(VENV)/bin/gordon dashboard --check

# The browser tests drive Debian's Chromium (never a browser downloaded by a test tool).
CHROMIUM ?= /usr/bin/chromium
browser:
	@test -x $(CHROMIUM) || { echo "installing Debian's chromium for the browser tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends chromium; }

# The Prometheus test runs Debian's prometheus (and promtool) against a running platform.
PROMETHEUS ?= /usr/bin/prometheus
prometheus:
	@test -x $(PROMETHEUS) || { echo "installing Debian's prometheus for the alerting test"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends prometheus; }

fmt: $(VENV)/.synced
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) $(TOOLS) .mypy_cache .ruff_cache .pytest_cache

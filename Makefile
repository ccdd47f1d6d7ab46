# The front doors for everything that is not `docker compose`. `make help` lists them.
# Each target sets up the virtualenv it needs in .venv on first use.

PYTHON ?= python3
VENV := .venv
ifeq ($(OS),Windows_NT)
VENV_PYTHON := $(VENV)/Scripts/python.exe
else
VENV_PYTHON := $(VENV)/bin/python
endif

# pyproject.toml reads the services' pins from these files (one list, which the
# Dockerfiles install too).
RUNTIME_REQUIREMENTS := pyproject.toml common/requirements.txt frontend/requirements.txt \
	$(wildcard backend/*/requirements.txt)
# A facilitator's kit (`make kit`, docs/facilitators.md, "Before the day"): where it is, pip installs the
# learners' packages from its wheels with no network at all.
KIT_DIR ?= kit
PIP_SOURCE := $(if $(wildcard $(KIT_DIR)/wheels/*.whl),--no-index --find-links $(KIT_DIR)/wheels)
# Grafana's LogQL and TraceQL parsers, which the tests run in Node (npm writes this file).
GRAFANA_PARSERS := tests/grafana_parsers/node_modules/.package-lock.json

.DEFAULT_GOAL := help
.PHONY: help run stack test test-fast backends benchmark benchmark-items profile stack-latency footprint checkout \
	solution status check load zero-code kit alerts room diagram screenshots update-tle fault \
	outdated zero-code-tree

help: ## Show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

run: $(VENV)/.runtime ## Run the four services natively (frontend: http://127.0.0.1:8080)
	$(VENV_PYTHON) native/run_services.py

stack: $(VENV)/.runtime ## Run the telemetry platform natively (collector, Prometheus, Jaeger, VictoriaLogs, Zipkin)
	$(VENV_PYTHON) native/run_stack.py

test: $(VENV)/.dev backends $(GRAFANA_PARSERS) ## Run everything CI runs: lint, format check and the whole test suite
	$(VENV_PYTHON) -m ruff check .
	$(VENV_PYTHON) -m ruff format --check .
	$(VENV_PYTHON) -m pytest

# The platform tests (pyproject.toml's `platform` marker) are left out: nothing is built
# and no backend starts. The unit tests mostly wait (for local servers, for the fault
# flags' file to be read again), so four processes share them, a test file to each,
# even on two cores.
test-fast: $(VENV)/.dev ## Lint, and run the unit tests only: in under a minute
	$(VENV_PYTHON) -m ruff check .
	$(VENV_PYTHON) -m ruff format --check .
	$(VENV_PYTHON) -m pytest -m "not platform" -q -n 4 --dist loadfile

backends: $(VENV)/.runtime ## Build the native platform (needs Go, and Node.js for Prometheus' UI); fetch Zipkin
	$(VENV_PYTHON) native/build_backends.py

benchmark: $(VENV)/.dev backends ## What telemetry costs a form submission, the whole path, against its floor, hot and cold (~5 min)
	$(VENV_PYTHON) -m benchmarks.form_submission

benchmark-items: $(VENV)/.dev ## What each span, metric record and log record costs, hot and cold, and the floor (~2 min)
	$(VENV_PYTHON) -m benchmarks.telemetry_items

profile: $(VENV)/.dev backends ## Profile the services under load: where telemetry's CPU goes (Linux)
	$(VENV_PYTHON) benchmarks/profile_services.py

stack-latency: $(VENV)/.dev backends ## Measure how soon a request's telemetry is queryable
	$(VENV_PYTHON) benchmarks/telemetry_latency.py

footprint: $(VENV)/.dev backends ## Measure the memory of the platform and the services, idle and under load
	$(VENV_PYTHON) benchmarks/footprint.py

checkout: $(VENV)/.workshop ## Put the code at the start of a workshop section: make checkout SECTION=3
	@test -n "$(SECTION)" || { echo "usage: make checkout SECTION=<0-12>"; exit 2; }
	$(VENV_PYTHON) -m workshop.checkpoints checkout $(SECTION)

solution: $(VENV)/.workshop ## Restore the finished code of the workshop
	$(VENV_PYTHON) -m workshop.checkpoints solution

status: $(VENV)/.workshop ## Say which workshop section the code is at
	$(VENV_PYTHON) -m workshop.checkpoints status

check: $(VENV)/.runtime ## Check that a section's telemetry has arrived: make check SECTION=1
	@test -n "$(SECTION)" || { echo "usage: make check SECTION=<0-12>"; exit 2; }
	$(VENV_PYTHON) -m workshop.check $(SECTION)

room: $(VENV)/.runtime ## Room mode, for the facilitator: each learner's progress, by section
	$(VENV_PYTHON) -m workshop.room

fault: $(VENV)/.runtime ## Switch a fault on while the services run: make fault NAME=<name|off>
	$(VENV_PYTHON) -m workshop.fault "$(NAME)"

load: $(VENV)/.runtime ## Submit the form once a second (RATE=5 for more, with OFFLINE=true services)
	$(VENV_PYTHON) loadgen/generate_load.py --rate $(or $(RATE),1)

zero-code: $(VENV)/.workshop ## Run the uninstrumented code under opentelemetry-instrument
	$(VENV_PYTHON) native/run_services.py --zero-code

# Docker's zero-code run (docker-compose.zero-code.yml) mounts the code this writes.
zero-code-tree: $(VENV)/.workshop ## Write the code of section 0 for Docker's zero-code run (section 7)
	$(VENV_PYTHON) -c "from native.run_services import write_zero_code_tree; print(write_zero_code_tree())"

kit: $(VENV)/.dev ## Put every package, backend and image the learners need in kit/, for a room without Wi-Fi
	$(VENV_PYTHON) -m workshop.kit $(KIT_DIR)

# promtool, Prometheus's own tool, is built like the backends (native/build_backends.py).
alerts: $(VENV)/.runtime ## Check Prometheus's config and alerting rules, run the rules' unit tests
	$(VENV_PYTHON) native/build_backends.py --run promtool check config platform/prometheus.yml
	$(VENV_PYTHON) native/build_backends.py --run promtool test rules platform/prometheus/alerts.test.yml

diagram: ## Redraw docs/images/architecture.svg from docs/images/architecture.dot (needs Graphviz)
	dot -Tsvg docs/images/architecture.dot -o docs/images/architecture.svg

screenshots: $(VENV)/.dev backends ## Retake the docs' screenshots in Chromium: the frontend, and the native UIs (starts the platform)
	SCREENSHOT_DIR=docs/images $(VENV_PYTHON) -m pytest frontend/tests/test_browser.py
	SCREENSHOT_DIR=docs/images $(VENV_PYTHON) -m pytest tests/test_platform.py -k "native_ui or trace_link or web_ui"

outdated: $(VENV)/.dev ## For maintainers: list the pins with newer releases (needs the internet)
	$(VENV_PYTHON) -m workshop.outdated

update-tle: $(VENV)/.runtime ## Download the ISS's latest orbital elements (needs the internet)
	$(VENV_PYTHON) -m iss_distance.tle_update

# pip shows what it downloads and installs: the first run takes a minute or two.
PIP_INSTALL := $(VENV_PYTHON) -m pip install --disable-pip-version-check --progress-bar on

$(VENV_PYTHON):
	@echo "Creating the virtualenv in $(VENV), once."
	$(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL) $(PIP_SOURCE) --quiet --upgrade pip

# The workshop itself, in editable mode: its packages import by name from anywhere, and
# a saved change is live at once. pip also installs the services' packages.
$(VENV)/.runtime: $(VENV_PYTHON) $(RUNTIME_REQUIREMENTS)
	@echo "Installing the workshop and the services' packages into $(VENV)."
	$(PIP_INSTALL) $(PIP_SOURCE) -e .
	@touch $@

# What the workshop's own commands use (checkpoints, zero-code), on top of the services'.
$(VENV)/.workshop: $(VENV)/.runtime requirements-workshop.txt
	$(PIP_INSTALL) $(PIP_SOURCE) -e ".[workshop]"
	@touch $@

# The test tools are not in the kit: they come from the network.
$(VENV)/.dev: $(VENV)/.workshop requirements-dev.txt
	@echo "Installing the test tools into $(VENV)."
	$(PIP_INSTALL) -e ".[dev]"
	@touch $@

$(GRAFANA_PARSERS): tests/grafana_parsers/package-lock.json
	cd tests/grafana_parsers && npm ci --no-audit --no-fund

# Two commands for a newcomer: `make run` (the dashboard) and `make test` (the whole suite).
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PORT   ?= 8501
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test install test-deps browser compiler lint format bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[test,bench]'
	touch $@

install: $(VENV)/.installed

## run: create .venv, install the project, serve the dashboard on http://localhost:$(PORT)
run: $(VENV)/.installed
	$(VENV)/bin/streamlit run app.py --server.port $(PORT)

## browser: Debian's Chromium for the browser tests (Playwright drives /usr/bin/chromium)
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; }

## compiler: a C++ compiler for the native LSTM kernels (built on first use; without one,
## Keras' own slower loop runs)
compiler:
	@command -v c++ >/dev/null 2>&1 || { \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq g++ >/dev/null; }

test-deps: $(VENV)/.installed-test browser compiler

# Keras runs on JAX by default; these suites also run on TensorFlow, which stays supported.
TF_SUITES := tests/unit/test_training.py tests/unit/test_forecaster_contract.py \
             tests/unit/test_pipeline.py tests/unit/test_bundle.py tests/unit/test_cli.py

## test: install the test extras and Chromium, then run lint and the whole suite (on JAX,
## and the training, bundle and CLI suites again on TensorFlow)
test: test-deps lint
	$(PY) -m pytest
	KERAS_BACKEND=tensorflow $(PY) -m pytest -q $(TF_SUITES)

LINTED := forecasting app.py pages tests benchmarks

## lint: ruff's checks and its formatter (check only; `make format` rewrites)
lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check $(LINTED)
	$(VENV)/bin/ruff format --check $(LINTED)

format: $(VENV)/.installed-test
	$(VENV)/bin/ruff format $(LINTED)

## bench: speed and accuracy figures beside their targets
bench: $(VENV)/.installed-test
	$(PY) -m benchmarks.speed
	$(PY) -m benchmarks.accuracy

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache test-artifacts

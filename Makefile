# nomi-gateway developer commands. Every target installs what it needs on a fresh clone.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Lambda runs python3.13: build the virtual environment with it where the machine has it.
PYTHON ?= $(shell PYENV_VERSION=3.13.0 pyenv which python3.13 2>/dev/null || command -v python3.13 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# The SAM CLI pins its own boto3/pydantic: it lives in a venv of its own so the tests run on ours.
SAM_VENV := .venv-sam
SAM := $(SAM_VENV)/bin/sam
# checkov pins an old boto3 too: its own venv, which the infrastructure test finds.
CHECKOV_VENV := .venv-checkov
CHECKOV := $(CHECKOV_VENV)/bin/checkov
PY313 := $(shell PYENV_VERSION=3.13.0 pyenv which python3.13 2>/dev/null || command -v python3.13)

PORT ?= 3000
SANDBOX_PORT ?= 4010

.PHONY: help install browser test lint format run sandbox demo dlq schema bench chaos validate build clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev]"
	@# Same import roots as pytest's pythonpath, so tools and `python -m` see the functions and layers.
	$(BIN)/python -c 'import os, site; open(os.path.join(site.getsitepackages()[0], "nomi_gateway_roots.pth"), "w").write("".join(os.path.abspath(p) + "\n" for p in ("functions/ingest", "functions/processor", "layers/nomi_client", "layers/gateway_events")))'
	@touch $(STAMP)

install: $(STAMP) ## create .venv and install everything the tests and tools need

# Debian's chromium for the signup-form browser test (Playwright drives it; nothing is downloaded).
# Needs root (as here and in CI); elsewhere the browser test is skipped and says why.
browser: ## install chromium for the browser test (apt-get, as root)
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium \
	      || echo "could not install chromium: the browser test will be skipped"; \
	  else echo "no chromium and no root apt-get: the browser test will be skipped"; fi; }

test: $(STAMP) $(CHECKOV) browser ## run every test
	$(BIN)/python -m pytest

lint: $(STAMP) ## ruff check and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP) ## apply ruff fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

run: $(STAMP) ## the whole gateway on 127.0.0.1:$(PORT) (AWS on moto, NOMI sandbox unless NOMI_API_URL is set)
	PORT=$(PORT) $(BIN)/python -m local

sandbox: $(STAMP) ## the NOMI sandbox alone on 127.0.0.1:$(SANDBOX_PORT)
	$(BIN)/python -m sandbox --host 127.0.0.1 --port $(SANDBOX_PORT)

demo: $(STAMP) ## send every events/ file through the running (or a fresh) stack and print the outcomes
	$(BIN)/python -m local.demo

dlq: $(STAMP) ## work the dead-letter queue: make dlq ARGS="list|show ID|redrive [ID...]"
	$(BIN)/nomi-gateway dlq $(ARGS)

schema: $(STAMP) ## regenerate schemas/queue-message.schema.json from the pydantic models
	$(BIN)/python -m gateway_events.schema > schemas/queue-message.schema.json

bench: $(STAMP) ## benchmarks against their floors: prints a table, writes bench/results.json and .png
	$(BIN)/python -m bench $(ARGS)

chaos: $(STAMP) ## 5,000 mixed events through the local stack under NOMI and SQS faults; prints the accounting
	$(BIN)/python -m chaos $(ARGS)

$(CHECKOV):
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install -q --upgrade pip
	$(CHECKOV_VENV)/bin/python -m pip install -q checkov

$(SAM):
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install -q --upgrade pip
	$(SAM_VENV)/bin/python -m pip install -q aws-sam-cli

validate: $(SAM) ## sam validate --lint (no AWS account needed)
	AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-us-east-1} $(SAM) validate --lint

build: $(SAM) ## sam build for arm64 python3.13 without containers (needs python3.13 on the machine)
	@test -n "$(PY313)" || { echo "sam build needs python3.13 (pyenv install 3.13)"; exit 1; }
	PATH=$(dir $(PY313)):$$PATH AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-us-east-1} $(SAM) build --build-dir .aws-sam/build

clean: ## remove the virtual environment and caches
	rm -rf $(VENV) $(SAM_VENV) $(CHECKOV_VENV) .pytest_cache .ruff_cache .aws-sam .hypothesis

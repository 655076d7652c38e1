# Every target sets itself up from nothing: a local virtualenv in .venv, installed once per
# change of pyproject.toml.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8080

.PHONY: run test check fuzz bench clean proto bench-transports

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/zitadel-mock serve --host $(HOST) --port $(PORT)

test: $(STAMP)
	$(BIN)/pytest

check: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy mockserver contracts tests zitadel_proto

clean:
	rm -rf $(VENV) build *.egg-info reports

proto: $(STAMP)
	$(BIN)/python -m zitadel_proto.generate

bench-transports: $(STAMP)
	$(BIN)/python bench/transports.py

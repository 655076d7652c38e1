# Every target sets itself up from nothing: a local virtualenv in .venv, installed once per
# change of pyproject.toml.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8080

.PHONY: run test test-floor check fuzz bench profile clean proto screenshots

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/zitadel-mock serve --host $(HOST) --port $(PORT)

# The page's browser test drives Debian's Chromium headless (tests/support/browser.py), a smoke test
# renders it in Firefox ESR (tests/mockserver/control/test_page_firefox.py): a fresh
# machine installs them once, as root; where /usr/bin/chromium exists this step does nothing (the
# Firefox test then skips if firefox-esr is missing).
CHROMIUM := /usr/bin/chromium

$(CHROMIUM):
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver firefox-esr

test: $(STAMP) $(CHROMIUM)
	$(BIN)/pytest

# make test-floor: only the install tests, among them the contract kit at the lowest versions
# pyproject.toml allows (pytest 8.4, schemathesis 4.32.0, ...) and the newest pytest, installed
# from PyPI into fresh virtualenvs (make test runs them too; like its own install, they need PyPI).
test-floor: $(STAMP)
	$(BIN)/pytest tests/contracts/test_install.py

# The page's screenshots in docs/ (shown in the README and docs/frontend.md).
screenshots: $(STAMP) $(CHROMIUM)
	$(BIN)/python -m tests.support.browser docs

# make fuzz: the same property tests with many more examples, schemathesis at length, and the
# contract suite at length against a mock it starts itself. FUZZ_EXAMPLES scales all of them;
# each part stops by itself (a few minutes at the default).
FUZZ_EXAMPLES ?= 1000

fuzz: $(STAMP)
	ZITADEL_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) ZITADEL_FUZZ_SEED=$$(date +%s) $(BIN)/pytest -m fuzz
	$(BIN)/zitadel-mock verify --examples $(FUZZ_EXAMPLES)

# mypy reads the packages under their installed names: .typing/ links each name to its folder.
check: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	mkdir -p .typing && ln -sfn ../mockserver .typing/zitadel_mock && ln -sfn ../contracts .typing/zitadel_contract
	MYPYPATH=.typing $(BIN)/mypy -p zitadel_mock -p zitadel_contract -p zitadel_proto -p tests -p bench

# make bench: the mock against a bare baseline and Prism, on loopback (see bench/results.md).
# BENCH_DURATION=30 makes every measured pass longer (default 10 s; the whole run about 3 min);
# BENCH_REPEAT=3 measures every row 3 times in rounds and reports the median.
BENCH_STAMP := $(VENV)/.bench-installed
BENCH_DURATION ?=
BENCH_REPEAT ?=

$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $(BENCH_STAMP)

# The mock's modules compiled first, as pip compiles those of an installed wheel: with
# PYTHONDONTWRITEBYTECODE set, every start would compile them from source again (~0.1 s of the
# first 200, docs/start-up.md). A stale .pyc is never used: Python checks it against the source.
bench: $(BENCH_STAMP)
	$(BIN)/python -m compileall -q mockserver zitadel_proto >/dev/null
	BENCH_DURATION=$(BENCH_DURATION) BENCH_REPEAT=$(BENCH_REPEAT) $(BIN)/python -m bench

profile: $(BENCH_STAMP)
	$(BIN)/python -m bench.studies.cpu_profile

clean:
	rm -rf $(VENV) build *.egg-info reports .typing

proto: $(STAMP)
	$(BIN)/python -m zitadel_proto.generate

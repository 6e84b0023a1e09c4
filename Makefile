# Two entry points for a fresh machine (Python 3.11+ and make): `make demo`
# and `make test`. Each builds .venv itself and reinstalls only when
# pyproject.toml changes.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test clean

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit("ledger-export needs Python 3.11 or newer") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[sandbox,test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/ledger-export demo

# mypy first: a type error fails the run in seconds, before the suite's minutes.
test: $(STAMP)
	$(BIN)/python -m mypy
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) demo .pytest_cache .mypy_cache

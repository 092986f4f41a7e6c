# Slotbot: `make run` serves on the embedded SQLite store; `make demo` tries it in a terminal
# with no accounts; `make test` runs the whole suite.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run demo test lint fmt doctor bench fuzz clean

$(STAMP): pyproject.toml constraints.txt
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c constraints.txt -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python -m bot serve

demo: $(STAMP)
	$(BIN)/python -m bot console

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check bot adapters cards tests bench
	$(BIN)/ruff format --check bot adapters cards tests bench
	$(BIN)/mypy --strict bot adapters cards bench

fmt: $(STAMP)
	$(BIN)/ruff format bot adapters cards tests bench
	$(BIN)/ruff check --fix bot adapters cards tests bench

doctor: $(STAMP)
	$(BIN)/python -m bot doctor

bench: $(STAMP)
	$(BIN)/python -m bench

fuzz: $(STAMP)
	SLOTBOT_FUZZ_EXAMPLES=10000 $(BIN)/python -m pytest -q tests -k fuzz

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

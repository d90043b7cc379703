# Two entry points: `make run` and `make test`. Both create .venv when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint eval bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/lideres run

test: $(STAMP)
	$(BIN)/python -m pytest -q
	$(BIN)/ruff check bot handlers tests bench migrations
	$(BIN)/mypy

lint: $(STAMP)
	$(BIN)/ruff check bot handlers tests bench migrations
	$(BIN)/mypy

eval: $(STAMP)
	$(BIN)/python tests/eval/report.py

bench: $(STAMP)
	$(BIN)/python bench/knowledge_lookup.py
	$(BIN)/python bench/engine_throughput.py
	$(BIN)/python bench/telegram_throughput.py
	$(BIN)/python bench/whole_bot.py --quick
	$(BIN)/python bench/whatsapp_throughput.py

clean:
	rm -rf $(VENV) var/*.db*

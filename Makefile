# NeuroFlow developer commands. Everything a fresh machine needs comes from here and pyproject.toml.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Qt runs without a display in tests and headless commands.
export QT_QPA_PLATFORM ?= offscreen
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: install run demo test lint benchmark screenshot clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test,dev]"
	touch $(STAMP)

install: $(STAMP)

## run: the main job - the flagship workflow (in the editor when a display is available)
run: $(STAMP)
	$(BIN)/neuroflow run workflows/mnist_cnn.workflow --report out/mnist_cnn.report.json

## demo: the flagship workflow headless, always
demo: $(STAMP)
	mkdir -p out
	$(BIN)/neuroflow run workflows/mnist_cnn.workflow --report out/mnist_cnn.report.json

## test: the whole test suite
test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check src nodes tests benchmarks

benchmark: $(STAMP)
	$(BIN)/python benchmarks/learner_overhead.py

clean:
	rm -rf $(VENV) out build *.egg-info src/*.egg-info .pytest_cache

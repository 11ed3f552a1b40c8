# NeuroFlow developer commands. Everything a fresh machine needs comes from here and pyproject.toml.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# TensorFlow's C++ start-up chatter is noise for users of a desktop tool.
export TF_CPP_MIN_LOG_LEVEL ?= 2
FLAGSHIP := workflows/mnist_cnn.workflow

.PHONY: install install-gpu run demo transfer-demo test lint fuzz benchmark benchmark-data benchmark-gui reference screenshot xvfb clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test,dev]"
	touch $(STAMP)

install: $(STAMP)

## install-gpu: the environment with TensorFlow for NVIDIA GPUs in place of tensorflow-cpu (Linux)
install-gpu: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[test,dev,gpu]"
	$(BIN)/python -m pip uninstall --quiet -y tensorflow-cpu
	# tensorflow-cpu owned the same files: put the CUDA build's back
	$(BIN)/python -m pip install --quiet --force-reinstall --no-deps \
		"tensorflow==$$($(BIN)/python -c 'import importlib.metadata as m; print(m.version("tensorflow"))')"
	$(BIN)/neuroflow devices

## run: the editor with the flagship workflow (headless run of it when there is no display)
run: $(STAMP)
	$(BIN)/neuroflow $(FLAGSHIP)

## demo: the flagship workflow headless, always
demo: $(STAMP)
	mkdir -p out
	$(BIN)/neuroflow run $(FLAGSHIP) --report out/mnist_cnn.report.json

## transfer-demo: Fashion-MNIST written as photos, then the transfer-learning workflow on them
## (downloads Fashion-MNIST and the MobileNetV2 ImageNet weights once; add SET="--set ..." to override)
TRANSFER_PHOTOS := workflows/data/clothes
transfer-demo: $(STAMP)
	test -d $(TRANSFER_PHOTOS) || $(BIN)/python tools/make_image_folder.py $(TRANSFER_PHOTOS) \
		--dataset fashion --size 96 --color rgb --per-class 300
	mkdir -p out
	$(BIN)/neuroflow run workflows/transfer_learning.workflow --report out/transfer_learning.report.json $(SET)

## test: the whole test suite
test: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q -n auto --maxprocesses 4 --dist loadfile --durations=15

lint: $(STAMP)
	$(BIN)/ruff check src nodes tests benchmarks tools

## fuzz: 10,000 mutants of the shipped workflows through load, validate and save -> load -> save
## (a few minutes; FUZZ="--cases N --seed S --jobs J" to change; a 500-case sample runs in make test)
fuzz: $(STAMP)
	$(BIN)/python tools/fuzz_workflows.py $(FUZZ)

## benchmark: engine overhead of the Network Learner against a plain Keras script
benchmark: $(STAMP)
	$(BIN)/python benchmarks/learner_overhead.py

## benchmark-data: training from 20,000 RGB JPEGs, NeuroFlow's pipeline against Keras's (speed, memory; long)
benchmark-data: $(STAMP)
	$(BIN)/python benchmarks/data_pipeline.py

## benchmark-distributed: one device, two mirrored devices, two workers on loopback (s/epoch, accuracy)
benchmark-distributed: $(STAMP)
	$(BIN)/python benchmarks/distributed.py

## reference: the article networks on full data, NeuroFlow against plain Keras -> docs/results.md (long)
reference: $(STAMP)
	$(BIN)/python benchmarks/reference_accuracy.py --out docs/results.md

## benchmark-gui: editor start-up, GUI stalls while training, and editing a 400-node network
benchmark-gui: $(STAMP)
	$(BIN)/python benchmarks/gui_latency.py

## screenshot: the flagship trained on a sample in the editor (under Xvfb), saved as docs/screenshot.png
screenshot: $(STAMP) xvfb
	$(BIN)/python tools/screenshot.py --out docs/screenshot.png

# Xvfb and the X11 libraries Qt's xcb platform needs, from Debian's packages when we may install
# them; without them the screenshot is rendered offscreen instead.
XVFB_PACKAGES := xvfb xauth libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-xinerama0 libxkbcommon-x11-0
xvfb:
	@command -v xvfb-run >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			apt-get update -qq && apt-get install -y -qq $(XVFB_PACKAGES) >/dev/null; \
		else echo "xvfb-run not installed: the screenshot is rendered offscreen"; fi; }

clean:
	rm -rf $(VENV) out workflows/out build *.egg-info src/*.egg-info .pytest_cache

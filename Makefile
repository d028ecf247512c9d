# `make demo` trains the demo model, `make test` runs the test suite (no PyTorch needed),
# `make parity` installs PyTorch 2.13 (CPU) and runs every test against it (tests/parity),
# `make check` lints and type-checks.
# Each builds a local virtualenv (.venv) with what it needs on first use.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

.PHONY: test parity demo check install-test install-parity install-examples install-bench install-check bench
install-test: $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'

install-examples: $(BIN)/python
	$(BIN)/pip install -q -e '.[examples]'

test: install-test
	$(BIN)/python -m pytest -p no:cacheprovider tests

install-parity: $(BIN)/python
	$(BIN)/pip install -q -e '.[test,parity]'

# RETROGRAD_REQUIRE_TORCH: a missing or other PyTorch is an error here, not skipped modules
parity: install-parity
	RETROGRAD_REQUIRE_TORCH=2.13 $(BIN)/python -m pytest -p no:cacheprovider tests/parity

demo: install-examples
	$(BIN)/python examples/mnist_cnn.py

install-bench: $(BIN)/python
	$(BIN)/pip install -q -e '.[bench]'

# Compares against torch when it is installed (pip install torch==2.13.0); options via
# BENCH_ARGS, e.g. make bench BENCH_ARGS=--quick
bench: install-bench
	$(BIN)/python bench/run.py $(BENCH_ARGS)

install-check: $(BIN)/python
	$(BIN)/pip install -q -e '.[check]'

# ruff (pyflakes + pycodestyle lint, and the formatter's check) over the code, mypy over the typed
# core; settings in pyproject.toml. `ruff format src tests tools bench examples` applies the format.
check: install-check
	$(BIN)/ruff check src tests tools bench examples
	$(BIN)/ruff format --check src tests tools bench examples
	$(BIN)/mypy

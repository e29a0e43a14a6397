# Two entry points that work on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TORCH_PIN := torch==2.13.0

.PHONY: demo test install install-dev throughput compare clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# The pinned CPU build first: an unpinned torch would pull a multi-GB CUDA build.
	$(BIN)/pip install -q $(TORCH_PIN)

install: $(BIN)/python
	$(BIN)/pip install -q -e .

install-dev: $(BIN)/python
	$(BIN)/pip install -q -e ".[dev]"

demo: install
	$(BIN)/semcom eval SemCom-MultiCell-v0 --policy random --policy adaptive_k --policy greedy \
	  --seeds 0 1 2 --episodes 4 --out results/demo

test: install-dev
	$(BIN)/python -m pytest -q -n 2

throughput: install
	$(BIN)/semcom throughput --json results/throughput.json

# The README's baseline comparison: M = 3 and 7, presets paper and wide-area, 5 seeds x 8 episodes.
BASELINES := --policy random --policy greedy --policy full_power --policy min_power --policy max_sum_rate --policy oracle
compare: install
	for preset in paper wide-area; do for m in 3 7; do \
	  $(BIN)/semcom eval SemCom-MultiCell-v0 $(BASELINES) --seeds 0 1 2 3 4 --episodes 8 \
	    --set num_cells=$$m --set preset=$$preset --out results/compare-$$preset-m$$m || exit 1; \
	done; done

clean:
	rm -rf $(VENV) results build *.egg-info

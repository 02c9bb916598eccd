# Scientific Spaces, Runnable: `make book` builds the site (and its virtualenv), `make test` runs every test.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
# Run the venv's tools (jupyter-book, the kernel) before anything installed on the machine.
export PATH := $(CURDIR)/$(BIN):$(PATH)
APT_PACKAGES := chromium fonts-noto-cjk dataset-fashion-mnist

.PHONY: setup book test test-quick bench serve student clean apt assets

setup: $(VENV)/.installed assets apt

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch is pinned to 2.13.0, which this machine provides as a CPU build.
	$(BIN)/python -m pip install --quiet -e ".[book,test]"
	touch $@

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

test: setup
	$(BIN)/ruff check src tests benchmarks book/_ext
	$(BIN)/python -m pytest

# Quick iteration: everything but executing chapters and building the site.
test-quick: $(VENV)/.installed
	$(BIN)/ruff check src tests benchmarks book/_ext
	$(BIN)/python -m pytest -m "not slow"

bench: setup
	$(BIN)/python benchmarks/run.py

serve:
	$(BIN)/python -m http.server --bind 127.0.0.1 --directory _build/html 8000

student: setup
	$(BIN)/jupyter lab book

clean:
	rm -rf _build

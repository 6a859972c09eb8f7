# Two entry points: `make book` and `make test`. Both create .venv and install on a fresh machine.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed

.PHONY: book test unit notebooks install clean results bench browser

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.txt
	touch $(STAMP)

install: $(STAMP)

# Build the static site from committed results (never trains: a missing result is an error); fails on any error.
# ICL_RESULTS=DIR make book builds it from another results folder (a relative DIR is taken from here: the
# notebooks run in book/).
book: $(STAMP)
	$(if $(ICL_RESULTS),ICL_RESULTS="$(abspath $(ICL_RESULTS))") ICL_NO_TRAIN=1 $(BIN)/jupyter-book build . --warningiserror --keep-going
	@test -f _build/html/index.html && echo "site: _build/html/index.html"

# The browser test needs headless Chromium: Debian's package is installed when missing (as root, or with sudo);
# otherwise this stops before the suite with what to install. CHROMIUM=/path/to/chrome uses another build.
browser:
	@if [ -n "$$CHROMIUM" ] || command -v chromium >/dev/null 2>&1; then exit 0; fi; \
	if [ "$$(id -u)" -eq 0 ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; \
	else echo "make test: the browser test needs headless Chromium; install Debian's chromium (apt-get install chromium) or set CHROMIUM=/path/to/chrome" >&2; exit 1; fi; \
	echo "installing chromium (apt) for the browser test"; \
	$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-liberation >/dev/null \
	  || { echo "make test: could not install chromium with apt; install it by hand or set CHROMIUM=/path/to/chrome" >&2; exit 1; }

# Unit tests, every notebook under nbmake with the smoke profile, a full book build and the browser test.
test: $(STAMP) browser
	ICL_PROFILE=smoke $(BIN)/python -m pytest -q tests --nbmake book --nbmake-timeout=600

unit: $(STAMP)
	$(BIN)/python -m pytest -q tests -m "not slow"

# Regenerate every committed cpu-profile result (long: see README for per-chapter times).
results: $(STAMP)
	for e in $$($(BIN)/python -c "from icl_kinetics import experiments as x; print(' '.join(sorted(x.REGISTRY)))"); do \
	  $(BIN)/python -m icl_kinetics run $$e --profile cpu || exit 1; done

bench: $(STAMP)
	$(BIN)/python -m icl_kinetics bench

clean:
	rm -rf _build

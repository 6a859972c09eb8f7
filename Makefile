# Two entry points: `make book` and `make test`. Both create .venv and install on a fresh machine.
PY      ?= python3
# Byte-code is written as modules are first imported (pip installs without compiling): only what runs is compiled,
# once, by whichever process imports it first. A machine that sets PYTHONDONTWRITEBYTECODE would otherwise have
# every process compile torch again.
unexport PYTHONDONTWRITEBYTECODE
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed

.PHONY: book test unit notebooks install clean results bench browser

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --no-compile -r requirements.txt
	touch $(STAMP)

install: $(STAMP)

# Build the static site from committed results (never trains: a missing result is an error); fails on any error.
# ICL_RESULTS=DIR make book builds it from another results folder (a relative DIR is taken from here: the
# notebooks run in book/).
# The notebooks execute two at a time (scripts/build_book.py), then Jupyter Book builds the site from them.
book: $(STAMP)
	$(if $(ICL_RESULTS),ICL_RESULTS="$(abspath $(ICL_RESULTS))") ICL_NO_TRAIN=1 $(BIN)/python scripts/build_book.py --jobs 2
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

# The smoke book is executed once: nbmake runs every notebook on copies in $(SMOKE)/ (--overwrite keeps their
# outputs; nbmake never collects under _build) beside the unit tests, two processes at a time; the slow tests then
# build the site from those executed notebooks and read it (book build, browser, reader, one story per claim).
SMOKE := _smoke
test: $(STAMP) browser
	rm -rf $(SMOKE) && mkdir -p $(SMOKE) && cp book/*.ipynb $(SMOKE)/
	ICL_PROFILE=smoke $(BIN)/python -m pytest -q -n 2 --durations=10 tests -m "not slow" --nbmake $(SMOKE) --overwrite --nbmake-timeout=600
	ICL_PROFILE=smoke ICL_EXECUTED_BOOK=$(SMOKE) $(BIN)/python -m pytest -q --durations=5 $$(grep -l 'mark.slow' tests/test_*.py) -m slow

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

# Two entry points: `make book` and `make test`. Both create .venv and install on a fresh machine.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed

.PHONY: book test unit notebooks install clean results bench

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.txt
	touch $(STAMP)

install: $(STAMP)

# Build the static site from committed results (never trains: a missing result is an error); fails on any error.
book: $(STAMP)
	ICL_NO_TRAIN=1 $(BIN)/jupyter-book build . --warningiserror --keep-going
	@test -f _build/html/index.html && echo "site: _build/html/index.html"

# Unit tests, every notebook under nbmake with the smoke profile, and a full book build test.
test: $(STAMP)
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

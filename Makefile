# nngeom: make book | make test | make smoke | make bench | make clean
# Each target creates the virtual environment .venv when it is missing (or when pyproject.toml changed).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PROFILE ?= cpu
JOBS ?= 1
SHARD ?=
RUN_ARGS = --profile $(PROFILE) --jobs $(JOBS) $(if $(SHARD),--shard $(SHARD),)

.PHONY: book notebooks html test smoke bench clean venv

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

## book: execute every notebook of _toc.yml (PROFILE=cpu by default) and build _build/html
book: notebooks html

notebooks: venv
	$(PY) -m nngeom run $(RUN_ARGS)

html: venv
	$(PY) -m nngeom report --profile $(PROFILE)
	$(VENV)/bin/jupyter-book build . --warningiserror --keep-going --quiet

## test: unit tests, every notebook in the smoke profile, and the book built with warnings as errors
test: venv
	$(PY) -m pytest

## smoke: the whole book in the smoke profile (fast; results not judged)
smoke:
	$(MAKE) book PROFILE=smoke

## bench: speed and memory benchmarks against their peers (writes _build/benchmarks/*.json)
bench: venv
	for script in benchmarks/bench_*.py; do $(PY) $$script || exit 1; done

clean:
	rm -rf _build

# nngeom: make book | make test | make smoke | make bench | make clean | make lock
# Each target creates the virtual environment .venv when it is missing (or when the lock or pyproject.toml changed):
# the exact versions of requirements/lock.txt, then the package itself without dependencies.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
LOCK := requirements/lock.txt
# make lock: pip-compile (pip-tools) in a tool environment of its own, with this machine's pip cap if it has one
PIP_TOOLS ?= pip-tools==7.6.2
LOCK_TOOLS := _build/lock-tools
LOCK_CAP := $(wildcard /etc/xdg/pip/constraints.txt)
UPGRADE ?=
PROFILE ?= cpu
JOBS ?= 1
SHARD ?=
RUN_ARGS = --profile $(PROFILE) --jobs $(JOBS) $(if $(SHARD),--shard $(SHARD),)

.PHONY: book notebooks html test smoke bench clean venv lock publish-notebooks paper-dry-run

venv: $(VENV)/.installed

$(VENV)/.installed: $(LOCK) pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --progress-bar off "$$(grep '^pip==' $(LOCK))"
	$(PY) -m pip install --quiet --progress-bar off -r $(LOCK)
	$(PY) -m pip install --quiet --progress-bar off --no-deps --no-build-isolation -e .
	touch $@

## lock: re-resolve requirements/lock.txt from pyproject.toml and requirements/lock.in, keeping the pins it has
##       (UPGRADE=1: take the newest versions the ranges allow); then make test, and commit the lock
lock:
	test -x $(LOCK_TOOLS)/bin/pip-compile || { $(PYTHON) -m venv $(LOCK_TOOLS) && $(LOCK_TOOLS)/bin/pip install --quiet '$(PIP_TOOLS)'; }
	CUSTOM_COMPILE_COMMAND="make lock" $(LOCK_TOOLS)/bin/pip-compile --quiet --extra dev --strip-extras --allow-unsafe \
		--no-emit-index-url --no-emit-find-links $(if $(UPGRADE),--upgrade,) $(addprefix --constraint ,$(LOCK_CAP)) \
		--output-file $(LOCK) pyproject.toml requirements/lock.in
	$(MAKE) --always-make binder/requirements.txt

# Binder (the launch buttons) installs the lock's versions with torch's CPU build instead of the CUDA libraries
binder/requirements.txt: $(LOCK)
	{ echo "# Generated from requirements/lock.txt by make lock (tests/test_environment.py checks it): the lock's"; \
	  echo "# pins without the CUDA libraries and torch's CPU build, then the package itself."; \
	  echo "--extra-index-url https://download.pytorch.org/whl/cpu"; \
	  grep -E '^[A-Za-z0-9]' $(LOCK) | grep -v -E '^(nvidia-|cuda-|triton==|pip==)' \
	    | sed -E 's/^(torch|torchvision)==([^ ]+)$$/\1==\2+cpu/'; \
	  echo "-e ."; } > $@

## book: execute every notebook of _toc.yml (PROFILE=cpu by default) and build _build/html
book: notebooks html

notebooks: venv
	$(PY) -m nngeom run $(RUN_ARGS)

html: venv
	$(PY) -m nngeom report --profile $(PROFILE)
	$(VENV)/bin/jupyter-book build . --warningiserror --keep-going --quiet

## publish-notebooks: commit the executed notebooks on top of HEAD and push them to _config.yml's repository.branch,
##   which the launch buttons (Binder, Colab) open; the workflows run it after make book
publish-notebooks: venv
	$(PY) binder/publish_executed.py --profile $(PROFILE)

## test: unit tests, every notebook in the smoke profile, the book built with warnings as errors, every page of it
##       opened in headless Chromium (skipped, with the reason, where chromium is not installed)
test: venv
	$(PY) -m pytest

## paper-dry-run: every notebook at the paper profile with each long loop cut to 2 steps (into _build/dry-run/paper,
##                never the book), then the cost plan book/generated/plan.md and its committed snapshot
##                book/plan-paper.json (shown by builds without a dry run of their own); not part of make test
paper-dry-run: venv
	$(PY) -m nngeom run --profile paper --dry-run
	$(PY) -m nngeom plan --snapshot

## smoke: the whole book in the smoke profile (fast; results not judged)
smoke:
	$(MAKE) book PROFILE=smoke

## bench: speed and memory benchmarks against their peers (writes _build/benchmarks/*.json)
bench: venv
	for script in benchmarks/bench_*.py; do $(PY) $$script || exit 1; done

clean:
	rm -rf _build

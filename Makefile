# The two commands a user needs: `make demo` and `make test`. Each prepares the machine itself.
SHELL := /bin/bash
ROOT := $(CURDIR)
VENV := $(ROOT)/.venv
BIN := $(VENV)/bin
export PATH := $(BIN):$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(VENV)/collections
# The copy ansible-test needs: it insists on a real .../ansible_collections/<namespace>/<name> directory.
TEST_TREE := $(ROOT)/build/ansible_collections/clore/ai
SIM_PORT ?= 8199
SIM_STATE ?= $(ROOT)/.sim-state
SIM_KEY ?= clore-sim-demo-key
# pytest-xdist workers for `make test`, `make integration` and `make simulator-tests`: more than the cores, since
# some tests wait on rate limits and SSH while others' Ansible runs use the CPU.
TEST_WORKERS ?= 6
export TEST_WORKERS

.PHONY: help bootstrap demo test test-latest unit integration simulator-tests imports sanity lint changelog-lint molecule bench sim collection-build ee-context check-api de-context clean

help:
	@echo "make demo   rent, configure, run a job and release against clore-sim"
	@echo "make test   every test: unit, simulator, integration, sanity, lint; the latest ansible-core lane beside"
	@echo "make test-latest  the latest lane alone (ansible-core 2.21 on Python 3.12+)"
	@echo "make sim    run clore-sim in the foreground (key: $(SIM_KEY))"
	@echo "make bench  benchmarks, printed as a table"
	@echo "make check-api  a free, read-only check of the live API (needs CLORE_API_KEY; RECORD=dir keeps the answers)"

bootstrap:
	@./scripts/bootstrap.sh

# The demo prepares only what it needs (requirements-demo.txt: no development tool, no shellcheck).
demo:
	@BOOTSTRAP_SET=demo ./scripts/bootstrap.sh
	@./scripts/demo.sh

# scripts/test.sh runs scripts/bootstrap.sh itself, with the latest lane's set-up beside it.
test:
	@./scripts/test.sh

# The latest lane alone: ansible-core 2.21 on Python 3.12+ in .venv-latest (scripts/python.sh finds or builds one).
test-latest:
	@./scripts/test-latest.sh

unit: bootstrap
	$(BIN)/pytest -q tests/unit

simulator-tests: bootstrap
	$(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadgroup tests/simulator/tests

integration: bootstrap
	$(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadgroup tests/integration

imports: bootstrap
	@./scripts/imports.sh

sanity: bootstrap
	@./scripts/sanity.sh

lint: bootstrap
	@./scripts/lint.sh

molecule: bootstrap
	@./scripts/molecule.sh

# The docsite in build/docs/html: every module, plugin, filter and role, and docs/*.md as guides (antsibull-docs and
# Sphinx, offline; any warning but those of being offline, listed in scripts/docs.sh, fails it).
.PHONY: docs
docs: bootstrap
	@./scripts/docs.sh

changelog-lint: bootstrap
	$(BIN)/antsibull-changelog lint

bench: bootstrap
	$(BIN)/python -m tests.benchmarks

sim: bootstrap
	$(BIN)/clore-sim --host 127.0.0.1 --port $(SIM_PORT) --state-dir $(SIM_STATE) --api-key $(SIM_KEY)

check-api: bootstrap
	@test -n "$$CLORE_API_KEY" || \
		{ echo "make check-api: set CLORE_API_KEY (the check only reads; it rents nothing)"; exit 2; }
	$(BIN)/ansible-playbook playbooks/check_api.yml $(if $(RECORD),-e clore_check_record=$(RECORD))

collection-build: bootstrap
	mkdir -p build && $(BIN)/ansible-galaxy collection build --force --output-path build .

# The execution environment's build context (extensions/ee/execution-environment.yml) in $(EE_CONTEXT): the collection
# tarball under a fixed name, then ansible-builder. The image itself needs a container engine:
#   podman build -t clore-ai-ee:latest build/ee-context
EE_CONTEXT ?= $(ROOT)/build/ee-context
ee-context: collection-build
	mkdir -p build/ee && cp build/clore-ai-$$(sed -n 's/^version: *//p' galaxy.yml).tar.gz build/ee/clore-ai.tar.gz
	$(BIN)/ansible-builder create --file extensions/ee/execution-environment.yml --context $(EE_CONTEXT) \
		--output-filename Containerfile

# The decision environment of the EDA controller (extensions/eda/decision-environment.yml; docs/eda.md):
#   podman build -t clore-ai-de:latest build/de-context
DE_CONTEXT ?= $(ROOT)/build/de-context
de-context: collection-build
	mkdir -p build/ee && cp build/clore-ai-$$(sed -n 's/^version: *//p' galaxy.yml).tar.gz build/ee/clore-ai.tar.gz
	$(BIN)/ansible-builder create --file extensions/eda/decision-environment.yml --context $(DE_CONTEXT) \
		--output-filename Containerfile

clean:
	rm -rf build tests/output .sim-state demo-results

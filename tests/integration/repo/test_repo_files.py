"""The repository's own Level-3 DevOps files, checked for structure with Python parsers.

scripts/ci-lint-files.sh runs the real validators (actionlint, hadolint, kubernetes-validate,
promtool, ...); these tests pin down what those tools cannot know: that the files agree with
each other and with what CODE needs. No network, no Docker, no cluster.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hcl2
import jsonschema
import pytest
import regopy
import yaml
from dockerfile_parse import DockerfileParser
from hcl2 import SerializationOptions

ROOT = Path(__file__).resolve().parents[3]
CODECTL = str(Path(sys.executable).parent / "codectl")
ENVIRONMENTS = ("dev", "staging", "prod")
HCL_OPTIONS = SerializationOptions(strip_string_quotes=True, explicit_blocks=False)


def load_yaml(relative: str) -> Any:
    return yaml.safe_load((ROOT / relative).read_text(encoding="utf-8"))


def load_yaml_all(path: Path) -> list[Any]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


def load_hcl(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        return dict(hcl2.load(handle, serialization_options=HCL_OPTIONS))


def blocks(document: dict[str, Any], kind: str) -> Iterator[tuple[str, Any]]:
    """(name, body) of every `kind "name" {}` block in a parsed HCL file."""
    for entry in document.get(kind, []):
        yield from entry.items()


def markdown_anchors(path: Path) -> set[str]:
    """GitHub's heading anchors of a Markdown file."""
    anchors = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            anchors.add(re.sub(r"[^\w\- ]", "", title).replace(" ", "-"))
    return anchors


# --- docker-compose.yml and observability/ -------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load_yaml("docker-compose.yml")


def test_compose_runs_the_full_local_stack(compose: dict[str, Any]) -> None:
    services = compose["services"]
    expected = {"code", "postgres", "prometheus", "grafana", "loki", "promtail", "tempo"}
    assert expected <= set(services)
    assert services["code"]["build"]["context"] == "."
    assert services["postgres"]["image"] == "postgres:15"
    for name in expected:
        assert "healthcheck" in services[name], f"{name} has no healthcheck"


def test_compose_configures_code_for_the_stack(compose: dict[str, Any]) -> None:
    code = compose["services"]["code"]
    env = code["environment"]
    assert env["CODE_DATABASE_URL"].startswith("postgresql+psycopg://")
    assert "@postgres:5432/" in env["CODE_DATABASE_URL"]
    assert env["CODE_OTLP_ENDPOINT"] == "http://tempo:4318/v1/traces"
    assert env["CODE_LOG_FORMAT"] == "json"
    assert code["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "8080:8080" in code["ports"]


def test_compose_volumes_are_named_and_bind_mounts_exist(compose: dict[str, Any]) -> None:
    declared = set(compose["volumes"])
    used = set()
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), f"{name}: {source} does not exist"
            elif not source.startswith("/"):
                used.add(source)
    assert used == declared
    assert {"postgres-data", "prometheus-data", "grafana-data", "loki-data", "tempo-data"} <= used


def test_prometheus_scrapes_code_and_loads_the_rules(compose: dict[str, Any]) -> None:
    config = load_yaml("observability/prometheus/prometheus.yml")
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    code = jobs["code"]
    assert code.get("metrics_path", "/metrics") == "/metrics"
    assert "code:8080" in code["static_configs"][0]["targets"]
    assert config["rule_files"] == ["/etc/prometheus/rules/*.yml"]
    mounts = compose["services"]["prometheus"]["volumes"]
    assert "./observability/prometheus/rules:/etc/prometheus/rules:ro" in mounts


@pytest.fixture(scope="module")
def rules() -> list[dict[str, Any]]:
    found = []
    for path in sorted((ROOT / "observability/prometheus/rules").glob("*.yml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert set(document) == {"groups"}, path
        names = [group["name"] for group in document["groups"]]
        assert len(names) == len(set(names)), f"{path}: duplicate group names"
        for group in document["groups"]:
            assert group["rules"], f"{path}: group {group['name']} is empty"
            found.extend(group["rules"])
    assert found
    return found


def test_prometheus_rules_are_well_formed(rules: list[dict[str, Any]]) -> None:
    for rule in rules:
        assert ("alert" in rule) != ("record" in rule), rule
        assert isinstance(rule["expr"], str) and rule["expr"].strip()
        if "record" in rule:
            assert re.fullmatch(r"[a-zA-Z_:][a-zA-Z0-9_:]*", rule["record"])
            assert set(rule) <= {"record", "expr", "labels"}
            continue
        assert set(rule) <= {"alert", "expr", "for", "keep_firing_for", "labels", "annotations"}
        assert re.fullmatch(r"\d+[smh]", rule["for"]), rule["alert"]
        assert rule["labels"]["severity"] in {"critical", "warning"}
        assert {"summary", "description", "runbook_url"} <= set(rule["annotations"])


def test_alerts_cover_the_seed_slos(rules: list[dict[str, Any]]) -> None:
    alerts = {rule["alert"]: rule for rule in rules if "alert" in rule}
    assert "> 0.2" in alerts["CodeLatencyP95High"]["expr"]  # p95 < 200 ms
    assert "> 0.001" in alerts["CodeErrorRateHigh"]["expr"]  # error rate < 0.1 %
    availability = [rule for rule in alerts.values() if rule["labels"].get("slo") == "availability"]
    assert any(rule["labels"]["severity"] == "critical" for rule in availability)
    assert "CodeBackupStale" in alerts  # RPO 1 h
    recorded = {rule["record"] for rule in rules if "record" in rule}
    for alert in alerts.values():
        for name in re.findall(r"code:[a-z0-9_:]+", alert["expr"]):
            assert name in recorded, f"{alert['alert']} uses unrecorded {name}"


def test_runbook_links_point_at_existing_sections(rules: list[dict[str, Any]]) -> None:
    prefix = "https://github.com/code-engine/code-engine/blob/main/"
    for rule in rules:
        if "alert" not in rule:
            continue
        url = rule["annotations"]["runbook_url"]
        assert url.startswith(prefix), url
        path, _, anchor = url.removeprefix(prefix).partition("#")
        assert (ROOT / path).is_file(), url
        assert anchor in markdown_anchors(ROOT / path), url


def test_grafana_provisions_datasources_and_dashboards(compose: dict[str, Any]) -> None:
    datasources = load_yaml("observability/grafana/provisioning/datasources/datasources.yml")
    by_type = {source["type"]: source for source in datasources["datasources"]}
    assert by_type["prometheus"]["url"] == "http://prometheus:9090"
    assert by_type["loki"]["url"] == "http://loki:3100"
    assert by_type["tempo"]["url"] == "http://tempo:3200"
    uids = {source["uid"] for source in datasources["datasources"]}

    providers = load_yaml("observability/grafana/provisioning/dashboards/dashboards.yml")
    path = providers["providers"][0]["options"]["path"]
    mounts = compose["services"]["grafana"]["volumes"]
    assert f"./observability/grafana/dashboards:{path}:ro" in mounts

    dashboards = sorted((ROOT / "observability/grafana/dashboards").glob("*.json"))
    assert dashboards
    for dashboard_path in dashboards:
        dashboard = json.loads(dashboard_path.read_text(encoding="utf-8"))
        ids = [panel["id"] for panel in dashboard["panels"]]
        assert len(ids) == len(set(ids)), dashboard_path
        for panel in dashboard["panels"]:
            assert panel["datasource"]["uid"] in uids, panel["title"]
            assert panel["targets"], panel["title"]


def test_logs_and_traces_pipeline_is_wired() -> None:
    promtail = load_yaml("observability/promtail/config.yaml")
    assert promtail["clients"][0]["url"] == "http://loki:3100/loki/api/v1/push"
    tempo = load_yaml("observability/tempo/config.yaml")
    http = tempo["distributor"]["receivers"]["otlp"]["protocols"]["http"]
    assert http["endpoint"].endswith(":4318")
    loki = load_yaml("observability/loki/config.yaml")
    assert loki["server"]["http_listen_port"] == 3100


# --- Dockerfile -----------------------------------------------------------------------------


def test_dockerfile_is_multi_stage_distroless_and_non_root() -> None:
    parser = DockerfileParser(path=str(ROOT / "Dockerfile"))
    assert parser.is_multistage
    builder, runtime = parser.parent_images
    assert re.fullmatch(r"python:3\.11\.\d+-slim(-bookworm)?", builder), builder
    assert runtime == "gcr.io/distroless/python3-debian12:nonroot"

    instructions = parser.structure
    last_from = max(i for i, item in enumerate(instructions) if item["instruction"] == "FROM")
    final = instructions[last_from:]
    users = [item["value"] for item in final if item["instruction"] == "USER"]
    assert users and users[-1].split(":")[0] not in {"root", "0"}
    assert [item["value"] for item in final if item["instruction"] == "EXPOSE"] == ["8080"]
    entrypoint = json.loads(next(i["value"] for i in final if i["instruction"] == "ENTRYPOINT"))
    assert entrypoint[1:4] == ["-m", "code_engine", "server"]
    assert entrypoint[entrypoint.index("--host") + 1] == "0.0.0.0"  # noqa: S104 - in a container
    assert not any(item["instruction"] == "HEALTHCHECK" for item in instructions)
    runs = " ".join(item["value"] for item in instructions if item["instruction"] == "RUN")
    assert "-r requirements.lock" in runs
    assert "pip wheel" in runs and "--no-deps" in runs


def test_dockerignore_keeps_the_context_small() -> None:
    lines = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    assert "**" in lines
    assert {"!src/", "!requirements.lock", "!pyproject.toml"} <= set(lines)


# --- .devcontainer and .vscode --------------------------------------------------------------


def test_devcontainer_matches_its_schema_and_compose_files() -> None:
    folder = ROOT / ".devcontainer"
    schema = json.loads((folder / "devcontainer.schema.json").read_text(encoding="utf-8"))
    config = json.loads((folder / "devcontainer.json").read_text(encoding="utf-8"))
    jsonschema.Draft201909Validator.check_schema(schema)
    jsonschema.Draft201909Validator(schema).validate(config)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft201909Validator(schema).validate({**config, "shutdownActoin": "none"})

    services: dict[str, Any] = {}
    for compose_file in config["dockerComposeFile"]:
        services.update(yaml.safe_load((folder / compose_file).read_text())["services"])
    assert config["service"] in services
    assert set(config["runServices"]) <= set(services)
    workspace = f":{config['workspaceFolder']}:cached"
    assert any(volume.endswith(workspace) for volume in services["dev"]["volumes"])


def test_shared_editor_settings_exist() -> None:
    settings = json.loads((ROOT / ".vscode/settings.json").read_text(encoding="utf-8"))
    extensions = json.loads((ROOT / ".vscode/extensions.json").read_text(encoding="utf-8"))
    assert settings["[python]"]["editor.defaultFormatter"] == "charliermarsh.ruff"
    assert "charliermarsh.ruff" in extensions["recommendations"]
    assert "root = true" in (ROOT / ".editorconfig").read_text(encoding="utf-8")


# --- deploy/k8s -----------------------------------------------------------------------------


def kustomization(directory: Path) -> dict[str, Any]:
    return yaml.safe_load((directory / "kustomization.yaml").read_text(encoding="utf-8"))


def test_overlays_exist_for_every_environment() -> None:
    for env in ENVIRONMENTS:
        overlay = ROOT / "deploy/k8s/overlays" / env
        config = kustomization(overlay)
        assert config["namespace"] == f"code-{env}"
        assert "../../base" in config["resources"]
        assert config["images"][0]["name"] == "ghcr.io/code-engine/code-engine"
        assert config["images"][0]["newTag"]
        assert config["replicas"][0]["name"] == "code-engine"
        for resource in config["resources"]:
            assert (overlay / resource).exists(), f"{env}: {resource}"
        for patch in config.get("patches", []):
            assert "path" not in patch or (overlay / patch["path"]).is_file()
    counts = {
        env: kustomization(ROOT / "deploy/k8s/overlays" / env)["replicas"][0]["count"]
        for env in ENVIRONMENTS
    }
    assert counts["dev"] < counts["staging"] < counts["prod"]


@pytest.fixture(scope="module")
def base_objects() -> dict[str, dict[str, Any]]:
    base = ROOT / "deploy/k8s/base"
    objects = {}
    for resource in kustomization(base)["resources"]:
        for document in load_yaml_all(base / resource):
            objects[document["kind"]] = document
    return objects


def test_base_has_every_object_a_service_needs(base_objects: dict[str, dict[str, Any]]) -> None:
    expected = {
        "Deployment",
        "Service",
        "ServiceAccount",
        "PodDisruptionBudget",
        "HorizontalPodAutoscaler",
        "NetworkPolicy",
        "CronJob",
        "ExternalSecret",
        "SecretStore",
    }
    assert expected <= set(base_objects)
    generated = kustomization(ROOT / "deploy/k8s/base")["configMapGenerator"]
    assert generated[0]["name"] == "code-engine-config"


def test_deployment_is_hardened_and_probed(base_objects: dict[str, dict[str, Any]]) -> None:
    pod = base_objects["Deployment"]["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    (container,) = pod["containers"]
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"]["drop"] == ["ALL"]
    assert {"cpu", "memory"} <= set(container["resources"]["limits"])
    assert {"cpu", "memory"} <= set(container["resources"]["requests"])
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["ports"][0]["containerPort"] == 8080
    mounts = {mount["mountPath"] for mount in container["volumeMounts"]}
    assert {"/tmp", "/data"} <= mounts  # writable paths on a read-only root filesystem


def test_backup_cronjob_runs_codectl_dr_backup(base_objects: dict[str, dict[str, Any]]) -> None:
    cronjob = base_objects["CronJob"]["spec"]
    (container,) = cronjob["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    assert container["command"][-2:] == ["-m", "code_engine"]
    assert container["args"] == ["dr", "backup"]
    assert cronjob["concurrencyPolicy"] == "Forbid"
    minute, hour, *_ = cronjob["schedule"].split()
    assert minute.isdigit() and hour == "*"  # hourly: RPO 1 h


def secret_refs(node: Any) -> Iterator[dict[str, str]]:
    """Every `secretKeyRef` anywhere under a manifest."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "secretKeyRef":
                yield value
            else:
                yield from secret_refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from secret_refs(item)


def test_secrets_come_from_vault_through_external_secrets(
    base_objects: dict[str, dict[str, Any]],
) -> None:
    store = base_objects["SecretStore"]
    vault = store["spec"]["provider"]["vault"]
    account = base_objects["ServiceAccount"]["metadata"]["name"]
    assert vault["auth"]["kubernetes"]["serviceAccountRef"]["name"] == account
    external = base_objects["ExternalSecret"]["spec"]
    assert external["secretStoreRef"]["name"] == store["metadata"]["name"]
    provided = {item["secretKey"] for item in external["data"]}
    refs = [ref for kind in ("Deployment", "CronJob") for ref in secret_refs(base_objects[kind])]
    assert refs
    for ref in refs:
        assert ref["name"] == external["target"]["name"]
        assert ref["key"] in provided, ref


def test_base_workloads_pass_the_admission_policy(base_objects: dict[str, dict[str, Any]]) -> None:
    interpreter = regopy.Interpreter()
    policy = ROOT / "policies/admission.rego"
    interpreter.add_module(str(policy), policy.read_text(encoding="utf-8"))
    for kind in ("Deployment", "CronJob"):
        review = {"request": {"kind": {"kind": kind}, "object": base_objects[kind]}}
        interpreter.set_input(review)
        output = interpreter.query("data.code.admission.deny")
        assert output.ok()
        assert output.results[0].expressions == [[]], f"{kind}: {output.results[0].expressions}"


# --- deploy/argocd --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def argocd() -> list[dict[str, Any]]:
    folder = ROOT / "deploy/argocd"
    resources = kustomization(folder)["resources"]
    return [doc for resource in resources for doc in load_yaml_all(folder / resource)]


def gitops_paths() -> dict[str, tuple[str, str, str]]:
    """namespace -> (GitOps repo, its path, the overlay) of code.yaml's Kubernetes environments."""
    found = {}
    for env in load_yaml("code.yaml")["environments"]:
        target = env["target"]
        if target["kind"] == "kubernetes" and "gitops" in target:
            overlay = f"{target['manifests']}/overlays/{target.get('overlay', env['name'])}"
            gitops = target["gitops"]
            found[target["namespace"]] = (gitops["repo"], gitops["path"], overlay)
    return found


def test_argocd_application_per_environment(argocd: list[dict[str, Any]]) -> None:
    (project,) = [doc for doc in argocd if doc["kind"] == "AppProject"]
    apps = {
        doc["spec"]["destination"]["namespace"]: doc
        for doc in argocd
        if doc["kind"] == "Application"
    }
    assert set(apps) == {f"code-{env}" for env in ENVIRONMENTS}
    allowed = {(d["server"], d["namespace"]) for d in project["spec"]["destinations"]}
    for namespace, app in apps.items():
        spec = app["spec"]
        assert spec["project"] == project["metadata"]["name"]
        assert spec["source"]["repoURL"] in project["spec"]["sourceRepos"]
        delivered = gitops_paths().get(namespace)
        if delivered is not None:  # CODE commits the rendered overlay to the GitOps repo
            assert (spec["source"]["repoURL"], spec["source"]["path"]) == delivered[:2]
            assert kustomization(ROOT / delivered[2])["namespace"] == namespace
            continue
        overlay = ROOT / spec["source"]["path"]
        assert overlay.is_dir(), spec["source"]["path"]
        assert kustomization(overlay)["namespace"] == namespace
        assert (spec["destination"]["server"], namespace) in allowed


def test_argocd_project_allows_every_deployed_kind(
    argocd: list[dict[str, Any]], base_objects: dict[str, dict[str, Any]]
) -> None:
    (project,) = [doc for doc in argocd if doc["kind"] == "AppProject"]
    allowed = {entry["kind"] for entry in project["spec"]["namespaceResourceWhitelist"]}
    assert set(base_objects) | {"ConfigMap"} <= allowed
    assert {"kind": "Namespace", "group": ""} in project["spec"]["clusterResourceWhitelist"]


def test_argocd_sync_policy(argocd: list[dict[str, Any]]) -> None:
    for app in (doc for doc in argocd if doc["kind"] == "Application"):
        policy = app["spec"]["syncPolicy"]
        assert policy["automated"] == {"prune": True, "selfHeal": True}
        assert "CreateNamespace=true" in policy["syncOptions"]
        assert policy["retry"] == {
            "limit": 5,
            "backoff": {"duration": "5s", "factor": 2, "maxDuration": "3m"},
        }


# --- .github --------------------------------------------------------------------------------


def workflow(name: str) -> dict[str, Any]:
    document = load_yaml(f".github/workflows/{name}")
    # YAML 1.1 reads the key `on` as the boolean True.
    document["on"] = document.pop(True, document.get("on"))
    return document


def test_ci_triggers_on_push_and_pull_request() -> None:
    ci = workflow("ci.yml")
    assert ci["on"]["push"]["branches"] == ["main"]
    assert "pull_request" in ci["on"]
    assert ci["permissions"] == {"contents": "read"}
    assert "group" in ci["concurrency"]


def test_ci_jobs_and_their_order() -> None:
    jobs = workflow("ci.yml")["jobs"]
    assert {"lint", "test", "security", "build"} <= set(jobs)
    assert set(jobs["build"]["needs"]) == {"lint", "test", "security"}

    def runs(job: str) -> str:
        return "\n".join(step.get("run", "") for step in jobs[job]["steps"])

    def uses(job: str) -> list[str]:
        return [step["uses"].split("@")[0] for step in jobs[job]["steps"] if "uses" in step]

    assert "make ci-lint" in runs("lint")
    assert "make ci-test" in runs("test")
    assert "make ci-security" in runs("security")
    # CODE's own OSV scan of the lock file the image installs (no scanner fetched at run time)
    assert "semgrep" in runs("security") and "codectl deps scan" in runs("security")
    assert "aquasecurity/trivy-action" in uses("build")
    assert "docker/build-push-action" in uses("build")
    assert "actions/upload-artifact" in uses("test")

    test = jobs["test"]
    assert test["services"]["postgres"]["image"] == "postgres:15"
    assert test["env"]["CODE_TEST_REQUIRE_POSTGRES"] == "1"
    assert test["env"]["CODE_TEST_POSTGRES_URL"].startswith("postgresql+psycopg://")


def test_every_action_is_pinned_to_an_exact_version() -> None:
    for path in sorted((ROOT / ".github/workflows").glob("*.yml")):
        for job in workflow(path.name)["jobs"].values():
            for step in job["steps"]:
                if "uses" in step:
                    pinned = re.search(r"@(v?\d+\.\d+\.\d+|[0-9a-f]{40})$", step["uses"])
                    assert pinned, step["uses"]


def test_codeowners_names_an_owner_for_every_pattern() -> None:
    rules = [
        line.split()
        for line in (ROOT / ".github/CODEOWNERS").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert rules[0][0] == "*"
    for pattern, *owners in rules:
        assert owners, pattern
        assert all(re.fullmatch(r"@[\w-]+(/[\w-]+)?", owner) for owner in owners), pattern


# --- pre-commit -----------------------------------------------------------------------------


def test_pre_commit_hooks_are_local_and_complete() -> None:
    config = load_yaml(".pre-commit-config.yaml")
    assert [repo["repo"] for repo in config["repos"]] == ["local"]
    hooks = {hook["id"]: hook for hook in config["repos"][0]["hooks"]}
    expected = {"ruff", "ruff-format", "mypy", "bandit", "commitizen", "detect-secrets"}
    assert expected <= set(hooks)
    assert hooks["commitizen"]["stages"] == ["commit-msg"]
    assert "--commit-msg-file" in hooks["commitizen"]["entry"]
    assert "--baseline .secrets.baseline" in hooks["detect-secrets"]["entry"]
    assert (ROOT / ".secrets.baseline").is_file()

    script = (ROOT / "scripts/ci-lint-files.sh").read_text(encoding="utf-8")
    sections = set(re.search(r"SECTIONS=\(([^)]*)\)", script).group(1).split())  # type: ignore[union-attr]
    for hook in hooks.values():
        assert hook["language"] == "system"
        program, *args = hook["entry"].split()
        if program.startswith(".venv/bin/"):
            tool = Path(sys.executable).parent / program.removeprefix(".venv/bin/")
            assert tool.exists(), f"{hook['id']}: {tool} is not installed"
        else:
            assert (ROOT / program).is_file(), hook["id"]
        if program == "scripts/ci-lint-files.sh":
            assert set(args) <= sections, hook["id"]


# --- policies -------------------------------------------------------------------------------


def test_rego_policies_pass_their_tests() -> None:
    result = subprocess.run(
        [CODECTL, "policy", "test", str(ROOT / "policies"), str(ROOT / "examples/policies")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    passed = [int(n) for n in re.findall(r"^PASS: (\d+)/\1$", result.stdout, re.MULTILINE)]
    assert len(passed) == 1 and passed[0] >= 30, result.stdout


def test_rego_test_runner_rejects_v0_syntax(tmp_path: Path) -> None:
    (tmp_path / "old.rego").write_text('package old\n\ndeny[msg] {\n  msg := "x"\n}\n')
    result = subprocess.run(
        [CODECTL, "policy", "test", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "old.rego:3: Rego v0 rule syntax" in result.stderr


# --- infra ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def terraform_files() -> dict[Path, dict[str, Any]]:
    files = sorted((ROOT / "infra").rglob("*.tf")) + sorted((ROOT / "infra").rglob("*.tfvars"))
    assert files
    return {path.relative_to(ROOT / "infra"): load_hcl(path) for path in files}


def test_every_terraform_file_parses(terraform_files: dict[Path, dict[str, Any]]) -> None:
    modules = {"network", "database", "cluster", "backup_bucket"}
    present = {path.parts[1] for path in terraform_files if path.parts[0] == "modules"}
    assert modules <= present
    for module in modules:
        names = {path.name for path in terraform_files if path.parts[:2] == ("modules", module)}
        assert {"main.tf", "variables.tf", "outputs.tf", "versions.tf"} <= names, module


def test_state_backend_is_s3_with_dynamodb_locking(
    terraform_files: dict[Path, dict[str, Any]],
) -> None:
    (terraform,) = terraform_files[Path("backend.tf")]["terraform"]
    (backend,) = terraform["backend"]
    s3 = backend["s3"]
    assert s3["dynamodb_table"] and s3["bucket"] and s3["encrypt"] is True


def test_providers_are_pinned(terraform_files: dict[Path, dict[str, Any]]) -> None:
    for path, document in terraform_files.items():
        for terraform in document.get("terraform", []):
            for providers in terraform.get("required_providers", []):
                for name, provider in providers.items():
                    constraint = provider["version"]
                    assert re.match(r"^(~>|=|>=)\s*\d+\.\d+", constraint), f"{path}: {name}"


def test_workspaces_have_matching_var_files(terraform_files: dict[Path, dict[str, Any]]) -> None:
    main = (ROOT / "infra/main.tf").read_text(encoding="utf-8")
    assert "terraform.workspace" in main
    for _, body in blocks(terraform_files[Path("variables.tf")], "variable"):
        assert body["description"] and body["type"]
    declared = dict(blocks(terraform_files[Path("variables.tf")], "variable"))
    required = {name for name, body in declared.items() if "default" not in body}
    for env in ENVIRONMENTS:
        values = terraform_files[Path(f"envs/{env}.tfvars")]
        assert values["environment"] == env
        assert set(values) <= set(declared), env
        assert required <= set(values), env


def test_root_module_sources_exist(terraform_files: dict[Path, dict[str, Any]]) -> None:
    for name, body in blocks(terraform_files[Path("main.tf")], "module"):
        assert (ROOT / "infra" / body["source"]).is_dir(), name


# --- docs and release -----------------------------------------------------------------------


def test_runbooks_and_recovery_objectives() -> None:
    runbooks = ROOT / "docs/runbooks"
    for name in ("restore.md", "incident-response.md", "rollback.md", "on-call.md"):
        assert (runbooks / name).is_file(), name
    restore = (runbooks / "restore.md").read_text(encoding="utf-8")
    assert re.search(r"\*\*RPO\*\*.*\*\*1 hour\*\*", restore)
    assert re.search(r"\*\*RTO\*\*.*\*\*4 hours\*\*", restore)
    assert (ROOT / "SECURITY.md").is_file()


def test_changelog_is_generated_by_git_cliff() -> None:
    cliff = (ROOT / "cliff.toml").read_text(encoding="utf-8")
    assert "conventional_commits = true" in cliff
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert changelog.startswith("# Changelog")
    assert "git-cliff" in changelog


def test_semgrep_rules_are_well_formed() -> None:
    rules = load_yaml(".semgrep.yml")["rules"]
    ids = [rule["id"] for rule in rules]
    assert len(ids) == len(set(ids))
    for rule in rules:
        assert rule["languages"] == ["python"]
        assert rule["severity"] in {"ERROR", "WARNING", "INFO"}
        assert rule["message"].strip()
        assert {"pattern", "patterns", "pattern-either"} & set(rule), rule["id"]

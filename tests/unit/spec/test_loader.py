from __future__ import annotations

from datetime import timedelta

import pytest

from code_engine.errors import InvalidFileError
from code_engine.spec import (
    CanaryStrategy,
    KubernetesTarget,
    LocalTarget,
    PauseStep,
    load_spec_text,
)

FULL = """\
service: shop
repo: git@example.com:acme/shop.git
description: The shop.
environments:
  - name: dev
    target:
      kind: local
      command: uvicorn shop:app --host 127.0.0.1 --port {port}
      instances: 2
      health_path: /readyz
      env: {SHOP_MODE: dev, WORKERS: "4"}
      router: haproxy
      port: 9000
    strategy: {kind: all_at_once}
  - name: staging
    target: {kind: kubernetes, namespace: shop-staging}
    protection: {requires_previous: true}
    strategy:
      kind: blue_green
      preview_duration: 10m
      analysis: {interval: 30s, count: 4}
      auto_promote: false
  - name: prod
    target:
      kind: kubernetes
      namespace: shop
      context: prod-eu
      manifests: k8s
      overlay: production
    protection:
      deployers: [admin, release-bot]
      requires_previous: true
      approval: true
rollout:
  kind: canary
  steps:
    - set_weight: 10
    - analysis: {interval: 1m, count: 5, failure_limit: 1, min_requests: 50}
    - pause: {duration: 30s}
    - set_weight: 50
    - pause: {}
slos: {p95_latency_ms: 150, error_rate_percent: 0.5, availability_percent: 99.5}
quality_gates: {min_coverage_percent: 90, max_critical_vulnerabilities: 1, max_complexity: 10}
backup:
  schedule: "*/30 * * * *"
  retention: {keep_daily: 14, keep_weekly: 8, keep_monthly: 6}
  rpo: 30m
  rto: 2h
  store: s3://acme-backups/shop
"""


def problems(text: str) -> list[str]:
    with pytest.raises(InvalidFileError) as caught:
        load_spec_text(text, "code.yaml")
    return [problem.render() for problem in caught.value.problems]


def test_minimal_file_loads(minimal: str) -> None:
    spec = load_spec_text(minimal)
    assert spec.service == "shop"
    assert spec.environment_names == ["dev"]
    assert spec.backup is None


def test_full_file_loads() -> None:
    spec = load_spec_text(FULL)
    dev, staging, prod = spec.environments
    assert isinstance(dev.target, LocalTarget)
    assert dev.target.env == {"SHOP_MODE": "dev", "WORKERS": "4"}
    assert dev.target.argv(9001)[-1] == "9001"
    assert isinstance(prod.target, KubernetesTarget)
    assert prod.target.context == "prod-eu"
    assert prod.protection.deployers == ["admin", "release-bot"]
    assert spec.strategy_for("staging").kind == "blue_green"
    rollout = spec.strategy_for("prod")
    assert isinstance(rollout, CanaryStrategy)
    assert rollout.steps[2] == PauseStep.model_validate({"pause": {"duration": "30s"}})
    assert spec.backup is not None
    assert spec.backup.rpo == timedelta(minutes=30)


def test_yaml_syntax_error_has_parser_position(minimal: str) -> None:
    text = minimal.replace("kind: local", "kind: local: x")
    assert problems(text) == ["code.yaml:6:18: mapping values are not allowed here"]


def test_unclosed_flow_sequence() -> None:
    assert problems("service: shop\nrepo: [a\n") == [
        "code.yaml:3:1: while parsing a flow sequence (line 2), expected ',' or ']', "
        "but got '<stream end>'"
    ]


def test_tab_indentation() -> None:
    assert problems("service: shop\n\trepo: .\n") == [
        "code.yaml:2:1: while scanning for the next token, found character '\\t' that cannot "
        "start any token; indent with spaces"
    ]


def test_forbidden_character() -> None:
    assert problems("service: shop\nrepo: \x07\n") == [
        "code.yaml:2:7: character U+0007 is not allowed in YAML"
    ]


@pytest.mark.parametrize(
    ("text", "got"),
    [
        ("", "an empty file"),
        ("# nothing\n", "an empty file"),
        ("- a\n", "a list"),
        ("shop\n", "'shop'"),
    ],
)
def test_top_level_must_be_a_mapping(text: str, got: str) -> None:
    assert problems(text) == [
        f"code.yaml:1:1: expected a mapping with service, repo and environments, got {got}"
    ]


def test_wrong_types_point_at_the_value(minimal: str) -> None:
    text = minimal + "      instances: two\n      port: '8080'\n      env: {WORKERS: 4}\n"
    assert problems(text) == [
        "code.yaml:8:18: environments.0.target.instances: "
        "Input should be a valid integer, got 'two'",
        "code.yaml:9:13: environments.0.target.port: Input should be a valid integer, got '8080'",
        "code.yaml:10:22: environments.0.target.env.WORKERS: "
        "Input should be a valid string, got 4; quote it to make it a string",
    ]


def test_yaml_1_2_booleans(minimal: str) -> None:
    text = minimal + "    protection:\n      approval: yes\n"
    assert problems(text) == [
        "code.yaml:9:17: environments.0.protection.approval: "
        "Input should be a valid boolean, got 'yes'; write true or false"
    ]


def test_unknown_key_is_located_at_the_key(minimal: str) -> None:
    text = minimal + "      instance: 2\n" + "owner: me\n"
    assert problems(text) == [
        "code.yaml:8:7: environments.0.target.instance: "
        "unknown field 'instance'; did you mean 'instances'?",
        "code.yaml:9:1: owner: unknown field 'owner'; expected one of: service, repo, "
        "description, environments, rollout, slos, quality_gates, pipeline, backup, policies",
    ]


def test_bad_environment_variable_name_is_located_at_the_key(minimal: str) -> None:
    text = minimal + "      env:\n        1PASSWORD: x\n"
    assert problems(text) == [
        "code.yaml:9:9: environments.0.target.env.1PASSWORD: "
        "'1PASSWORD' is not an environment variable name"
    ]


def test_missing_field_is_located_at_its_parent(minimal: str) -> None:
    text = minimal.replace("      command: uvicorn shop:app --port {port}\n", "")
    text = text.replace("repo: https://example.com/shop.git\n", "")
    assert problems(text) == [
        "code.yaml:1:1: repo: required field is missing",
        "code.yaml:4:5: environments.0.target.command: required field is missing",
    ]


def test_invalid_kind_is_located_at_the_kind(minimal: str) -> None:
    text = minimal.replace("kind: local", "kind: docker")
    assert problems(text) == [
        "code.yaml:6:13: environments.0.target.kind: "
        "'docker' is not a valid kind; expected one of: 'local', 'kubernetes'"
    ]


def test_missing_kind_names_the_choices(minimal: str) -> None:
    text = minimal + "rollout: {steps: []}\n"
    assert problems(text) == [
        "code.yaml:8:1: rollout.kind: required field is missing; "
        "expected one of: 'canary', 'blue_green', 'all_at_once'"
    ]


def test_section_of_the_wrong_shape(minimal: str) -> None:
    text = minimal + "    protection: strict\nslos:\n  - p95_latency_ms: 100\n"
    assert problems(text) == [
        "code.yaml:8:17: environments.0.protection: expected a mapping, got 'strict'",
        "code.yaml:9:1: slos: expected a mapping, got a list",
    ]


def test_bad_duration(minimal: str) -> None:
    text = minimal + "rollout:\n  kind: canary\n  steps:\n    - set_weight: 5\n"
    text += "    - pause: {duration: 5 minutes}\n"
    assert problems(text) == [
        "code.yaml:12:25: rollout.steps.1.pause.duration: invalid duration '5 minutes': "
        "use whole numbers with a unit (ms, s, m, h, d), e.g. '30s', '5m' or '1h30m'"
    ]


def test_bad_canary_weights(minimal: str) -> None:
    text = minimal + "rollout:\n  kind: canary\n  steps:\n"
    text += "    - set_weight: 50\n    - pause: {}\n    - set_weight: 25\n"
    assert problems(text) == [
        "code.yaml:13:19: rollout.steps.2.set_weight: "
        "weight 25 is lower than the 50 before it; canary weights must not decrease"
    ]


def test_canary_weight_out_of_range_and_step_with_two_keys(minimal: str) -> None:
    text = minimal + "rollout:\n  kind: canary\n  steps:\n"
    text += "    - set_weight: 150\n    - set_weight: 10\n      pause: {}\n"
    assert problems(text) == [
        "code.yaml:11:19: rollout.steps.0.set_weight: Input should be less than or equal to 100",
        "code.yaml:12:7: rollout.steps.1: "
        "a step has exactly one key: set_weight, pause or analysis",
    ]


def test_analysis_limit_is_located_at_the_limit(minimal: str) -> None:
    text = minimal + "rollout:\n  kind: canary\n  steps:\n    - set_weight: 5\n"
    text += "    - analysis:\n        count: 2\n        failure_limit: 2\n"
    assert problems(text) == [
        "code.yaml:14:24: rollout.steps.1.analysis.failure_limit: "
        "failure_limit must be lower than count (2)"
    ]


def test_duplicate_environment_names(minimal: str) -> None:
    text = minimal + "  - name: dev\n    target: {kind: kubernetes, namespace: shop}\n"
    assert problems(text) == [
        "code.yaml:8:11: environments.1.name: environment 'dev' is defined twice"
    ]


def test_first_environment_requires_no_previous(minimal: str) -> None:
    text = minimal + "    protection: {requires_previous: true}\n"
    assert problems(text) == [
        "code.yaml:8:37: environments.0.protection.requires_previous: "
        "the first environment has no previous one to require"
    ]


def test_duplicate_keys_are_all_reported(minimal: str) -> None:
    text = minimal.replace("    target:", "    name: web\n    target:") + "service: cart\n"
    assert problems(text) == [
        "code.yaml:5:5: environments.0.name: duplicate key 'name', first set on line 4",
        "code.yaml:9:1: service: duplicate key 'service', first set on line 1",
    ]


def test_duplicate_keys_inside_an_alias_are_reported_once() -> None:
    text = "env: &e {A: 1, A: 2}\nother: *e\n"
    assert problems(text) == ["code.yaml:1:16: env.A: duplicate key 'A', first set on line 1"]


def test_recursive_alias() -> None:
    assert problems("service: &s [*s]\n") == ["code.yaml:1:10: service.0: alias refers to itself"]


def test_merge_keys_resolve_and_locate_at_the_mapping(minimal: str) -> None:
    text = minimal.replace(
        "    target:\n      kind: local\n",
        "    target:\n      <<: {kind: local, instances: 0}\n",
    )
    assert problems(text) == [
        "code.yaml:5:5: environments.0.target.instances: Input should be greater than or equal to 1"
    ]


def test_cron_and_rpo_problems(minimal: str) -> None:
    text = minimal + "backup:\n  schedule: '0 3 * *'\n  store: /srv/backups\n  rto: 0s\n"
    assert problems(text) == [
        "code.yaml:9:13: backup.schedule: cron expression '0 3 * *' has 4 fields; "
        "expected 5: minute hour day-of-month month day-of-week",
        "code.yaml:11:8: backup.rto: duration must be longer than 0s",
    ]
    daily = minimal + "backup:\n  schedule: '0 3 * * *'\n  store: /srv/backups\n"
    assert problems(daily) == [
        "code.yaml:9:13: backup.schedule: "
        "schedule leaves up to 1d between backups, more than the rpo of 1h"
    ]


def test_problems_come_in_file_order(minimal: str) -> None:
    text = "environments: []\nservice: Shop\nrepo: ''\n"
    assert problems(text) == [
        "code.yaml:1:1: environments: needs at least 1 item, got 0",
        "code.yaml:2:10: service: 'Shop' is not a DNS label: use 1-63 lowercase letters, digits "
        "and '-', starting and ending with a letter or digit",
        "code.yaml:3:7: repo: must not be empty",
    ]


def test_filename_is_used_as_given(minimal: str) -> None:
    with pytest.raises(InvalidFileError) as caught:
        load_spec_text(minimal + "bogus: 1\n", "services/shop/code.yaml")
    assert caught.value.problems[0].file == "services/shop/code.yaml"


def test_values_are_described_as_written(minimal: str) -> None:
    text = minimal.replace("repo: https://example.com/shop.git", "repo: [a, b]")
    text = text.replace("service: shop", "service: {name: shop}")
    text += "    protection: {deployers: admin}\n"
    text += f"description: 2024-01-31\nslos: {{p95_latency_ms: '{'9' * 50}'}}\n"
    assert problems(text) == [
        "code.yaml:1:1: service: Input should be a valid string, got a mapping",
        "code.yaml:2:1: repo: Input should be a valid string, got a list",
        "code.yaml:8:29: environments.0.protection.deployers: expected a list, got 'admin'",
        "code.yaml:9:14: description: Input should be a valid string, got 2024-01-31; "
        "quote it to make it a string",
        "code.yaml:10:24: slos.p95_latency_ms: Input should be a valid number, got "
        + "'"
        + "9" * 36
        + "...",  # long values are cut to 40 characters
    ]


def test_unknown_key_inside_a_step_lists_the_step_fields(minimal: str) -> None:
    text = minimal + "rollout:\n  kind: canary\n  steps:\n    - pause: {duration: 1s, for: 2}\n"
    assert problems(text) == [
        "code.yaml:11:29: rollout.steps.0.pause.for: unknown field 'for'; expected one of: duration"
    ]


def test_missing_target_kind_in_an_environment(minimal: str) -> None:
    text = minimal.replace("      kind: local\n", "")
    assert problems(text) == [
        "code.yaml:5:5: environments.0.target.kind: required field is missing; "
        "expected one of: 'local', 'kubernetes'"
    ]


def test_health_path_must_be_absolute(minimal: str) -> None:
    assert problems(minimal + "      health_path: healthz\n") == [
        "code.yaml:8:20: environments.0.target.health_path: 'healthz' must start with '/'"
    ]


def test_complex_keys_are_refused(minimal: str) -> None:
    assert problems(minimal + "? [a, b]\n: 1\n") == [
        "code.yaml:1:1: ('a', 'b'): Keys should be strings"
    ]


def test_booleans_and_empty_values(minimal: str) -> None:
    text = minimal.replace("command: uvicorn shop:app --port {port}", "command: true")
    assert problems(text + "    protection:\n") == [
        "code.yaml:7:16: environments.0.target.command: Input should be a valid string, "
        "got true; quote it to make it a string",
        "code.yaml:8:5: environments.0.protection: expected a mapping, got null",
    ]

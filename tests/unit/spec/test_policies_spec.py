"""`policies:` and an environment's `timezone` in code.yaml."""

from __future__ import annotations

from code_engine.errors import InvalidFileError
from code_engine.spec import load_spec_text


def problems(text: str) -> list[str]:
    try:
        load_spec_text(text)
    except InvalidFileError as exc:
        return [problem.render() for problem in exc.problems]
    return []


def test_timezone_defaults_to_utc_and_takes_an_iana_name(minimal: str) -> None:
    assert load_spec_text(minimal).environments[0].timezone == "UTC"
    spec = load_spec_text(minimal + "    timezone: Europe/Paris\n")
    assert spec.environments[0].timezone == "Europe/Paris"


def test_an_unknown_timezone_is_located(minimal: str) -> None:
    [problem] = problems(minimal + "    timezone: Mars/Olympus\n")
    assert problem == (
        "code.yaml:8:15: environments.0.timezone: "
        "'Mars/Olympus' is not an IANA time zone, e.g. Europe/Paris"
    )


def test_policies_list_bundles(minimal: str) -> None:
    text = minimal + "policies:\n  - {path: policies/, query: data.code.deploy_gate.deny}\n"
    [bundle] = load_spec_text(text).policies
    assert (bundle.path, bundle.query) == ("policies/", "data.code.deploy_gate.deny")


def test_a_policy_query_must_name_a_rule(minimal: str) -> None:
    [problem] = problems(minimal + "policies:\n  - {path: policies/, query: deny}\n")
    assert "policies.0.query: 'deny' is not a rule reference" in problem

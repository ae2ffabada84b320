"""SARIF: locations only at files that exist, percent-encoded URIs, help links to the docs."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import unquote

import jsonschema
from tests.integration.assess.conftest import NOW, Builder

from code_engine.assess import assess_repository
from code_engine.assess.docs import DOC_PATH
from code_engine.assess.render.sarif import DOCS_URL, report_to_sarif

SCHEMA = Path(__file__).parents[3] / "src/code_engine/assess/schemas/sarif-2.1.0.json"
ROOT = Path(__file__).parents[3]


def _sarif(repo: Path) -> dict[str, object]:
    sarif = report_to_sarif(assess_repository(repo, clock=lambda: NOW))
    jsonschema.validate(sarif, json.loads(SCHEMA.read_text(encoding="utf-8")))
    return sarif


def test_locations_exist_and_uris_are_percent_encoded(
    build_repo: Builder, level3: dict[str, str]
) -> None:
    files = dict(level3)
    # a failing Dockerfile whose path needs encoding, and checks failing on missing files
    files.pop("Dockerfile")
    files["build dir/Dockerfile.prod#1"] = "FROM python:3.12\nUSER root\n"
    files.pop("SECURITY.md")
    files.pop("docs/dr/drills/2026-10-15.md")
    repo = build_repo(files)
    run = _sarif(repo)["runs"][0]  # type: ignore[index]
    results = {r["ruleId"]: r for r in run["results"]}
    assert {"sec.security-policy", "dr.drill", "ctr.non-root"} <= set(results)
    for result in results.values():
        for location in result.get("locations", []):
            uri = location["physicalLocation"]["artifactLocation"]["uri"]
            assert not re.search(r"[ #]", uri)
            assert (repo / unquote(uri)).is_file(), uri
    located = results["ctr.non-root"]["locations"][0]["physicalLocation"]
    assert located["artifactLocation"]["uri"] == "build%20dir/Dockerfile.prod%231"
    # a missing file is reported at the repository, without a location
    assert "locations" not in results["sec.security-policy"]
    assert "locations" not in results["dr.drill"]


def test_every_rule_links_to_its_anchor_in_the_docs(
    build_repo: Builder, level3: dict[str, str]
) -> None:
    run = _sarif(build_repo(level3))["runs"][0]  # type: ignore[index]
    docs = (ROOT / DOC_PATH).read_text(encoding="utf-8")
    anchors = set(re.findall(r'<a id="([^"]+)"></a>', docs))
    for rule in run["tool"]["driver"]["rules"]:
        base, _, fragment = rule["helpUri"].partition("#")
        assert base == DOCS_URL
        assert fragment in anchors, rule["id"]

"""Matching pins against OSV advisories: ranges in PEP 440 order, version lists, severity."""

from __future__ import annotations

from typing import Any

import pytest

from code_engine.pipeline.advisory import AdvisoryError, parse_advisory
from code_engine.pipeline.lockfile import Pin
from code_engine.pipeline.osv import DatabaseInfo, match, scan
from code_engine.pipeline.osv_db import AdvisorySource, DatabaseUnavailableError
from code_engine.testing import FakeAdvisorySource

DB = DatabaseInfo("db", 1, None)


def advisory(events: list[dict[str, str]], **extra: Any) -> dict[str, Any]:
    return {
        "id": "PYSEC-0000-1",
        "aliases": ["CVE-2000-1", "GHSA-xxxx-yyyy-zzzz"],
        "summary": "a flaw",
        "affected": [
            {
                "package": {"name": "Some_Lib", "ecosystem": "PyPI"},
                "ranges": [{"type": "ECOSYSTEM", "events": events}],
                **extra.pop("affected_extra", {}),
            }
        ],
        **extra,
    }


@pytest.mark.parametrize(
    ("version", "hit"),
    [("0.9", False), ("1.0", True), ("1.4.2", True), ("1.5rc1", True), ("1.5", False)],
)
def test_introduced_to_fixed(version: str, hit: bool) -> None:
    adv = parse_advisory(advisory([{"introduced": "1.0"}, {"fixed": "1.5"}]))
    finding = match(Pin("some-lib", version), adv)
    assert (finding is not None) is hit
    if finding is not None:
        assert finding.fixed == ("1.5",)
        assert finding.aliases == ("CVE-2000-1", "GHSA-xxxx-yyyy-zzzz")


@pytest.mark.parametrize(("version", "hit"), [("2.0", True), ("2.0.1", False), ("0.1", True)])
def test_last_affected_includes_itself(version: str, hit: bool) -> None:
    adv = parse_advisory(advisory([{"introduced": "0"}, {"last_affected": "2.0"}]))
    assert (match(Pin("some-lib", version), adv) is not None) is hit


@pytest.mark.parametrize(
    ("version", "hit"), [("1.2", True), ("1.3", False), ("2.1", True), ("2.2", False)]
)
def test_two_ranges_in_one_list_of_events(version: str, hit: bool) -> None:
    events = [{"introduced": "1.0"}, {"fixed": "1.3"}, {"introduced": "2.0"}, {"fixed": "2.2"}]
    adv = parse_advisory(advisory(events))
    assert (match(Pin("some-lib", version), adv) is not None) is hit


def test_the_versions_list_counts_even_outside_the_ranges() -> None:
    adv = parse_advisory(
        advisory([{"introduced": "3.0"}], affected_extra={"versions": ["1.0.post1", "2.0"]})
    )
    assert match(Pin("some-lib", "1.0.post1"), adv) is not None
    assert match(Pin("some-lib", "2.0.0"), adv) is not None  # PEP 440: 2.0 == 2.0.0
    assert match(Pin("some-lib", "1.0"), adv) is None


def test_git_ranges_other_ecosystems_and_bad_versions_are_ignored() -> None:
    data = advisory([{"introduced": "0"}, {"fixed": "not a version"}])
    data["affected"].append(
        {
            "package": {"name": "some-lib", "ecosystem": "npm"},
            "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}]}],
        }
    )
    data["affected"][0]["ranges"].append({"type": "GIT", "events": [{"introduced": "abc"}]})
    adv = parse_advisory(data)
    assert len(adv.affected) == 1
    assert match(Pin("some-lib", "9.9"), adv) is not None  # an unreadable `fixed` closes nothing
    assert match(Pin("other", "1.0"), adv) is None


def test_severity_from_cvss_then_database_then_unrated() -> None:
    vector = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
    events = [{"introduced": "0"}, {"fixed": "2"}]
    rated = parse_advisory(
        advisory(
            events,
            severity=[{"type": "CVSS_V3", "score": vector}],
            database_specific={"severity": "LOW"},
        )
    )
    named = parse_advisory(advisory(events, database_specific={"severity": "MODERATE"}))
    plain = parse_advisory(advisory(events))
    pin = Pin("some-lib", "1")
    assert (match(pin, rated).severity, match(pin, rated).score) == ("critical", 9.8)  # type: ignore[union-attr]
    assert match(pin, named).severity == "medium"  # type: ignore[union-attr]
    assert match(pin, plain).severity == "unrated"  # type: ignore[union-attr]


def test_scan_orders_by_severity_counts_and_ignores_reviewed_ids() -> None:
    vector = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"
    high = parse_advisory(
        {**advisory([{"introduced": "0"}]), "id": "HIGH-1", "aliases": [],
         "severity": [{"type": "CVSS_V3", "score": vector}]}
    )  # fmt: skip
    plain = parse_advisory(advisory([{"introduced": "0"}]))
    pins = [Pin("some-lib", "1.0"), Pin("clean", "1.0")]
    report = scan(pins, {"some-lib": [plain, high]}, DB)
    assert [f.id for f in report.findings] == ["HIGH-1", "PYSEC-0000-1"]
    assert report.counts() == {"critical": 0, "high": 1, "medium": 0, "low": 0, "unrated": 1}
    assert report.to_dict()["scanned"] == 2
    ignored = scan(pins, {"some-lib": [plain, high]}, DB, ignore=["CVE-2000-1"])
    assert [f.id for f in ignored.findings] == ["HIGH-1"]


@pytest.mark.parametrize("data", [[], {"summary": "x"}, {"id": "X", "affected": "nope"}])
def test_a_document_that_is_no_advisory_is_refused(data: Any) -> None:
    with pytest.raises(AdvisoryError):
        parse_advisory(data)


def test_a_source_answers_per_package_and_a_down_one_raises() -> None:
    adv = parse_advisory(advisory([{"introduced": "0"}, {"fixed": "2"}]))
    source: AdvisorySource = FakeAdvisorySource({"some-lib": [adv]})
    pins = [Pin("some-lib", "1.0"), Pin("other", "1.0")]
    found, info = source.lookup(pins)
    assert [f.id for f in scan(pins, found, info).findings] == ["PYSEC-0000-1"]
    with pytest.raises(DatabaseUnavailableError):
        FakeAdvisorySource(down=True).lookup(pins)

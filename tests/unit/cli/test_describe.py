"""One line per deployment in `codectl status` and `deploy --watch`."""

from __future__ import annotations

from code_engine.cli.deploy_watch import describe


def test_a_canary_in_progress() -> None:
    deployment = {
        "status": "progressing",
        "progress": {"steps": 4, "step": 2, "current_step": "analysis", "canary": "v2",
                     "weight": 20},
    }  # fmt: skip
    assert describe(deployment) == "progressing · step 2/4 analysis · v2 at 20%"


def test_a_blue_green_preview_says_where_to_reach_it() -> None:
    deployment = {
        "status": "paused",
        "progress": {"steps": 2, "step": 1, "current_step": "analysis", "canary": "v2",
                     "weight": 0, "preview_url": "http://127.0.0.1:18091"},
    }  # fmt: skip
    assert describe(deployment).endswith("v2 at 0% · preview on http://127.0.0.1:18091")


def test_a_finished_deployment_shows_no_progress() -> None:
    deployment = {"status": "rejected", "progress": {"steps": 2}, "message": "not today"}
    assert describe(deployment) == "rejected · not today"

"""Publishing to a real GitOps remote: bare repositories, a second committer, hooks, a daemon."""

from __future__ import annotations

import socket
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from tests.support.git import git
from tests.support.kubernetes import bare_remote, commit_elsewhere
from tests.support.network import free_port
from tests.support.waiting import wait_until

from code_engine.deploy.kubernetes import (
    GitOpsUnreachable,
    ManifestInvalid,
    PushRaceLost,
    Rendered,
    render_environment,
)
from code_engine.deploy.kubernetes.gitops import GitOpsRepo
from code_engine.deploy.kubernetes.message import Author, DeployMessage, trailers
from code_engine.spec import GitOps, ServiceSpec

ALICE = Author("Alice Deployer", "alice@example.test")
FILE = "apps/shop/staging/manifests.yaml"


def message(deployment: str, release: str) -> DeployMessage:
    return DeployMessage.deploy("shop", "staging", deployment, release, "c0ffee" * 6 + "c0ff")


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    return bare_remote(tmp_path / "gitops.git")


@pytest.fixture
def render(service: Path, spec: ServiceSpec) -> Callable[[str], Callable[[], Rendered]]:
    def for_version(version: str) -> Callable[[], Rendered]:
        return lambda: render_environment(service, spec, "staging", version)

    return for_version


def repo_for(tmp_path: Path, url: str, data: str = "data") -> GitOpsRepo:
    gitops = GitOps(repo=url, branch="main", path="apps/shop/staging")
    return GitOpsRepo.under(tmp_path / data, "staging", gitops)


def show(remote: Path, revision: str, what: str = "%B") -> str:
    return git(remote, "log", "-1", f"--format={what}", revision)


def clean(repo: GitOpsRepo) -> bool:
    status = git(repo.workdir, "status", "--porcelain")
    return status == "" and git(repo.workdir, "rev-parse", "HEAD") == git(
        repo.workdir, "rev-parse", "origin/main"
    )


def test_one_commit_per_deployment_with_image_author_and_trailers(
    tmp_path: Path, remote: Path, render: Callable[[str], Callable[[], Rendered]]
) -> None:
    repo = repo_for(tmp_path, str(remote))
    published = repo.publish("staging", render("1.0.0"), message("d-1", "1.0.0"), ALICE)
    assert published.pushed and published.branch == "main"
    assert published.commit == git(remote, "rev-parse", "main")
    body = show(remote, "main")
    assert body.startswith("deploy(staging): shop 1.0.0\n")
    assert trailers(body) == {
        "Code-Deployment": "d-1",
        "Code-Release": "1.0.0",
        "Code-Commit": "c0ffee" * 6 + "c0ff",
    }
    assert (
        show(remote, "main", "%an <%ae>|%cn")
        == "Alice Deployer <alice@example.test>|Alice Deployer"
    )
    text = git(remote, "show", f"main:{FILE}")
    assert "image: ghcr.io/acme/shop:1.0.0" in text and "kind: Rollout" in text
    assert git(remote, "rev-list", "--count", "main") == "2"
    # the same manifests again: nothing to commit
    again = repo.publish("staging", render("1.0.0"), message("d-2", "1.0.0"), ALICE)
    assert not again.pushed and again.commit == published.commit
    assert "unchanged" in again.message
    assert git(remote, "rev-list", "--count", "main") == "2"


def test_a_non_fast_forward_is_fetched_re_rendered_and_pushed(
    tmp_path: Path, remote: Path, render: Callable[[str], Callable[[], Rendered]]
) -> None:
    repo = repo_for(tmp_path, str(remote))
    repo.publish("staging", render("1.0.0"), message("d-1", "1.0.0"), ALICE)  # working copy exists
    calls: list[str] = []

    def racing() -> Rendered:
        calls.append("render")
        if len(calls) == 1:  # another committer lands first, after our fetch
            commit_elsewhere(remote, "apps/other/manifests.yaml")
        return render("1.1.0")()

    published = repo.publish("staging", racing, message("d-2", "1.1.0"), ALICE)
    assert published.pushed and len(calls) == 2
    other = git(remote, "rev-parse", "main~1")
    assert show(remote, "main", "%s") == "deploy(staging): shop 1.1.0"
    assert show(remote, other, "%s") == "chore: apps/other/manifests.yaml"
    assert clean(repo)


def test_a_push_race_lost_three_times_leaves_nothing_behind(
    tmp_path: Path, remote: Path, render: Callable[[str], Callable[[], Rendered]]
) -> None:
    repo = repo_for(tmp_path, str(remote))
    calls: list[int] = []

    def always_late() -> Rendered:
        calls.append(1)
        commit_elsewhere(remote, f"apps/other/{len(calls)}.yaml")
        return render("1.0.0")()

    with pytest.raises(PushRaceLost, match="other commits landed first 3 times; staging was not"):
        repo.publish("staging", always_late, message("d-1", "1.0.0"), ALICE)
    assert len(calls) == 3
    assert "deploy(staging)" not in git(remote, "log", "--format=%s", "main")
    assert clean(repo)


def test_a_protected_branch_gets_a_deploy_branch_instead(
    tmp_path: Path, remote: Path, render: Callable[[str], Callable[[], Rendered]]
) -> None:
    hook = remote / "hooks" / "pre-receive"
    hook.write_text(
        "#!/bin/sh\nwhile read old new ref; do\n"
        '  if [ "$ref" = refs/heads/main ]; then echo "main is protected" >&2; exit 1; fi\n'
        "done\n"
    )
    hook.chmod(0o755)
    before = git(remote, "rev-parse", "main")
    repo = repo_for(tmp_path, str(remote))
    published = repo.publish("staging", render("1.0.0"), message("42", "1.0.0"), ALICE)
    assert published.pushed and published.branch == "code/deploy-42"
    assert "main refuses direct pushes" in published.message
    assert "pushed" in published.message and "code/deploy-42" in published.message
    assert git(remote, "rev-parse", "main") == before
    assert git(remote, "rev-parse", "code/deploy-42") == published.commit
    assert clean(repo)


def test_an_unreachable_remote_is_named_and_nothing_is_left(
    tmp_path: Path, render: Callable[[str], Callable[[], Rendered]]
) -> None:
    missing = tmp_path / "nowhere.git"
    repo = repo_for(tmp_path, str(missing))
    with pytest.raises(GitOpsUnreachable, match=r"git clone failed: .*nowhere\.git"):
        repo.publish("staging", render("1.0.0"), message("d-1", "1.0.0"), ALICE)
    assert not (repo.workdir / ".git").exists()


def test_a_remote_that_goes_away_leaves_the_working_copy_as_it_was(
    tmp_path: Path, remote: Path, render: Callable[[str], Callable[[], Rendered]]
) -> None:
    repo = repo_for(tmp_path, str(remote))
    first = repo.publish("staging", render("1.0.0"), message("d-1", "1.0.0"), ALICE)
    remote.rename(tmp_path / "moved.git")
    with pytest.raises(GitOpsUnreachable, match="git fetch failed"):
        repo.publish("staging", render("2.0.0"), message("d-2", "2.0.0"), ALICE)
    assert git(repo.workdir, "rev-parse", "HEAD") == first.commit
    assert git(repo.workdir, "status", "--porcelain") == ""


@pytest.fixture
def read_only(tmp_path: Path, remote: Path) -> Iterator[str]:
    """The remote served by `git daemon`, which lets nobody push."""
    port = free_port()
    daemon = subprocess.Popen(
        [
            "git",
            "daemon",
            "--reuseaddr",
            "--export-all",
            f"--base-path={tmp_path}",
            "--listen=127.0.0.1",
            f"--port={port}",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: _listening(port), what="git daemon")
        yield f"git://127.0.0.1:{port}/{remote.name}"
    finally:
        daemon.terminate()
        daemon.wait(timeout=10)


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_a_read_only_remote_is_refused_without_a_local_commit(
    tmp_path: Path, remote: Path, read_only: str, render: Callable[[str], Callable[[], Rendered]]
) -> None:
    before = git(remote, "rev-parse", "main")
    repo = repo_for(tmp_path, read_only)
    with pytest.raises(GitOpsUnreachable, match="cannot push to git://127.0.0.1"):
        repo.publish("staging", render("1.0.0"), message("d-1", "1.0.0"), ALICE)
    assert git(remote, "rev-parse", "main") == before
    assert clean(repo) and git(repo.workdir, "rev-parse", "HEAD") == before


def test_a_revert_is_a_revert_commit_pushed_without_force(
    tmp_path: Path, remote: Path, render: Callable[[str], Callable[[], Rendered]]
) -> None:
    repo = repo_for(tmp_path, str(remote))
    v1 = repo.publish("staging", render("1.0.0"), message("d-1", "1.0.0"), ALICE)
    v2 = repo.publish("staging", render("2.0.0"), message("d-2", "2.0.0"), ALICE)
    commit_elsewhere(remote, "apps/other/manifests.yaml")  # the branch moved on meanwhile
    rollback = DeployMessage.rollback("shop", "staging", "d-2", "2.0.0", "c0ffee" * 6 + "c0ff")
    reverted = repo.revert(v2.commit, rollback, ALICE)
    assert reverted.pushed and reverted.commit == git(remote, "rev-parse", "main")
    assert show(remote, "main", "%s") == "revert(staging): shop 2.0.0"
    assert trailers(show(remote, "main"))["Code-Deployment"] == "d-2"
    assert git(remote, "show", f"main:{FILE}") == git(remote, "show", f"{v1.commit}:{FILE}")
    # history kept: both deployments are still ancestors of the branch
    for commit in (v1.commit, v2.commit):
        git(remote, "merge-base", "--is-ancestor", commit, "main")


def test_two_concurrent_deploys_to_one_environment_never_interleave(
    tmp_path: Path, remote: Path, render: Callable[[str], Callable[[], Rendered]]
) -> None:
    results: dict[str, str] = {}
    barrier = threading.Barrier(3)

    def deploy(version: str, data: str) -> None:
        repo = repo_for(tmp_path, str(remote), data)
        barrier.wait()
        results[version] = repo.publish(
            "staging", render(version), message(f"d-{version}", version), ALICE
        ).commit

    # one CODE (one data directory, two workers) and another CODE (its own data directory)
    threads = [
        threading.Thread(target=deploy, args=("1.0.0", "data")),
        threading.Thread(target=deploy, args=("2.0.0", "data")),
        threading.Thread(target=deploy, args=("3.0.0", "other")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 3
    subjects = git(remote, "log", "--format=%s", "main").splitlines()
    assert sorted(subjects[:3]) == [f"deploy(staging): shop {v}.0.0" for v in (1, 2, 3)]
    assert git(remote, "rev-list", "--count", "--merges", "main") == "0"
    assert git(remote, "branch", "--format=%(refname:short)") == "main"


def test_diff_shows_what_the_next_deploy_changes(
    tmp_path: Path, remote: Path, render: Callable[[str], Callable[[], Rendered]]
) -> None:
    repo = repo_for(tmp_path, str(remote))
    first = repo.diff("staging", render("1.0.0")())
    assert first.startswith(f"--- /dev/null\n+++ b/{FILE}\n")
    repo.publish("staging", render("1.0.0"), message("d-1", "1.0.0"), ALICE)
    assert repo.diff("staging", render("1.0.0")()) == ""
    change = repo.diff("staging", render("1.1.0")())
    assert f"--- a/{FILE}\n+++ b/{FILE}\n" in change
    assert (
        "-        image: ghcr.io/acme/shop:1.0.0\n+        image: ghcr.io/acme/shop:1.1.0" in change
    )


def test_an_empty_remote_gets_its_first_branch(
    tmp_path: Path, render: Callable[[str], Callable[[], Rendered]]
) -> None:
    remote = bare_remote(tmp_path / "empty.git", seed=False)
    repo = repo_for(tmp_path, str(remote))
    published = repo.publish("staging", render("1.0.0"), message("d-1", "1.0.0"), ALICE)
    assert published.pushed and git(remote, "rev-list", "--count", "main") == "1"


def test_a_revert_on_a_protected_branch_gets_a_revert_branch(
    tmp_path: Path, remote: Path, render: Callable[[str], Callable[[], Rendered]]
) -> None:
    repo = repo_for(tmp_path, str(remote))
    deployed = repo.publish("staging", render("1.0.0"), message("7", "1.0.0"), ALICE)
    hook = remote / "hooks" / "pre-receive"
    hook.write_text('#!/bin/sh\ngrep -q " refs/heads/main$" && exit 1\nexit 0\n')
    hook.chmod(0o755)
    rollback = DeployMessage.rollback("shop", "staging", "7", "1.0.0", "c0ffee" * 6 + "c0ff")
    reverted = repo.revert(deployed.commit, rollback, ALICE)
    assert reverted.branch == "code/revert-7" and reverted.pushed
    assert git(remote, "rev-parse", "main") == deployed.commit
    assert clean(repo)


def test_a_render_that_fails_leaves_nothing(
    tmp_path: Path, remote: Path, render: Callable[[str], Callable[[], Rendered]]
) -> None:
    repo = repo_for(tmp_path, str(remote))
    repo.publish("staging", render("1.0.0"), message("1", "1.0.0"), ALICE)
    before = git(remote, "rev-parse", "main")

    def invalid() -> Rendered:
        raise ManifestInvalid(["deploy/k8s/base/deployment.yaml: Rollout/shop: spec.x: bad"])

    with pytest.raises(ManifestInvalid, match="Rollout/shop: spec.x"):
        repo.publish("staging", invalid, message("2", "2.0.0"), ALICE)
    assert git(remote, "rev-parse", "main") == before
    assert clean(repo)

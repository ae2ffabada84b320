"""Property: assessing a generated repository never raises and never opens a path outside it.

Opens are watched with an audit hook (`sys.addaudithook`); files of the interpreter and its
libraries (imports) are the only allowed opens outside the repository.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.integration.assess.conftest import LEVEL3, NOW

from code_engine.assess import assess_repository

_OPENED: list[str] = []
_WATCHING: list[bool] = [False]


def _hook(event: str, args: tuple[object, ...]) -> None:
    if _WATCHING[0] and event == "open" and args and isinstance(args[0], str | bytes):
        path = args[0]
        _OPENED.append(os.fsdecode(path))


sys.addaudithook(_hook)

_LIBRARIES = tuple(
    {str(Path(p).resolve()) for p in (*sysconfig.get_paths().values(), *sys.path) if p}
)
_NAMES = st.sampled_from(
    [
        ".github/workflows/ci.yml",
        ".pre-commit-config.yaml",
        "Dockerfile",
        "Makefile",
        "pyproject.toml",
        "infra/main.tf",
        "src/app.py",
        "deploy/app.yaml",
        "package.json",
        "SECURITY.md",
        "scripts/backup.sh",
        ".github/CODEOWNERS",
        ".gitlab-ci.yml",
        ".github/actions/x/action.yml",
        ".github/workflows/called.yml",
        ".github/dependabot.yml",
        "tox.ini",
        "noxfile.py",
        "setup.cfg",
        "requirements.txt",
        "go.mod",
        "cmd/main.go",
        "web/src/index.ts",
        "LICENSE",
        # a monorepo: packages judged one by one
        "services/api/pyproject.toml",
        "services/api/app.py",
        "services/worker/go.mod",
        "web/package.json",
        "go.work",
    ]
)
_FOLLOWED = [
    b"on: push\njobs:\n  a:\n    uses: ./.github/workflows/called.yml\n  b:\n    steps:\n"
    b"      - uses: ./.github/actions/x\n      - working-directory: ../..\n"
    b"        run: cd /etc && make -C .. -f ../Makefile t && tox -e a && nox -s b && npm test\n",
    b"on: workflow_call\njobs:\n  c:\n    uses: ./.github/workflows/called.yml\n",
    b"runs:\n  using: composite\n  steps:\n    - uses: ./.github/actions/x\n      run: ./x\n",
    b"include:\n  - local: /../../etc/passwd\nt:\n  extends: t\n  script: [cd .., make]\n",
    b"[tox]\nenvlist = a\n[testenv]\ncommands = {posargs:../../x} pytest\n",
    b"import nox\n@nox.session\ndef b(s):\n    s.notify('b')\n    s.run('pytest')\n",
    b"T ?= $(T)$(T)\nt: t\n\t$(T) $(MAKE) t\n",
    b'[project]\nname = "a"\ndependencies = ["structlog"]\n[tool.pytest.ini_options]\n'
    b'testpaths = ["../..", "/etc"]\n',
    b"module x\n\nrequire y v1.0.0\n\nuse (\n  ../../..\n  /etc\n)\n",
    b'{"name": "w", "dependencies": {"pino": "1"}, "scripts": {"test": "cd .. && jest ../.."}}',
    b"on: push\njobs:\n  a:\n    steps:\n      - working-directory: services/api\n"
    b"        run: pytest ../../.. /etc && go test ../../...\n",
]
_CONTENT = st.one_of(
    st.binary(max_size=300),
    st.sampled_from(list(LEVEL3.values())).map(str.encode),
    st.just(b"a: &a [x, x, x]\nb: &b [*a, *a, *a]\nc: [*b, *b, *b]\n"),
    st.sampled_from(_FOLLOWED),
)
_KIND = st.sampled_from(["file", "link-out", "link-in", "link-dir", "fifo", "broken"])


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)  # noqa: S607


def _build(root: Path, entries: list[tuple[str, str, bytes]]) -> None:
    _git(root, "init", "-q")
    for name, kind, content in entries:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists() or path.is_symlink():
            continue
        if kind == "file":
            path.write_bytes(content)
        elif kind == "link-out":
            path.symlink_to("/etc/passwd")
        elif kind == "link-in":
            (root / "target.txt").write_bytes(content)
            path.symlink_to(os.path.relpath(root / "target.txt", path.parent))
        elif kind == "link-dir":
            path.symlink_to("/etc")
        elif kind == "fifo":
            os.mkfifo(path)
        else:
            path.symlink_to("missing")


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(entries=st.lists(st.tuples(_NAMES, _KIND, _CONTENT), max_size=8))
def test_assessing_never_raises_nor_opens_outside(
    tmp_path_factory: object, entries: list[tuple[str, str, bytes]]
) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory).resolve()
        _build(root, entries)
        _OPENED.clear()
        _WATCHING[0] = True
        try:
            report = assess_repository(root, clock=lambda: NOW)
        finally:
            _WATCHING[0] = False
        outside = [
            p
            for p in _OPENED
            if not Path(p).resolve().is_relative_to(root)
            and not p.startswith(_LIBRARIES)
            and p != os.devnull
        ]
        assert outside == []
        assert report.level >= 0


def test_the_audit_hook_sees_an_open_outside() -> None:
    _OPENED.clear()
    _WATCHING[0] = True
    try:
        Path("/etc/hostname").exists() and Path("/etc/hostname").read_bytes()
        with open(os.devnull, "rb"):  # noqa: PTH123
            pass
    finally:
        _WATCHING[0] = False
    assert os.devnull in _OPENED
    assert not any(p.startswith("/etc") for p in _LIBRARIES)

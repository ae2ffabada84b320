"""infra/ with the real terraform (or OpenTofu): fmt, init without a backend, validate.

Offline machines carry a provider mirror (TF_PLUGIN_DIR, default /opt/tf-plugins); without
terraform the tests skip, and with CODE_TEST_REQUIRE_TERRAFORM=1 (CI) they fail instead.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from tests.support.components import missing

ROOT = Path(__file__).resolve().parents[3]
PLUGIN_DIR = Path(os.environ.get("TF_PLUGIN_DIR", "/opt/tf-plugins"))


@pytest.fixture(scope="module")
def tf() -> str:
    found = shutil.which("tofu") or shutil.which("terraform")
    if found is None:
        missing("terraform", "neither tofu nor terraform is installed")
    return found


def run(tf: str, directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "TF_CLI_CONFIG_FILE"}
    return subprocess.run(
        [tf, f"-chdir={directory}", *args, "-no-color"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


def test_infra_is_formatted(tf: str) -> None:
    done = run(tf, ROOT / "infra", "fmt", "-check", "-recursive", "-diff")
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("root", ["", "bootstrap"])
def test_every_root_module_inits_offline_and_validates(tf: str, tmp_path: Path, root: str) -> None:
    copy = tmp_path / "infra"
    shutil.copytree(ROOT / "infra", copy, ignore=shutil.ignore_patterns(".terraform*"))
    plugins = [f"-plugin-dir={PLUGIN_DIR}"] if PLUGIN_DIR.is_dir() else []
    init = run(tf, copy / root, "init", "-backend=false", "-input=false", *plugins)
    assert init.returncode == 0, init.stdout + init.stderr
    validate = run(tf, copy / root, "validate")
    assert validate.returncode == 0, validate.stdout + validate.stderr
    assert "The configuration is valid" in validate.stdout


def test_no_module_needs_a_download() -> None:
    for path in (ROOT / "infra").rglob("*.tf"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip().startswith("source") and "hashicorp/" not in line:
                assert '"./' in line or '"../' in line, f"{path}: {line.strip()}"


def test_the_lint_script_fails_in_ci_without_terraform(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    dirname = shutil.which("dirname")
    assert dirname
    (bin_dir / "dirname").symlink_to(dirname)
    env = {"PATH": str(bin_dir), "HOME": str(tmp_path)}
    script = ["/bin/bash", str(ROOT / "scripts/ci-lint-files.sh"), "terraform"]
    in_ci = subprocess.run(script, env={**env, "CODE_CI": "1"}, capture_output=True, text=True)
    assert in_ci.returncode == 1
    assert "neither tofu nor terraform is installed; CI (CODE_CI=1) requires one" in in_ci.stderr
    locally = subprocess.run(script, env=env, capture_output=True, text=True)
    assert locally.returncode == 0
    assert "SKIPPED: neither tofu nor terraform is installed: infra/ is NOT validated" in (
        locally.stdout
    )

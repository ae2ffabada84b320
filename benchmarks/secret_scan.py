"""Measure the secret scan's false positives on a large real code base.

Give it an unpacked source tree (e.g. an sdist: `pip download --no-deps --no-binary :all:
moto==5.1.0`, then unpack it); it is copied into a temporary git repository. Prints one
JSON line: the findings detect-secrets' detectors and filters report (the baseline, same
run), how many CODE counts, and why the rest were set aside (test fixture, placeholder value,
keyword value that does not look random).

    python benchmarks/secret_scan.py SOURCE_DIR
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

from code_engine.assess import secrets
from code_engine.assess.repo import RepoView


def git_copy(source: Path, into: Path) -> Path:
    repo = into / source.name
    shutil.copytree(source, repo, symlinks=True)
    identity = ["-c", "user.name=bench", "-c", "user.email=bench@example.test"]
    for args in (["init", "-q", "-b", "main"], ["add", "-A"]):
        subprocess.run(["git", *identity, "-C", str(repo), *args], check=True)  # noqa: S603, S607
    commit = ["commit", "-q", "--no-gpg-sign", "-m", "snapshot"]
    subprocess.run(["git", *identity, "-C", str(repo), *commit], check=True)  # noqa: S603, S607
    return repo


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        repo = git_copy(args.source.resolve(), Path(tmp))
        start = time.perf_counter()
        view = RepoView.open(repo, datetime.now(timezone.utc))
        found, _ = secrets.scan(view)
        elapsed = time.perf_counter() - start
    counted = [f for f in found if f.dismissed is None]
    outside_tests = [f for f in found if f.dismissed != "test fixture"]
    print(  # noqa: T201
        json.dumps(
            {
                "benchmark": "secret_scan",
                "source": args.source.name,
                "files": len(view.files),
                "detect_secrets_findings": len(found),
                "counted": len(counted),
                "reduction": round(len(found) / max(len(counted), 1), 1),
                "outside_tests_before": len(outside_tests),
                "outside_tests_after": len(counted),
                "set_aside": dict(Counter(f.dismissed for f in found if f.dismissed)),
                "seconds": round(elapsed, 2),
            }
        )
    )


if __name__ == "__main__":
    main()

"""A service's configuration: its code.yaml and the `env:` of every environment, as written.

Values are never resolved: an `env:` value that refers to a secret is backed up as that
reference, and its value comes from the secret store when the service runs again. The dump
is one JSON document; a restore writes `code.yaml` and `env.json` into a new directory, and
an in-place restore puts the restored code.yaml where the live one is.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from code_engine.dr.errors import DrError, IntegrityError, TargetExistsError
from code_engine.dr.sources.base import CheckReport, Readable, Writable, os_error, remove_path
from code_engine.errors import CodeError
from code_engine.spec import load_spec

FORMAT = 1
NOTE = (
    "env values as written in code.yaml; a secret reference is kept as the reference, its "
    "value lives in the secret store"
)


def env_of(spec_text_path: Path) -> dict[str, dict[str, str]]:
    """The `env:` mapping of each environment's target (empty where it has none)."""
    spec = load_spec(spec_text_path)
    found: dict[str, dict[str, str]] = {}
    for environment in spec.environments:
        env = getattr(environment.target, "env", None) or {}
        found[environment.name] = {str(k): str(v) for k, v in env.items()}
    return found


class ConfigSource:
    kind = "config"

    def __init__(self, name: str, spec_path: Path) -> None:
        self.name, self.path = name, spec_path

    def describe(self) -> str:
        return str(self.path)

    def versions(self) -> tuple[str, dict[str, str]]:
        return "code.yaml", {"format": str(FORMAT)}

    def dump(self, out: Writable, scratch: Path) -> dict[str, Any]:  # noqa: ARG002
        try:
            text = self.path.read_text(encoding="utf-8")
        except OSError as exc:
            raise DrError(
                f"{self.path}: cannot read the service's code.yaml ({exc.strerror})"
            ) from None
        env = env_of(self.path)
        document = {
            "format": FORMAT,
            "file": self.path.name,
            "spec": text,
            "env": env,
            "note": NOTE,
        }
        out.write(json.dumps(document, sort_keys=True).encode())
        return {"environments": len(env), "env_values": sum(len(v) for v in env.values())}

    def beside(self, snapshot_id: str) -> str:
        return str(self.path.with_name(f"config.restored-{snapshot_id}"))

    def live(self) -> str:
        return str(self.path.parent)

    def restore(self, data: Readable, target: str, scratch: Path) -> None:  # noqa: ARG002
        final = Path(target)
        if final.exists():
            raise TargetExistsError(f"{final}: exists; give another --target")
        try:
            document = json.loads(data.read())
            spec, env = str(document["spec"]), document["env"]
        except (ValueError, KeyError, TypeError) as exc:
            raise IntegrityError(f"{final}: not a configuration snapshot ({exc})") from None
        temp = final.with_name(f".{final.name}.restoring-{os.getpid()}")
        remove_path(temp)
        try:
            temp.mkdir(parents=True)
            (temp / "code.yaml").write_text(spec, encoding="utf-8")
            (temp / "env.json").write_text(
                json.dumps({"env": env, "note": NOTE}, indent=2, sort_keys=True) + "\n",
                encoding="utf-8",
            )
            temp.rename(final)
        except OSError as exc:
            raise os_error(exc, str(final)) from None
        finally:
            remove_path(temp)

    def check(self, target: str, smoke: tuple[str, ...]) -> CheckReport:  # noqa: ARG002
        restored = Path(target) / "code.yaml"
        try:
            env = env_of(restored)
        except CodeError as exc:
            raise IntegrityError(
                f"{restored}: the restored code.yaml is not valid: {exc}"
            ) from None
        except OSError as exc:
            raise IntegrityError(f"{restored}: missing ({exc.strerror})") from None
        return CheckReport(str(restored), {"environments": len(env), "code.yaml": "valid"})

    def replace_live(self, target: str, snapshot_id: str) -> str:
        """The restored code.yaml takes the live one's place; the old one is kept beside."""
        old = self.path.with_name(f"{self.path.name}.before-{snapshot_id}")
        if self.path.exists():
            os.link(self.path, old)
        (Path(target) / "code.yaml").replace(self.path)
        remove_path(Path(target))
        return str(old)

    def discard(self, target: str) -> None:
        remove_path(Path(target))

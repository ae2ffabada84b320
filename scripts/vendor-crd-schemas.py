#!/usr/bin/env python3
"""Vendor the openAPIV3Schema of CRDs into src/code_engine/deploy/kubernetes/schemas/.

    scripts/vendor-crd-schemas.py CRD.yaml...

Writes one `<group>_<kind>.json` per CRD: {"group", "kind", "versions": {name: schema}},
the schemas copied unchanged from `spec.versions[*].schema.openAPIV3Schema`. JSON loads in
milliseconds where the upstream YAML takes seconds.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

TARGET = Path(__file__).resolve().parent.parent / "src/code_engine/deploy/kubernetes/schemas"


def main(paths: list[str]) -> int:
    for name in paths:
        crd = yaml.safe_load(Path(name).read_text(encoding="utf-8"))
        spec = crd["spec"]
        versions = {
            version["name"]: version["schema"]["openAPIV3Schema"] for version in spec["versions"]
        }
        kind = spec["names"]["kind"]
        out = TARGET / f"{spec['group']}_{kind}.json"
        payload = {"group": spec["group"], "kind": kind, "versions": versions}
        out.write_text(json.dumps(payload, separators=(",", ":"), sort_keys=True) + "\n")
        sys.stdout.write(f"{out.name}: {', '.join(versions)}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

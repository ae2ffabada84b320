"""Print the `code.yaml` reference: `python -m code_engine.spec.docs > docs/spec.md`."""

from __future__ import annotations

import sys

from code_engine.spec.reference import render_reference


def main() -> None:
    """Write the reference to stdout."""
    sys.stdout.write(render_reference())


if __name__ == "__main__":
    main()

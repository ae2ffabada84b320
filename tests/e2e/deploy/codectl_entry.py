"""`codectl` with the delivery commands registered, for tests run before they are wired
into `code_engine.cli.commands` (python codectl_entry.py ARGS...)."""

from __future__ import annotations

import sys

from code_engine.cli import deploy_cmd, release_cmd, worker_cmd
from code_engine.cli.main import app, run

if __name__ == "__main__":
    for module in (release_cmd, deploy_cmd, worker_cmd):
        module.register(app)
    run(sys.argv[1:])

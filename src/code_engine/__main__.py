"""`python -m code_engine` runs the `codectl` command line."""

from code_engine.cli.main import run

if __name__ == "__main__":  # pragma: no cover
    run()

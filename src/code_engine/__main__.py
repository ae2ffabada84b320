"""`python -m code_engine` runs the `codectl` command line."""

from code_engine.cli.main import entry

if __name__ == "__main__":  # pragma: no cover
    entry()

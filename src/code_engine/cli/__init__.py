"""The `codectl` command line: one module per command group over the service functions."""

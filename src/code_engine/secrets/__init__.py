"""Secrets of the services CODE runs: references, resolution, redaction, ExternalSecrets.

A service's `code.yaml` names where each secret lives (`vault://`, `env://`, `file://`);
CODE resolves the values when an instance starts, hands them to that instance's environment
only, and never stores or shows them. On Kubernetes it renders ExternalSecret objects.

Modules are imported by name (`from code_engine.secrets.MODULE import ...`): the package
imports nothing, so the light commands that need one module (`codectl validate`) do not pay
for the others (the Vault client, the schema validators, the store).
"""

"""Policy as code: Rego policies (regopy, OPA's semantics) asked at every decision point.

Modules are imported by name (`from code_engine.policy.MODULE import ...`): the package
imports nothing, so the light commands that need one module (`codectl validate`) do not pay
for the others (the Vault client, the schema validators, the store).
"""

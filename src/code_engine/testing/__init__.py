"""In-memory fakes of CODE's adapters, for unit tests of the logic that drives them.

Each fake implements one adapter interface with plain data and no I/O, and lets a test
say how the world behaves (a version that never gets ready, a canary answering 5xx). The
real adapters are tested against the real things; these stand in only where the logic,
not the adapter, is under test.
"""

from code_engine.testing.argocd import FakeArgoCD
from code_engine.testing.delivery import FakeDelivery
from code_engine.testing.github import FakeGitHub
from code_engine.testing.gitops import FakeCommit, FakeGitOps
from code_engine.testing.osv import FakeAdvisorySource
from code_engine.testing.router import FakeRouter
from code_engine.testing.secrets import FakeSecretStore
from code_engine.testing.target import FakeTarget, FakeTargets, Traffic

__all__ = [
    "FakeAdvisorySource",
    "FakeArgoCD",
    "FakeCommit",
    "FakeDelivery",
    "FakeGitHub",
    "FakeGitOps",
    "FakeRouter",
    "FakeSecretStore",
    "FakeTarget",
    "FakeTargets",
    "Traffic",
]

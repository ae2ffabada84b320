"""Which policy sets may share one Rego interpreter: sets whose packages, and the `data`
paths they read, do not touch one another's. Two such sets evaluated together give exactly
what each gives alone, so a decision sets the input once and runs one bundle.

Sets that could see each other's rules (the same package, a package inside another's, a
reference to another's package or to all of `data`) are kept apart. Pure functions.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

from code_engine.policy.lint import PACKAGE, blank_strings_and_comments
from code_engine.policy.model import PolicySet

Path = tuple[str, ...]
_DATA = re.compile(r"(?<![\w.])data((?:\s*\.\s*[A-Za-z_]\w*)*)(?!\w)")


def packages(policy: PolicySet) -> frozenset[Path]:
    """The packages the set's files declare, as paths under `data`."""
    found = (PACKAGE.search(source.text) for source in policy.sources)
    return frozenset(tuple(match.group(1).split(".")) for match in found if match)


def references(policy: PolicySet) -> frozenset[Path]:
    """The `data` paths the set's files name (`data` alone, or `data[...]`, is the empty path:
    everything)."""
    paths: set[Path] = set()
    for source in policy.sources:
        clean = blank_strings_and_comments(source.text)
        clean = PACKAGE.sub("", clean)
        for match in _DATA.finditer(clean):
            parts = re.sub(r"\s", "", match.group(1)).split(".")
            paths.add(tuple(part for part in parts if part))
    return frozenset(paths)


def _overlap(first: Path, second: Path) -> bool:
    """One path is the other or lies inside it."""
    shorter = min(len(first), len(second))
    return first[:shorter] == second[:shorter]


@functools.lru_cache(maxsize=256)
def _namespace(policy: PolicySet) -> tuple[frozenset[Path], frozenset[Path], frozenset[str]]:
    return packages(policy), references(policy), frozenset(s.name for s in policy.sources)


def apart(first: PolicySet, second: PolicySet) -> bool:
    """True when neither set can see the other's rules once both are loaded together."""
    own_a, refs_a, names_a = _namespace(first)
    own_b, refs_b, names_b = _namespace(second)
    if names_a & names_b:
        return False
    pairs = ((own_a | refs_a, own_b), (own_b | refs_b, own_a))
    return not any(
        _overlap(mine, theirs) for seen, others in pairs for mine in seen for theirs in others
    )


def groups(policies: Sequence[PolicySet]) -> list[list[int]]:
    """The indexes of `policies` split into groups that may share an interpreter."""
    return [list(group) for group in _groups(tuple(policies))]


@functools.lru_cache(maxsize=256)
def _groups(policies: tuple[PolicySet, ...]) -> tuple[tuple[int, ...], ...]:
    """The indexes of `policies` split into groups that may share an interpreter (in order:
    each set joins the first group all of whose sets it is apart from)."""
    formed: list[list[int]] = []
    for index, policy in enumerate(policies):
        for group in formed:
            if all(apart(policy, policies[other]) for other in group):
                group.append(index)
                break
        else:
            formed.append([index])
    return tuple(tuple(group) for group in formed)

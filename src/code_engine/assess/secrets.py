"""Hard-coded secrets, found by detect-secrets' detectors and filters on candidate lines only.

detect-secrets runs ~25 detectors and a dozen filters on every line, about 30 ms for a small
file. Here `git grep` (C, multi-threaded) first lists the lines holding a literal without
which no enabled detector can match; detect-secrets then judges only those lines, with its own
detectors, filters and the file's context. The generic entropy detectors, the public-IP
detector and the detectors without a literal anchor (Discord, Telegram, Twilio) are left out:
the first flag digests and addresses, the last cannot be gated cheaply.
"""

from __future__ import annotations

import math
import re
import subprocess
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from code_engine.assess.parsers import ParseError
from code_engine.assess.repo import RepoView

BASELINE = ".secrets.baseline"
MAX_BYTES = 2_000_000
_CREDENTIAL = ("key", "pw", "pass", "token")
_KEY_PREFIXES = ("api", "auth", "service", "account", "db", "database", "priv", "private", "client")

# detector class name -> lower-case literals, one of which every match of the detector contains
GATES: dict[str, tuple[str, ...]] = {
    "ArtifactoryDetector": ("akc", *(f"ap{c}" for c in "0123456789abcdef")),
    "AWSKeyDetector": ("akia", "asia", "abia", "acca", "a3t", "aws"),
    "AzureStorageKeyDetector": ("accountkey=",),
    "BasicAuthDetector": ("://",),
    "CloudantDetector": ("clou", "cl_", "cl-", "clapi", *(f"cl{w}" for w in _CREDENTIAL)),
    "GitHubTokenDetector": ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"),
    "GitLabTokenDetector": (
        *("glpat-", "gldt-", "glft-", "glsoat-", "glrt-", "gr1348941", "glcbt-"),
        *("glimt-", "glptt-", "glagent-", "gloas-"),
    ),
    "IbmCloudIamDetector": ("key", "pwd", "pass", "token"),
    "IbmCosHmacDetector": ("secret",),
    "JwtTokenDetector": ("eyj",),
    "KeywordDetector": (
        *(f"{p}{s}key" for p in _KEY_PREFIXES for s in ("", "_")),
        *(f"{p}{s}pass" for p in ("db", "database", "key") for s in ("", "_")),
        *("password", "passwd", "pwd", "secret", "contrase"),
    ),
    "MailchimpDetector": ("-us",),
    "NpmDetector": ("_authtoken",),
    "OpenAIDetector": ("t3blbkfj",),
    "PrivateKeyDetector": ("private key", "putty-user-key-file"),
    "PypiTokenDetector": ("pypi-ag",),
    "SendGridDetector": ("sg.",),
    "SlackDetector": ("xox", "://hooks.slack.com"),
    "SoftlayerDetector": (
        *("softlayer", "sl_", "sl-", "slapi"),
        *(f"sl{w}" for w in _CREDENTIAL),
    ),
    "SquareOAuthDetector": ("sq0csp-",),
    "StripeDetector": ("k_live_",),
}
# every literal above contains one of these (case-insensitive) or one of the tokens below;
# Cloudant's and Softlayer's patterns also need a credential word (key, pw, pass, token) or a URL
ANCHORS = ("key", "pass", "pw", "token", "secret", "contrase", "://", "aws", "xox")
# The same necessary conditions, narrowed as each detector's own pattern allows (PCRE): a
# bare credential word only counts when a 44-character run follows it (IBM Cloud IAM), `aws`
# only before a credential word, `://` only with `user:password@`.
_CREDENTIAL_RE = "(?:key|pw|pass|token)"
PRECISE = "|".join(
    (
        "(?:api|auth|service|account|db|database|priv|private|client)_?key",
        "(?:db|database|key)_?pass",
        "password|passwd|pwd|secret|contrase",
        f"{_CREDENTIAL_RE}(?=.*[a-z0-9_-]{{44}})",
        f"(?:cl|clou|cloudant|sl|softlayer)[_-]?(?:api)?[_-]?{_CREDENTIAL_RE}",
        f"aws.{{0,20}}?{_CREDENTIAL_RE}",
        r"://[^:/?#\[\]@!$&'()*+,;=\s]+:[^:/?#\[\]@!$&'()*+,;=\s]+@",
        r"accountkey=|private key|putty-user-key|_authtoken|xox|hooks\.slack\.com",
        r"cloudant\.com|api\.softlayer\.com",
    )
)
TOKENS = (
    *("AKIA", "ASIA", "ABIA", "ACCA", "A3T", "AKC", *(f"AP{c}" for c in "0123456789ABCDEF")),
    *("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "eyJ", "-us", "T3BlbkFJ", "pypi-Ag", "SG."),
    *("sq0csp-", "k_live_", "GR1348941", "glpat-", "gldt-", "glft-", "glsoat-", "glrt-"),
    *("glcbt-", "glimt-", "glptt-", "glagent-", "gloas-"),
)


class Prefilter:
    """Two `git grep` runs started early, so that they overlap with the other checks."""

    def __init__(self, root: Path) -> None:
        self.root = root
        anchors = "|".join(a.replace(".", "\\.").replace("/", "\\/") for a in ANCHORS)
        self._runs = [
            (self._start("-P", "-e", f"(?i){PRECISE}"), ("-E", "-i", "-e", anchors)),
            (self._start("-F", *(x for t in TOKENS for x in ("-e", t))), None),
        ]

    def _start(self, *pattern: str) -> subprocess.Popen[bytes]:
        command = ["git", "grep", "--untracked", "-I", "-n", "-z", "--no-color", *pattern]
        return subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            command, cwd=self.root, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )

    def close(self) -> None:
        """Stop runs whose output nobody will read (the assessment ended early)."""
        for process, _ in self._runs:
            if process.poll() is None:
                process.kill()
                process.wait()
            if process.stdout is not None:
                process.stdout.close()

    def lines(self) -> dict[str, dict[int, str]]:
        """Candidate lines: file -> line number -> text."""
        found: dict[str, dict[int, str]] = defaultdict(dict)
        for process, fallback in self._runs:
            output, _ = process.communicate()
            if process.returncode not in (0, 1) and fallback is not None:
                # git built without PCRE: the portable, slower spelling of the same search
                output, _ = self._start(*fallback).communicate()
            for record in output.split(b"\n"):
                parts = record.split(b"\0", 2)
                if len(parts) == 3 and parts[1].isdigit():
                    name = parts[0].decode("utf-8", "surrogateescape")
                    found[name][int(parts[1])] = parts[2].decode("utf-8", "replace")
        return found


def start(view: RepoView) -> Prefilter:
    """The view's prefilter, started on first use."""
    return view.memo("secrets-prefilter", lambda: Prefilter(view.root))


@dataclass(frozen=True)
class Finding:
    """A potential secret: where, and which detector found it (never the value itself).

    `dismissed` says why it does not count: a test fixture, a placeholder value, or a keyword
    assignment whose value does not look random (see `judge`)."""

    file: str
    line: int
    kind: str
    dismissed: str | None = None


def scan(view: RepoView) -> tuple[list[Finding], list[ParseError]]:
    """Potential secrets in every text file, less those accepted in `.secrets.baseline`."""
    from detect_secrets.settings import transient_settings

    allowed, problems = _audited_false_positives(view)
    candidates = start(view).lines()
    findings: list[Finding] = []
    with transient_settings({"plugins_used": [{"name": name} for name in GATES]}):
        plugins = _plugins()
        for name in sorted(candidates):
            if name == BASELINE or name not in view.files_set:
                continue
            for finding, hashed in _scan_file(view, name, candidates[name], plugins):
                if (name, hashed) not in allowed:
                    findings.append(finding)
    return findings, problems


def _plugins() -> dict[str, Any]:
    from detect_secrets.settings import get_plugins

    return {type(p).__name__: p for p in get_plugins()}


def _scan_file(
    view: RepoView, name: str, candidates: dict[int, str], plugins: dict[str, Any]
) -> Iterator[tuple[Finding, str]]:
    chosen = {n: _detectors(line, plugins) for n, line in candidates.items()}
    if not any(chosen.values()):
        return
    text = view.text(name)
    path = str(view.root / name)
    if text is None or len(text) > MAX_BYTES or _filtered(["filename"], filename=path):
        return
    lines = text.split("\n")
    for number in sorted(chosen):
        if chosen[number] and number <= len(lines):
            yield from _scan_line(name, path, lines, number - 1, chosen[number])


def _detectors(line: str, plugins: dict[str, Any]) -> list[Any]:
    """The detectors whose literal is on the line and whose own pattern matches it."""
    lower = line.lower()
    return [
        plugins[name]
        for name, words in GATES.items()
        if name in plugins and any(w in lower for w in words) and _may_match(plugins[name], line)
    ]


def _may_match(plugin: Any, line: str) -> bool:
    """A regex detector's own patterns must match before detect-secrets' filters are run."""
    from detect_secrets.plugins.base import RegexBasedDetector

    if isinstance(plugin, RegexBasedDetector):
        return any(regex.search(line) for regex in plugin.denylist)
    return True


def _scan_line(
    name: str, path: str, lines: list[str], index: int, plugins: list[Any]
) -> Iterator[tuple[Finding, str]]:
    from detect_secrets.util.code_snippet import get_code_snippet
    from detect_secrets.util.inject import call_function_with_arguments

    line = lines[index].rstrip()
    number = index + 1
    context = get_code_snippet(lines=lines, line_number=number)
    if _filtered(["line"], filename=path, line=line, context=context):
        return
    for plugin in plugins:
        secrets = call_function_with_arguments(
            plugin.analyze_line, filename=path, line=line, line_number=number, context=context
        )
        for secret in secrets or ():
            kwargs = {"filename": path, "secret": secret.secret_value, "plugin": plugin}
            if _filtered(["secret"], **kwargs) or _filtered(
                ["context"], **kwargs, line=line, context=context
            ):
                continue
            reason = judge(name, secret.type, secret.secret_value or "")
            yield Finding(name, number, secret.type, reason), secret.secret_hash


def _filtered(parameters: list[str], **kwargs: Any) -> bool:
    """detect-secrets' own filters (allowlist pragmas, templated values, lock files, ...)."""
    from detect_secrets.core.scan import get_filters_with_parameter
    from detect_secrets.util.inject import call_function_with_arguments

    for filter_fn in get_filters_with_parameter(*parameters):
        try:
            if call_function_with_arguments(filter_fn, **kwargs):
                return True
        except TypeError:  # noqa: PERF203 - a filter wanting arguments this stage lacks
            continue
    return False


def _audited_false_positives(view: RepoView) -> tuple[set[tuple[str, str]], list[ParseError]]:
    """(file, hashed secret) pairs the baseline accepts, as `detect-secrets-hook` does.

    An entry audited as a real secret (`is_secret: true`) is never accepted.
    """
    data = view.json(BASELINE)
    if data is None:
        return set(), []
    if isinstance(data, ParseError):
        return set(), [data]
    results = data.get("results", {}) if isinstance(data, dict) else {}
    return {
        (file, entry.get("hashed_secret", ""))
        for file, entries in results.items()
        for entry in entries
        if isinstance(entry, dict) and entry.get("is_secret") is not True
    }, []


_FIXTURE_DIRS = frozenset(
    {"tests", "test", "testing", "testdata", "fixtures", "__tests__", "spec", "__fixtures__"}
)
_FIXTURE_FILE = re.compile(
    r"^(?:test_.*|.*_test\.(?:py|go)|conftest\.py|.*\.(?:test|spec)\.[cm]?[jt]sx?)$"
)
_PLACEHOLDER = re.compile(
    r"example|sample|dummy|fake|mock|test|changeme|change_me|placeholder|redacted|your|"
    r"xxx|\*\*\*|foo|bar|secret|password|passwd|todo|<|>|\$\{|\{\{|%\(|\.\.\.",
    re.IGNORECASE,
)
_WORDS = re.compile(r"[A-Za-z]+(?:[ _.:/-][A-Za-z]+)*")
MIN_ENTROPY = 3.0  # bits per character of a value assigned to a credential-named key
MIN_LENGTH = 8


def judge(file: str, kind: str, value: str) -> str | None:
    """Why a finding does not count, or None when it does.

    A file of the tests (under `tests/`, `fixtures/`, ... or named `test_*.py`, `*_test.go`,
    `*.test.ts`) holds fixtures; a value naming itself a placeholder (`EXAMPLE`, `dummy`,
    `changeme`, `${VAR}`) is not a secret; and a keyword assignment (`password = "..."`)
    counts only when its value looks random: at least 8 characters, not only words, and at
    least 3 bits of entropy per character.
    """
    parts = file.split("/")
    if _FIXTURE_DIRS.intersection(parts[:-1]) or _FIXTURE_FILE.match(parts[-1]):
        return "test fixture"
    if _PLACEHOLDER.search(value) or len(set(value)) <= 2:
        return "placeholder value"
    if kind == "Secret Keyword" and not _random_looking(value):
        return "not a random value"
    return None


def _random_looking(value: str) -> bool:
    if len(value) < MIN_LENGTH or _WORDS.fullmatch(value):
        return False
    return entropy(value) >= MIN_ENTROPY


def entropy(value: str) -> float:
    """Shannon entropy in bits per character."""
    counts = Counter(value)
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())

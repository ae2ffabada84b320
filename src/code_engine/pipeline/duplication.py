"""A token-based duplicate code detector (the method of CPD and jscpd).

Each Python file becomes its token stream, without comments, layout tokens and docstrings;
a window of `min_tokens` consecutive tokens is hashed at every position, and a window seen
before (in any file) marks the source lines of both copies as duplicated. Names and literals
count as they are written, so only copy-pasted code matches, not code of the same shape.
The measurement is duplicated lines / lines holding code, in percent.
"""

from __future__ import annotations

import io
import tokenize
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

MIN_TOKENS = 50
IGNORED = {
    tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
    tokenize.ENCODING, tokenize.ENDMARKER,
}  # fmt: skip


@dataclass
class Duplication:
    """The result: duplicated and code lines per file, and the copies found."""

    min_tokens: int
    code_lines: dict[str, set[int]] = field(default_factory=dict)
    duplicated: dict[str, set[int]] = field(default_factory=dict)
    blocks: list[dict[str, object]] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)

    @property
    def percent(self) -> float:
        total = sum(len(lines) for lines in self.code_lines.values())
        dup = sum(len(lines) for lines in self.duplicated.values())
        return 100.0 * dup / total if total else 0.0

    def to_dict(self) -> dict[str, object]:
        return {
            "tool": "codectl ci duplication",
            "min_tokens": self.min_tokens,
            "percent": round(self.percent, 3),
            "duplicated_lines": sum(len(v) for v in self.duplicated.values()),
            "code_lines": sum(len(v) for v in self.code_lines.values()),
            "blocks": self.blocks,
            "unreadable": self.unreadable,
        }


STATEMENT_START = {tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.NL}
Token = tuple[str, int]  # text, line


def _tokens(source: str) -> list[Token]:
    tokens: list[Token] = []
    previous = tokenize.NEWLINE
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        # a string standing alone as a statement is a docstring: documentation, not code
        if token.type == tokenize.STRING and previous in STATEMENT_START:
            previous = token.type
            continue
        if token.type not in IGNORED:
            tokens.append((token.string, token.start[0]))
        if token.type not in (tokenize.COMMENT, tokenize.NL):
            previous = token.type
    return tokens


def python_files(paths: Iterable[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(p for p in sorted(path.rglob("*.py")) if "__pycache__" not in p.parts)
        elif path.suffix == ".py":
            found.append(path)
    return found


def measure(files: Iterable[Path], min_tokens: int = MIN_TOKENS) -> Duplication:
    """Duplicated code among `files` (and within each)."""
    result = Duplication(min_tokens)
    seen: dict[int, tuple[str, int]] = {}  # window hash -> (file, start index)
    streams: dict[str, list[Token]] = {}
    for path in files:
        name = path.as_posix()
        try:
            stream = _tokens(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, SyntaxError, tokenize.TokenError):
            result.unreadable.append(name)
            continue
        streams[name] = stream
        result.code_lines[name] = {line for _, line in stream}
        result.duplicated[name] = set()
        texts = [text for text, _ in stream]
        last_block_end = -1
        for start in range(len(stream) - min_tokens + 1):
            window = hash(tuple(texts[start : start + min_tokens]))
            first = seen.get(window)
            if first is None:
                seen[window] = (name, start)
                continue
            other, other_start = first
            if other == name and other_start + min_tokens > start:
                continue  # overlapping with itself: a repetition inside one run of code
            _mark(result, name, stream, start, min_tokens)
            _mark(result, other, streams[other], other_start, min_tokens)
            if start > last_block_end:
                copy_line = streams[other][other_start][1]
                block = {"file": name, "line": stream[start][1], "copy_of": other,
                         "copy_line": copy_line}  # fmt: skip
                result.blocks.append(block)
            last_block_end = start + min_tokens
    return result


def _mark(result: Duplication, name: str, stream: list[Token], start: int, size: int) -> None:
    result.duplicated[name].update(line for _, line in stream[start : start + size])

"""A strict logfmt reader, the judge of the lines `salespipe/logs.py` writes.

Strict on purpose: a word without `=`, an unterminated quote, an unknown escape, a quote or
backslash inside a bare value or a raw control character are errors, so a test that parses
every line of a process's stderr also proves that no value split or forged a field.
"""

from __future__ import annotations

import re

_ESCAPE = r'\\(?:["\\nrt]|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8})'
_PAIR = re.compile(rf' *([A-Za-z_][\w.\-/:]*)=("(?:[^"\\]|{_ESCAPE})*"|[^ "=\\]*)(?= |$)')
_UNESCAPES = {'"': '"', "\\": "\\", "n": "\n", "r": "\r", "t": "\t"}


class LogfmtError(ValueError):
    """A line that is not valid logfmt."""


def _unescape(match: re.Match[str]) -> str:
    code = match.group()[1:]
    return _UNESCAPES[code] if len(code) == 1 else chr(int(code[1:], 16))


def parse_pairs(line: str) -> list[tuple[str, str]]:
    """Every `key=value` pair of a line, in order; raises `LogfmtError` on anything else."""
    if not line.isprintable():
        raise LogfmtError("raw control character")
    pairs: list[tuple[str, str]] = []
    pos = 0
    while line[pos:].strip(" "):
        match = _PAIR.match(line, pos)
        if match is None:
            raise LogfmtError(f"expected key=value at column {pos}: {line[pos:pos + 20]!r}")
        key, value = match.groups()
        if value.startswith('"'):
            value = re.sub(_ESCAPE, _unescape, value[1:-1])
        pairs.append((key, value))
        pos = match.end()
    return pairs


def parse(line: str) -> dict[str, str]:
    """A logfmt line as a dict (a repeated key keeps its last value)."""
    return dict(parse_pairs(line))

"""Log lines a machine can parse: logfmt (default) or one JSON object per line.

Call sites keep the project's `log.info("event=file_loaded key=%s valid=%d", key, n)` shape;
the formatter here renders each argument that stands in a `key=` value as one logfmt value
(quoted when it holds a space, a quote, `=`, a backslash or a control character), so an object
key like `incoming/red flower.csv` or an error text full of quotes cannot split a line into
bogus fields. A message without the `key=value` shape (librdkafka, botocore, dbt, Streamlit)
becomes one `msg="..."` field, words ahead of the fields (`uploaded bucket=…`) become `msg` too;
a traceback becomes one `exc="..."` field, never extra lines.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import numbers
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import IO, Any, Literal, TextIO

LogFormat = Literal["logfmt", "json"]
LOG_FORMATS: tuple[LogFormat, ...] = ("logfmt", "json")

# Fields every line starts with; a message key with one of these names gets a `_` suffix so
# the line never holds two meanings under one name.
RESERVED = frozenset({"ts", "level", "logger", "exc", "stack"})
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-/:]*")
# A printf-style conversion, as `%`-formatting reads it.
_SPEC = re.compile(
    r"%(?:\((?P<name>[^)]*)\))?(?P<flags>[#0\- +]*)(?P<width>\*|\d+)?"
    r"(?:\.(?P<precision>\*|\d+))?[hlL]?(?P<conv>[diouxXeEfFgGcrsa%])"
)
_CONTROL_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_UNESCAPES = {'"': '"', "\\": "\\", "n": "\n", "r": "\r", "t": "\t"}
_NOISY = ("botocore", "boto3", "urllib3", "s3transfer")


class LogfmtError(ValueError):
    """A line that is not valid logfmt (what the parser raises)."""


# --- logfmt values ---------------------------------------------------------------------------

def _needs_quotes(value: str) -> bool:
    return (not value or not value.isprintable()
            or any(ch in value for ch in ' "=\\'))


def quote(value: str) -> str:
    """One logfmt value: bare when it is safe, else double-quoted with backslash escapes.

    Non-printable characters (controls, line separators, unassigned code points) become
    `\\uXXXX` / `\\UXXXXXXXX` so a line stays one line whatever the value holds.
    """
    if not _needs_quotes(value):
        return value
    return '"' + escape_unprintable(value.replace("\\", "\\\\").replace('"', '\\"')) + '"'


def escape_unprintable(text: str) -> str:
    """`text` with every character a terminal or log viewer could act on written visibly.

    Anything `str.isprintable()` rejects except the plain space: C0 controls (ESC, CR, LF,
    BEL...), DEL, C1 controls, line/paragraph separators, bidi overrides and isolates
    (U+202A-U+202E, U+2066-U+2069) and other format characters. They become `\\n`, `\\r`,
    `\\t`, `\\uXXXX` or `\\UXXXXXXXX`, so text read from a file can neither start a new line,
    move the cursor, recolour the screen nor reorder what is shown around it. Shared by log
    values (`quote`) and the `salespipe check` report. Backslashes are left alone: `quote`
    escapes them itself, where a value must parse back.
    """
    out = []
    for ch in text:
        if ch == " " or ch.isprintable():
            out.append(ch)
        elif ch in _CONTROL_ESCAPES:
            out.append(_CONTROL_ESCAPES[ch])
        elif ord(ch) <= 0xFFFF:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    return "".join(out)


def render(fields: Mapping[str, str]) -> str:
    """`key=value` pairs joined by one space, values quoted as needed."""
    for key in fields:
        if not _KEY.fullmatch(key):
            raise ValueError(f"not a logfmt key: {key!r}")
    return " ".join(f"{key}={quote(value)}" for key, value in fields.items())


def parse_pairs(line: str) -> list[tuple[str, str]]:
    """Every `key=value` pair of a line, in order; raises `LogfmtError` on anything else.

    Strict on purpose (it is what the tests judge the formatter with): a word without `=`, an
    unterminated quote, an unknown escape or a quote inside a bare value are errors.
    """
    pairs: list[tuple[str, str]] = []
    i, n = 0, len(line)
    while True:
        while i < n and line[i] == " ":
            i += 1
        if i >= n:
            return pairs
        match = _KEY.match(line, i)
        if match is None or match.end() >= n or line[match.end()] != "=":
            raise LogfmtError(f"expected key= at column {i}: {line[i:i + 20]!r}")
        key, i = match.group(), match.end() + 1
        if i < n and line[i] == '"':
            value, i = _parse_quoted(line, i + 1)
        else:
            start = i
            while i < n and line[i] != " ":
                if line[i] in '"\\=' or not line[i].isprintable():
                    raise LogfmtError(f"bad character in bare value at column {i}")
                i += 1
            value = line[start:i]
        if i < n and line[i] != " ":
            raise LogfmtError(f"expected a space after the value of {key} at column {i}")
        pairs.append((key, value))


def _parse_quoted(line: str, i: int) -> tuple[str, int]:
    out: list[str] = []
    n = len(line)
    while i < n:
        ch = line[i]
        if ch == '"':
            return "".join(out), i + 1
        if ch == "\\":
            if i + 1 >= n:
                break
            esc = line[i + 1]
            if esc in _UNESCAPES:
                out.append(_UNESCAPES[esc])
                i += 2
                continue
            width = {"u": 4, "U": 8}.get(esc)
            digits = line[i + 2:i + 2 + width] if width else ""
            if not width or len(digits) != width or not re.fullmatch(r"[0-9a-fA-F]+", digits):
                raise LogfmtError(f"bad escape at column {i}")
            out.append(chr(int(digits, 16)))
            i += 2 + width
            continue
        if not (ch == " " or ch.isprintable()):
            raise LogfmtError(f"raw control character at column {i}")
        out.append(ch)
        i += 1
    raise LogfmtError("unterminated quoted value")


def parse(line: str) -> dict[str, str]:
    """A logfmt line as a dict (a repeated key keeps its last value)."""
    return dict(parse_pairs(line))


# --- rendering a record's message --------------------------------------------------------------

@dataclass
class _Token:
    key: str = ""
    value: str = ""
    has_eq: bool = False
    number: int | float | None = None  # the argument, when it alone is the whole value


def _render_piece(match: re.Match[str], arg: Any, in_value: bool) -> str:
    spec = match.group()
    if match.group("name") is not None:  # `%(name)s` with a dict argument: format alone
        spec = "%" + spec[spec.index(")") + 1:]
    if in_value and match.group("conv") == "r" and isinstance(arg, str):
        # Quoting makes the value unambiguous, which is what `%r` was for; no `'…'` on top.
        spec = spec[:-1] + "s"
    return spec % (arg,)


def message_fields(record: logging.LogRecord) -> tuple[list[tuple[str, str]], dict[str, int | float]]:
    """The record's message as logfmt pairs, plus the keys whose value was a number argument.

    Raises `LogfmtError` when the message has no clean `key=value` shape (the caller then
    falls back to `msg=`), `TypeError`/`ValueError`/`KeyError`/`IndexError` when the arguments
    do not fit the format.
    """
    fmt = str(record.msg)
    args = record.args
    mapping = args if isinstance(args, Mapping) else None
    positional = list(args) if isinstance(args, tuple) else []
    if args and mapping is None and not isinstance(args, tuple):
        positional = [args]

    tokens: list[_Token] = []
    current = _Token()

    def close() -> None:
        nonlocal current
        if current.key or current.has_eq or current.value:
            tokens.append(current)
        current = _Token()

    def feed(text: str) -> None:
        """Text read as logfmt source: spaces split words, the first `=` ends the key."""
        for ch in text:
            if ch.isspace():
                close()
            elif current.has_eq:
                current.value += ch
                current.number = None
            elif ch == "=":
                current.has_eq = True
            else:
                current.key += ch

    used = 0
    pos = 0
    if not args:
        feed(fmt)  # logging leaves a message without arguments as it is, `%` and all
    else:
        for match in _SPEC.finditer(fmt):
            feed(fmt[pos:match.start()])
            pos = match.end()
            if match.group("conv") == "%":
                feed("%")
                continue
            if "*" in match.group():  # widths taken from the arguments: render it as text
                raise LogfmtError("'*' width")
            if match.group("name") is not None:
                if mapping is None:
                    raise TypeError("format requires a mapping")
                arg = mapping[match.group("name")]
            else:
                arg = positional[used]
                used += 1
            if current.has_eq:
                # An argument inside a value is value text: its spaces and `=` do not split.
                starts_value = current.value == ""
                current.value += _render_piece(match, arg, in_value=True)
                is_number = isinstance(arg, numbers.Real) and not isinstance(arg, bool)
                current.number = arg if starts_value and is_number else None
            else:
                # Outside a value the argument is pre-formed text (`"a_ms=1 b_ms=2"`).
                feed(_render_piece(match, arg, in_value=False))
        if mapping is None and used != len(positional):
            raise TypeError("not all arguments converted during string formatting")
        feed(fmt[pos:])
    close()

    # Leading words before the fields (`uploaded bucket=… key=…`) become the `msg` field.
    words = 0
    while words < len(tokens) and not tokens[words].has_eq:
        words += 1
    if words == len(tokens):
        raise LogfmtError("no key=value field")
    pairs: list[tuple[str, str]] = []
    if words:
        pairs.append(("msg", " ".join(token.key for token in tokens[:words])))
    numbers_by_key: dict[str, int | float] = {}
    for token in tokens[words:]:
        if not token.has_eq or not _KEY.fullmatch(token.key):
            raise LogfmtError(f"not a key=value word: {token.key!r}")
        key = token.key + "_" if token.key in RESERVED else token.key
        pairs.append((key, token.value))
        if token.number is not None:
            numbers_by_key[key] = token.number
        else:
            numbers_by_key.pop(key, None)
    return pairs, numbers_by_key


def _typed(text: str, arg: int | float) -> str | int | float:
    """The rendered number back as a JSON number, as it was printed (`%.1f` stays 2.5)."""
    try:
        if isinstance(arg, numbers.Integral):
            return int(text)
        value = float(text)
    except ValueError:
        return text
    return value if math.isfinite(value) else text


# --- the formatter ---------------------------------------------------------------------------

class LineFormatter(logging.Formatter):
    """`ts=… level=… logger=… <message fields> [exc=…]`, or the same as one JSON object."""

    def __init__(self, log_format: LogFormat = "logfmt") -> None:
        super().__init__()
        if log_format not in LOG_FORMATS:
            raise ValueError(f"log format must be one of {', '.join(LOG_FORMATS)}")
        self.log_format = log_format

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        moment = dt.datetime.fromtimestamp(record.created, tz=dt.UTC)
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")

    def format(self, record: logging.LogRecord) -> str:
        try:
            pairs, number_args = message_fields(record)
        except LogfmtError:
            pairs, number_args = [("msg", record.getMessage())], {}
        except (TypeError, ValueError, KeyError, IndexError) as exc:
            # A call site whose arguments do not fit its format: still one parseable line, with
            # what it tried to say, instead of logging's multi-line "Logging error" report.
            pairs, number_args = [("msg", str(record.msg)), ("args", repr(record.args)),
                                  ("format_error", f"{type(exc).__name__}: {exc}")], {}
        head = [("ts", self.formatTime(record)), ("level", record.levelname.lower()),
                ("logger", record.name)]
        tail: list[tuple[str, str]] = []
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            tail.append(("exc", record.exc_text))
        if record.stack_info:
            tail.append(("stack", self.formatStack(record.stack_info)))
        if self.log_format == "json":
            obj: dict[str, str | int | float] = dict(head)
            for key, value in pairs:
                obj[key] = _typed(value, number_args[key]) if key in number_args else value
            obj.update(tail)
            return json.dumps(obj, ensure_ascii=False)
        return " ".join(f"{key}={quote(value)}" for key, value in [*head, *pairs, *tail])


def configure(log_format: LogFormat = "logfmt", *, verbose: bool = False,
              stream: TextIO | None = None, adopt: bool = False) -> None:
    """Send every log record to stderr as one parseable line (idempotent: one handler only).

    `adopt=True` also gives our formatter to loggers that keep their own stderr handler and do
    not propagate (Streamlit's), so a dashboard process writes one shape of line throughout.
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_salespipe", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler._salespipe = True  # type: ignore[attr-defined]
    handler.setFormatter(LineFormatter(log_format))
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for noisy in _NOISY:
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if adopt:
        formatter = handler.formatter
        for logger in list(logging.Logger.manager.loggerDict.values()):
            if not isinstance(logger, logging.Logger) or logger.propagate:
                continue
            for own in logger.handlers:
                if type(own) is logging.StreamHandler and own.stream is sys.stderr:
                    own.setFormatter(formatter)


def is_log_line(line: str) -> bool:
    """Whether a line already has this module's shape (either format): a child's own lines."""
    if line.startswith("{"):
        try:
            obj = json.loads(line)
        except ValueError:
            return False
        return isinstance(obj, dict) and "ts" in obj and "level" in obj
    try:
        pairs = parse_pairs(line)
    except LogfmtError:
        return False
    return [key for key, _ in pairs[:2]] == ["ts", "level"]


def relay(stream: IO[str], logger_name: str) -> None:
    """Copy a child process's stderr to ours, one parseable line each, until it closes.

    The child's own log lines pass through unchanged; anything else it prints (a server's
    startup banner written before our logging is set up, a stray traceback) becomes one
    `msg=` line per text line under `logger_name`.
    """
    log = logging.getLogger(logger_name)
    for raw in stream:
        line = raw.rstrip("\r\n")
        if not line.strip():
            continue
        if is_log_line(line):
            sys.stderr.write(line + "\n")
            sys.stderr.flush()
        else:
            log.info("msg=%s", line)

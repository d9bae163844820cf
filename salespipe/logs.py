"""Log lines a machine can parse: logfmt (default) or one JSON object per line.

The project logs events through structlog, `log.info("file_loaded", key=key, valid=n)`, and
every record, ours or a library's (dbt, Streamlit, botocore, librdkafka through `logging`),
is rendered by one `structlog.stdlib.ProcessorFormatter` on the root handler:

    ts=… level=… logger=… event=file_loaded key="incoming/red flower.csv" valid=12 [exc=…]

A library's message becomes one `msg="…"` field and a traceback one `exc="…"` field, never
extra lines. Values are quoted and escaped here rather than by structlog's `LogfmtRenderer`:
that one leaves carriage returns, ANSI escapes and Unicode line separators raw and backslashes
ambiguous, so an object key could move a terminal's cursor, split a line or forge a field.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import re
import sys
from collections.abc import Mapping
from typing import IO, Any, Literal, TextIO

import structlog
from structlog.processors import JSONRenderer, format_exc_info
from structlog.stdlib import BoundLogger, ProcessorFormatter
from structlog.typing import EventDict, Processor, WrappedLogger

LogFormat = Literal["logfmt", "json"]
LOG_FORMATS: tuple[LogFormat, ...] = ("logfmt", "json")

# Fields every line starts (or ends) with; an event field with one of these names gets a `_`
# suffix so the line never holds two meanings under one name.
RESERVED = frozenset({"ts", "level", "logger", "exc"})
_CONTROL_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_NOISY = ("botocore", "boto3", "urllib3", "s3transfer")


# --- logfmt values ---------------------------------------------------------------------------

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


def quote(value: str) -> str:
    """One logfmt value: bare when it is safe, else double-quoted with backslash escapes.

    A bare value never holds a backslash, so every escape is unambiguous and a value parses
    back to exactly the text it was.
    """
    if value and value.isprintable() and not any(ch in value for ch in ' "=\\'):
        return value
    return '"' + escape_unprintable(value.replace("\\", "\\\\").replace('"', '\\"')) + '"'


def render(fields: Mapping[str, object]) -> str:
    """`key=value` pairs joined by one space, each value as `str()` gives it, quoted as needed."""
    return " ".join(f"{key}={quote(str(value))}" for key, value in fields.items())


# --- the call side ---------------------------------------------------------------------------

class Fields(dict[str, Any]):
    """An event's fields as the standard `logging` record carries them (`record.msg`).

    Handlers other than ours (pytest's `caplog`, a library's own console handler) print a
    record with `str(record.msg)`; this way they read `event=file_loaded key=…` too.
    """

    def __str__(self) -> str:
        return render(self)


def _event_first(_: WrappedLogger, __: str, event_dict: EventDict) -> Fields:
    """`event` leads, then what is bound for the work at hand (the file's key), then the call's
    own fields: the order people scan a line in, whichever of the two named a field."""
    event = event_dict.pop("event")
    return Fields({"event": event, **structlog.contextvars.get_contextvars(), **event_dict})


_CALL_CHAIN: list[Processor] = [
    structlog.stdlib.filter_by_level,
    format_exc_info,  # now, while the exception is current; the line shows it as `exc`
    _event_first,
    ProcessorFormatter.wrap_for_formatter,
]


def get_logger(name: str) -> BoundLogger:
    """A structlog logger over the standard logger `name`.

    Events go through `logging` (levels, `caplog`, the one root handler), and the chain is
    given here rather than by `structlog.configure`, so a module-level logger behaves the same
    in tests and scripts that never call `configure()`, and no library's structlog is touched.
    """
    return structlog.wrap_logger(logging.getLogger(name), processors=_CALL_CHAIN,
                                 wrapper_class=BoundLogger, cache_logger_on_first_use=True)


# --- the formatter ---------------------------------------------------------------------------

def _from_library(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """A record from plain `logging`: its text is one `msg` field, whatever it looks like.

    The text is formatted here, not by `record.getMessage()`, so arguments that do not fit the
    format still give one line with what the call tried to say, instead of `logging`'s
    multi-line "Logging error" report.
    """
    text = event_dict.pop("event")
    args = event_dict.pop("positional_args", ())
    fields: dict[str, Any] = {"msg": text}
    if args:
        try:
            fields["msg"] = text % args
        except (TypeError, ValueError, KeyError, IndexError) as exc:
            fields.update(args=repr(args), format_error=f"{type(exc).__name__}: {exc}")
    return {**event_dict, **fields, **structlog.contextvars.get_contextvars()}


def _timestamp(created: float) -> str:
    moment = dt.datetime.fromtimestamp(created, tz=dt.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _json_value(value: object) -> object:
    """Numbers stay numbers (finite ones: JSON has no NaN); anything else is its text, as in
    logfmt, so a JSON reader and a logfmt reader see the same values."""
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return value
    return str(value)


def _line(typed: bool) -> Processor:
    """The line's fields in order: `ts level logger`, the event's fields, then `exc`."""

    def build(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
        record: logging.LogRecord = event_dict.pop("_record")
        event_dict.pop("_from_structlog", None)
        exc = event_dict.pop("exception", None)
        line: dict[str, Any] = {"ts": _timestamp(record.created),
                                "level": record.levelname.lower(), "logger": record.name}
        for key, value in event_dict.items():
            line[key + "_" if key in RESERVED else key] = value
        if exc:
            line["exc"] = exc
        return {k: _json_value(v) for k, v in line.items()} if typed else line

    return build


def _logfmt(_: WrappedLogger, __: str, event_dict: EventDict) -> str:
    return render(event_dict)


def _json_line(obj: object, **kw: Any) -> str:
    """JSON with non-ASCII text kept readable, but what `json` leaves raw and a reader could
    split or act on (NEL, U+2028, bidi overrides, DEL) as `\\u` escapes: still one line."""
    text = json.dumps(obj, ensure_ascii=False, **kw)
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else json.dumps(ch)[1:-1] for ch in text)


def formatter(log_format: LogFormat = "logfmt") -> logging.Formatter:
    """The formatter of every line: the project's events and foreign records alike."""
    if log_format not in LOG_FORMATS:
        raise ValueError(f"log format must be one of {', '.join(LOG_FORMATS)}")
    json_lines = log_format == "json"
    return ProcessorFormatter(
        foreign_pre_chain=[_from_library, format_exc_info],
        processors=[_line(typed=json_lines),
                    JSONRenderer(_json_line) if json_lines else _logfmt],
        use_get_message=False, pass_foreign_args=True)


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
    handler.setFormatter(formatter(log_format))
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for noisy in _NOISY:
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if adopt:
        for logger in list(logging.Logger.manager.loggerDict.values()):
            if not isinstance(logger, logging.Logger) or logger.propagate:
                continue
            for own in logger.handlers:
                if type(own) is logging.StreamHandler and own.stream is sys.stderr:
                    own.setFormatter(handler.formatter)


# --- a child's stderr ------------------------------------------------------------------------

_VALUE = r'(?:"(?:[^"\\]|\\["\\nrt]|\\u[0-9a-fA-F]{4}|\\U[0-9a-fA-F]{8})*"|[^ "=\\]*)'
_LOGFMT_LINE = re.compile(rf"ts={_VALUE} level={_VALUE}(?: [A-Za-z_][\w.\-/:]*={_VALUE})*")


def is_log_line(line: str) -> bool:
    """Whether a line already has our shape (either format) and parses: a child's own lines.

    A whole-line match, not a prefix test, so text that merely starts like a log line (an
    unbalanced quote, a raw control character) is wrapped like any other output.
    """
    if line.startswith("{"):
        try:
            obj = json.loads(line)
        except ValueError:
            return False
        return isinstance(obj, dict) and "ts" in obj and "level" in obj
    return line.isprintable() and _LOGFMT_LINE.fullmatch(line) is not None


def relay(stream: IO[str], logger_name: str) -> None:
    """Copy a child process's stderr to ours, one parseable line each, until it closes.

    The child's own log lines pass through unchanged; anything else it prints (a server's
    startup banner written before its logging is set up, a stray traceback) becomes one
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
            log.info("%s", line)

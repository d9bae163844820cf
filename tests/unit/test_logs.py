"""Log lines stay parseable whatever the values hold (salespipe/logs.py)."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from structlog.contextvars import bound_contextvars

from salespipe.logs import (
    configure,
    escape_unprintable,
    formatter,
    get_logger,
    is_log_line,
    quote,
    relay,
    render,
)
from tests.logfmt import LogfmtError, parse, parse_pairs

KEYS = st.from_regex(r"[A-Za-z_][A-Za-z0-9_.\-]{0,15}", fullmatch=True)


def _record(msg: str, *args: object, name: str = "salespipe.test", level: int = logging.INFO,
            exc_info: object = None) -> logging.LogRecord:
    """A record as a library (plain `logging`) makes it."""
    return logging.LogRecord(name, level, __file__, 1, msg, args or None, exc_info)  # type: ignore[arg-type]


def _emit(log_format: str, call: Callable[[Any], None], name: str = "salespipe.test") -> str:
    """The one line `call(get_logger(name))` writes."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter(log_format))  # type: ignore[arg-type]
    std = logging.getLogger(name)
    before = std.level, std.propagate
    std.addHandler(handler)
    std.setLevel(logging.DEBUG)
    std.propagate = False
    try:
        call(get_logger(name))
    finally:
        std.removeHandler(handler)
        std.setLevel(before[0])
        std.propagate = before[1]
    (line,) = stream.getvalue().splitlines()
    return line


def _line(event: str, **fields: object) -> str:
    return _emit("logfmt", lambda log: log.info(event, **fields))


def _logfmt(event: str, **fields: object) -> dict[str, str]:
    return parse(_line(event, **fields))


def _json(event: str, **fields: object) -> dict[str, object]:
    return json.loads(_emit("json", lambda log: log.info(event, **fields)))


def _foreign(log_format: str, msg: str, *args: object, **kw: object) -> dict[str, Any]:
    line = formatter(log_format).format(_record(msg, *args, **kw))  # type: ignore[arg-type]
    return json.loads(line) if log_format == "json" else parse(line)


# --- the logfmt codec ------------------------------------------------------------------------

@given(st.dictionaries(KEYS, st.text()))
def test_any_dict_of_text_values_survives_render_then_parse(fields: dict[str, str]) -> None:
    assert parse(render(fields)) == fields


@given(st.text())
def test_a_rendered_value_is_one_line(value: str) -> None:
    line = render({"v": value})
    assert "\n" not in line and "\r" not in line
    assert parse(line) == {"v": value}


@pytest.mark.parametrize(("value", "expected"), [
    ("incoming/sales_2026-01-01.csv", "incoming/sales_2026-01-01.csv"),
    ("incoming/red flower.csv", '"incoming/red flower.csv"'),
    ('say "hi"', '"say \\"hi\\""'),
    ("a=b", '"a=b"'),
    ("C:\\tmp", '"C:\\\\tmp"'),
    ("two\nlines", '"two\\nlines"'),
    ("bell\x07", '"bell\\u0007"'),
    ("", '""'),
    ("vendas_são_paulo", "vendas_são_paulo"),
])
def test_quote_leaves_safe_values_bare_and_escapes_the_rest(value: str, expected: str) -> None:
    assert quote(value) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("\x1b[2J\x1b[31mPaid", "\\u001b[2J\\u001b[31mPaid"),
    ("Café\n✓ would load cleanly", "Café\\n✓ would load cleanly"),
    ("over\rwrite\ttab", "over\\rwrite\\ttab"),
    ("del\x7f c1\x9b[2J nel\x85", "del\\u007f c1\\u009b[2J nel\\u0085"),
    ("abc\u202efdp.exe", "abc\\u202efdp.exe"),
    ("\u202a\u202b\u202c\u202d \u2066\u2067\u2068\u2069", "\\u202a\\u202b\\u202c\\u202d "
                                                          "\\u2066\\u2067\\u2068\\u2069"),
    ("line\u2028sep", "line\\u2028sep"),
    ('Pão "francês" C:\\tmp = 1', 'Pão "francês" C:\\tmp = 1'),  # printable text as it is
])
def test_escape_unprintable_shows_controls_and_bidi_marks_as_visible_escapes(
    text: str, expected: str
) -> None:
    assert escape_unprintable(text) == expected


@pytest.mark.parametrize("line", [
    "word", "key=\"open", 'key=a"b', "key=\"bad \\x escape\"", "=value", "key=\"a\"b=c",
])
def test_parser_rejects_lines_that_are_not_logfmt(line: str) -> None:
    with pytest.raises(LogfmtError):
        parse_pairs(line)


def test_parser_reads_empty_bare_value_as_empty_string() -> None:
    assert parse("a= b=1") == {"a": "", "b": "1"}


# --- the project's events ---------------------------------------------------------------------

def test_line_starts_with_utc_timestamp_level_and_logger() -> None:
    line = _emit("logfmt", lambda log: log.warning("x"), name="loader.consumer")
    pairs = parse_pairs(line)
    assert [k for k, _ in pairs[:3]] == ["ts", "level", "logger"]
    ts = pairs[0][1]
    assert len(ts) == len("2026-01-01T00:00:00.000Z") and ts.endswith("Z") and ts[10] == "T"
    assert pairs[1:] == [("level", "warning"), ("logger", "loader.consumer"), ("event", "x")]


def test_key_with_a_space_is_one_quoted_value() -> None:
    line = _line("file_loaded", key="incoming/red flower.csv", valid=12)
    assert line.endswith(' event=file_loaded key="incoming/red flower.csv" valid=12')
    fields = parse(line)
    del fields["ts"]
    assert fields == {"level": "info", "logger": "salespipe.test", "event": "file_loaded",
                      "key": "incoming/red flower.csv", "valid": "12"}


def test_error_text_is_the_value_not_python_quotes() -> None:
    error = 'relation "raw.files" does not exist\nLINE 1: select x=1'
    fields = _logfmt("db_error", key="incoming/a.csv", error=error, retry_in_s=5)
    assert fields["error"] == error
    assert fields["retry_in_s"] == "5"
    assert fields["key"] == "incoming/a.csv"


def test_exception_value_renders_its_text() -> None:
    fields = _logfmt("commit_failed", error=RuntimeError("broker down: a=b"))
    assert fields["error"] == "broker down: a=b"


def test_values_render_as_str_gives_them() -> None:
    fields = _logfmt("batch_done", files=3, seconds=round(2.25, 1), ok=True, none=None)
    assert (fields["files"], fields["seconds"], fields["ok"], fields["none"]) == (
        "3", "2.2", "True", "None")


def test_empty_string_is_an_empty_quoted_value() -> None:
    assert _line("x", reason="").endswith('reason=""')


def test_event_field_named_like_a_line_field_gets_a_suffix() -> None:
    fields = _logfmt("x", level="deep")
    assert fields["level"] == "info" and fields["level_"] == "deep"


def test_bound_context_follows_the_event_and_the_call_names_the_rest() -> None:
    with bound_contextvars(key="incoming/a b.csv"):
        line = _line("file_loaded", valid=3)
        moved = _logfmt("s3_retry", key="archive/a b.csv", error="x")
        library = _foreign("logfmt", "Retrying %s", "GetObject")
    assert line.endswith(' event=file_loaded key="incoming/a b.csv" valid=3')
    assert moved["key"] == "archive/a b.csv"
    assert (library["msg"], library["key"]) == ("Retrying GetObject", "incoming/a b.csv")
    assert "key" not in _logfmt("later")


def test_other_handlers_read_the_event_as_logfmt(caplog) -> None:
    caplog.set_level(logging.WARNING, logger="salespipe.watch")
    get_logger("salespipe.watch").warning("large_inbox", objects=4, hint="set S3_AFTER_LOAD")
    assert 'event=large_inbox objects=4 hint="set S3_AFTER_LOAD"' in caplog.text


def test_debug_event_below_the_level_is_dropped(caplog) -> None:
    caplog.set_level(logging.INFO, logger="salespipe.test")
    get_logger("salespipe.test").debug("ignored", key="k")
    assert caplog.records == []


# --- third-party and broken messages ---------------------------------------------------------

@pytest.mark.parametrize(("msg", "args", "expected"), [
    ("Starting new HTTPS connection (%d): %s:%s", (1, "s3.amazonaws.com", 443),
     "Starting new HTTPS connection (1): s3.amazonaws.com:443"),
    ("FAIL|rdkafka#consumer-1| [thrd:127.0.0.1:9092/bootstrap]: Connect to ipv4#127.0.0.1:9092 "
     "failed: Connection refused", (), None),
    ('Running with dbt=1.10.0 "quoted"', (), None),
    ("You can now view your Streamlit app in your browser.", (), None),
    ("100% done", (), None),
    # shaped like fields, but a library's text: one value, it cannot add or forge a field
    ("uploaded bucket=%s key=%s", ("sales-reports", "incoming/sales 1.csv\nlevel=debug"),
     "uploaded bucket=sales-reports key=incoming/sales 1.csv\nlevel=debug"),
    ("event=x then some words", (), None),
])
def test_library_message_becomes_one_msg_field(msg: str, args: tuple[object, ...],
                                               expected: str | None) -> None:
    for log_format in ("logfmt", "json"):
        fields = _foreign(log_format, msg, *args, name="kafka.client")
        assert fields["msg"] == (expected if expected is not None else msg)
        assert set(fields) == {"ts", "level", "logger", "msg"}


def test_star_width_message_is_rendered_as_text() -> None:
    assert _foreign("logfmt", "event=x n=%*d", 4, 7)["msg"] == "event=x n=   7"


def test_arguments_that_do_not_fit_the_format_still_give_one_line() -> None:
    fields = _foreign("logfmt", "event=x n=%d", "not a number")
    assert fields["msg"] == "event=x n=%d"
    assert fields["format_error"].startswith("TypeError")


def test_traceback_goes_into_exc_field_on_the_same_line() -> None:
    try:
        raise ValueError('bad "value"')
    except ValueError:
        ours = _emit("logfmt", lambda log: log.exception("crash", key="k"))
        library = formatter("logfmt").format(_record("crash in %s", "k", level=logging.ERROR,
                                                     exc_info=sys.exc_info()))
    for line in (ours, library):
        assert "\n" not in line
        fields = parse(line)
        assert fields["level"] == "error"
        assert fields["exc"].startswith("Traceback (most recent call last):\n")
        assert fields["exc"].endswith('ValueError: bad "value"')
        assert list(fields)[-1] == "exc"
    assert parse(ours)["event"] == "crash" and parse(library)["msg"] == "crash in k"


# --- JSON ------------------------------------------------------------------------------------

def test_json_line_holds_every_field_and_numbers_from_number_values() -> None:
    obj = _json("file_loaded", key="incoming/red flower.csv", valid=998, rejected=2,
                seconds=round(1.25, 1), etag="0123")
    assert {k: v for k, v in obj.items() if k != "ts"} == {
        "level": "info", "logger": "salespipe.test", "event": "file_loaded",
        "key": "incoming/red flower.csv", "valid": 998, "rejected": 2, "seconds": 1.2,
        "etag": "0123"}


def test_json_keeps_strings_that_look_like_numbers_as_strings() -> None:
    assert _json("x", key="42")["key"] == "42"


def test_json_non_finite_float_stays_a_string() -> None:
    assert _json("x", lag=float("nan"))["lag"] == "nan"


def test_json_other_values_are_their_text_as_in_logfmt() -> None:
    import datetime as dt

    obj = _json("x", success=True, first=dt.date(2026, 2, 2), none=None)
    assert (obj["success"], obj["first"], obj["none"]) == ("True", "2026-02-02", "None")


def test_json_line_escapes_what_could_split_or_reorder_it() -> None:
    key = "incoming/a\x85b\u2028c\u202efdp.csv Café"
    line = _emit("json", lambda log: log.info("x", key=key))
    assert line.isprintable() and "Café" in line
    assert json.loads(line)["key"] == key


def test_json_third_party_message_and_traceback() -> None:
    try:
        raise KeyError("x")
    except KeyError:
        obj = _foreign("json", "Connect to %s failed", "127.0.0.1:9092", name="kafka.client",
                       level=logging.ERROR, exc_info=sys.exc_info())
    assert obj["msg"] == "Connect to 127.0.0.1:9092 failed"
    assert obj["level"] == "error" and obj["logger"] == "kafka.client"
    assert str(obj["exc"]).endswith("KeyError: 'x'")


# --- configure -------------------------------------------------------------------------------

def test_configure_twice_keeps_one_handler_and_switches_format() -> None:
    root = logging.getLogger()
    before = list(root.handlers), root.level
    stream = io.StringIO()
    try:
        configure("logfmt", stream=stream)
        configure("json", stream=stream)
        get_logger("salespipe.test").info("x", key="a b")
        assert len([h for h in root.handlers if getattr(h, "_salespipe", False)]) == 1
        (line,) = stream.getvalue().splitlines()
        assert json.loads(line)["key"] == "a b"
    finally:
        for handler in list(root.handlers):
            if handler not in before[0]:
                root.removeHandler(handler)
        root.setLevel(before[1])


def test_unknown_log_format_is_refused() -> None:
    with pytest.raises(ValueError, match="logfmt, json"):
        formatter("yaml")  # type: ignore[arg-type]


@given(st.text(), st.text())
def test_any_text_value_comes_back_as_the_same_value(key: str, error: str) -> None:
    fields = _logfmt("db_error", key=key, error=error, retry_in_s=5)
    assert (fields["key"], fields["error"], fields["retry_in_s"]) == (key, error, "5")
    obj = _json("db_error", key=key, error=error, retry_in_s=5)
    assert (obj["key"], obj["error"], obj["retry_in_s"]) == (key, error, 5)


def test_adopt_reformats_a_non_propagating_library_logger_on_stderr(capsys) -> None:
    root = logging.getLogger()
    before = list(root.handlers), root.level
    lib = logging.getLogger("test_logs.streamlit_like")
    lib.propagate = False
    own = logging.StreamHandler()  # to sys.stderr, as Streamlit's console handler
    own.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    lib.addHandler(own)
    try:
        configure("json", adopt=True)
        lib.warning("Thread %s: missing context", "Main Thread")
        (line,) = capsys.readouterr().err.splitlines()
        assert json.loads(line)["msg"] == "Thread Main Thread: missing context"
    finally:
        lib.removeHandler(own)
        for handler in list(root.handlers):
            if handler not in before[0]:
                root.removeHandler(handler)
        root.setLevel(before[1])


def test_relay_passes_log_lines_through_and_wraps_everything_else(capsys) -> None:
    root = logging.getLogger()
    before = list(root.handlers), root.level
    child = io.StringIO(
        'ts=2026-01-01T00:00:00.000Z level=info logger=dashboard.app event=x key="a b"\n'
        '{"ts": "2026-01-01T00:00:00.000Z", "level": "info", "logger": "l", "event": "y"}\n'
        "2026-01-01 00:00:00.000 Uvicorn server started on 127.0.0.1:8501\n"
        "\n"
        'Traceback (most recent call last): "x=1"\n')
    try:
        configure("logfmt")
        relay(child, "dashboard.streamlit")
        lines = capsys.readouterr().err.splitlines()
    finally:
        for handler in list(root.handlers):
            if handler not in before[0]:
                root.removeHandler(handler)
        root.setLevel(before[1])
    assert lines[:2] == [
        'ts=2026-01-01T00:00:00.000Z level=info logger=dashboard.app event=x key="a b"',
        '{"ts": "2026-01-01T00:00:00.000Z", "level": "info", "logger": "l", "event": "y"}']
    wrapped = [parse(line) for line in lines[2:]]
    assert [(w["logger"], w["msg"]) for w in wrapped] == [
        ("dashboard.streamlit", "2026-01-01 00:00:00.000 Uvicorn server started on 127.0.0.1:8501"),
        ("dashboard.streamlit", 'Traceback (most recent call last): "x=1"')]
    assert all(is_log_line(line) for line in lines)


@pytest.mark.parametrize(("line", "ours"), [
    ('ts=2026-01-01T00:00:00.000Z level=info logger=a event=x key="a \\"b\\" \\u001b"', True),
    ("ts=2026-01-01T00:00:00.000Z level=info logger=a", True),
    ('ts=2026-01-01T00:00:00.000Z level=info logger=a key="open', False),
    ("ts=2026-01-01T00:00:00.000Z level=info logger=a key=a\x1b[2Jb", False),
    ("ts=2026-01-01T00:00:00.000Z level=info then words", False),
    ("level=info ts=2026-01-01T00:00:00.000Z", False),
    ('{"ts": 1}', False),
])
def test_only_whole_parseable_lines_pass_as_a_childs_own(line: str, ours: bool) -> None:
    assert is_log_line(line) is ours


def test_run_starts_every_child_with_the_chosen_log_format() -> None:
    from cli.main import build_parser
    from cli.run import _salespipe
    from salespipe.settings import Settings

    cmd = _salespipe(Settings(LOG_FORMAT="json"), "load")
    args = build_parser().parse_args(cmd[1:])
    assert (args.command, args.log_format) == ("load", "json")


# --- the project's own call sites ------------------------------------------------------------

def test_file_outcome_line_has_one_number_field_per_stage(caplog) -> None:
    from loader.copy import Stopwatch
    from loader.load import FileOutcome, _log_outcome

    watch = Stopwatch()
    watch.ms.update({"download": 12.4, "parse": 3.6, "copy": 250.0})
    caplog.set_level(logging.INFO, logger="loader.load")
    _log_outcome(FileOutcome("incoming/red flower.csv", "e1", "rejected", 0, 2,
                             reason="missing column: unit price"), watch)
    (record,) = caplog.records
    obj = json.loads(formatter("json").format(record))
    assert (obj["event"], obj["key"], obj["reason"]) == (
        "file_rejected", "incoming/red flower.csv", "missing column: unit price")
    assert (obj["download_ms"], obj["parse_ms"], obj["copy_ms"]) == (12, 4, 250)
    assert all(isinstance(obj[k], int | float) for k in ("download_ms", "parse_ms", "copy_ms"))
    fields = parse(formatter("logfmt").format(record))
    assert (fields["download_ms"], fields["parse_ms"], fields["copy_ms"]) == ("12", "4", "250")


def test_generate_logs_an_event_with_its_parameters(caplog, tmp_path) -> None:
    import argparse
    import datetime as dt

    from generator.cli import run_generate

    caplog.set_level(logging.INFO, logger="generator.cli")
    args = argparse.Namespace(date=dt.date(2026, 2, 3), days=2, rows=5, seed=9, out=tmp_path,
                              upload=False)
    assert run_generate(args, None) == 0  # type: ignore[arg-type]
    (line,) = [parse(formatter("logfmt").format(r)) for r in caplog.records]
    assert {k: line[k] for k in ("event", "days", "rows", "seed", "first", "last")} == {
        "event": "generate_started", "days": "2", "rows": "5", "seed": "9",
        "first": "2026-02-02", "last": "2026-02-03"}

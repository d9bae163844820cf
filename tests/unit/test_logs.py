"""Log lines stay parseable whatever the values hold (salespipe/logs.py)."""

from __future__ import annotations

import io
import json
import logging
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salespipe.logs import (
    LineFormatter,
    LogfmtError,
    configure,
    escape_unprintable,
    is_log_line,
    parse,
    parse_pairs,
    quote,
    relay,
    render,
)

KEYS = st.from_regex(r"[A-Za-z_][A-Za-z0-9_.\-]{0,15}", fullmatch=True)


def _record(msg: str, *args: object, name: str = "salespipe.test", level: int = logging.INFO,
            exc_info: object = None) -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, msg, args or None, exc_info)  # type: ignore[arg-type]


def _logfmt(msg: str, *args: object, **kw: object) -> dict[str, str]:
    return parse(LineFormatter("logfmt").format(_record(msg, *args, **kw)))  # type: ignore[arg-type]


def _json(msg: str, *args: object, **kw: object) -> dict[str, object]:
    return json.loads(LineFormatter("json").format(_record(msg, *args, **kw)))  # type: ignore[arg-type]


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


# --- the formatter: project call sites -------------------------------------------------------

def test_line_starts_with_utc_timestamp_level_and_logger() -> None:
    line = LineFormatter().format(_record("event=x", name="loader.consumer",
                                          level=logging.WARNING))
    pairs = parse_pairs(line)
    assert [k for k, _ in pairs[:3]] == ["ts", "level", "logger"]
    ts = pairs[0][1]
    assert len(ts) == len("2026-01-01T00:00:00.000Z") and ts.endswith("Z") and ts[10] == "T"
    assert pairs[1:] == [("level", "warning"), ("logger", "loader.consumer"), ("event", "x")]


def test_key_with_a_space_is_one_quoted_value() -> None:
    line = LineFormatter().format(_record("event=file_loaded key=%s valid=%d",
                                          "incoming/red flower.csv", 12))
    assert line.endswith(' event=file_loaded key="incoming/red flower.csv" valid=12')
    fields = parse(line)
    del fields["ts"]
    assert fields == {"level": "info", "logger": "salespipe.test", "event": "file_loaded",
                      "key": "incoming/red flower.csv", "valid": "12"}


def test_repr_call_site_gives_the_text_not_python_quotes() -> None:
    error = 'relation "raw.files" does not exist\nLINE 1: select x=1'
    fields = _logfmt("event=db_error key=%s error=%r retry_in_s=%.0f", "incoming/a.csv", error, 5.0)
    assert fields["error"] == error
    assert fields["retry_in_s"] == "5"
    assert fields["key"] == "incoming/a.csv"


def test_repr_of_a_non_string_keeps_its_repr() -> None:
    assert _logfmt("event=x detail=%r", ("a", 1))["detail"] == "('a', 1)"


def test_exception_argument_renders_its_text() -> None:
    fields = _logfmt("event=commit_failed error=%s", RuntimeError("broker down: a=b"))
    assert fields["error"] == "broker down: a=b"


def test_number_formats_keep_working() -> None:
    fields = _logfmt("event=batch_done files=%d seconds=%.1f ok=%s none=%s", 3, 2.25, True, None)
    assert (fields["files"], fields["seconds"], fields["ok"], fields["none"]) == (
        "3", "2.2", "True", "None")


def test_argument_inside_a_value_is_part_of_that_value() -> None:
    # A pre-formed argument outside a value ("a_ms=1 b_ms=2") still splits into its fields.
    fields = _logfmt("event=file_%s key=%s reason=%r %s", "rejected", "incoming/x y.csv",
                     "missing column: unit price", "parse_ms=3 insert_ms=12")
    assert fields["event"] == "file_rejected"
    assert fields["reason"] == "missing column: unit price"
    assert (fields["parse_ms"], fields["insert_ms"]) == ("3", "12")


def test_empty_string_argument_is_an_empty_quoted_value() -> None:
    line = LineFormatter().format(_record("event=x reason=%r", ""))
    assert line.endswith('reason=""')


def test_message_key_named_like_a_line_field_gets_a_suffix() -> None:
    fields = _logfmt("event=x level=%s", "deep")
    assert fields["level"] == "info" and fields["level_"] == "deep"


def test_percent_literal_in_a_value_is_kept() -> None:
    assert _logfmt("event=x share=%d%%", 40)["share"] == "40%"


# --- third-party and broken messages ---------------------------------------------------------

@pytest.mark.parametrize(("msg", "args", "expected"), [
    ("Starting new HTTPS connection (%d): %s:%s", (1, "s3.amazonaws.com", 443),
     "Starting new HTTPS connection (1): s3.amazonaws.com:443"),
    ("FAIL|rdkafka#consumer-1| [thrd:127.0.0.1:9092/bootstrap]: Connect to ipv4#127.0.0.1:9092 "
     "failed: Connection refused", (), None),
    ('Running with dbt=1.10.0 "quoted"', (), None),
    ("You can now view your Streamlit app in your browser.", (), None),
    ("100% done", (), None),
])
def test_message_without_key_value_shape_becomes_msg(msg: str, args: tuple[object, ...],
                                                      expected: str | None) -> None:
    fields = _logfmt(msg, *args, name="kafka.client")
    assert fields["msg"] == (expected if expected is not None else msg)
    assert set(fields) == {"ts", "level", "logger", "msg"}


def test_leading_words_become_msg_and_the_fields_stay_fields() -> None:
    # e.g. a library's "uploaded bucket=%s key=%s rows=%d bytes=%d"
    fields = _logfmt("uploaded bucket=%s key=%s rows=%d", "sales-reports",
                     "incoming/sales 1.csv", 10)
    assert (fields["msg"], fields["bucket"], fields["key"], fields["rows"]) == (
        "uploaded", "sales-reports", "incoming/sales 1.csv", "10")
    assert _json("uploaded rows=%d", 10)["rows"] == 10


def test_words_after_a_field_make_the_whole_message_msg() -> None:
    fields = _logfmt("event=x then some words")
    assert fields["msg"] == "event=x then some words" and "event" not in fields


def test_star_width_message_is_rendered_as_text() -> None:
    assert _logfmt("event=x n=%*d", 4, 7)["msg"] == "event=x n=   7"


def test_arguments_that_do_not_fit_the_format_still_give_one_line() -> None:
    line = LineFormatter().format(_record("event=x n=%d", "not a number"))
    fields = parse(line)
    assert fields["msg"] == "event=x n=%d"
    assert fields["format_error"].startswith("TypeError")


def test_traceback_goes_into_exc_field_on_the_same_line() -> None:
    try:
        raise ValueError('bad "value"')
    except ValueError:
        record = _record("event=crash key=%s", "k", level=logging.ERROR, exc_info=sys.exc_info())
    line = LineFormatter().format(record)
    assert "\n" not in line
    fields = parse(line)
    assert fields["event"] == "crash"
    assert fields["exc"].startswith("Traceback (most recent call last):\n")
    assert fields["exc"].endswith('ValueError: bad "value"')


# --- JSON ------------------------------------------------------------------------------------

def test_json_line_holds_every_field_and_numbers_from_number_arguments() -> None:
    obj = _json("event=file_loaded key=%s valid=%d rejected=%d seconds=%.1f etag=%s",
                "incoming/red flower.csv", 998, 2, 1.25, "0123")
    assert {k: v for k, v in obj.items() if k != "ts"} == {
        "level": "info", "logger": "salespipe.test", "event": "file_loaded",
        "key": "incoming/red flower.csv", "valid": 998, "rejected": 2, "seconds": 1.2,
        "etag": "0123"}


def test_json_keeps_strings_that_look_like_numbers_as_strings() -> None:
    obj = _json("event=x key=%s", "42")
    assert obj["key"] == "42"


def test_json_non_finite_float_stays_a_string() -> None:
    assert _json("event=x lag=%s", float("nan"))["lag"] == "nan"


def test_json_third_party_message_and_traceback() -> None:
    try:
        raise KeyError("x")
    except KeyError:
        obj = _json("Connect to %s failed", "127.0.0.1:9092", name="kafka.client",
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
        logging.getLogger("salespipe.test").info("event=x key=%s", "a b")
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
        LineFormatter("yaml")  # type: ignore[arg-type]


@given(st.text(), st.text())
def test_any_text_argument_comes_back_as_the_same_value(key: str, error: str) -> None:
    fields = _logfmt("event=db_error key=%s error=%r retry_in_s=%d", key, error, 5)
    assert (fields["key"], fields["error"], fields["retry_in_s"]) == (key, error, "5")
    obj = _json("event=db_error key=%s error=%r retry_in_s=%d", key, error, 5)
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
    obj = json.loads(LineFormatter("json").format(record))
    assert (obj["event"], obj["key"], obj["reason"]) == (
        "file_rejected", "incoming/red flower.csv", "missing column: unit price")
    assert (obj["download_ms"], obj["parse_ms"], obj["copy_ms"]) == (12, 4, 250)
    assert all(isinstance(obj[k], int | float) for k in ("download_ms", "parse_ms", "copy_ms"))
    fields = parse(LineFormatter("logfmt").format(record))
    assert (fields["download_ms"], fields["parse_ms"], fields["copy_ms"]) == ("12", "4", "250")


def test_generate_logs_an_event_with_its_parameters(caplog, tmp_path) -> None:
    import argparse
    import datetime as dt

    from generator.cli import run_generate

    caplog.set_level(logging.INFO, logger="generator.cli")
    args = argparse.Namespace(date=dt.date(2026, 2, 3), days=2, rows=5, seed=9, out=tmp_path,
                              upload=False)
    assert run_generate(args, None) == 0  # type: ignore[arg-type]
    (line,) = [parse(LineFormatter("logfmt").format(r)) for r in caplog.records]
    assert {k: line[k] for k in ("event", "days", "rows", "seed", "first", "last")} == {
        "event": "generate_started", "days": "2", "rows": "5", "seed": "9",
        "first": "2026-02-02", "last": "2026-02-03"}

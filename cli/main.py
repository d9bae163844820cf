"""`salespipe` command line: parse options, call one function, turn errors into one line."""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import sys
from collections.abc import Sequence
from pathlib import Path

from salespipe.logs import LOG_FORMATS, LogFormat, configure, escape_unprintable
from salespipe.settings import (
    CONSUMER_GROUP,
    TOPIC_DLQ,
    TOPIC_FILES,
    TOPIC_LOADS,
    Settings,
    load_settings,
)

DEFAULT_DASHBOARD_PORT = 8501


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("salespipe")
    except PackageNotFoundError:  # running from a checkout that was never installed
        return "unknown"


def _services(args: argparse.Namespace, settings: Settings) -> int:
    from cli.local import manager

    if args.action == "up":
        manager.up(settings)
    elif args.action == "down":
        manager.down()
    else:
        rows = manager.status(settings)
        for row in rows:
            print(f"{row.name:<9} {row.state:<8} {row.address}")
        # Scripts and health checks read the exit code: 1 when a service is down.
        return 1 if any(row.down for row in rows) else 0
    return 0


def _env(args: argparse.Namespace, settings: Settings) -> int:
    from cli.local import manager

    print("\n".join(manager.env_lines(settings)))
    return 0


def _migrate(args: argparse.Namespace, settings: Settings) -> int:
    from salespipe import db

    for name in db.migrate(settings):
        print(f"applied {name}")
    return 0


def _generate(args: argparse.Namespace, settings: Settings) -> int:
    from generator.cli import run_generate

    return run_generate(args, settings)


def _watch(args: argparse.Namespace, settings: Settings) -> int:
    from announcer.watcher import watch

    watch(settings, interval=args.interval, once=args.once, topic=args.topic)
    return 0


def _load(args: argparse.Namespace, settings: Settings) -> int:
    from loader.consumer import Topics, run_loader

    return run_loader(settings, exit_when_idle=args.exit_when_idle, run_dbt=not args.no_dbt,
                      batch_size=args.batch_size, group_id=args.group,
                      topics=Topics(args.files_topic, args.dlq_topic, args.loads_topic))


def _since(text: str) -> dt.datetime:
    """YYYY-MM-DD (midnight) or an ISO date-time; UTC unless it says otherwise."""
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD) or ISO date-time: {text}") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _replay(args: argparse.Namespace, settings: Settings) -> int:
    from announcer.announce import replay

    if args.key and (args.all or args.prefix or args.since):
        print("salespipe replay: error: --key cannot be combined with --all, --prefix or --since",
              file=sys.stderr)
        return 2
    if not (args.key or args.all or args.prefix or args.since):
        print("salespipe replay: error: say what to replay: --key, --all, --prefix or --since",
              file=sys.stderr)
        return 2
    items = replay(settings, key=args.key, all_objects=args.all, prefix=args.prefix,
                   since=args.since, dry_run=args.dry_run, topic=args.topic)
    if args.dry_run:
        for item in items:
            print(f"{item.obj.key}\t{item.modified_at:%Y-%m-%dT%H:%M:%SZ}\t{item.obj.size}")
        print(f"would re-announce {len(items)} object(s) on {args.topic}")
    else:
        print(f"re-announced {len(items)} object(s) on {args.topic}")
    return 0


def _check(args: argparse.Namespace, settings: Settings) -> int:
    from cli.check import check_file, exit_code, render_json, render_text

    reports = []
    for name in args.files:
        try:
            reports.append(check_file(Path(name)))
        except OSError as exc:
            print(f"salespipe check: error: cannot read {escape_unprintable(name)}: "
                  f"{exc.strerror or exc}", file=sys.stderr)
            return 2
    if args.format == "json":
        print(render_json(reports))
    else:
        print(render_text(reports, settings.messages_language))
    return exit_code(reports)


def _build(args: argparse.Namespace, settings: Settings) -> int:
    from cli.build import run_build_command

    return run_build_command(settings, list(args.dbt_args))


def _dashboard(args: argparse.Namespace, settings: Settings) -> int:
    from dashboard.launch import launch

    # An explicit --port wins, then Streamlit's own STREAMLIT_SERVER_PORT, then 8501.
    port = args.port or settings.STREAMLIT_SERVER_PORT or DEFAULT_DASHBOARD_PORT
    return launch(port=port, headless=True, host=args.host, log_format=settings.LOG_FORMAT)


def _docs(args: argparse.Namespace, settings: Settings) -> int:
    from cli.docs import serve_docs

    return serve_docs(settings, port=args.port, host=args.host, wait=args.wait_for_marts)


def _run(args: argparse.Namespace, settings: Settings) -> int:
    from cli.run import run_all

    return run_all(settings, every=args.every, rows=args.rows, port=args.port)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="salespipe", description=__doc__)
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    p.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    p.add_argument("--log-format", choices=LOG_FORMATS, default=None,
                   help="log lines as logfmt (default) or JSON; env LOG_FORMAT")
    # `-v` also after the subcommand (`salespipe load -v`); SUPPRESS keeps the top-level value
    # when it is not repeated there.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                        help="debug logging")
    common.add_argument("--log-format", choices=LOG_FORMATS, default=argparse.SUPPRESS,
                        help="log lines as logfmt (default) or JSON; env LOG_FORMAT")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser = functools.partial(sub.add_parser, parents=[common])  # type: ignore[method-assign]

    s = sub.add_parser("services", help="start/stop/show the local PostgreSQL, S3 and Kafka")
    s.add_argument("action", choices=["up", "down", "status"])
    s.set_defaults(func=_services)

    s = sub.add_parser("env", help="print export lines for the services in use")
    s.set_defaults(func=_env)

    s = sub.add_parser("migrate", help="create or upgrade the raw schema")
    s.set_defaults(func=_migrate)

    s = sub.add_parser("generate", help="write realistic daily sales CSV files")
    s.add_argument("--date", type=dt.date.fromisoformat, default=None,
                   help="sale date (YYYY-MM-DD), default today")
    s.add_argument("--days", type=int, default=1, help="number of consecutive days ending at --date")
    s.add_argument("--rows", type=int, default=None,
                   help="rows per day (default: 1000; upstream style: 50-100)")
    s.add_argument("--seed", type=int, default=None, help="same seed, same bytes")
    s.add_argument("--style", choices=["project", "upstream"], default="project",
                   help="project: this project's files; upstream: the original project's shape")
    dest = s.add_mutually_exclusive_group()
    dest.add_argument("--out", type=Path, default=None, help="file (one day) or directory")
    dest.add_argument("--upload", action="store_true", help="upload to incoming/ in the bucket")
    s.set_defaults(func=_generate)

    s = sub.add_parser("watch", help="announce new objects under incoming/ on sales.files")
    s.add_argument("--interval", type=float, default=1.0, help="seconds between bucket polls")
    s.add_argument("--once", action="store_true", help="poll once and exit")
    s.add_argument("--topic", default=TOPIC_FILES, help="topic to announce on")
    s.set_defaults(func=_watch)

    s = sub.add_parser("load", help="consume sales.files and load files into raw, then dbt build")
    s.add_argument("--exit-when-idle", type=float, default=None, metavar="SECONDS",
                   help="return after this long with nothing to do, counted once the loader "
                        "has joined its consumer group")
    s.add_argument("--no-dbt", action="store_true", help="load only; do not run dbt build")
    s.add_argument("--batch-size", type=int, default=20, help="files per dbt build at most")
    s.add_argument("--group", default=CONSUMER_GROUP, help="consumer group")
    s.add_argument("--files-topic", default=TOPIC_FILES)
    s.add_argument("--dlq-topic", default=TOPIC_DLQ)
    s.add_argument("--loads-topic", default=TOPIC_LOADS)
    s.set_defaults(func=_load)

    s = sub.add_parser("replay", help="re-announce objects (backfill after a fix)")
    s.add_argument("--key", help="object key, e.g. incoming/sales_2026-01-01.csv")
    s.add_argument("--all", action="store_true", help="every object under incoming/")
    s.add_argument("--prefix", help="keys under incoming/ starting with this, e.g. sales_2026-03")
    s.add_argument("--since", type=_since, metavar="DATE",
                   help="objects modified at or after DATE (YYYY-MM-DD or ISO date-time, UTC)")
    s.add_argument("--dry-run", action="store_true", help="list what would be re-announced")
    s.add_argument("--topic", default=TOPIC_FILES, help="topic to announce on")
    s.set_defaults(func=_replay)

    s = sub.add_parser("check", help="the loader's verdict on local files, offline (exit 0 = clean)")
    s.add_argument("files", nargs="+", metavar="FILE", help=".csv, .csv.gz, .zip or .xlsx")
    s.add_argument("--format", choices=["text", "json"], default="text", help="report format")
    s.set_defaults(func=_check)

    s = sub.add_parser("build", help="dbt build of the shared schemas, one build at a time",
                       description="dbt build --target prod under the build lock; waits while "
                                   "another build (a loader's) runs. Extra arguments go to dbt.")
    s.add_argument("dbt_args", nargs="*", metavar="DBT_ARGS",
                   help="passed to dbt build, e.g. --select kpi_daily_sales+ (all that follows "
                        "`build` goes to dbt)")
    s.set_defaults(func=_build)

    s = sub.add_parser("dashboard", help="serve the KPI dashboard")
    s.add_argument("--port", type=int, default=None,
                   help=f"default: STREAMLIT_SERVER_PORT, else {DEFAULT_DASHBOARD_PORT}")
    s.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0 in a container)")
    s.set_defaults(func=_dashboard)

    s = sub.add_parser("docs", help="generate and serve the dbt docs site")
    s.add_argument("--port", type=int, default=8080)
    s.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0 in a container)")
    s.add_argument("--wait-for-marts", action="store_true",
                   help="wait for the first completed dbt build before generating the site")
    s.set_defaults(func=_docs)

    s = sub.add_parser("run", help="everything in one foreground command (Ctrl-C stops it)")
    s.add_argument("--every", type=float, default=30.0, help="seconds between generated files")
    s.add_argument("--rows", type=int, default=2000, help="rows per generated file")
    s.add_argument("--port", type=int, default=8501, help="dashboard port")
    s.set_defaults(func=_run)
    return p


def configure_logging(verbose: bool, log_format: LogFormat = "logfmt") -> None:
    """One parseable line per record on stderr (see salespipe/logs.py)."""
    configure(log_format, verbose=verbose)


def _split_dbt_args(argv: list[str]) -> tuple[list[str], list[str]]:
    """Everything after the `build` command goes to dbt untouched (argparse would take
    `--select` for one of ours)."""
    for i, token in enumerate(argv):
        if token == "build":
            return argv[: i + 1], argv[i + 1:]
        if not token.startswith("-"):
            break
    return argv, []


def main(argv: Sequence[str] | None = None) -> int:
    ours, dbt_args = _split_dbt_args(list(sys.argv[1:] if argv is None else argv))
    args = build_parser().parse_args(ours)
    if args.command == "build":
        args.dbt_args = dbt_args
    configure_logging(args.verbose, args.log_format or "logfmt")
    from salespipe.errors import user_message

    try:
        # --log-format wins over LOG_FORMAT; children (`run`, `dashboard`) get the outcome.
        settings = load_settings(**({"LOG_FORMAT": args.log_format} if args.log_format else {}))
        configure_logging(args.verbose, settings.LOG_FORMAT)
        return int(args.func(args, settings) or 0)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - the one edge where errors become one line
        message = user_message(exc)
        if message is None or args.verbose:
            raise
        print(f"salespipe {args.command}: error: {message}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())

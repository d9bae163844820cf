"""`salespipe` command line: parse options, call one function, turn errors into one line."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from salespipe.settings import (
    CONSUMER_GROUP,
    TOPIC_DLQ,
    TOPIC_FILES,
    TOPIC_LOADS,
    Settings,
    load_settings,
)


class CliError(RuntimeError):
    """An expected failure with a message meant for the user."""


def _services(args: argparse.Namespace, settings: Settings) -> int:
    from salespipe.services import manager

    if args.action == "up":
        manager.up(settings)
    elif args.action == "down":
        manager.down()
    else:
        for row in manager.status(settings):
            print(f"{row.name:<9} {row.state:<8} {row.address}")
    return 0


def _env(args: argparse.Namespace, settings: Settings) -> int:
    from salespipe.services import manager

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
    from salespipe.watcher import watch

    watch(settings, interval=args.interval, once=args.once, topic=args.topic)
    return 0


def _load(args: argparse.Namespace, settings: Settings) -> int:
    from loader.consumer import Topics, run_loader

    return run_loader(settings, exit_when_idle=args.exit_when_idle, run_dbt=not args.no_dbt,
                      batch_size=args.batch_size, group_id=args.group,
                      topics=Topics(args.files_topic, args.dlq_topic, args.loads_topic))


def _replay(args: argparse.Namespace, settings: Settings) -> int:
    from salespipe.announce import replay

    count = replay(settings, key=args.key, all_objects=args.all)
    print(f"re-announced {count} object(s) on sales.files")
    return 0


def _dashboard(args: argparse.Namespace, settings: Settings) -> int:
    from dashboard.launch import launch

    return launch(port=args.port, headless=True, host=args.host)


def _docs(args: argparse.Namespace, settings: Settings) -> int:
    from salespipe.dbt_docs import serve_docs

    return serve_docs(settings, port=args.port, host=args.host)


def _run(args: argparse.Namespace, settings: Settings) -> int:
    from salespipe.run import run_all

    return run_all(settings, every=args.every, rows=args.rows, port=args.port)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="salespipe", description=__doc__)
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = p.add_subparsers(dest="command", required=True)

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
                   help="return after this long with nothing to do")
    s.add_argument("--no-dbt", action="store_true", help="load only; do not run dbt build")
    s.add_argument("--batch-size", type=int, default=20, help="files per dbt build at most")
    s.add_argument("--group", default=CONSUMER_GROUP, help="consumer group")
    s.add_argument("--files-topic", default=TOPIC_FILES)
    s.add_argument("--dlq-topic", default=TOPIC_DLQ)
    s.add_argument("--loads-topic", default=TOPIC_LOADS)
    s.set_defaults(func=_load)

    s = sub.add_parser("replay", help="re-announce objects (backfill after a fix)")
    g = s.add_mutually_exclusive_group(required=True)
    g.add_argument("--key", help="object key, e.g. incoming/sales_2026-01-01.csv")
    g.add_argument("--all", action="store_true", help="every object under incoming/")
    s.set_defaults(func=_replay)

    s = sub.add_parser("dashboard", help="serve the KPI dashboard")
    s.add_argument("--port", type=int, default=8501)
    s.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0 in a container)")
    s.set_defaults(func=_dashboard)

    s = sub.add_parser("docs", help="generate and serve the dbt docs site")
    s.add_argument("--port", type=int, default=8080)
    s.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0 in a container)")
    s.set_defaults(func=_docs)

    s = sub.add_parser("run", help="everything in one foreground command (Ctrl-C stops it)")
    s.add_argument("--every", type=float, default=30.0, help="seconds between generated files")
    s.add_argument("--rows", type=int, default=2000, help="rows per generated file")
    s.add_argument("--port", type=int, default=8501, help="dashboard port")
    s.set_defaults(func=_run)
    return p


def configure_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s level=%(levelname)s logger=%(name)s %(message)s",
        stream=sys.stderr,
    )
    for noisy in ("botocore", "boto3", "urllib3", "s3transfer"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(args.verbose)
    from salespipe.errors import user_message

    try:
        settings = load_settings()
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

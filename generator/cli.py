"""`salespipe generate`: choose where each day's file goes, write it, say what was written.

Destinations:
- `--out FILE` (one day) or `--out DIR` (any number of days; created if missing);
  without `--out` and `--upload`, files go to the current directory.
- `--upload`: each day is streamed to a temporary file, then uploaded to
  `incoming/sales_<date>.csv` in `BUCKET_NAME`. With `--seed` that key is always used
  (same seed, same bytes, so overwriting is idempotent). Without a seed a key is never
  reused, even after a load moved its object to processed/ or rejected/: the upload
  becomes `incoming/sales_<date>_<HHMMSS>.csv` (UTC time of the upload), then
  `..._<HHMMSS>_2.csv` and so on, so every run announces a new object.

Styles: `project` (default) is this project's own generator (`generator.core`: a fixed
catalogue, fast, `--rows` default 1000); `upstream` writes files shaped like the original
project's generator (`generator.upstream`: ids drawn per row, 50-100 rows unless `--rows`).

One line per file is printed on stdout: `<path or s3://bucket/key> rows=<n> bytes=<n>`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
from pathlib import Path
from typing import Any, BinaryIO, TextIO

from generator import core, upstream
from salespipe.logs import get_logger
from salespipe.settings import INCOMING_PREFIX, Settings

log = get_logger(__name__)


DEFAULT_ROWS = 1000  # per day, project style


class GenerateError(ValueError):
    """Options that cannot be honoured; shown to the user as one line."""


def rows_for(style: str, rows: int | None, day: dt.date, seed: int) -> int:
    """Rows of one day's file: `--rows` when given, else the style's default."""
    if rows is not None:
        return rows
    return upstream.default_rows(day, seed) if style == "upstream" else DEFAULT_ROWS


def file_name(day: dt.date) -> str:
    return f"sales_{day.isoformat()}.csv"


def days_ending(last: dt.date, days: int) -> list[dt.date]:
    """`days` consecutive dates, oldest first, the last one being `last`."""
    return [last - dt.timedelta(days=offset) for offset in range(days - 1, -1, -1)]


def local_paths(out: Path | None, days: list[dt.date]) -> list[Path]:
    """Where each day's file goes: `out` is a file for one day unless it is a directory."""
    if out is not None and len(days) == 1 and not out.is_dir():
        return [out]
    directory = out if out is not None else Path.cwd()
    if directory.exists() and not directory.is_dir():
        raise GenerateError(f"--out {directory} is a file; several days need a directory")
    return [directory / file_name(day) for day in days]


class Progress:
    """A one-line progress bar on stderr, drawn only for a person watching a terminal."""

    def __init__(self, label: str, total: int, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() and total > 0
        self.label, self.total = label, total

    def __call__(self, done: int) -> None:
        if not self.enabled:
            return
        width = 30
        filled = width * done // self.total
        self.stream.write(
            f"\r{self.label} [{'#' * filled}{'.' * (width - filled)}] {done:,}/{self.total:,} rows"
        )
        if done >= self.total:
            self.stream.write("\r\033[K")  # clear the bar so the result line stands alone
        self.stream.flush()


def _write(
    stream: BinaryIO, style: str, day: dt.date, rows: int, seed: int, label: str
) -> int:
    writer = upstream.write_csv if style == "upstream" else core.write_csv
    return writer(stream, day, rows, seed, on_progress=Progress(label, rows))


def _object_exists(s3: Any, bucket: str, key: str) -> bool:
    from botocore.exceptions import ClientError

    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
            return False
        raise
    return True


def _taken(s3: Any, bucket: str, key: str) -> bool:
    """The key holds an object, or held one that a load moved out of incoming/ (the default
    `S3_AFTER_LOAD=move`): uploading there again would be a new version of a loaded file."""
    from salespipe.s3 import archived_candidates

    return any(_object_exists(s3, bucket, k) for k in [key, *archived_candidates(key)])


def upload_key(
    s3: Any, bucket: str, day: dt.date, *, seeded: bool, now: dt.datetime | None = None
) -> str:
    """The object key for a day's upload (the rule is in this module's docstring)."""
    key = INCOMING_PREFIX + file_name(day)
    if seeded or not _taken(s3, bucket, key):
        return key
    stamp = f"{(now or dt.datetime.now(dt.UTC)):%H%M%S}"
    base = f"{INCOMING_PREFIX}sales_{day.isoformat()}_{stamp}"
    key, n = f"{base}.csv", 1
    while _taken(s3, bucket, key):
        n += 1
        key = f"{base}_{n}.csv"
    return key


def _upload(
    settings: Settings, style: str, days: list[dt.date], rows: int | None, seed: int, seeded: bool
) -> None:
    from salespipe import s3 as s3_client

    s3 = s3_client.client(settings)
    bucket = settings.BUCKET_NAME
    for day in days:
        # A temporary file, not memory: millions of rows are hundreds of MB, and
        # upload_fileobj then sends them as a multipart upload.
        n = rows_for(style, rows, day, seed)
        with tempfile.TemporaryFile() as tmp:
            size = _write(tmp, style, day, n, seed, file_name(day))
            tmp.seek(0)
            key = upload_key(s3, bucket, day, seeded=seeded)
            s3.upload_fileobj(tmp, bucket, key, ExtraArgs={"ContentType": "text/csv"})
        log.info("file_uploaded", bucket=bucket, key=key, rows=n, bytes=size)
        print(f"s3://{bucket}/{key} rows={n} bytes={size}")


def _save(
    out: Path | None, style: str, days: list[dt.date], rows: int | None, seed: int
) -> None:
    for day, path in zip(days, local_paths(out, days), strict=True):
        path.parent.mkdir(parents=True, exist_ok=True)
        n = rows_for(style, rows, day, seed)
        with path.open("wb") as fh:
            size = _write(fh, style, day, n, seed, path.name)
        print(f"{path} rows={n} bytes={size}")


def run_generate(args: argparse.Namespace, settings: Settings) -> int:
    """Entry point of `salespipe generate` (options in `cli.main.build_parser`)."""
    try:
        # Namespaces built outside the CLI parser (scripts, older callers) may lack --style.
        style = getattr(args, "style", "project")
        if (args.rows is not None and args.rows < 1) or args.days < 1:
            raise GenerateError("--rows and --days must be at least 1")
        days = days_ending(args.date or dt.date.today(), args.days)
        seed = args.seed if args.seed is not None else core.new_seed()
        log.info("generate_started", style=style, days=len(days),
                 rows="default" if args.rows is None else args.rows, seed=seed,
                 first=days[0], last=days[-1])
        if args.upload:
            _upload(settings, style, days, args.rows, seed, seeded=args.seed is not None)
        else:
            _save(args.out, style, days, args.rows, seed)
    except (GenerateError, OSError) as exc:
        print(f"salespipe generate: error: {exc}", file=sys.stderr)
        return 2
    return 0

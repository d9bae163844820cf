"""Load one object through the real loader path in a fresh process; print timings and peak RSS.

The clock covers `load_object` only, as for a `salespipe load` member that receives the
file's event: before its clock the process has imported its modules, connected, and read a
one-row file (`warm_up`, what `salespipe load` does before it joins its group, so that
one-time costs such as pyarrow importing pandas on its first compute call stay off the first
file). `--cold` skips that warm-up: the method of runs before 2026-12-07, whose clock held
those one-time costs (about 0.4 s) while the naive baseline's did not.

A separate process so that the peak is the loader's own. Read from `VmHWM`, not `ru_maxrss`:
Linux carries `ru_maxrss` across exec, so a child forked from the benchmark driver reported
the driver's 1.7 GB (its generated files) as its own peak.
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import threading
import time
from pathlib import Path

from loader.events import ObjectRef
from loader.limits import Limits
from loader.load import load_object, warm_up
from salespipe import db, s3
from salespipe.settings import load_settings


def _peak_rss_kb() -> int:
    """This process image's high-water resident set (Linux), else ru_maxrss."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--key", required=True)
    p.add_argument("--cold", action="store_true", help="skip the warm-up (the old method)")
    args = p.parse_args()
    settings = load_settings()
    client = s3.client(settings)
    head = client.head_object(Bucket=settings.BUCKET_NAME, Key=args.key)
    ref = ObjectRef(settings.BUCKET_NAME, args.key, head["ETag"].strip('"'),
                    int(head["ContentLength"]), "ObjectCreated:Put")
    with db.connect(settings, autocommit=True) as conn, tempfile.TemporaryDirectory() as tmp:
        if not args.cold:
            warm_up(Path(tmp))
        started = time.perf_counter()
        outcome = load_object(conn, client, ref, Path(tmp), threading.Event(),
                              Limits.from_settings(settings))  # as `salespipe load`
        seconds = time.perf_counter() - started
        timings = conn.execute("select timings_ms from raw.files where file_id = %s",
                               (outcome.file_id,)).fetchone()
    print(json.dumps({
        "status": outcome.status, "rows_valid": outcome.rows_valid,
        "rows_rejected": outcome.rows_rejected, "seconds": seconds, "reason": outcome.reason,
        "timings_ms": timings[0] if timings else {},
        "peak_rss_mb": _peak_rss_kb() / 1024,
    }))


if __name__ == "__main__":
    main()

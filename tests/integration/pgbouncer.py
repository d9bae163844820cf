"""A real PgBouncer (Debian's package) in front of a test cluster, configured the way hosted
poolers usually are: session pooling, SCRAM, and its default refusal of libpq's `options`
startup parameter. PgBouncer will not run as root, so it runs as the cluster's system user.
"""

from __future__ import annotations

import os
import pwd
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from cli.local.process import ScratchServer, free_port

DEBIAN_PGBOUNCER = Path("/usr/sbin/pgbouncer")


@dataclass
class Bouncer(ScratchServer):
    """A running PgBouncer on `port`, its files under `base`, log `pgbouncer.log`."""

    port: int = 0


def start_bouncer(server_port: int, dbname: str, logins: dict[str, str], run_as: str) -> Bouncer:
    """PgBouncer on a free port for `dbname` on 127.0.0.1:`server_port`; `logins` are the
    user -> password pairs it accepts (and uses towards the server)."""
    if not DEBIAN_PGBOUNCER.exists():
        raise RuntimeError("no PgBouncer: run `make test` (it installs pgbouncer) or "
                           "`apt-get install pgbouncer`")
    base = Path(tempfile.mkdtemp(prefix="salespipe-pgbouncer-"))
    port = free_port()
    (base / "users.txt").write_text("".join(f'"{u}" "{p}"\n' for u, p in logins.items()))
    (base / "pgbouncer.ini").write_text(
        "[databases]\n"
        f"{dbname} = host=127.0.0.1 port={server_port} dbname={dbname}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = scram-sha-256\nauth_file = {base / 'users.txt'}\n"
        f"pool_mode = session\nlogfile = {base / 'pgbouncer.log'}\n")
    owner = pwd.getpwnam(run_as)
    for path in (base, base / "users.txt", base / "pgbouncer.ini"):
        os.chown(path, owner.pw_uid, owner.pw_gid)
    as_owner = ["runuser", "-u", run_as, "--"] if os.geteuid() == 0 else []
    proc = subprocess.Popen([*as_owner, str(DEBIAN_PGBOUNCER), str(base / "pgbouncer.ini")],  # noqa: S603
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd="/")
    bouncer = Bouncer(proc, base, "pgbouncer.log", port=port)
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return bouncer
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                log = (base / "pgbouncer.log")
                detail = log.read_text(errors="replace") if log.exists() else ""
                bouncer.stop()
                raise RuntimeError(f"PgBouncer did not start: {detail[-2000:]}") from None
            time.sleep(0.1)

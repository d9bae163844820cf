"""`salespipe docs`: generate the dbt docs site and serve it (lineage ends at the dashboard)."""

from __future__ import annotations

import signal
import subprocess

from loader.dbt import dbt_command, dbt_env
from salespipe.settings import Settings, project_root


def serve_docs(settings: Settings, *, port: int, host: str = "127.0.0.1") -> int:
    env = dbt_env(settings)
    subprocess.run(dbt_command(settings, "docs", "generate"), env=env, check=True,  # noqa: S603
                   cwd=project_root())
    print(f"dbt docs: http://localhost:{port}  (Ctrl-C stops)", flush=True)
    server = subprocess.Popen(  # noqa: S603
        dbt_command(settings, "docs", "serve", "--port", str(port), "--host", host,
                    "--no-browser"),
        env=env, cwd=project_root(),
    )
    # SIGTERM (docker stop, a supervisor) must not leave the server behind as an orphan.
    signal.signal(signal.SIGTERM, lambda *_: server.terminate())
    try:
        return server.wait()
    except KeyboardInterrupt:
        server.terminate()
        server.wait(30)
        return 0

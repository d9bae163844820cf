"""`salespipe build [dbt args]`: a `dbt build` of the shared schemas (`--target prod`) under
the build lock, for scheduled or hand-run prod builds beside the loader.

It waits, saying for whom, while another build holds the lock (a loader's, or another
`salespipe build`), then runs dbt in the foreground with its output as is; the exit code is
dbt's. Extra arguments go to `dbt build` (`--select kpi_daily_sales+`, `--full-refresh`).
Like the loader's builds, it passes dbt the pending build window and, when a build of every
mart succeeds, marks those files built (loader/build_window.py).
"""

from __future__ import annotations

import subprocess
import sys

from loader.build_window import run_prod_build
from loader.dbt import dbt_command, dbt_env
from salespipe.settings import Settings, project_root


def run_build_command(settings: Settings, dbt_args: list[str]) -> int:
    transform = settings.for_component("transform")

    def waiting(holder: str) -> None:
        print(f"salespipe build: waiting for the build running in {holder}", file=sys.stderr,
              flush=True)

    codes: list[int] = []

    def invoke(cmd: list[str], env: dict[str, str]) -> tuple[bool, str]:
        codes.append(subprocess.run(cmd, env={**dbt_env(transform), **env},  # noqa: S603
                                    cwd=project_root(), check=False).returncode)
        return codes[-1] == 0, ""

    run_prod_build(transform, dbt_command(transform, "build", *dbt_args), invoke, on_wait=waiting)
    return codes[-1]

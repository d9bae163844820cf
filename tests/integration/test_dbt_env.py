"""`eval "$(salespipe env)"` is all an analyst needs before a plain `dbt` command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

BIN = Path(sys.executable).parent


def test_plain_dbt_runs_from_any_directory_after_eval_salespipe_env(world, tmp_path):
    script = (f'eval "$({BIN / "salespipe"} env)" && cd {tmp_path} && '
              f'{BIN / "dbt"} debug && {BIN / "dbt"} ls --resource-type model')
    env = {k: v for k, v in world.env.items() if not k.startswith("DBT_")}
    env.update(DBT_TARGET_PATH=str(tmp_path / "target"), DBT_LOG_PATH=str(tmp_path / "logs"))
    proc = subprocess.run(["bash", "-c", script], env=env, cwd=tmp_path, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr
    assert "All checks passed!" in proc.stdout
    assert "dbt_sales.marts.kpi_daily_sales" in proc.stdout


def test_salespipe_env_exports_the_password_for_dbt_under_a_secret_name(world):
    script = (f'eval "$({BIN / "salespipe"} env)" && '
              'printf "%s\\n" "$DBT_ENV_SECRET_POSTGRES_PASSWORD" "$DBT_PROFILES_DIR" '
              '"$DBT_PROJECT_DIR"')
    env = {k: v for k, v in world.env.items() if not k.startswith("DBT_")}
    proc = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True,
                          timeout=60, check=True)
    root = Path(__file__).resolve().parents[2]
    assert proc.stdout.splitlines() == [world.settings.pg_password, str(root),
                                        str(root / "dbt_sales")]

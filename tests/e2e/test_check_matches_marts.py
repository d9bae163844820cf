"""What `salespipe check` promises for a file equals what the pipeline then shows: the same
Excel export checked offline, then uploaded, loaded, built by dbt and read from the marts."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from tests.conftest import make_world
from tests.integration.loader_support import put_and_announce

pytestmark = pytest.mark.e2e

SALESPIPE = str(Path(sys.executable).parent / "salespipe")
DAY = dt.date(2026, 3, 14)


def test_check_kpis_of_an_xlsx_equal_the_marts_after_loading_it(base_settings, tmp_path):
    from benchmarks.xlsx import write_xlsx
    from loader.consumer import Loader

    w = make_world(base_settings, "check_marts")
    path = write_xlsx(tmp_path / "vendas.xlsx", DAY, 800, 11)
    proc = subprocess.run([SALESPIPE, "check", "--format", "json", str(path)], env=w.env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    (report,) = json.loads(proc.stdout)["files"]
    kpis = report["kpis"]

    put_and_announce(w, "incoming/vendas.xlsx", path.read_bytes())
    Loader(w.settings, topics=w.topics, group_id=f"g-{w.files_topic}").run(exit_when_idle=3)

    with psycopg.connect(**w.settings.pg_connect_kwargs()) as conn:
        daily = conn.execute("select total_sales, transactions, avg_ticket, units_sold "
                             "from marts.kpi_daily_sales where sale_date = %s", (DAY,)).fetchall()
        top = conn.execute("select product_name, sum(units_sold), sum(total_sales) "
                           "from marts.kpi_product_sales group by product_name "
                           "order by 2 desc, 3 desc, 1 limit 5").fetchall()
    assert report["rows"]["valid"] == 800
    assert daily == [(Decimal(kpis["total_sales"]), kpis["transactions"],
                      Decimal(kpis["avg_ticket"]), kpis["units_sold"])]
    assert top == [(p["product_name"], p["units_sold"], Decimal(p["total_sales"]))
                   for p in kpis["top_products"]]

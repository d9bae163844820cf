"""A warehouse built by a release whose product marts had the old grain (product_id) upgrades
itself: the next plain `dbt build` (what the loader runs) drops the marts whose primary key
no longer matches their contract and builds them anew, instead of failing on the old key.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from tests.integration.dbt_support import (
    MART_KEYS,
    RawFile,
    expected_marts,
    insert_raw,
    read_mart,
    run_dbt,
    sale,
)

pytestmark = pytest.mark.integration

NUTS = {"product_name": "Nuts", "product_category": "Snacks"}
MILK = {"product_name": "Milk", "product_category": "Dairy Products"}
FIRST = RawFile(
    key="incoming/first.csv", etag="f1", modified_at=dt.datetime(2026, 3, 1, 20, tzinfo=dt.UTC),
    rows=[sale("G1", day="2026-03-01", product_id="PRD00001", **NUTS),
          sale("G2", day="2026-03-01", product_id="PRD00002", **NUTS),
          sale("G3", day="2026-03-01", product_id="PRD00003", **MILK)],
)
# PRD00003 now also names Nuts on a day that already has Milk under it: under the old key
# (sale_date, product_id) the two products would collide.
SECOND = RawFile(
    key="incoming/second.csv", etag="s1", modified_at=dt.datetime(2026, 3, 2, 20, tzinfo=dt.UTC),
    rows=[sale("G4", day="2026-03-01", product_id="PRD00000", **MILK),
          sale("G5", day="2026-03-02", product_id="PRD00003", **NUTS)],
)

OLD_GRAIN_DDL = """
drop table marts.kpi_product_sales;
create table marts.kpi_product_sales (
    sale_date date not null, product_id text not null, product_name text,
    product_category text, total_sales numeric(14,2), units_sold bigint, units_rank integer,
    _batch_id bigint, primary key (sale_date, product_id));
insert into marts.kpi_product_sales
select sale_date, product_id, max(product_name), max(product_category), sum(total_value),
       sum(quantity_sold), 1, max(_batch_id)
from marts.fct_sales group by sale_date, product_id;
alter table marts.kpi_product_sales owner to salespipe_transform;
drop table marts.dim_products;
create table marts.dim_products (
    product_id text primary key, product_name text, product_category text,
    _batch_id bigint);
insert into marts.dim_products
select product_id, max(product_name), max(product_category), max(_batch_id)
from marts.fct_sales group by product_id;
alter table marts.dim_products owner to salespipe_transform;
"""

PRIMARY_KEY = """
select array_agg(a.attname::text order by a.attname)
from pg_index as i
inner join pg_attribute as a on a.attrelid = i.indrelid and a.attnum = any(i.indkey)
where i.indisprimary and i.indrelid = %s::regclass
"""


@pytest.fixture(scope="module")
def upgraded(base_settings, tmp_path_factory) -> Iterator[dict[str, Any]]:
    from salespipe import db
    from salespipe.settings import load_settings

    name = f"t_grain_{uuid.uuid4().hex[:8]}"
    settings = load_settings(POSTGRES_DB=name)
    db.ensure_database(settings, name)
    db.migrate(settings)
    target = tmp_path_factory.mktemp("dbt")
    with psycopg.connect(**settings.pg_connect_kwargs(), autocommit=True) as conn:
        files = [insert_raw(conn, FIRST)]
        run_dbt(settings, "build", target=target)
        conn.execute(OLD_GRAIN_DDL)
        files.append(insert_raw(conn, SECOND))
        upgrade = run_dbt(settings, "build", target=target)
        marts = {n: read_mart(conn, n, MART_KEYS[n])
                 for n in ("kpi_product_sales", "kpi_product_segment_sales")}
        keys = {t: conn.execute(PRIMARY_KEY, (f"marts.{t}",)).fetchone()[0]
                for t in ("kpi_product_sales", "dim_products")}
        dim = conn.execute("select product_name, product_id from marts.dim_products"
                           " order by product_name").fetchall()
        again = run_dbt(settings, "build", target=target)
    yield {"files": files, "upgrade": upgrade.stdout, "again": again.stdout, "marts": marts,
           "keys": keys, "dim": dim}
    with db.connect(settings, dbname="postgres", autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')


def test_plain_build_rebuilds_marts_whose_grain_changed(upgraded) -> None:
    assert "grain of" in upgraded["upgrade"] and "changed from" in upgraded["upgrade"]
    assert upgraded["keys"] == {"kpi_product_sales": ["product_name", "sale_date"],
                                "dim_products": ["product_name"]}
    want = expected_marts(upgraded["files"])
    for name, rows in upgraded["marts"].items():
        assert rows == want[name], name
    assert upgraded["dim"] == [("Milk", "PRD00000"), ("Nuts", "PRD00003")]


def test_build_after_the_upgrade_drops_nothing(upgraded) -> None:
    assert "changed from" not in upgraded["again"]

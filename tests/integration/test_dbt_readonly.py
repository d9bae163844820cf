"""Read-only dbt commands write nothing: after a real build, `dbt compile`, `dbt docs
generate`, `dbt ls` and `dbt show` leave every table, view and sequence of raw, staging and
marts exactly as they were (same relations, same row counts, same row versions)."""

from __future__ import annotations

import datetime as dt

import pytest

from salespipe import db
from tests.integration.dbt_support import RawFile, insert_raw, run_dbt, sale

pytestmark = pytest.mark.integration

SCHEMAS = ("raw", "staging", "marts")


def state(conn) -> dict[str, tuple[object, ...]]:
    """Every relation of the project's schemas: tables by row count and a checksum of their
    row versions (xmin changes on any insert, update or delete), sequences by position,
    views by definition."""
    out: dict[str, tuple[object, ...]] = {}
    rels = conn.execute(
        "select n.nspname, c.relname, c.relkind from pg_class c"
        " join pg_namespace n on n.oid = c.relnamespace"
        " where n.nspname = any(%s) and c.relkind in ('r', 'v', 'S')", (list(SCHEMAS),)).fetchall()
    for schema, name, kind in rels:
        rel = f'"{schema}"."{name}"'
        if kind == "r":
            out[rel] = conn.execute(
                f"select count(*), coalesce(sum(hashtext(xmin::text || ctid::text)), 0) from {rel}"  # noqa: S608 - catalog names
            ).fetchone()
        elif kind == "S":
            out[rel] = conn.execute(f"select last_value, is_called from {rel}").fetchone()  # noqa: S608
        else:
            out[rel] = conn.execute("select pg_get_viewdef(%s::regclass)", (rel,)).fetchone()
    return out


def test_compile_docs_ls_and_show_change_no_row_anywhere(world, tmp_path):
    settings = world.settings
    with db.connect(settings, autocommit=True) as conn:
        insert_raw(conn, RawFile(key="incoming/a.csv", etag="a1", modified_at=dt.datetime.now(dt.UTC),
                                 rows=[sale("A1", day="2026-03-01"), sale("A2", day="2026-03-02")]))
        run_dbt(settings, "build", target=tmp_path)
        # a file dbt has not seen yet: a build would record and apply it
        insert_raw(conn, RawFile(key="incoming/b.csv", etag="b1", modified_at=dt.datetime.now(dt.UTC),
                                 rows=[sale("B1", day="2026-03-03")]))
        before = state(conn)
        assert any(k.startswith('"marts"') for k in before)
        for args in (("compile",), ("docs", "generate"), ("ls",),
                     ("show", "--select", "kpi_daily_sales")):
            run_dbt(settings, *args, target=tmp_path)
        assert state(conn) == before
        # and the check can fail: a build does write
        run_dbt(settings, "build", target=tmp_path)
        assert state(conn) != before

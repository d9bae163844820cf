"""Helpers for the dbt tests: write known files into `raw`, run the real dbt, and compute
every mart independently in Python from the same input rows.

A `RawFile` describes one object version the way the loader would record it. `insert_raw`
writes it with bound parameters (no loader involved); a loader-based writer with the same
signature (put the CSV in S3, announce it, run the loader, read back file_id/loaded_at from
raw.files by key + ETag) can replace it without touching the tests.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import psycopg

from loader.build_window import run_prod_build
from tests.integration.loader_support import SNAKE, sale

ROOT = Path(__file__).resolve().parents[2]
DBT = Path(sys.executable).parent / "dbt"
CENT = Decimal("0.01")
ALL = ""  # the segment marts' "all regions" / "all channels"

__all__ = ["ALL", "RawFile", "LoadedFile", "insert_raw", "run_dbt", "expected_marts", "read_mart",
           "DuplicateGrain", "sale", "resolve_sales", "product_identity", "product_name"]


@dataclass
class RawFile:
    """One object version as the loader records it: valid rows (loader_support.sale dicts,
    all values text) and rejected rows (row_number, values, reasons)."""

    key: str
    etag: str
    modified_at: dt.datetime
    rows: list[dict[str, str]] = field(default_factory=list)
    rejects: list[tuple[int, dict[str, str], list[str]]] = field(default_factory=list)
    status: str = "loaded"
    reason: str | None = None
    bucket: str = "sales-reports"


@dataclass(frozen=True)
class LoadedFile:
    """What raw.files assigned: the resolution rules need the id and the load time."""

    spec: RawFile
    file_id: int
    loaded_at: dt.datetime


RawWriter = Callable[[psycopg.Connection, RawFile], LoadedFile]


def _typed(row: dict[str, str]) -> list[Any]:
    """The 24 columns as the loader stores them: empty optional text -> NULL."""
    out: list[Any] = []
    for col in SNAKE:
        v = row[col]
        if v == "" and col in ("payment_date", "delivery_date", "customer_rating"):
            out.append(None)
        elif col == "quantity_sold":
            out.append(int(v))
        elif col in ("unit_price", "discount", "total_value", "unit_cost", "total_cost",
                     "gross_profit", "shipping_cost"):
            out.append(Decimal(v or "0"))
        else:
            out.append(v)
    return out


def insert_raw(conn: psycopg.Connection, f: RawFile) -> LoadedFile:
    """Write one file into raw.files / raw.sales / raw.sales_rejected (one transaction)."""
    valid, rejected = len(f.rows), len(f.rejects)
    with conn.transaction():
        file_id, loaded_at = conn.execute(
            """
            insert into raw.files (bucket, key, etag, size_bytes, object_modified_at, status,
                                   reason, rows_total, rows_valid, rows_rejected, encoding,
                                   delimiter, received_at)
            values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 'utf-8', ',', %s)
            returning file_id, loaded_at
            """,
            (f.bucket, f.key, f.etag, 1000 + valid, f.modified_at, f.status, f.reason,
             valid + rejected, valid, rejected, f.modified_at),
        ).fetchone()
        cols = ", ".join(SNAKE)
        marks = ", ".join(["%s"] * (len(SNAKE) + 2))
        with conn.cursor() as cur:
            cur.executemany(
                f"insert into raw.sales (file_id, row_number, {cols}) values ({marks})",  # noqa: S608 - constant column list
                [(file_id, n, *_typed(r)) for n, r in enumerate(f.rows, start=1)],
            )
            cur.executemany(
                "insert into raw.sales_rejected (file_id, key, row_number, raw_values, reasons)"
                " values (%s, %s, %s, %s, %s)",
                [(file_id, f.key, n, json.dumps(v), reasons) for n, v, reasons in f.rejects],
            )
    return LoadedFile(f, int(file_id), loaded_at)


def run_dbt(settings: Any, *args: str, target: Path,
            target_name: str = "prod") -> subprocess.CompletedProcess[str]:
    """The real dbt CLI in a subprocess, as an analyst or the loader runs it; on the shared
    schemas (`--target prod`) unless `target_name` says otherwise."""
    env = dict(os.environ)
    env.update({
        "POSTGRES_HOST": settings.pg_host,
        "POSTGRES_PORT": str(settings.pg_port),
        "POSTGRES_USER": settings.pg_user,
        "POSTGRES_PASSWORD": settings.pg_password,
        "DBT_ENV_SECRET_POSTGRES_PASSWORD": settings.pg_password,
        "POSTGRES_DB": settings.pg_db,
        "DO_NOT_TRACK": "1",
    })
    cmd = [str(DBT), *args, "--project-dir", "dbt_sales", "--profiles-dir", ".",
           "--target", target_name,
           "--target-path", str(target / "target"), "--log-path", str(target / "logs")]
    procs: list[subprocess.CompletedProcess[str]] = []

    def invoke(cmd: list[str], extra: dict[str, str]) -> tuple[bool, str]:
        procs.append(subprocess.run(cmd, cwd=ROOT, env={**env, **extra},  # noqa: S603
                                    capture_output=True, text=True, timeout=300))
        return procs[-1].returncode == 0, ""

    if target_name == "prod" and args and args[0] in ("build", "run", "seed", "retry"):
        # The shared schemas are built as `salespipe build` builds them: under the build
        # lock, with the pending window, marking the files built.
        run_prod_build(settings, cmd, invoke)
    else:
        invoke(cmd, {})
    proc = procs[-1]
    if proc.returncode != 0:
        tail = "\n".join(proc.stdout.splitlines()[-40:])
        raise AssertionError(f"{' '.join(args)} failed ({proc.returncode}):\n{tail}\n{proc.stderr}")
    return proc


def locked_invoke(worker: Any, settings: Any, args: list[str],
                  timeout: float) -> tuple[bool, str]:
    """`worker.invoke` of a prod build as the loader's run_build runs it."""
    return run_prod_build(settings, args, lambda cmd, env: worker.invoke(cmd, timeout, env))


class DuplicateGrain(AssertionError):
    """A mart holds two rows for one value of its grain."""


def read_mart(conn: psycopg.Connection, name: str, key: Iterable[str],
              drop: Iterable[str] = ()) -> dict[tuple[Any, ...], dict[str, Any]]:
    """A mart as {grain: row} (row without the bookkeeping columns).

    Two rows with the same grain raise DuplicateGrain: a dict would keep only the last one,
    and every comparison built on this helper would be blind to duplicated rows."""
    cur = conn.execute(f"select * from marts.{name}")  # noqa: S608 - test-chosen constant
    names = [d.name for d in cur.description or []]
    key = tuple(key)
    out: dict[tuple[Any, ...], dict[str, Any]] = {}
    for rec in cur.fetchall():
        row = {n: v for n, v in zip(names, rec, strict=True) if n not in drop}
        grain = tuple(row[k] for k in key)
        if grain in out:
            raise DuplicateGrain(f"marts.{name}: more than one row for {dict(zip(key, grain, strict=True))}")
        out[grain] = row
    return out


# -- the business rules, written again independently of the SQL ------------------------------


def resolve_sales(files: list[LoadedFile]) -> dict[str, dict[str, str]]:
    """sale_id -> winning row: current object versions only (newest modified_at, then
    file_id, among loaded files), then the most recently loaded file wins, then first row."""
    current: dict[str, LoadedFile] = {}
    for f in files:
        if f.spec.status != "loaded":
            continue
        best = current.get(f.spec.key)
        if best is None or (f.spec.modified_at, f.file_id) > (best.spec.modified_at, best.file_id):
            current[f.spec.key] = f
    winners: dict[str, tuple[tuple[Any, ...], dict[str, str]]] = {}
    for f in current.values():
        for n, row in enumerate(f.spec.rows, start=1):
            rank = (f.loaded_at, f.file_id, -n)
            held = winners.get(row["sale_id"])
            if held is None or rank > held[0]:
                winners[row["sale_id"]] = (rank, row)
    return {sid: row for sid, (_, row) in winners.items()}


def product_name(row: dict[str, str]) -> str:
    """The product identity rule: whitespace runs collapsed to one space, ends trimmed."""
    return re.sub(r"[ \t\r\n\f\v]+", " ", row["product_name"]).strip(" ")


def product_attributes(rows: list[dict[str, str]]) -> dict[str, Any]:
    """A product group's id attributes and its most frequent category (ties: the first in
    code-point order, which is Python's string order)."""
    categories = Counter(r["product_category"] for r in rows)
    top = max(categories.values())
    return {"product_id": min(r["product_id"] for r in rows),
            "product_id_count": len({r["product_id"] for r in rows}),
            "product_category": min(c for c, n in categories.items() if n == top)}


def product_identity(files: list[LoadedFile]) -> dict[str, int]:
    """dq_product_identity computed from the resolved sales (canceled included)."""
    pairs = {(r["product_id"], product_name(r)) for r in resolve_sales(files).values()}
    names: dict[str, set[str]] = defaultdict(set)
    ids: dict[str, set[str]] = defaultdict(set)
    for pid, name in pairs:
        names[pid].add(name)
        ids[name].add(pid)
    return {"product_names": len(ids), "product_ids": len(names),
            "ids_with_several_names": sum(len(v) > 1 for v in names.values()),
            "names_with_several_ids": sum(len(v) > 1 for v in ids.values())}


def _money(v: Decimal) -> Decimal:
    return v.quantize(CENT, rounding=ROUND_HALF_UP)


def expected_marts(files: list[LoadedFile]) -> dict[str, dict[tuple[Any, ...], dict[str, Any]]]:
    """Every kpi_* mart, and dq_product_identity, computed in Python from the test's rows."""
    sales = list(resolve_sales(files).values())
    counted = [s for s in sales if s["payment_status"] != "Canceled"]

    def day(s: dict[str, str]) -> dt.date:
        return dt.date.fromisoformat(s["sale_date"])

    def agg(rows: list[dict[str, str]]) -> dict[str, Any]:
        total = sum((Decimal(r["total_value"]) for r in rows), Decimal("0"))
        return {
            "total_sales": _money(total),
            "transactions": len(rows),
            "units_sold": sum(int(r["quantity_sold"]) for r in rows),
            "gross_profit": _money(sum((Decimal(r["gross_profit"]) for r in rows), Decimal("0"))),
        }

    def group(rows: list[dict[str, str]], *cols: str) -> dict[tuple[Any, ...], list[dict[str, str]]]:
        out: dict[tuple[Any, ...], list[dict[str, str]]] = defaultdict(list)
        for r in rows:
            keys = (product_name(r) if c == "product_name" else r[c] for c in cols)
            out[(day(r), *keys)].append(r)
        return out

    daily = {}
    for (d,), rows in group(sales).items():
        ok = [r for r in rows if r["payment_status"] != "Canceled"]
        a = agg(ok)
        daily[(d,)] = {
            "sale_date": d, **a,
            "avg_ticket": _money(a["total_sales"] / a["transactions"]) if ok else None,
            "canceled_sales": len(rows) - len(ok),
        }

    category = {}
    for (d, cat), rows in group(counted, "product_category").items():
        a = agg(rows)
        day_total = daily[(d,)]["total_sales"]
        category[(d, cat)] = {
            "sale_date": d, "product_category": cat, "total_sales": a["total_sales"],
            "units_sold": a["units_sold"], "transactions": a["transactions"],
            "share_of_day": (a["total_sales"] / day_total).quantize(Decimal("0.0001"),
                                                                   rounding=ROUND_HALF_UP)
            if day_total else None,
        }

    product = {}
    for (d, name), rows in group(counted, "product_name").items():
        a = agg(rows)
        product[(d, name)] = {"sale_date": d, "product_name": name, **product_attributes(rows),
                              "total_sales": a["total_sales"], "units_sold": a["units_sold"]}
    for d in {k[0] for k in product}:
        units = sorted({v["units_sold"] for k, v in product.items() if k[0] == d}, reverse=True)
        for k, v in product.items():
            if k[0] == d:
                v["units_rank"] = units.index(v["units_sold"]) + 1

    segment = {}
    for (d, reg, ch, cat), rows in group(counted, "sales_region", "sales_channel",
                                         "product_category").items():
        segment[(d, reg, ch, cat)] = {"sale_date": d, "sales_region": reg, "sales_channel": ch,
                                      "product_category": cat, **agg(rows)}

    product_segment = {}
    for (d, reg, ch, name), rows in group(counted, "sales_region", "sales_channel",
                                          "product_name").items():
        a = agg(rows)
        product_segment[(d, reg, ch, name)] = {
            "sale_date": d, "sales_region": reg, "sales_channel": ch, "product_name": name,
            **product_attributes(rows), "total_sales": a["total_sales"],
            "units_sold": a["units_sold"]}

    # Every calendar day from the first to the last day with a sale (canceled included, as in
    # kpi_daily_sales); the average over 7 calendar days, days without sales counting as 0.
    calendar: list[dt.date] = []
    if daily:
        first, last = min(k[0] for k in daily), max(k[0] for k in daily)
        calendar = [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]
    zero = {"total_sales": Decimal("0.00"), "transactions": 0}

    def week_average(totals: dict[dt.date, Decimal], d: dt.date) -> Decimal:
        return _money(sum((totals.get(d - dt.timedelta(days=i), Decimal("0")) for i in range(7)),
                          Decimal("0")) / 7)

    day_totals = {k[0]: v["total_sales"] for k, v in daily.items()}
    trend = {}
    for d in calendar:
        row = daily.get((d,), zero)
        trend[(d,)] = {"sale_date": d, "total_sales": row["total_sales"],
                       "transactions": row["transactions"],
                       "moving_avg_7d": week_average(day_totals, d),
                       "has_sales": row["transactions"] > 0}

    # Every region x channel choice, ALL matching any value; the segment's counted sales.
    segment_trend, segment_category = {}, {}
    regions = [ALL, *sorted({r["sales_region"] for r in counted})]
    channels = [ALL, *sorted({r["sales_channel"] for r in counted})]
    for reg in regions:
        for ch in channels:
            chosen = [r for r in counted
                      if reg in (ALL, r["sales_region"]) and ch in (ALL, r["sales_channel"])]
            by_day = {d: agg(rows) for (d,), rows in group(chosen).items()}
            totals = {d: a["total_sales"] for d, a in by_day.items()}
            for d in calendar:
                a = by_day.get(d)
                segment_trend[(d, reg, ch)] = {
                    "sale_date": d, "sales_region": reg, "sales_channel": ch,
                    "total_sales": a["total_sales"] if a else Decimal("0.00"),
                    "transactions": a["transactions"] if a else 0,
                    "avg_ticket": _money(a["total_sales"] / a["transactions"]) if a else None,
                    "units_sold": a["units_sold"] if a else 0,
                    "moving_avg_7d": week_average(totals, d),
                    "has_sales": a is not None,
                }
            for (d, cat), rows in group(chosen, "product_category").items():
                a = agg(rows)
                segment_category[(d, reg, ch, cat)] = {
                    "sale_date": d, "sales_region": reg, "sales_channel": ch,
                    "product_category": cat, "total_sales": a["total_sales"],
                    "units_sold": a["units_sold"], "transactions": a["transactions"],
                    "share_of_day": (a["total_sales"] / totals[d]).quantize(
                        Decimal("0.0001"), rounding=ROUND_HALF_UP) if totals[d] else None,
                }

    return {
        "kpi_daily_sales": daily,
        "kpi_category_sales": category,
        "kpi_product_sales": product,
        "kpi_segment_sales": segment,
        "kpi_product_segment_sales": product_segment,
        "kpi_sales_trend": trend,
        "kpi_segment_trend": segment_trend,
        "kpi_segment_category_sales": segment_category,
        "dq_product_identity": {(): product_identity(files)},
    }


MART_KEYS: dict[str, tuple[str, ...]] = {
    "kpi_daily_sales": ("sale_date",),
    "kpi_category_sales": ("sale_date", "product_category"),
    "kpi_product_sales": ("sale_date", "product_name"),
    "kpi_segment_sales": ("sale_date", "sales_region", "sales_channel", "product_category"),
    "kpi_product_segment_sales": ("sale_date", "sales_region", "sales_channel", "product_name"),
    "kpi_sales_trend": ("sale_date",),
    "kpi_segment_trend": ("sale_date", "sales_region", "sales_channel"),
    "kpi_segment_category_sales": ("sale_date", "sales_region", "sales_channel",
                                   "product_category"),
    "dq_product_identity": (),
}

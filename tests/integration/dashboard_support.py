"""Hand-made `marts.*` for the dashboard tests, built without dbt from the contract (docs/marts.md).

Test data is written at the finest grain (region x channel x product x day); every mart is
summed from it here, so all marts agree with each other the way dbt's would, and has the
shape dbt gives it (the trend marts have every calendar day from the first to the last day
with sales, for every region x channel choice, "all" = '' included; the others only rows with
sales). Expected values in the tests are literals computed by hand from `SMALL_ROWS`, not
taken from these helpers.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import psycopg

from salespipe import db
from salespipe.settings import Settings, load_settings

CONTRACT_DDL = """
drop schema if exists marts cascade;
create schema marts;
create table marts.kpi_daily_sales (
    sale_date date primary key, total_sales numeric(14,2), transactions bigint,
    avg_ticket numeric(14,2), units_sold bigint, gross_profit numeric(14,2),
    canceled_sales bigint);
create table marts.kpi_category_sales (
    sale_date date, product_category text, total_sales numeric(14,2), units_sold bigint,
    transactions bigint, share_of_day numeric(7,4), primary key (sale_date, product_category));
create table marts.kpi_product_sales (
    sale_date date, product_name text, product_id text, product_id_count integer,
    product_category text, total_sales numeric(14,2), units_sold bigint, units_rank integer,
    primary key (sale_date, product_name));
create table marts.kpi_sales_trend (
    sale_date date primary key, total_sales numeric(14,2), transactions bigint,
    moving_avg_7d numeric(14,2), has_sales boolean not null);
create table marts.kpi_segment_trend (
    sale_date date, sales_region text, sales_channel text, total_sales numeric(14,2),
    transactions bigint, avg_ticket numeric(14,2), units_sold bigint,
    moving_avg_7d numeric(14,2), has_sales boolean not null,
    primary key (sale_date, sales_region, sales_channel));
create table marts.kpi_segment_category_sales (
    sale_date date, sales_region text, sales_channel text, product_category text,
    total_sales numeric(14,2), units_sold bigint, transactions bigint,
    share_of_day numeric(7,4),
    primary key (sale_date, sales_region, sales_channel, product_category));
create table marts.kpi_segment_sales (
    sale_date date, sales_region text, sales_channel text, product_category text,
    total_sales numeric(14,2), transactions bigint, units_sold bigint, gross_profit numeric(14,2),
    primary key (sale_date, sales_region, sales_channel, product_category));
create table marts.kpi_product_segment_sales (
    sale_date date, sales_region text, sales_channel text, product_name text, product_id text,
    product_id_count integer, product_category text, total_sales numeric(14,2),
    units_sold bigint, primary key (sale_date, sales_region, sales_channel, product_name));
create table marts.dq_product_identity (
    product_names bigint not null, product_ids bigint not null,
    ids_with_several_names bigint not null, names_with_several_ids bigint not null);
create table marts.dq_rejected_rows (
    load_date date, source_key text, reason text, rejected_rows bigint,
    primary key (load_date, source_key, reason));
create table marts.dq_files (
    file_id bigint primary key, source_key text, status text, reason text, rows_total bigint,
    rows_valid bigint, rows_rejected bigint, loaded_at timestamptz,
    object_modified_at timestamptz, is_current_version boolean);
create table marts.dbt_runs (
    built_at timestamptz primary key, invocation_id text, files_new bigint,
    duration_seconds numeric(10,2));
create view marts.pipeline_freshness as
select
    now() - interval '2 minutes' as last_file_loaded_at,
    now() - interval '5 minutes' as marts_built_at,
    cast(2 as bigint) as files_pending_dbt,
    true as is_dbt_behind;
"""

CENT = Decimal("0.01")
ALL = ""  # the segment marts' "all regions" / "all channels"


@dataclass(frozen=True)
class Sale:
    """Sales of one product in one region and channel on one day (not canceled)."""

    sale_date: dt.date
    region: str
    channel: str
    product_id: str
    product_name: str
    category: str
    total_sales: Decimal
    units: int
    transactions: int
    gross_profit: Decimal


def _d(day: str) -> dt.date:
    return dt.date.fromisoformat(day)


# The small data set the AppTest expectations are computed from (by hand, in the tests).
SMALL_ROWS: tuple[Sale, ...] = (
    Sale(_d("2026-01-05"), "Sul", "Marketplace", "P033", "Data Engineering Handbook", "Books",
         Decimal("3798.00"), 20, 4, Decimal("1200.00")),
    Sale(_d("2026-01-12"), "Sudeste", "Online", "P001", "Bluetooth Headphones", "Electronics",
         Decimal("700.00"), 3, 2, Decimal("210.00")),
    Sale(_d("2026-01-14"), "Sudeste", "Online", "P001", "Bluetooth Headphones", "Electronics",
         Decimal("800.00"), 5, 4, Decimal("240.00")),
    Sale(_d("2026-01-14"), "Nordeste", "Store", "P034", "Brazilian Cookbook", "Books",
         Decimal("434.56"), 3, 2, Decimal("100.00")),
    Sale(_d("2026-01-15"), "Sudeste", "Online", "P001", "Bluetooth Headphones", "Electronics",
         Decimal("1000.00"), 6, 4, Decimal("300.00")),
    Sale(_d("2026-01-15"), "Sudeste", "Store", "P033", "Data Engineering Handbook", "Books",
         Decimal("234.56"), 5, 3, Decimal("80.00")),
    Sale(_d("2026-01-15"), "Nordeste", "Online", "P034", "Brazilian Cookbook", "Books",
         Decimal("500.00"), 4, 2, Decimal("150.00")),
)

SMALL_REJECTED_ROWS = (
    (_d("2026-01-15"), "incoming/sales_2026-01-15.csv", "quantity_sold: not a positive integer", 3),
    (_d("2026-01-15"), "incoming/sales_2026-01-15.csv", "sale_date: missing", 1),
    (_d("2026-01-14"), "incoming/sales_2026-01-14.csv", "quantity_sold: not a positive integer", 2),
)
_LOADED = dt.datetime(2026, 1, 15, 12, 0, tzinfo=dt.UTC)
SMALL_FILES = (
    (1, "incoming/sales_2026-01-14.csv", "loaded", None, 50, 48, 2, _LOADED - dt.timedelta(days=1)),
    (2, "incoming/sales_2026-01-15.csv", "loaded", None, 100, 96, 4, _LOADED),
    (3, "incoming/sales_broken.csv", "rejected", "missing required column: sale_id", 0, 0, 0,
     _LOADED + dt.timedelta(minutes=5)),
    (4, "incoming/sales_2026-01-13.csv", "loaded", None, 80, 80, 0, _LOADED - dt.timedelta(days=2)),
)


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _product_attributes(group: Sequence[Sale]) -> tuple[str, int, str]:
    """As the marts describe them: smallest id, distinct ids, most frequent category."""
    categories = Counter(s.category for s in group)
    top = max(categories.values())
    return (min(s.product_id for s in group), len({s.product_id for s in group}),
            min(c for c, n in categories.items() if n == top))


def _mart_rows(sales: Sequence[Sale]) -> dict[str, list[tuple]]:
    daily: dict = defaultdict(lambda: [Decimal(0), 0, 0, Decimal(0)])
    category: dict = defaultdict(lambda: [Decimal(0), 0, 0])
    product: dict = defaultdict(lambda: [Decimal(0), 0])
    segment: dict = defaultdict(lambda: [Decimal(0), 0, 0, Decimal(0)])
    product_segment: dict = defaultdict(lambda: [Decimal(0), 0])
    members: dict = defaultdict(list)
    for s in sales:
        members[(s.sale_date, s.product_name)].append(s)
        members[(s.sale_date, s.region, s.channel, s.product_name)].append(s)
        for acc, values in (
            (daily[s.sale_date], (s.total_sales, s.transactions, s.units, s.gross_profit)),
            (category[(s.sale_date, s.category)], (s.total_sales, s.units, s.transactions)),
            (product[(s.sale_date, s.product_name)], (s.total_sales, s.units)),
            (segment[(s.sale_date, s.region, s.channel, s.category)],
             (s.total_sales, s.transactions, s.units, s.gross_profit)),
            (product_segment[(s.sale_date, s.region, s.channel, s.product_name)],
             (s.total_sales, s.units)),
        ):
            for i, v in enumerate(values):
                acc[i] += v
    rows: dict[str, list[tuple]] = defaultdict(list)
    for day, (total, tx, units, profit) in sorted(daily.items()):
        rows["kpi_daily_sales"].append(
            (day, total, tx, _money(total / tx), units, profit, 1 if units > 10 else 0))
    for (day, cat), (total, units, tx) in sorted(category.items()):
        share = (total / daily[day][0]).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
        rows["kpi_category_sales"].append((day, cat, total, units, tx, share))
    for (day, name), (total, units) in sorted(product.items()):
        day_units = sorted({u for (d, _), (_, u) in product.items() if d == day}, reverse=True)
        rows["kpi_product_sales"].append(
            (day, name, *_product_attributes(members[(day, name)]), total, units,
             day_units.index(units) + 1))
    # As dbt builds them: every calendar day from the first to the last day with sales, the
    # average over 7 calendar days (missing days count as 0), for each region x channel
    # choice; a segment's sales are those matching its region and channel, ALL matching any.
    first = min(daily)
    calendar = [first + dt.timedelta(days=n) for n in range((max(daily) - first).days + 1)]
    regions = [ALL, *sorted({s.region for s in sales})]
    channels = [ALL, *sorted({s.channel for s in sales})]
    for region in regions:
        for channel in channels:
            chosen = [s for s in sales if region in (ALL, s.region) and channel in (ALL, s.channel)]
            day_total: dict = defaultdict(Decimal)
            by_day: dict = defaultdict(list)
            for s in chosen:
                day_total[s.sale_date] += s.total_sales
                by_day[s.sale_date].append(s)
            for day in calendar:
                of_day = by_day[day]
                total = sum((s.total_sales for s in of_day), Decimal(0))
                tx = sum(s.transactions for s in of_day)
                average = _money(sum(day_total[day - dt.timedelta(days=k)] for k in range(7)) / 7)
                rows["kpi_segment_trend"].append(
                    (day, region, channel, total, tx, _money(total / tx) if tx else None,
                     sum(s.units for s in of_day), average, tx > 0))
                if (region, channel) == (ALL, ALL):
                    rows["kpi_sales_trend"].append((day, total, tx, average, tx > 0))
            by_category: dict = defaultdict(lambda: [Decimal(0), 0, 0])
            for s in chosen:
                acc = by_category[(s.sale_date, s.category)]
                acc[0] += s.total_sales
                acc[1] += s.units
                acc[2] += s.transactions
            for (day, cat), (total, units, tx) in sorted(by_category.items()):
                share = (total / day_total[day]).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
                rows["kpi_segment_category_sales"].append(
                    (day, region, channel, cat, total, units, tx, share))
    for key, (total, tx, units, profit) in sorted(segment.items()):
        rows["kpi_segment_sales"].append((*key, total, tx, units, profit))
    for key, (total, units) in sorted(product_segment.items()):
        rows["kpi_product_segment_sales"].append(
            (*key, *_product_attributes(members[key]), total, units))
    pairs = {(s.product_id, s.product_name) for s in sales}
    ids = Counter(pid for pid, _ in pairs)
    names = Counter(name for _, name in pairs)
    rows["dq_product_identity"].append(
        (len(names), len(ids), sum(n > 1 for n in ids.values()),
         sum(n > 1 for n in names.values())))
    return rows


def _insert(conn: psycopg.Connection, table: str, rows: Iterable[tuple]) -> None:
    rows = list(rows)
    if not rows:
        return
    marks = ", ".join(["%s"] * len(rows[0]))
    with conn.cursor() as cur:
        cur.executemany(f"insert into marts.{table} values ({marks})", rows)  # noqa: S608 - fixed names


def create_marts(settings: Settings, *, sales: Sequence[Sale] = (),
                 rejected_rows: Sequence[tuple] = (), files: Sequence[tuple] = (),
                 dbt_runs: Sequence[tuple] = ()) -> None:
    """(Re)create schema `marts` with the contract's tables and fill them from `sales`."""
    with db.connect(settings) as conn:
        conn.execute(CONTRACT_DDL)
        if sales:
            for table, rows in _mart_rows(sales).items():
                _insert(conn, table, rows)
        else:  # what dbt builds before the first sale
            _insert(conn, "dq_product_identity", [(0, 0, 0, 0)])
        _insert(conn, "dq_rejected_rows", rejected_rows)
        _insert(conn, "dq_files", files)
        _insert(conn, "dbt_runs", dbt_runs)
        conn.commit()
    db.migrate(settings)  # roles and grants: the app reads as salespipe_dashboard


def add_to_day_total(settings: Settings, day: dt.date, amount: Decimal) -> None:
    """What a late file for `day` does to the day's total in the daily marts, the page's "all
    regions, all channels" row included (the other marts are left alone)."""
    with db.connect(settings) as conn:
        conn.execute("update marts.kpi_daily_sales set total_sales = total_sales + %s "
                     "where sale_date = %s", (amount, day))
        conn.execute("update marts.kpi_segment_trend set total_sales = total_sales + %s "
                     "where sale_date = %s and sales_region = %s and sales_channel = %s",
                     (amount, day, ALL, ALL))
        conn.commit()


def drop_marts(settings: Settings) -> None:
    with db.connect(settings) as conn:
        conn.execute("drop schema if exists marts cascade")
        conn.commit()


def database(base_settings: Settings, name: str) -> Settings:
    """Settings for a database of the test's own on the local server (created if missing)."""
    settings = load_settings(
        POSTGRES_HOST=base_settings.pg_host, POSTGRES_PORT=base_settings.pg_port,
        POSTGRES_USER=base_settings.pg_user, POSTGRES_PASSWORD=base_settings.pg_password,
        POSTGRES_DB=name,
    )
    db.ensure_database(settings, name)
    return settings


def app_env(settings: Settings) -> dict[str, str]:
    """The variables the dashboard reads its connection from."""
    return {
        "POSTGRES_HOST": settings.pg_host,
        "POSTGRES_PORT": str(settings.pg_port),
        "POSTGRES_USER": settings.pg_user,
        "POSTGRES_PASSWORD": settings.pg_password,
        "POSTGRES_DB": settings.pg_db,
    }


# --- a realistic month for the browser test and the README screenshot -------------------------

_PRODUCTS = (
    ("P001", "Bluetooth Headphones", "Electronics", 249.90),
    ("P002", "Wireless Earbuds", "Electronics", 189.90),
    ("P003", "Smart Speaker", "Electronics", 349.00),
    ("P009", "Mechanical Keyboard", "Computers & Accessories", 399.00),
    ("P010", "Wireless Mouse", "Computers & Accessories", 119.90),
    ("P012", "1TB External SSD", "Computers & Accessories", 489.00),
    ("P017", "Electric Kettle", "Home & Kitchen", 159.90),
    ("P022", "Coffee Grinder", "Home & Kitchen", 249.00),
    ("P025", "Yoga Mat", "Sports & Outdoors", 129.90),
    ("P030", "Soccer Ball", "Sports & Outdoors", 149.90),
    ("P033", "Data Engineering Handbook", "Books", 189.90),
    ("P036", "Illustrated World Atlas", "Books", 159.90),
    ("P040", "Building Blocks 500 Pieces", "Toys & Games", 229.90),
    ("P041", "Board Game Classic", "Toys & Games", 179.90),
    ("P047", "Electric Toothbrush", "Beauty & Personal Care", 199.90),
    ("P049", "Perfume 100ml", "Beauty & Personal Care", 429.90),
    ("P054", "Running Shoes", "Clothing & Shoes", 379.90),
    ("P058", "Rain Jacket", "Clothing & Shoes", 249.90),
)
_REGIONS = (("Sudeste", 0.42), ("Nordeste", 0.27), ("Sul", 0.14), ("Norte", 0.09),
            ("Centro-Oeste", 0.08))
_CHANNELS = (("Online", 0.45), ("Store", 0.30), ("Marketplace", 0.15), ("Phone", 0.10))


def realistic_rows(last_day: dt.date, days: int = 30, seed: int = 7) -> list[Sale]:
    """About 1,500 sales a day with a weekly rhythm and a slow upward drift (seeded)."""
    rng = random.Random(seed)
    sales: list[Sale] = []
    popularity = {p[0]: rng.uniform(0.4, 1.6) for p in _PRODUCTS}
    for back in range(days - 1, -1, -1):
        day = last_day - dt.timedelta(days=back)
        level = (1.0 + 0.012 * (days - back)) * (1.25 if day.weekday() >= 5 else 1.0)
        for region, r_weight in _REGIONS:
            for channel, c_weight in _CHANNELS:
                for pid, name, category, price in _PRODUCTS:
                    expected = 45 * r_weight * c_weight * popularity[pid] * level
                    units = max(0, round(rng.gauss(expected, expected ** 0.5)))
                    if units == 0:
                        continue
                    tx = max(1, round(units / rng.uniform(1.0, 1.4)))
                    unit_price = Decimal(str(price)) * Decimal(str(rng.uniform(0.88, 1.0)))
                    total = _money(unit_price * units)
                    sales.append(Sale(day, region, channel, pid, name, category, total, units,
                                      tx, _money(total * Decimal("0.32"))))
    return sales


def realistic_quality(last_day: dt.date) -> tuple[list[tuple], list[tuple]]:
    """A few rejected rows and one rejected file, as a real week of loads would have."""
    reasons = ("quantity_sold: not a positive integer", "sale_date: not a date",
               "total_value: does not match quantity x price", "payment_status: unknown value")
    rejected, files = [], []
    loaded = dt.datetime.combine(last_day, dt.time(12), tzinfo=dt.UTC)
    for back in range(7):
        day = last_day - dt.timedelta(days=back)
        key = f"incoming/sales_{day.isoformat()}.csv"
        counts = [(reason, (back * 7 + i * 3) % 5) for i, reason in enumerate(reasons)]
        counts = [(reason, n) for reason, n in counts if n]
        for reason, n in counts:
            rejected.append((day, key, reason, n))
        bad = sum(n for _, n in counts)
        files.append((100 - back, key, "loaded", None, 2000, 2000 - bad, bad,
                      loaded - dt.timedelta(days=back)))
    files.append((200, "incoming/sales_export_final(2).xlsx", "rejected",
                  "not a CSV file (could not decode as UTF-8 or Latin-1)", 0, 0, 0,
                  loaded + dt.timedelta(minutes=3)))
    return rejected, files


def total_sales_on(sales: Sequence[Sale], day: dt.date) -> Decimal:
    return sum((s.total_sales for s in sales if s.sale_date == day), Decimal(0))

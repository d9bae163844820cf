"""Row generation and CSV writing for one day of sales: pure, seeded, streamed in chunks.

How it stays fast: numbers are drawn with numpy for a whole chunk at once, money is kept in
integer cents (so the printed totals satisfy the loader's arithmetic checks exactly), and
every text value comes from a table built once and already CSV-escaped, so a row is one
`",".join` of ready-made strings.

Determinism: the bytes depend only on (seed, date, rows) and the installed numpy/Faker
versions. A day's file does not depend on `--days`, because each day draws from its own
generator derived from (seed, date), and the people pools from the seed alone.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import secrets
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import BinaryIO, TypeVar

import numpy as np

from generator import catalog
from salespipe.contract import DELIVERY_STATUSES, HUMAN_HEADERS

HEADER: tuple[str, ...] = tuple(HUMAN_HEADERS)  # the 24 columns, in file order

CHUNK_ROWS = 50_000  # part of the output contract: changing it changes the seeded bytes
MAX_PAYMENT_DELAY_DAYS = 5
MAX_DELIVERY_DAYS = 10
MAX_SHIPPING_CENTS = 5_000
PRICE_SPREAD = 0.10  # a sale's unit price is the list price +/- 10 %
MIN_PRICE_CENTS, MAX_PRICE_CENTS = 5_000, 50_000
COST_SHARE_PERCENT = (50, 80)  # unit cost as a share of the unit price

T = TypeVar("T")


def new_seed() -> int:
    """A fresh seed for runs without `--seed`; logging it makes such a run reproducible."""
    return secrets.randbits(63)


def day_seed(seed: int, day: dt.date) -> np.random.SeedSequence:
    """An independent stream per (seed, day), so days can be generated in any order."""
    return np.random.SeedSequence([seed, day.toordinal()])


def _escape(value: str) -> str:
    """The csv module's minimal quoting for one field, applied once per table entry."""
    if not value:
        return ""  # csv quotes a lone empty field only when it is the whole row
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow([value])
    return buf.getvalue()[:-1]


def _money(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def _labels(pairs: Sequence[tuple[T, float]]) -> tuple[list[T], np.ndarray]:
    labels = [label for label, _ in pairs]
    weights = np.array([w for _, w in pairs], dtype=float)
    return labels, weights / weights.sum()


def _table(values: Sequence[str]) -> np.ndarray:
    """An object array of escaped strings, indexed with numpy `take` (much faster than Python)."""
    out = np.empty(len(values), dtype=object)
    out[:] = [_escape(v) for v in values]
    return out


@dataclass(frozen=True)
class _Tables:
    """Escaped text per index for every categorical column (several columns pre-joined)."""

    product: np.ndarray  # "id,name,category"
    list_price_cents: np.ndarray
    customer: np.ndarray  # "id,name"
    reps: np.ndarray
    small_money: np.ndarray  # 0.00 .. 500.00, covers prices, unit costs and shipping


_PAYMENT_METHODS, _PAYMENT_METHOD_P = _labels(catalog.PAYMENT_METHODS)
_PAYMENT_STATUSES, _PAYMENT_STATUS_P = _labels(catalog.PAYMENT_STATUSES)
_CHANNELS, _CHANNEL_P = _labels(catalog.SALES_CHANNELS)
_REGIONS, _REGION_P = _labels(catalog.SALES_REGIONS)
_RATINGS, _RATING_P = _labels(catalog.CUSTOMER_RATINGS)
_DISCOUNTS, _DISCOUNT_P = _labels(catalog.DISCOUNTS)
_PAID = _PAYMENT_STATUSES.index("Paid")
_CANCELED = _PAYMENT_STATUSES.index("Canceled")
_STORE = _CHANNELS.index("Store")
_DELIVERY_STATUSES = DELIVERY_STATUSES
_QTY_TEXT = _table([str(q) for q in range(11)])
_DISCOUNT_TEXT = _table([str(d) for d in _DISCOUNTS])
_PAYMENT_METHOD_TEXT = _table(_PAYMENT_METHODS)
_PAYMENT_STATUS_TEXT = _table(_PAYMENT_STATUSES)
_CHANNEL_TEXT = _table(_CHANNELS)
_REGION_TEXT = _table(_REGIONS)
_RATING_TEXT = _table(_RATINGS)
_DELIVERY_STATUS_TEXT = _table(_DELIVERY_STATUSES)


@lru_cache(maxsize=4)
def _tables(seed: int) -> _Tables:
    """Built once per seed and shared by every day of a run."""
    people = catalog.people(seed)
    return _Tables(
        product=_table_joined([(p.product_id, p.name, p.category) for p in catalog.PRODUCTS]),
        list_price_cents=np.array([p.list_price_cents for p in catalog.PRODUCTS], dtype=np.int64),
        customer=_table_joined(people.customers),
        reps=_table(people.reps),
        small_money=np.array([_money(c) for c in range(MAX_PRICE_CENTS + 1)], dtype=object),
    )


def _table_joined(rows: Sequence[Sequence[str]]) -> np.ndarray:
    out = np.empty(len(rows), dtype=object)
    out[:] = [",".join(_escape(v) for v in row) for row in rows]
    return out


def _chunk_lines(
    rng: np.random.Generator, t: _Tables, day: dt.date, id_prefix: str, start: int, n: int
) -> list[str]:
    """`n` CSV lines (no line ends), sale numbers `start`..`start + n - 1`."""
    product = rng.integers(0, len(t.product), n)
    qty = rng.integers(1, 11, n)
    spread = rng.uniform(1 - PRICE_SPREAD, 1 + PRICE_SPREAD, n)
    price = np.clip(np.rint(t.list_price_cents[product] * spread), MIN_PRICE_CENTS, MAX_PRICE_CENTS)
    price = price.astype(np.int64)
    discount = rng.choice(len(_DISCOUNTS), n, p=_DISCOUNT_P)
    pct_left = 100 - np.asarray(_DISCOUNTS, dtype=np.int64)[discount]
    # Exact integer arithmetic on what is printed: total = round_half_up(q * price * (1 - d/100)).
    total = (qty * price * pct_left + 50) // 100
    lo_pct, hi_pct = COST_SHARE_PERCENT
    unit_cost = rng.integers((price * lo_pct + 99) // 100, (price * hi_pct) // 100 + 1)
    total_cost = qty * unit_cost
    profit = total - total_cost

    method = rng.choice(len(_PAYMENT_METHODS), n, p=_PAYMENT_METHOD_P)
    status = rng.choice(len(_PAYMENT_STATUSES), n, p=_PAYMENT_STATUS_P)
    paid = status == _PAID
    pay_delay = rng.integers(0, MAX_PAYMENT_DELAY_DAYS + 1, n)
    # Delivery follows payment: canceled payment -> canceled delivery, pending -> in transit.
    delivered = paid & (rng.random(n) < catalog.DELIVERED_SHARE_WHEN_PAID)
    delivery = np.where(delivered, 0, np.where(status == _CANCELED, 2, 1))
    # Delivered 1..5 days after payment, hence 1..MAX_DELIVERY_DAYS after the sale.
    delivery_delay = pay_delay + rng.integers(1, MAX_DELIVERY_DAYS - MAX_PAYMENT_DELAY_DAYS + 1, n)

    customer = rng.integers(0, len(t.customer), n)
    channel = rng.choice(len(_CHANNELS), n, p=_CHANNEL_P)
    region = rng.choice(len(_REGIONS), n, p=_REGION_P)
    rep = region * catalog.REPS_PER_REGION + rng.integers(0, catalog.REPS_PER_REGION, n)
    rating = rng.choice(len(_RATINGS), n, p=_RATING_P)
    shipping = np.where(channel == _STORE, 0, rng.integers(0, MAX_SHIPPING_CENTS + 1, n))

    # Index 0 is the empty field; index k + 1 is day + k days.
    dates = _table([""] + [(day + dt.timedelta(days=k)).isoformat() for k in range(11)])
    sale_date = day.isoformat()
    columns = (
        [f"{sale_date},{id_prefix}{i:07d}" for i in range(start, start + n)],
        t.product.take(product),
        _QTY_TEXT.take(qty),
        t.small_money.take(price),
        _DISCOUNT_TEXT.take(discount),
        _money_texts(total),
        t.small_money.take(unit_cost),
        _money_texts(total_cost),
        _money_texts(profit),
        _PAYMENT_METHOD_TEXT.take(method),
        _PAYMENT_STATUS_TEXT.take(status),
        dates.take(np.where(paid, pay_delay + 1, 0)),
        t.customer.take(customer),
        _CHANNEL_TEXT.take(channel),
        _REGION_TEXT.take(region),
        t.reps.take(rep),
        _RATING_TEXT.take(rating),
        t.small_money.take(shipping),
        _DELIVERY_STATUS_TEXT.take(delivery),
        dates.take(np.where(delivered, delivery_delay + 1, 0)),
    )
    texts = [c if isinstance(c, list) else c.tolist() for c in columns]
    return list(map(",".join, zip(*texts, strict=True)))


def _money_texts(cents: np.ndarray) -> list[str]:
    # "%.2f" of cents / 100 is exact here: |value| < 10**7, far inside a double's precision.
    return list(map("%.2f".__mod__, (cents / 100).tolist()))


def csv_chunks(
    day: dt.date, rows: int, seed: int, *, chunk_rows: int = CHUNK_ROWS
) -> Iterator[tuple[int, bytes]]:
    """(row count, UTF-8 CSV bytes) per chunk of one day's sales; the header comes first with
    a row count of 0. Sale IDs are `S-<yyyymmdd>-<8 hex from seed and day>-<n>`, unique
    across days and, for different seeds, across runs."""
    seq = day_seed(seed, day)
    rng = np.random.Generator(np.random.PCG64(seq))
    token = f"{seq.generate_state(1, np.uint32)[0]:08x}"
    id_prefix = f"S-{day:%Y%m%d}-{token}-"
    tables = _tables(seed)
    yield 0, (",".join(_escape(h) for h in HEADER) + "\n").encode("utf-8")
    for start in range(0, rows, chunk_rows):
        n = min(chunk_rows, rows - start)
        lines = _chunk_lines(rng, tables, day, id_prefix, start + 1, n)
        yield n, ("\n".join(lines) + "\n").encode("utf-8")


def write_csv(
    stream: BinaryIO,
    day: dt.date,
    rows: int,
    seed: int,
    *,
    on_progress: Callable[[int], None] | None = None,
) -> int:
    """Write one day's CSV to a binary stream; returns the bytes written. `on_progress` gets
    the cumulative row count after each chunk."""
    written = done = 0
    for n, data in csv_chunks(day, rows, seed):
        stream.write(data)
        written += len(data)
        done += n
        if n and on_progress is not None:
            on_progress(done)
    return written


def generate_day(day: dt.date, rows: int, seed: int) -> Iterator[list[str]]:
    """The same day as `write_csv`, as parsed rows (header first): for tests and notebooks."""
    for _, data in csv_chunks(day, rows, seed):
        yield from csv.reader(io.StringIO(data.decode("utf-8"), newline=""))

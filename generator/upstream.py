"""`salespipe generate --style upstream`: files shaped like the ones the original project's
Faker generator writes, so the pipeline can be tried on what its users really send.

That generator draws every value of every row on its own, and the files show it:

- `Sale ID` is a UUID4; `Product ID` is `PRD` + 5 random digits on every row, so one product
  name arrives under a new id each time; `Customer ID` likewise (`CUST` + 5 digits).
- `Product Name` comes from a short grocery list and `Product Category` is drawn
  independently of it ("Milk" in "Snacks" is normal).
- Money is a float rounded to cents and printed as Python prints it: one or two decimals
  (`12.5`, `3.0`, `7.25`); totals are float arithmetic rounded to cents, so they can differ
  from the exact product by up to half a cent (inside the loader's 0.01 tolerance).
- `Canceled` payments have no payment date; US states are the regions; ratings are
  `1 star` .. `5 stars`; a file holds 50-100 rows.

Determinism: the bytes depend only on (seed, date, rows) and the installed Faker version.
Speed is not a goal here (Faker per row, a few thousand rows/s): the style exists for small,
realistic files; the project's own style is the fast one.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import uuid
from collections.abc import Callable, Iterator
from typing import BinaryIO

from generator.core import HEADER

MIN_ROWS, MAX_ROWS = 50, 100
FAKER_LOCALE = "en_US"

# fmt: off
PRODUCT_NAMES: tuple[str, ...] = (
    "Apples", "Bananas", "Oranges", "Grapes", "Tomatoes", "Milk", "Cheese", "Yogurt",
    "Butter", "Eggs", "Bread", "Rice", "Pasta", "Nuts", "Chips", "Cookies", "Soda", "Coffee",
    "Orange Juice", "Dish Soap", "Paper Towels", "Laundry Detergent",
)
PRODUCT_CATEGORIES: tuple[str, ...] = (
    "Snacks", "Fresh Produce", "Household Essentials", "Beverages", "Dairy Products",
)
PAYMENT_METHODS: tuple[str, ...] = ("Pix", "Credit Card", "Bank Transfer", "Invoice")
PAYMENT_STATUSES: tuple[str, ...] = ("Paid", "Pending", "Canceled")
SALES_CHANNELS: tuple[str, ...] = ("Marketplace", "Physical Store", "Online Store")
CUSTOMER_RATINGS: tuple[str, ...] = ("1 star", "2 stars", "3 stars", "4 stars", "5 stars")
DISCOUNTS: tuple[int, ...] = (0, 5, 10, 15, 20)
DELIVERY_STATUSES: tuple[str, ...] = ("Delivered", "In Transit", "Canceled")
US_STATES: tuple[str, ...] = (
    "Alabama", "Alaska", "Arizona", "Arkansas", "California", "Colorado", "Connecticut",
    "Delaware", "Florida", "Georgia", "Hawaii", "Idaho", "Illinois", "Indiana", "Iowa",
    "Kansas", "Kentucky", "Louisiana", "Maine", "Maryland", "Massachusetts", "Michigan",
    "Minnesota", "Mississippi", "Missouri", "Montana", "Nebraska", "Nevada", "New Hampshire",
    "New Jersey", "New Mexico", "New York", "North Carolina", "North Dakota", "Ohio",
    "Oklahoma", "Oregon", "Pennsylvania", "Rhode Island", "South Carolina", "South Dakota",
    "Tennessee", "Texas", "Utah", "Vermont", "Virginia", "Washington", "West Virginia",
    "Wisconsin", "Wyoming",
)
# fmt: on
MAX_QUANTITY = 10
PRICE_RANGE = (1.0, 100.0)
COST_SHARE = (0.4, 0.9)  # unit cost as a share of the unit price
MAX_SHIPPING = 30.0
MAX_PAYMENT_DELAY_DAYS = 7
MAX_DELIVERY_DAYS = 14
_CHUNK_ROWS = 10_000


def _rng(seed: int, day: dt.date) -> random.Random:
    """One stream per (seed, day), so a day's file does not depend on `--days`."""
    return random.Random(f"upstream:{seed}:{day.isoformat()}")


def default_rows(day: dt.date, seed: int) -> int:
    """The row count of a day's file when `--rows` is not given (50-100, seeded)."""
    return random.Random(f"upstream-rows:{seed}:{day.isoformat()}").randint(MIN_ROWS, MAX_ROWS)


def _money(value: float) -> str:
    """Cents as the upstream files print them: Python's float text, one or two decimals."""
    return repr(round(value, 2) + 0.0)  # + 0.0 turns -0.0 into 0.0


def generate_day(day: dt.date, rows: int, seed: int) -> Iterator[list[str]]:
    """The header, then `rows` rows of one day's sales, every value drawn per row."""
    from faker import Faker

    rng = _rng(seed, day)
    fake = Faker(FAKER_LOCALE)
    fake.seed_instance(rng.getrandbits(64))
    yield list(HEADER)
    for _ in range(rows):
        qty = rng.randint(1, MAX_QUANTITY)
        price = round(rng.uniform(*PRICE_RANGE), 2)
        discount = rng.choice(DISCOUNTS)
        total = round(qty * price * (1 - discount / 100), 2)
        unit_cost = round(price * rng.uniform(*COST_SHARE), 2)
        total_cost = round(qty * unit_cost, 2)
        status = rng.choice(PAYMENT_STATUSES)
        paid_on = day + dt.timedelta(days=rng.randint(0, MAX_PAYMENT_DELAY_DAYS))
        delivery = rng.choice(DELIVERY_STATUSES)
        delivered_on = day + dt.timedelta(days=rng.randint(1, MAX_DELIVERY_DAYS))
        yield [
            day.isoformat(),
            str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            f"PRD{rng.randint(0, 99_999):05d}",
            rng.choice(PRODUCT_NAMES),
            rng.choice(PRODUCT_CATEGORIES),
            str(qty),
            _money(price),
            str(discount),
            _money(total),
            _money(unit_cost),
            _money(total_cost),
            _money(total - total_cost),
            rng.choice(PAYMENT_METHODS),
            status,
            "" if status == "Canceled" else paid_on.isoformat(),
            f"CUST{rng.randint(0, 99_999):05d}",
            fake.name(),
            rng.choice(SALES_CHANNELS),
            rng.choice(US_STATES),
            fake.name(),
            rng.choice(CUSTOMER_RATINGS),
            _money(rng.uniform(0, MAX_SHIPPING)),
            delivery,
            delivered_on.isoformat() if delivery == "Delivered" else "",
        ]


def write_csv(
    stream: BinaryIO,
    day: dt.date,
    rows: int,
    seed: int,
    *,
    on_progress: Callable[[int], None] | None = None,
) -> int:
    """Write one day's CSV (UTF-8, `\\n` line ends) in chunks; returns the bytes written.
    `on_progress` gets the cumulative row count after each chunk."""
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\n")
    written = 0
    for n, line in enumerate(generate_day(day, rows, seed)):  # n: data rows so far
        writer.writerow(line)
        if n == rows or (n and n % _CHUNK_ROWS == 0):
            data = buf.getvalue().encode("utf-8")
            stream.write(data)
            written += len(data)
            buf.seek(0)
            buf.truncate()
            if on_progress is not None and n:
                on_progress(n)
    return written

"""What the generated sales are made of: the product catalogue, the fixed vocabularies, the people.

Everything here is built once per run and then only indexed, so row generation never calls
Faker or formats a name: that is what keeps the generator fast (see `generator.core`).
Weights are plain tuples beside their labels so a reader can judge the realism at a glance.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache

CUSTOMER_POOL_SIZE = 2_000
REPS_PER_REGION = 10
FAKER_LOCALE = "pt_BR"


@dataclass(frozen=True)
class Product:
    """One catalogue entry; a product belongs to exactly one category."""

    product_id: str
    name: str
    category: str
    list_price_cents: int  # within 50.00-500.00; the sale price varies around it


# (category, [(name, list price in BRL)]); ids are assigned in this order, so append only.
# fmt: off
_CATALOGUE: tuple[tuple[str, tuple[tuple[str, float], ...]], ...] = (
    ("Electronics", (
        ("Bluetooth Headphones", 249.90), ("Wireless Earbuds", 189.90),
        ("Smart Speaker", 349.00), ("Portable Charger 10000mAh", 99.90),
        ("Smartwatch Band", 59.90), ("Action Camera Mount Kit", 79.90),
        ("USB-C Fast Charger", 89.90), ("Streaming Stick", 299.00),
    )),
    ("Computers & Accessories", (
        ("Mechanical Keyboard", 399.00), ("Wireless Mouse", 119.90),
        ("27in Monitor Arm", 229.90), ("1TB External SSD", 489.00),
        ("Laptop Backpack", 179.90), ("USB Hub 7-Port", 129.90),
        ("Webcam Full HD", 259.90), ("Mouse Pad XL", 59.90),
    )),
    ("Home & Kitchen", (
        ("Electric Kettle", 159.90), ("French Press 1L", 119.00),
        ("Nonstick Frying Pan", 139.90), ("Knife Set 5 Pieces", 219.90),
        ("Air Fryer Basket Liner", 54.90), ("Coffee Grinder", 249.00),
        ("Stainless Steel Bottle", 89.90), ("Cotton Bath Towel Set", 149.90),
    )),
    ("Sports & Outdoors", (
        ("Yoga Mat", 129.90), ("Adjustable Dumbbell 10kg", 459.00),
        ("Running Belt", 69.90), ("Camping Lantern", 99.90),
        ("Resistance Bands Set", 79.90), ("Soccer Ball", 149.90),
        ("Cycling Gloves", 89.90), ("Hiking Daypack 30L", 279.90),
    )),
    ("Books", (
        ("Data Engineering Handbook", 189.90), ("Brazilian Cookbook", 119.90),
        ("Fantasy Novel Box Set", 299.90), ("Illustrated World Atlas", 159.90),
        ("Personal Finance Guide", 69.90), ("Children's Picture Book", 54.90),
        ("History of Brazil", 99.90),
    )),
    ("Toys & Games", (
        ("Building Blocks 500 Pieces", 229.90), ("Board Game Classic", 179.90),
        ("Remote Control Car", 319.90), ("Puzzle 1000 Pieces", 89.90),
        ("Plush Bear", 64.90), ("Card Game Party Edition", 59.90),
        ("Science Kit", 149.90),
    )),
    ("Beauty & Personal Care", (
        ("Hair Dryer Ionic", 269.90), ("Electric Toothbrush", 199.90),
        ("Facial Cleanser", 59.90), ("Perfume 100ml", 429.90),
        ("Beard Trimmer", 179.90), ("Sunscreen SPF 50", 69.90),
        ("Moisturizing Cream", 79.90),
    )),
    ("Clothing & Shoes", (
        ("Running Shoes", 379.90), ("Denim Jacket", 289.90),
        ("Cotton T-Shirt", 59.90), ("Leather Belt", 119.90),
        ("Sneakers Casual", 329.90), ("Rain Jacket", 249.90),
        ("Wool Socks 3-Pack", 54.90),
    )),
)


def _build_products() -> tuple[Product, ...]:
    products: list[Product] = []
    for category, items in _CATALOGUE:
        for name, price in items:
            products.append(
                Product(f"P{len(products) + 1:03d}", name, category, round(price * 100))
            )
    return tuple(products)


PRODUCTS: tuple[Product, ...] = _build_products()
CATEGORIES: tuple[str, ...] = tuple(category for category, _ in _CATALOGUE)

# Label, weight. Weights need not sum to 1; `core` normalises them.
PAYMENT_METHODS: tuple[tuple[str, float], ...] = (
    ("Credit Card", 0.40), ("Pix", 0.25), ("Debit Card", 0.15),
    ("Boleto", 0.10), ("PayPal", 0.06), ("Cash", 0.04),
)
PAYMENT_STATUSES: tuple[tuple[str, float], ...] = (
    ("Paid", 0.85), ("Pending", 0.10), ("Canceled", 0.05),
)
SALES_CHANNELS: tuple[tuple[str, float], ...] = (
    ("Online", 0.45), ("Store", 0.30), ("Marketplace", 0.15), ("Phone", 0.10),
)
# Roughly the share of Brazil's population per region.
SALES_REGIONS: tuple[tuple[str, float], ...] = (
    ("Sudeste", 0.42), ("Nordeste", 0.27), ("Sul", 0.14), ("Norte", 0.09), ("Centro-Oeste", 0.08),
)
CUSTOMER_RATINGS: tuple[tuple[str, float], ...] = (
    ("1 star", 0.05), ("2 stars", 0.07), ("3 stars", 0.18), ("4 stars", 0.35), ("5 stars", 0.35),
)
DISCOUNTS: tuple[tuple[int, float], ...] = (
    (0, 0.40), (5, 0.20), (10, 0.20), (15, 0.12), (20, 0.08),
)
# fmt: on
# A paid order is usually delivered already; the rest is on its way.
DELIVERED_SHARE_WHEN_PAID = 0.85


@dataclass(frozen=True)
class People:
    """Customers (id, name) and sales representatives, `REPS_PER_REGION` per region in
    `SALES_REGIONS` order, so a sale's rep always works in the sale's region."""

    customers: tuple[tuple[str, str], ...]
    reps: tuple[str, ...]


def customer_id(name: str) -> str:
    """A stable id from the name, so runs with different seeds never give one id two names."""
    return "C-" + hashlib.sha1(name.encode("utf-8"), usedforsecurity=False).hexdigest()[:10]


@lru_cache(maxsize=4)
def people(seed: int) -> People:
    """Faker-made pools for one seed; cached because Faker is the slow part and several days
    of one run share the same customers (repeat buyers are realistic)."""
    from faker import Faker

    fake = Faker(FAKER_LOCALE)
    fake.seed_instance(seed)
    names: dict[str, None] = {}  # ordered de-duplication keeps the pool deterministic
    while len(names) < CUSTOMER_POOL_SIZE:
        names.setdefault(fake.name(), None)
    reps: dict[str, None] = {}
    rep_count = REPS_PER_REGION * len(SALES_REGIONS)
    while len(reps) < rep_count:
        name = fake.name()
        if name not in names:
            reps.setdefault(name, None)
    return People(
        customers=tuple((customer_id(name), name) for name in names),
        reps=tuple(reps),
    )

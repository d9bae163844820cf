"""The baseline the loader is measured against: how such pipelines are commonly written.

pandas reads the file, each row goes through `DataFrame.iterrows()` and a pydantic model, and
the valid rows are written with `DataFrame.to_sql`. Same rules as the real loader, no tricks;
money as `float`, as the original project had it (the loader keeps exact `numeric`).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError, model_validator

from loader.columns import HUMAN_HEADERS


class NaiveSale(BaseModel):
    sale_date: dt.date
    sale_id: str
    product_id: str
    product_name: str
    product_category: str
    quantity_sold: int
    unit_price: float
    discount: float
    total_value: float
    unit_cost: float
    total_cost: float
    gross_profit: float
    payment_method: str
    payment_status: str
    payment_date: dt.date | None
    customer_id: str
    customer_name: str
    sales_channel: str
    sales_region: str
    sales_rep: str
    customer_rating: str | None
    shipping_cost: float
    delivery_status: str
    delivery_date: dt.date | None

    @model_validator(mode="after")
    def _amounts(self) -> NaiveSale:
        q, tol = self.quantity_sold, 0.01 + 1e-9  # a float tolerance for a 0.01 rule
        expected = q * self.unit_price * (1 - self.discount / 100)
        if abs(self.total_value - expected) > tol:
            raise ValueError("total_value inconsistent")
        if abs(self.total_cost - q * self.unit_cost) > tol:
            raise ValueError("total_cost inconsistent")
        if abs(self.gross_profit - (self.total_value - self.total_cost)) > tol:
            raise ValueError("gross_profit inconsistent")
        if self.payment_status not in {"Paid", "Pending", "Canceled"}:
            raise ValueError("payment_status")
        return self


def naive_load(path: Path, engine: Any, schema: str = "bench") -> tuple[int, int]:
    """Returns (valid, rejected). `engine` is a SQLAlchemy engine."""
    import pandas as pd

    df = pd.read_csv(path, dtype=str, keep_default_na=False).rename(columns=HUMAN_HEADERS)
    valid: list[dict[str, Any]] = []
    rejected = 0
    for _, row in df.iterrows():
        record = {k: (v if v != "" else None) for k, v in row.to_dict().items()}
        if record.get("discount") is None:
            record["discount"] = "0"
        try:
            valid.append(NaiveSale(**record).model_dump())
        except ValidationError:
            rejected += 1
    pd.DataFrame(valid).to_sql("naive_sales", engine, schema=schema, if_exists="append",
                               index=False)
    return len(valid), rejected

"""The 24 columns of `raw.sales` and the header names a sales file may use for them."""

from __future__ import annotations

RAW_SALES_COLUMNS: tuple[str, ...] = (
    "sale_date", "sale_id", "product_id", "product_name", "product_category", "quantity_sold",
    "unit_price", "discount", "total_value", "unit_cost", "total_cost", "gross_profit",
    "payment_method", "payment_status", "payment_date", "customer_id", "customer_name",
    "sales_channel", "sales_region", "sales_rep", "customer_rating", "shipping_cost",
    "delivery_status", "delivery_date",
)  # fmt: skip

HUMAN_HEADERS: dict[str, str] = {
    "Sale Date": "sale_date",
    "Sale ID": "sale_id",
    "Product ID": "product_id",
    "Product Name": "product_name",
    "Product Category": "product_category",
    "Quantity Sold": "quantity_sold",
    "Unit Price": "unit_price",
    "Discount (%)": "discount",
    "Total Value (with Discount)": "total_value",
    "Unit Cost": "unit_cost",
    "Total Cost": "total_cost",
    "Gross Profit": "gross_profit",
    "Payment Method": "payment_method",
    "Payment Status": "payment_status",
    "Payment Date": "payment_date",
    "Customer ID": "customer_id",
    "Customer Name": "customer_name",
    "Sales Channel": "sales_channel",
    "Sales Region": "sales_region",
    "Sales Representative": "sales_rep",
    "Customer Rating": "customer_rating",
    "Shipping Cost": "shipping_cost",
    "Delivery Status": "delivery_status",
    "Delivery Date": "delivery_date",
}

# Header cells are matched after trimming surrounding whitespace and ignoring case.
_HEADER_LOOKUP: dict[str, str] = {
    **{name.lower(): name for name in RAW_SALES_COLUMNS},
    **{human.lower(): snake for human, snake in HUMAN_HEADERS.items()},
}


def column_for_header(cell: str) -> str | None:
    """The snake_case column a header cell names (human or snake form, any case), else None."""
    return _HEADER_LOOKUP.get(cell.strip().lower())

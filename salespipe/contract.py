"""The names every stage agrees on: the columns of a sales file and of `raw.sales`, the values
the row rules accept, and the Kafka topics, consumer group and S3 prefix of the pipeline.

The generator writes these, the loader reads them, dbt and the dashboard query them, and the
tests import them from here: nothing else spells them. Changing one is a contract change.
"""

from __future__ import annotations

# -- a sales file ------------------------------------------------------------------------------

# The 24 columns of `raw.sales`, in file order, and the human-readable header of each (the
# original project's spelling). A file may use either form, in any order.
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
RAW_SALES_COLUMNS: tuple[str, ...] = tuple(HUMAN_HEADERS.values())

# Accepted exactly as written (case-sensitive). A Canceled sale does not count in the KPIs.
PAYMENT_STATUSES: tuple[str, ...] = ("Paid", "Pending", "Canceled")
DELIVERY_STATUSES: tuple[str, ...] = ("Delivered", "In Transit", "Canceled")

# -- the pipeline's channels -------------------------------------------------------------------

INCOMING_PREFIX = "incoming/"
# Where `S3_AFTER_LOAD=move` puts an object after its load committed.
PROCESSED_PREFIX = "processed/"
REJECTED_PREFIX = "rejected/"
TOPIC_FILES = "sales.files"
TOPIC_DLQ = "sales.files.dlq"
TOPIC_LOADS = "sales.loads"
CONSUMER_GROUP = "sales-loader"

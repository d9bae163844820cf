"""The dashboard tests run on hand-made marts (tests/integration/dashboard_support.py); they
prove something about the real app only while those marts have exactly the columns and types
dbt's enforced contracts give the real ones. Both are created on the real server and compared
as PostgreSQL itself names the types."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from salespipe import db
from tests.integration import dashboard_support as support

pytestmark = pytest.mark.integration

MARTS = Path(__file__).resolve().parents[2] / "dbt_sales" / "models" / "marts"

COLUMNS = """
select c.relname, a.attname, format_type(a.atttypid, a.atttypmod)
from pg_attribute a
join pg_class c on c.oid = a.attrelid
join pg_namespace n on n.oid = c.relnamespace
where n.nspname = %s and a.attnum > 0 and not a.attisdropped and c.relkind in ('r', 'v')
"""


def _contracts() -> dict[str, dict[str, str]]:
    """{model: {column: data_type}} from the marts' YAML (the types dbt enforces)."""
    out: dict[str, dict[str, str]] = {}
    for path in sorted(MARTS.glob("*.yml")):
        for model in (yaml.safe_load(path.read_text()) or {}).get("models", []):
            columns = {c["name"]: c["data_type"] for c in model.get("columns", [])
                       if "data_type" in c}
            if columns:
                out[model["name"]] = columns
    return out


def _shapes(conn, schema: str) -> dict[str, dict[str, str]]:
    shapes: dict[str, dict[str, str]] = {}
    for table, column, type_name in conn.execute(COLUMNS, (schema,)):
        shapes.setdefault(table, {})[column] = type_name
    return shapes


def test_hand_made_marts_have_the_columns_and_types_of_dbt_contracts(world):
    settings = support.database(world.settings, world.settings.pg_db)
    support.create_marts(settings)
    contracts = _contracts()
    with db.connect(settings, autocommit=True) as conn:
        hand = _shapes(conn, "marts")
        conn.execute("create schema contract")
        for model, columns in contracts.items():
            cols = ", ".join(f'"{name}" {data_type}' for name, data_type in columns.items())
            conn.execute(f"create table contract.{model} ({cols})")
        contract = _shapes(conn, "contract")
    assert len(hand) >= 10  # the dashboard's marts were really made
    for mart, columns in hand.items():
        assert mart in contract, f"marts.{mart} is hand-made but has no contract in dbt_sales"
        assert columns == contract[mart], mart

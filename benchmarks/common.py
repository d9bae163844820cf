"""What the benchmark modules share."""

from __future__ import annotations

from salespipe import db
from salespipe.settings import Settings


def checkpoint(settings: Settings) -> None:
    """Flush dirty pages so a sample does not pay for the previous sample's writes."""
    with db.connect(settings, autocommit=True) as conn:
        conn.execute("checkpoint")

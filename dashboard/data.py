"""Reads from `marts.*`: one pooled engine per database, every read cached for a few seconds.

Reads are shared by all browser sessions, so however many managers keep the page open, each
query runs at most once per `CACHE_TTL_SECONDS`. Failures are never cached: the next refresh
tries again. Database errors become the three exceptions below, which the page turns into a
message (never a traceback).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import psycopg.errors
import sqlalchemy.exc
import streamlit as st
from sqlalchemy import Engine, create_engine, event, text

from dashboard import queries
from salespipe.logs import get_logger
from salespipe.settings import Settings

log = get_logger("dashboard.data")

# A little under the default refresh, so each refresh sees new data without every open
# session querying on its own.
CACHE_TTL_SECONDS = 4
TOP_PRODUCTS_LIMIT = 10
PROBLEM_FILES_LIMIT = 100
_CONNECT_TIMEOUT_SECONDS = 5
_STATEMENT_TIMEOUT_MS = 15_000


class DashboardDataError(Exception):
    """A read failed for a reason the page explains to the user."""


class DatabaseUnavailable(DashboardDataError):
    """PostgreSQL cannot be reached (down, wrong address, restarting)."""


class MartsMissing(DashboardDataError):
    """The `marts` schema or a mart does not exist yet: dbt has not built it."""


class MartsForbidden(DashboardDataError):
    """The configured user may not read the marts."""


@dataclass(frozen=True)
class Selection:
    """What the filters ask for; `day` is resolved (never None) by the time reads happen."""

    day: dt.date
    window_days: int
    region: str = queries.ALL
    channel: str = queries.ALL

    @property
    def start(self) -> dt.date:
        return self.day - dt.timedelta(days=self.window_days - 1)

    @property
    def prev_day(self) -> dt.date:
        return self.day - dt.timedelta(days=1)

    @property
    def is_segmented(self) -> bool:
        return (self.region, self.channel) != (queries.ALL, queries.ALL)

    def segment_params(self) -> dict[str, str]:
        return {"region": self.region, "channel": self.channel}


def database_key(settings: Settings) -> str:
    """Identifies the database in cache keys; deliberately without the password."""
    role = f" as {settings.pg_role}" if settings.pg_role else ""
    return f"{settings.pg_user}@{settings.pg_host}:{settings.pg_port}/{settings.pg_db}{role}"


@st.cache_resource(show_spinner=False)
def _engine(key: str, _settings: Settings) -> Engine:
    return create_read_engine(_settings)


def create_read_engine(settings: Settings) -> Engine:
    """A small pooled engine whose sessions only read and never hang a refresh on one query.

    Those two guards are set by SQL on each new connection, not by libpq `options`: a login of
    the dashboard's own then sends no `options` at all, which poolers such as PgBouncer
    refuse by default. Under session pooling they hold for the client's whole session, and
    PgBouncer's reset (DISCARD ALL) clears them before it hands the server connection on.
    """
    engine = create_engine(
        settings.sqlalchemy_url(),
        pool_size=2,
        max_overflow=3,
        pool_pre_ping=True,  # survive a PostgreSQL restart without one failed refresh per conn
        connect_args={
            "connect_timeout": _CONNECT_TIMEOUT_SECONDS,
            "application_name": "salespipe-dashboard",
            # the component role, for a shared login (empty for a login of its own)
            **({"options": settings.pg_options} if settings.pg_options else {}),
        },
    )
    event.listen(engine, "connect", _guard_session)
    return engine


def _guard_session(dbapi_conn: Any, _record: Any) -> None:
    with dbapi_conn.cursor() as cur:
        cur.execute("select set_config('default_transaction_read_only', 'on', false), "
                    "set_config('statement_timeout', %s, false)", (str(_STATEMENT_TIMEOUT_MS),))
    dbapi_conn.commit()  # settings made in a transaction that rolled back would be undone


def _translate(exc: sqlalchemy.exc.DBAPIError) -> DashboardDataError:
    orig = exc.orig
    if isinstance(orig, psycopg.errors.UndefinedTable | psycopg.errors.InvalidSchemaName
                  | psycopg.errors.UndefinedColumn):
        return MartsMissing(str(orig).splitlines()[0])
    if isinstance(orig, psycopg.errors.InsufficientPrivilege):
        return MartsForbidden(str(orig).splitlines()[0])
    if isinstance(exc, sqlalchemy.exc.OperationalError | sqlalchemy.exc.InterfaceError):
        return DatabaseUnavailable(str(orig).splitlines()[0] if orig else type(exc).__name__)
    raise exc


def _frame(engine: Engine, sql: str, params: Mapping[str, Any] | None = None) -> pd.DataFrame:
    try:
        with engine.connect() as conn:
            result = conn.execute(text(sql), dict(params or {}))
            rows = result.fetchall()
            columns = list(result.keys())
    except sqlalchemy.exc.DBAPIError as exc:
        raise _translate(exc) from exc
    return pd.DataFrame.from_records(rows, columns=columns, coerce_float=True)


def _to_float(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    # numeric arrives as Decimal; altair and pandas arithmetic want floats (cents survive).
    for column in columns:
        if column in frame:
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    return frame


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def _day_bounds(_engine: Engine, key: str) -> tuple[dt.date | None, dt.date | None]:
    row = _frame(_engine, queries.DAY_BOUNDS).iloc[0]
    first, last = row["first_day"], row["last_day"]
    return (None if pd.isna(first) else first), (None if pd.isna(last) else last)


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def _freshness(_engine: Engine, key: str) -> dict[str, Any] | None:
    frame = _frame(_engine, queries.FRESHNESS)
    if frame.empty:
        return None
    return {k: (None if pd.isna(v) else v) for k, v in frame.iloc[0].to_dict().items()}


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def _segments(_engine: Engine, key: str) -> tuple[list[str], list[str]]:
    frame = _frame(_engine, queries.SEGMENTS)
    real = [frame[c][frame[c] != queries.ALL] for c in ("sales_region", "sales_channel")]
    return (sorted(real[0].unique().tolist()), sorted(real[1].unique().tolist()))


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def _daily(_engine: Engine, key: str, sel: Selection) -> pd.DataFrame:
    # From the day before the window: the first day's change needs it.
    params = {"start": min(sel.start, sel.prev_day), "end": sel.day} | sel.segment_params()
    frame = _frame(_engine, queries.DAILY, params)
    return _to_float(frame, ["total_sales", "avg_ticket", "moving_avg_7d"])


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def _categories(_engine: Engine, key: str, sel: Selection) -> pd.DataFrame:
    params = {"day": sel.day, "prev_day": sel.prev_day} | sel.segment_params()
    frame = _frame(_engine, queries.CATEGORIES, params)
    return _to_float(frame, ["total_sales", "share_of_day"])


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def _top_products(_engine: Engine, key: str, sel: Selection) -> pd.DataFrame:
    params: dict[str, Any] = {"start": sel.start, "day": sel.day, "prev_day": sel.prev_day,
                              "limit": TOP_PRODUCTS_LIMIT}
    if sel.is_segmented:
        frame = _frame(_engine, queries.TOP_PRODUCTS_SEGMENT, params | sel.segment_params())
    else:
        frame = _frame(_engine, queries.TOP_PRODUCTS, params)
    return _to_float(frame, ["total_sales"])


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def _rejected_by_reason(_engine: Engine, key: str) -> pd.DataFrame:
    return _frame(_engine, queries.REJECTED_BY_REASON)


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def _product_identity(_engine: Engine, key: str) -> dict[str, int]:
    frame = _frame(_engine, queries.PRODUCT_IDENTITY)
    if frame.empty:  # the mart always has its one row; an empty one means nothing to count
        return dict.fromkeys(frame.columns, 0)
    return {k: int(v) for k, v in frame.iloc[0].to_dict().items()}


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def _problem_files(_engine: Engine, key: str) -> pd.DataFrame:
    return _frame(_engine, queries.PROBLEM_FILES, {"limit": PROBLEM_FILES_LIMIT})


@dataclass(frozen=True)
class Marts:
    """Cached reads of one database's marts; build it with `Marts.connect(settings)`."""

    engine: Engine
    key: str

    @classmethod
    def connect(cls, settings: Settings) -> Marts:
        """No connection is opened here: the pool connects on the first read."""
        key = database_key(settings)
        return cls(_engine(key, settings), key)

    def day_bounds(self) -> tuple[dt.date | None, dt.date | None]:
        return _day_bounds(self.engine, self.key)

    def freshness(self) -> dict[str, Any] | None:
        return _freshness(self.engine, self.key)

    def segments(self) -> tuple[list[str], list[str]]:
        """(regions, channels) of the segment marts, without the "all" key."""
        return _segments(self.engine, self.key)

    def daily(self, sel: Selection) -> pd.DataFrame:
        """One row per calendar day from the day before the window to `sel.day` (days outside
        the first..last day with sales have none)."""
        return _daily(self.engine, self.key, sel)

    def categories(self, sel: Selection) -> pd.DataFrame:
        """Category rows of the selected day and the day before."""
        return _categories(self.engine, self.key, sel)

    def top_products(self, sel: Selection) -> pd.DataFrame:
        return _top_products(self.engine, self.key, sel)

    def rejected_by_reason(self) -> pd.DataFrame:
        return _rejected_by_reason(self.engine, self.key)

    def problem_files(self) -> pd.DataFrame:
        return _problem_files(self.engine, self.key)

    def product_identity(self) -> dict[str, int]:
        """Counts of product ids with several names and names with several ids."""
        return _product_identity(self.engine, self.key)

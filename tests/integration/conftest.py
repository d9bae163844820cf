"""Fixtures shared by the integration tests that start servers of their own."""

from __future__ import annotations

import pytest

from tests.integration.managed_postgres import DEBIAN_PG15, clusters


@pytest.fixture(scope="session")
def pg15():
    """Fresh managed-style clusters of Debian's PostgreSQL 15: call it for each one."""
    yield from clusters(DEBIAN_PG15, "postgres")


@pytest.fixture(scope="session")
def pg18():
    """The same with the embedded PostgreSQL 18 binaries."""
    from cli.local.postgres import _RUN_AS, _bin

    yield from clusters(_bin("initdb").parent, _RUN_AS)

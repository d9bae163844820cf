"""The Pipeline page of `salespipe dashboard` in a real browser (Debian's Chromium).

Reached from the sales page's navigation, in the language chosen there; its auto-refresh
moves the "Last refreshed" time, pausing freezes it, "Refresh now" moves it again.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterator
from decimal import Decimal

import pytest

from tests.e2e.browser_support import UI_TIMEOUT_MS, served_dashboard
from tests.integration import dashboard_support as support

pytestmark = pytest.mark.e2e

REFRESH_SECONDS = 2
PAUSED_WAIT_MS = REFRESH_SECONDS * 3 * 1000


@pytest.fixture(scope="module")
def pipeline_url(base_settings) -> Iterator[str]:
    settings = support.database(base_settings, "t_pipe_e2e")
    now = dt.datetime.now(dt.UTC)
    files = [(n, f"incoming/sales_{n}.csv", "loaded", None, 100, 100 - n, n,
              now - dt.timedelta(hours=n)) for n in range(1, 5)]
    files.append((9, "incoming/report.pdf", "rejected", "not a CSV file", 0, 0, 0, now))
    rejected = [((now - dt.timedelta(hours=n)).date(), f"incoming/sales_{n}.csv",
                 "sale_date: missing", n) for n in range(1, 5)]
    runs = [(now - dt.timedelta(minutes=m), f"inv-{m}", 1, Decimal("3.10") + m)
            for m in (30, 20, 10)]
    support.create_marts(settings, files=files, rejected_rows=rejected, dbt_runs=runs)
    env = os.environ | support.app_env(settings) | {
        "DO_NOT_TRACK": "1", "DASHBOARD_REFRESH_SECONDS": str(REFRESH_SECONDS)}
    with served_dashboard(env) as url:
        yield url


def _metric_value(page, label: str):
    metric = page.get_by_test_id("stMetric").filter(
        has=page.get_by_test_id("stMetricLabel").get_by_text(label, exact=True))
    return metric.get_by_test_id("stMetricValue")


def test_pipeline_page_is_reached_from_the_sales_page_in_its_language(pipeline_url, browser):
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1480, "height": 1000})
    try:
        page.goto(f"{pipeline_url}/?lang=pt-BR")
        expect(page.get_by_role("heading", name="Painel de vendas")).to_be_visible(
            timeout=UI_TIMEOUT_MS)
        page.get_by_test_id("stSidebarNav").get_by_text("Pipeline", exact=True).click()

        expect(page.get_by_role("heading", name="Operação do pipeline")).to_be_visible(
            timeout=UI_TIMEOUT_MS)
        expect(_metric_value(page, "Arquivos carregados")).to_have_text("4")
        expect(_metric_value(page, "Arquivos rejeitados")).to_have_text("1")
        expect(page.get_by_text("Histórico de builds do dbt", exact=True)).to_be_visible()
        page.wait_for_function(  # files per day and build durations
            "document.querySelectorAll('[data-testid=\"stVegaLiteChart\"]').length >= 2",
            timeout=UI_TIMEOUT_MS)
    finally:
        page.close()


def _refreshed(page) -> str:
    return page.get_by_text(re.compile(r"^Last refreshed ")).inner_text(timeout=UI_TIMEOUT_MS)


def test_auto_refresh_pauses_and_resumes(pipeline_url, browser):
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1480, "height": 1000})
    try:
        page.goto(f"{pipeline_url}/pipeline?lang=en")
        expect(_metric_value(page, "Files loaded")).to_have_text("4", timeout=UI_TIMEOUT_MS)
        first = _refreshed(page)
        # Running: the time moves on by itself.
        expect(page.get_by_text(re.compile(r"^Last refreshed "))).not_to_have_text(
            first, timeout=30_000)

        page.get_by_text(re.compile(r"^Auto-refresh every")).click()
        paused = page.get_by_text(re.compile(r"auto-refresh paused$"))
        expect(paused).to_be_visible(timeout=UI_TIMEOUT_MS)
        # A timer tick already on its way when the toggle was clicked may still land once.
        page.wait_for_timeout(REFRESH_SECONDS * 1000 + 1000)
        frozen = paused.inner_text()
        page.wait_for_timeout(PAUSED_WAIT_MS)  # three refresh intervals
        assert paused.inner_text() == frozen

        page.get_by_role("button", name=re.compile("Refresh now")).click()
        expect(paused).not_to_have_text(frozen, timeout=30_000)
    finally:
        page.close()

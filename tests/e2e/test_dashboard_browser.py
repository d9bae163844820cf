"""`salespipe dashboard` in a real browser: the numbers on screen are the marts' numbers.

Drives Debian's Chromium (`make browser` installs it) through Playwright; no browser download.
Also takes the README screenshot; `make screenshot` writes it to docs/dashboard.png.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from decimal import Decimal

import pytest

from tests.e2e.browser_support import ROOT, UI_TIMEOUT_MS, served_dashboard
from tests.integration import dashboard_support as support

pytestmark = pytest.mark.e2e

SCREENSHOT = ROOT / "docs" / "dashboard.png"
LAST_DAY = dt.date(2026, 1, 15)


@pytest.fixture(scope="module")
def month_of_sales(base_settings):
    settings = support.database(base_settings, "t_dash_e2e")
    sales = support.realistic_rows(LAST_DAY, days=36)  # 30-day window + 6 for the average
    rejected, files = support.realistic_quality(LAST_DAY)
    support.create_marts(settings, sales=sales, rejected_rows=rejected, files=files)
    return settings, sales


@pytest.fixture(scope="module")
def dashboard_url(month_of_sales) -> Iterator[str]:
    settings, _ = month_of_sales
    with served_dashboard(os.environ | support.app_env(settings) | {"DO_NOT_TRACK": "1"}) as url:
        yield url


def _reais(amount, lang: str) -> str:
    """Formatted here, not by the dashboard's own code: R$ 1,234.56 / R$ 1.234,56."""
    text = f"R$ {amount:,.2f}"
    return text.translate(str.maketrans(",.", ".,")) if lang == "pt-BR" else text


def _metric_value(page, label: str):
    metric = page.get_by_test_id("stMetric").filter(
        has=page.get_by_test_id("stMetricLabel").get_by_text(label, exact=True))
    return metric.get_by_test_id("stMetricValue")


def _wait_for_charts(page, count: int) -> None:
    page.wait_for_function(
        "n => document.querySelectorAll('[data-testid=\"stVegaLiteChart\"] canvas, "
        "[data-testid=\"stVegaLiteChart\"] svg.marks').length >= n",
        arg=count, timeout=UI_TIMEOUT_MS,
    )


def test_total_sales_on_screen_equals_the_mart_and_screenshot(dashboard_url, browser,
                                                              month_of_sales, tmp_path):
    from playwright.sync_api import expect

    _, sales = month_of_sales
    expected = _reais(support.total_sales_on(sales, LAST_DAY), "en")
    page = browser.new_page(viewport={"width": 1480, "height": 1000})
    try:
        page.goto(f"{dashboard_url}/?lang=en")
        expect(_metric_value(page, "Total sales")).to_have_text(expected, timeout=UI_TIMEOUT_MS)
        expect(page.get_by_text("Best-selling products", exact=True)).to_be_visible()
        _wait_for_charts(page, 4)  # trend, categories, products, rejects
        # Streamlit scrolls inside its main block, so a "full page" shot needs a tall viewport.
        for _ in range(2):  # the second pass catches charts that grew after the first resize
            height = page.evaluate(
                "document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
            page.set_viewport_size({"width": 1480, "height": int(height) + 40})
            page.wait_for_timeout(1500)  # let the charts re-layout and finish their first paint
        # Into the repository only when asked: a test run must not dirty the checkout.
        shot = SCREENSHOT if os.environ.get("SALESPIPE_UPDATE_SCREENSHOT") else tmp_path / "d.png"
        page.screenshot(path=str(shot))
    finally:
        page.close()
    assert shot.stat().st_size > 50_000


def test_portuguese_page_shows_brazilian_number_format(dashboard_url, browser, month_of_sales):
    from playwright.sync_api import expect

    _, sales = month_of_sales
    expected = _reais(support.total_sales_on(sales, LAST_DAY), "pt-BR")
    assert "," in expected  # R$ x.xxx,yy
    page = browser.new_page(viewport={"width": 1480, "height": 1000})
    try:
        page.goto(f"{dashboard_url}/?lang=pt-BR")
        expect(_metric_value(page, "Vendas Totais")).to_have_text(expected,
                                                                  timeout=UI_TIMEOUT_MS)
        expect(page.get_by_text("Vendas por Categoria", exact=True)).to_be_visible()
    finally:
        page.close()


def test_page_refreshes_itself_when_the_marts_change(dashboard_url, browser, month_of_sales):
    from playwright.sync_api import expect

    settings, sales = month_of_sales
    before = support.total_sales_on(sales, LAST_DAY)
    page = browser.new_page(viewport={"width": 1480, "height": 1000})
    try:
        page.goto(f"{dashboard_url}/?lang=en")
        total = _metric_value(page, "Total sales")
        expect(total).to_have_text(_reais(before, "en"), timeout=UI_TIMEOUT_MS)
        support.add_to_day_total(settings, LAST_DAY, Decimal("1000.00"))
        try:
            # No reload: the fragment's timer (5 s) plus the read cache (4 s) bring it in.
            expect(total).to_have_text(_reais(before + 1000, "en"), timeout=30_000)
        finally:
            support.add_to_day_total(settings, LAST_DAY, Decimal("-1000.00"))
    finally:
        page.close()

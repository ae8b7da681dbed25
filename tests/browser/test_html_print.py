"""The HTML report printed (print media at an A4 page's printable width) in headless chromium.

Skips where selenium, chromium or chromedriver is missing (the ``driver`` fixture of test_html_browser).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_html_browser import _reverse, driver, sample_report  # noqa: F401  (driver: a fixture)

from pytest_ragprobe.reporting import write_reports

A4_PRINTABLE_PX = 718  # 210 mm less chromium's default 1 cm margins, at 96 px an inch


def test_printed_probe_table_keeps_every_column_on_the_page(driver: Any, tmp_path: Path) -> None:  # noqa: F811
    """Printed on A4, the probe table (751 px at least: its test and result columns keep a screen's minimum
    widths) was cut at the page's edge inside its side-scrolling box: the max_drop column was off the
    paper, and a scrollbar was printed under the table."""
    from selenium.webdriver.common.by import By

    report = sample_report()
    report.probes += [
        _reverse().model_copy(update={"nodeid": "tests/test_catalog.py::test_inconclusive", "verdict": "inconclusive"})
    ]
    report.summary = report.counts()
    write_reports(tmp_path / "print", report)
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": A4_PRINTABLE_PX, "height": 1000, "deviceScaleFactor": 1, "mobile": False},
    )
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    driver.get((tmp_path / "print" / "report.html").as_uri())
    page = driver.execute_script("return document.documentElement.clientWidth")
    toc = driver.find_element(By.CSS_SELECTOR, "nav.toc")
    box, content = driver.execute_script("return [arguments[0].clientWidth, arguments[0].scrollWidth]", toc)
    assert content <= box, (content, box)
    cells = driver.find_elements(By.CSS_SELECTOR, 'nav.toc td[data-label="max_drop"]')
    assert len(cells) == 5
    for cell in cells:
        right = driver.execute_script("return arguments[0].getBoundingClientRect().right", cell)
        assert right <= page, (cell.text, right, page)
    # every other side-scrolling box (the examples, the accuracy tables) fits the page too
    for scroll in driver.find_elements(By.CSS_SELECTOR, ".scroll"):
        box, content = driver.execute_script(
            "return [arguments[0].clientWidth, arguments[0].scrollWidth]", scroll
        )
        assert content <= box, (scroll.text[:80], content, box)
    assert driver.execute_script("return document.documentElement.scrollWidth") <= page


URL = "https://rag.internal.example.com/api/v2/answer?tenant=acme-industrial&collection=pump-catalog-2024" + (
    "&trace=" + "0123456789abcdef" * 6
)


@pytest.mark.parametrize("width", [1200, 390])
def test_long_unbroken_words_in_reasons_and_notes_wrap(driver: Any, tmp_path: Path, width: int) -> None:  # noqa: F811
    """An error quoting a long URL (its reason), a note or a baseline message with a long token ran past
    its paragraph and widened the whole page (4,000 px): the reader scrolled sideways to read any line.
    Such a word now breaks where it has to."""
    from selenium.webdriver.common.by import By

    report = sample_report()
    errored = report.probes[3].model_copy(update={"reason": f"HTTP 500 from {URL}; first for 'Which pump?'"})
    regressed = _reverse().model_copy(
        update={
            "nodeid": "tests/test_catalog.py::test_regressed",
            "verdict": "pass",
            "baseline": "regression",
            "baseline_message": f"ragprobe baseline REGRESSION: pipeline {URL} -> {URL}x",
            "notes": [f"the answers came from {URL}"],
            "xfail_reason": "",
        }
    )
    report.probes = [report.probes[0], errored, regressed]
    report.summary = report.counts()
    write_reports(tmp_path / "long", report)
    driver.set_window_size(width, 900)
    driver.get((tmp_path / "long" / "report.html").as_uri())
    page = driver.execute_script("return document.documentElement.clientWidth")
    texts = driver.find_elements(By.CSS_SELECTOR, "p.reason, ul.notes li, p.outcome")
    assert len(texts) >= 4
    for element in texts:
        box, content = driver.execute_script("return [arguments[0].clientWidth, arguments[0].scrollWidth]", element)
        assert content <= box, (width, element.text[:60], content, box)
    assert driver.execute_script("return document.documentElement.scrollWidth") <= page


PRINTED_COLOURS = """
const seen = {};
for (const el of document.querySelectorAll(
  '.banner .verdict, .count b, .badge, svg.chart text.ref-label, svg.chart .bar-forward, svg.chart .bar-reverse,'
  + ' svg.chart .line, svg.chart .band, a, .warning'
)) {
  const s = getComputedStyle(el);
  const key = el.tagName + '.' + (el.getAttribute('class') || '');
  seen[key] = [s.color, s.backgroundColor, s.fill, s.stroke, s.borderColor].join(' ');
}
return seen;
"""


def test_printed_from_a_dark_theme_the_page_uses_the_light_palette(driver: Any, tmp_path: Path) -> None:  # noqa: F811
    """Printed (or saved as PDF) from a dark-themed system, the page was white but kept the dark theme's
    verdict colours, meant for a dark background: white on light green badges (2.4:1), the banner's
    "FAIL" and the counts at 2.3-3.0:1. Printed, the page now has the light theme's colours whatever
    the system's theme."""
    write_reports(tmp_path / "dark", sample_report())
    driver.get((tmp_path / "dark" / "report.html").as_uri())
    printed = {}
    for scheme in ("light", "dark"):
        driver.execute_cdp_cmd(
            "Emulation.setEmulatedMedia",
            {"media": "print", "features": [{"name": "prefers-color-scheme", "value": scheme}]},
        )
        printed[scheme] = driver.execute_script(PRINTED_COLOURS)
    assert len(printed["light"]) >= 10
    assert printed["dark"] == printed["light"]

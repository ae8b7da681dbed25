"""The HTML report in a real headless browser (Debian chromium + chromedriver via selenium).

Skips with a reason when selenium, chromium or chromedriver is missing (CI installs them with
scripts/install-browser.sh). Screenshots are saved to the test's tmp_path.
"""

from __future__ import annotations

import base64
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pytest_ragprobe.reporting import write_reports
from pytest_ragprobe.results import DirectionSummary, ProbeResult, Report

# RAGPROBE_CHROMIUM / RAGPROBE_CHROMEDRIVER point at other binaries (e.g. a Chrome for Testing download).
CHROMIUM = os.environ.get("RAGPROBE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = (
    os.environ.get("RAGPROBE_CHROMEDRIVER") or shutil.which("chromedriver") or "/usr/bin/chromedriver"
)
EVIL = "<script>document.title='pwned'</script><img src=x onerror=alert(1)>"


def _reverse() -> ProbeResult:
    return ProbeResult(
        nodeid="tests/test_catalog.py::test_catalog_answers_both_ways",
        kind="reverse",
        verdict="fail",
        n=60,
        calls=120,
        cached_calls=24,
        duration_s=41.3,
        reason="reverse accuracy dropped by 0.32 (lower bound 0.20) > max_drop 0.10",
        metrics={
            "forward_accuracy": 0.88,
            "reverse_accuracy": 0.56,
            "drop": 0.32,
            "drop_ci": [0.2, 0.44],
            "p_value": 3.1e-6,
            "forward_ci": [0.78, 0.94],
            "reverse_ci": [0.43, 0.68],
            "discordant": {"forward_only": 21, "reverse_only": 2},
            "reverse_misses": {"retrieval": 17, "reading": 9, "unknown": 0},
            "max_drop": 0.1,
            "confidence": 0.95,
        },
        forward=DirectionSummary(accuracy=0.88, correct=53, n=60, ci=(0.78, 0.94)),
        reverse=DirectionSummary(accuracy=0.56, correct=34, n=60, ci=(0.43, 0.68)),
        examples=[
            {
                "question": f"Which pump is compatible with controller C-{i}?",
                "expected": [f"P-{200 + i}"],
                "answer": EVIL if i == 3 else f"Controller C-{i} works with several pumps.",
                "correct": False,
                "forward_answer": f"C-{i}",
                "forward_correct": True,
                "miss": "retrieval" if i % 3 else "reading",
                "error": None,
            }
            for i in range(1, 8)
        ],
        settings={"facts": "fixtures/parts.yaml", "match": "contains", "max_drop": 0.1, "n_planned": 60},
    )


def _position() -> ProbeResult:
    accs = {0: 0.82, 3: 0.64, 6: 0.51, 9: 0.49, 13: 0.55, 16: 0.66, 19: 0.78}
    cis = {p: (max(0.0, a - 0.13), min(1.0, a + 0.11)) for p, a in accs.items()}
    return ProbeResult(
        nodeid="tests/test_qa.py::test_mid_context[20 docs]",
        kind="position",
        verdict="fail",
        n=50,
        calls=350,
        reason="accuracy at position 9 is 0.33 below position 0 (lower bound 0.17) > max_drop 0.15",
        metrics={
            "accuracy_by_position": {str(p): a for p, a in accs.items()},
            "ci_by_position": {str(p): list(c) for p, c in cis.items()},
            "drop": 0.33,
            "drop_ci": [0.17, 0.49],
            "p_value": 0.0004,
            "best_edge": 0,
            "worst_position": 9,
            "shape": "u",
            "max_drop": 0.15,
            "confidence": 0.95,
        },
        positions={
            p: DirectionSummary(accuracy=a, correct=round(a * 50), n=50, ci=cis[p]) for p, a in accs.items()
        },
        examples=[
            {
                "question": "Which treaty ended the War of the Spanish Succession?",
                "expected": ["Treaty of Utrecht", "Peace of Utrecht"],
                "answer": "The Treaty of Rastatt",
                "position": 9,
                "correct": False,
                "edge_correct": True,
            },
            {
                "question": "Who painted the ceiling of the Sistine Chapel?",
                "expected": ["Michelangelo"],
                "answer": "Raphael",
                "position": 6,
                "correct": False,
                "edge_correct": True,
            },
        ],
        settings={"data": "fixtures/qa.jsonl", "n_docs": 20, "positions": list(accs), "max_drop": 0.15},
    )


def sample_report() -> Report:
    report = Report(
        plugin_version="0.1.0",
        partial=True,
        seed=20240601,
        confidence=0.95,
        settings={"pipeline": "app.rag:pipeline", "samples": 60, "budget": None, "strict": False},
        probes=[
            _reverse(),
            _position(),
            ProbeResult(
                nodeid="tests/test_catalog.py::test_synonyms",
                kind="reverse",
                verdict="pass",
                n=30,
                calls=60,
                metrics={
                    "forward_accuracy": 0.93,
                    "reverse_accuracy": 0.9,
                    "drop": 0.03,
                    "drop_ci": [-0.06, 0.08],
                    "p_value": 1.0,
                    "discordant": {"forward_only": 2, "reverse_only": 1},
                    "max_drop": 0.1,
                    "confidence": 0.95,
                },
                forward=DirectionSummary(accuracy=0.93, correct=28, n=30, ci=(0.79, 0.98)),
                reverse=DirectionSummary(accuracy=0.9, correct=27, n=30, ci=(0.74, 0.97)),
            ),
            ProbeResult(
                nodeid="tests/test_qa.py::test_http_pipeline",
                kind="position",
                verdict="error",
                reason=f"the pipeline raised ConnectionError: {EVIL}",
            ),
        ],
    )
    report.summary = report.counts()
    return report


@pytest.fixture(scope="module")
def report_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    directory = tmp_path_factory.mktemp("browser-report")
    write_reports(directory, sample_report())
    return (directory / "report.html").as_uri()


@pytest.fixture
def driver(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    webdriver = pytest.importorskip(
        "selenium.webdriver", reason="selenium is not installed (pip install selenium)"
    )
    if not Path(CHROMIUM).exists():
        pytest.skip(f"chromium not found at {CHROMIUM} (run scripts/install-browser.sh)")
    if not Path(CHROMEDRIVER).exists():
        pytest.skip(f"chromedriver not found at {CHROMEDRIVER} (run scripts/install-browser.sh)")
    monkeypatch.setenv("SE_OFFLINE", "true")  # never let Selenium Manager download anything
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1200,900",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    log = str(tmp_path / "chromedriver.log")
    service = webdriver.ChromeService(executable_path=CHROMEDRIVER, log_output=log)
    drv = webdriver.Chrome(options=options, service=service)
    drv.set_page_load_timeout(30)
    try:
        yield drv
    finally:
        drv.quit()


def _full_page_screenshot(drv: Any, path: Path) -> None:
    height = int(drv.execute_script("return document.documentElement.scrollHeight"))
    drv.set_window_size(1200, min(max(height + 120, 900), 8000))
    assert drv.save_screenshot(str(path))
    assert path.stat().st_size > 10_000


def _console_errors(drv: Any) -> list[dict[str, Any]]:
    try:
        entries = drv.get_log("browser")
    except Exception:  # not every driver supports the log endpoint
        return []
    return [e for e in entries if e.get("level") == "SEVERE"]


def test_report_renders_in_chromium(driver: Any, report_url: str, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    driver.get(report_url)
    assert driver.title == "FAIL · pytest-ragprobe report"  # the untrusted <script> did not run

    banner = driver.find_element(By.ID, "verdict").text
    assert banner.splitlines()[0] == "FAIL"
    assert "4 probes" in banner and "1 pass" in banner and "2 fail" in banner and "1 error" in banner
    assert "Partial run" in driver.find_element(By.ID, "partial").text

    charts = driver.find_elements(By.CSS_SELECTOR, "svg.chart[data-variant=wide]")  # each has a compact twin
    kinds = sorted(c.get_attribute("data-chart") for c in charts)
    assert kinds == ["accuracy", "accuracy", "drop", "drop", "drop", "position"]
    for chart in charts:
        assert chart.size["width"] > 200 and chart.size["height"] > 40, chart.get_attribute("aria-label")
        rect = driver.execute_script(
            "const r = arguments[0].getBoundingClientRect(); return [r.width, r.height]", chart
        )
        assert rect[0] > 200 and rect[1] > 40
        assert chart.get_attribute("role") == "img" and chart.get_attribute("aria-label")
    line = driver.find_element(By.CSS_SELECTOR, "svg[data-chart=position][data-variant=wide] polyline.line")
    box = driver.execute_script("const b = arguments[0].getBBox(); return [b.width, b.height]", line)
    assert box[0] > 300 and box[1] > 20  # the curve spans the plot, not a collapsed point
    assert (
        len(driver.find_elements(By.CSS_SELECTOR, "svg[data-chart=position][data-variant=wide] circle.pt"))
        == 7
    )

    # untrusted text shows up as text, not as markup
    assert driver.find_elements(By.CSS_SELECTOR, "table.examples img") == []
    assert "<script>document.title='pwned'</script>" in driver.find_element(By.TAG_NAME, "main").text

    assert _console_errors(driver) == []
    shot = tmp_path / "report-light.png"
    _full_page_screenshot(driver, shot)
    pdf = base64.b64decode(driver.print_page())
    assert pdf.startswith(b"%PDF")


def test_report_dark_mode(driver: Any, report_url: str, tmp_path: Path) -> None:
    driver.execute_cdp_cmd(
        "Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": "dark"}]}
    )
    driver.get(report_url)
    bg = driver.execute_script("return getComputedStyle(document.documentElement).backgroundColor")
    fg = driver.execute_script("return getComputedStyle(document.body).color")
    assert bg == "rgb(13, 17, 23)" and fg == "rgb(230, 237, 243)"
    assert _console_errors(driver) == []
    _full_page_screenshot(driver, tmp_path / "report-dark.png")


def test_on_a_phone_the_probe_table_shows_each_probes_figures(driver: Any, report_url: str) -> None:
    """At 390 px only the verdict and test columns showed: kind, result, n, drop and max_drop were off to
    the right in a side-scrolling box. Now each probe is a block with its figures labelled."""
    from selenium.webdriver.common.by import By

    driver.set_window_size(390, 900)
    driver.get(report_url)
    width = driver.execute_script("return document.documentElement.clientWidth")
    cells = driver.find_elements(By.CSS_SELECTOR, 'nav.toc td[data-label="drop"]')
    assert len(cells) == 4
    for cell in cells:
        left, right = driver.execute_script(
            "const r = arguments[0].getBoundingClientRect(); return [r.left, r.right]", cell
        )
        assert left >= 0 and right <= width, (left, right, width)
        label = driver.execute_script("return getComputedStyle(arguments[0], '::before').content", cell)
        assert label == '"drop "'
    # and the page itself does not scroll sideways
    assert driver.execute_script("return document.documentElement.scrollWidth") <= width


def test_on_a_phone_the_accuracy_tables_show_their_intervals(driver: Any, report_url: str) -> None:
    """At 390 px the direction / position tables were wider than the screen: their 95% CI column, the
    figure the verdict reads, sat off to the right behind a side scroll (366-422 px in a 321 px box)."""
    from selenium.webdriver.common.by import By

    driver.set_window_size(390, 900)
    driver.get(report_url)
    tables = driver.find_elements(By.CSS_SELECTOR, "table.numbers")
    assert len(tables) == 3  # the FAIL and PASS reverse probes, the position probe
    for table in tables:
        box, content = driver.execute_script(
            "const s = arguments[0].closest('.scroll'); return [s.clientWidth, s.scrollWidth]", table
        )
        assert content <= box, (table.text, content, box)
        ci = table.find_elements(By.CSS_SELECTOR, "tbody td.mono")
        assert ci and all(cell.is_displayed() and cell.text.startswith("[") for cell in ci)


def test_on_a_phone_the_examples_show_their_miss_and_position(driver: Any, report_url: str) -> None:
    """At 390 px the examples tables were wider than the screen: a reverse miss's forward / miss columns
    and a position miss's position sat off to the right in a side scroll with no visible scrollbar. Now
    each example is a block of labelled lines."""
    from selenium.webdriver.common.by import By

    driver.set_window_size(390, 900)
    driver.get(report_url)
    width = driver.execute_script("return document.documentElement.clientWidth")
    for label in ("miss", "forward", "position", "right at another edge"):
        cells = driver.find_elements(By.CSS_SELECTOR, f'table.examples td[data-label="{label}"]')
        assert cells, label
        for cell in cells:
            left, right = driver.execute_script(
                "const r = arguments[0].getBoundingClientRect(); return [r.left, r.right]", cell
            )
            assert left >= 0 and right <= width, (label, left, right, width)
        shown = driver.execute_script("return getComputedStyle(arguments[0], '::before').content", cells[0])
        assert shown == f'"{label}: "'
    for table in driver.find_elements(By.CSS_SELECTOR, "table.examples"):
        box, content = driver.execute_script(
            "const s = arguments[0].closest('.scroll'); return [s.clientWidth, s.scrollWidth]", table
        )
        assert content <= box, (content, box)
    # on a desktop they stay a table with its header row
    driver.set_window_size(1200, 900)
    driver.get(report_url)
    header = driver.find_element(By.CSS_SELECTOR, "table.examples thead th")
    assert header.is_displayed() and header.text == "question"
    cell = driver.find_element(By.CSS_SELECTOR, 'table.examples td[data-label="miss"]')
    assert driver.execute_script("return getComputedStyle(arguments[0], '::before').content", cell) == "none"


def test_expected_failure_report(driver: Any, tmp_path: Path) -> None:
    """A run whose only FAIL is an expected failure (xfail) reads PASS, and the xfail probe is told apart."""
    from selenium.webdriver.common.by import By

    xfailed = _reverse().model_copy(
        update={"expected_failure": True, "xfail_reason": "demonstrates the reversal weakness"}
    )
    passing = sample_report().probes[2]
    report = Report(plugin_version="0.1.0", probes=[xfailed, passing])
    report.summary = report.counts()
    write_reports(tmp_path / "xfail", report)
    driver.get((tmp_path / "xfail" / "report.html").as_uri())
    assert driver.title == "PASS · pytest-ragprobe report"
    banner = driver.find_element(By.ID, "verdict").text
    assert banner.splitlines()[0] == "PASS"
    assert "1 pass" in banner and "0 fail" in banner and "1 expected failure (xfail)" in banner

    section = driver.find_element(By.CSS_SELECTOR, "section[data-outcome=xfail]")
    assert section.get_attribute("data-verdict") == "fail"
    assert section.find_element(By.CSS_SELECTOR, ".badge").text == "FAIL (xfail)"
    assert "Test outcome: xfailed (expected, xfail: demonstrates the reversal weakness)" in section.text
    colors = {
        b.text: b.value_of_css_property("background-color")
        for b in driver.find_elements(By.CSS_SELECTOR, "nav.toc .badge")
    }
    assert set(colors) == {"FAIL (xfail)", "PASS"} and len(set(colors.values())) == 2
    assert "207, 34, 46" not in colors["FAIL (xfail)"]  # not the red of an unexpected FAIL
    assert _console_errors(driver) == []
    _full_page_screenshot(driver, tmp_path / "report-xfail.png")


def _positions_probe(
    nodeid: str, accs: dict[int, float], cis: dict[int, tuple[float, float]], **metrics: Any
) -> ProbeResult:
    """The sample position probe with other accuracies by position (``metrics``: best_edge, drop, ...)."""
    probe = _position().model_copy(deep=True)
    probe.nodeid = nodeid
    probe.positions = {
        p: DirectionSummary(accuracy=a, correct=round(a * 50), n=50, ci=cis[p]) for p, a in accs.items()
    }
    probe.metrics.update(
        accuracy_by_position={str(p): a for p, a in accs.items()},
        ci_by_position={str(p): list(c) for p, c in cis.items()},
        **metrics,
    )
    probe.settings.update(positions=list(accs), max_drop=metrics["max_drop"])
    return probe


def _awkward_report() -> Report:
    """Charts whose labels crowd: 20 positions side by side, a max_drop near the axis' right end, a drop
    below zero, accuracies at 0 and 1, a position curve that zigzags across the reference line."""
    report = sample_report()
    accs = {p: (0.95 if p % 2 else 0.35) for p in range(20)}  # zigzag: the label hunts for a clear spot
    cis = {p: (max(0.0, a - 0.2), min(1.0, a + 0.05)) for p, a in accs.items()}
    dense = _positions_probe(
        "tests/test_qa.py::test_every_position[20 docs]", accs, cis,
        best_edge=19, worst_position=2, drop=0.05, drop_ci=[-0.1, 0.2], max_drop=0.5,
    )
    accs = {0: 1.0, 12: 0.0, 25: 0.5, 37: 0.25, 49: 1.0}
    cis = {p: (max(0.0, a - 0.3), min(1.0, a + 0.3)) for p, a in accs.items()}
    wide_apart = _positions_probe(
        "tests/test_qa.py::test_fifty_docs", accs, cis,
        best_edge=0, worst_position=12, drop=1.0, drop_ci=[0.9, 1.0], max_drop=0.05,
    )
    wide_apart.settings.update(n_docs=50)
    better = _reverse().model_copy(deep=True)
    better.nodeid = "tests/test_catalog.py::test_reverse_is_better"
    better.forward = DirectionSummary(accuracy=0.0, correct=0, n=60, ci=(0.0, 0.06))
    better.reverse = DirectionSummary(accuracy=1.0, correct=60, n=60, ci=(0.94, 1.0))
    better.metrics.update(drop=-1.0, drop_ci=[-1.0, -0.9], max_drop=0.1)
    report.probes += [dense, wide_apart, better]
    report.summary = report.counts()
    return report


# What a chart's text looks like on screen: the smallest rendered size (CSS px; axis labels apart), pairs of
# text boxes that overlap, texts that stick out of the chart, and reference labels drawn over a point.
CHART_TEXT = """
const svg = arguments[0];
const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
const texts = [...svg.querySelectorAll('text')];
const size = t => parseFloat(getComputedStyle(t).fontSize) * scale;
const box = el => el.getBoundingClientRect();
const hit = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
const outer = box(svg);
const overlaps = [];
texts.forEach((a, i) => texts.slice(i + 1).forEach(b => {
  if (hit(box(a), box(b))) overlaps.push([a.textContent, b.textContent]);
}));
const outside = texts.filter(t => {
  const r = box(t);
  return r.left < outer.left - 0.5 || r.right > outer.right + 0.5 || r.top < outer.top - 0.5
    || r.bottom > outer.bottom + 0.5 || r.left < 0 || r.right > document.documentElement.clientWidth;
}).map(t => t.textContent);
const onPoints = [...svg.querySelectorAll('text.ref-label')].filter(
  t => [...svg.querySelectorAll('circle')].some(c => hit(box(t), box(c)))).map(t => t.textContent);
return {
  variant: svg.getAttribute('data-variant'),
  scale: scale,
  axis: Math.min(...texts.filter(t => t.classList.contains('axis')).map(size)),
  other: Math.min(...texts.filter(t => !t.classList.contains('axis')).map(size)),
  overlaps: overlaps, outside: outside, onPoints: onPoints,
};
"""


@pytest.fixture(scope="module")
def awkward_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    directory = tmp_path_factory.mktemp("browser-awkward")
    write_reports(directory, _awkward_report())
    return (directory / "report.html").as_uri()


def _shown_charts(drv: Any) -> list[tuple[Any, dict[str, Any]]]:
    from selenium.webdriver.common.by import By

    shown = [c for c in drv.find_elements(By.CSS_SELECTOR, "svg.chart") if c.is_displayed()]
    return [(c, drv.execute_script(CHART_TEXT, c)) for c in shown]


def test_on_a_phone_the_charts_text_is_readable_and_apart(
    driver: Any, awkward_url: str, tmp_path: Path
) -> None:
    """At 390 px the 560-unit charts were scaled to ~0.57: their 12px text drew at ~7 px. The compact
    variant (300 units) shows instead, near 1:1, and its labels neither overlap nor stick out."""
    from selenium.webdriver.common.by import By

    driver.set_window_size(390, 900)
    driver.get(awkward_url)
    charts = _shown_charts(driver)
    kinds = sorted(c.get_attribute("data-chart") for c, _ in charts)
    assert kinds == ["accuracy"] * 3 + ["drop"] * 6 + ["position"] * 3  # one of each pair, none twice
    for i, (chart, seen) in enumerate(charts):
        where = (chart.get_attribute("aria-label"), seen)
        assert seen["variant"] == "compact", where
        assert seen["other"] >= 11 and seen["axis"] >= 10, where
        assert seen["overlaps"] == [] and seen["outside"] == [] and seen["onPoints"] == [], where
        assert chart.get_attribute("role") == "img" and chart.get_attribute("aria-label")
        driver.execute_script("arguments[0].scrollIntoView()", chart)
        chart.screenshot(str(tmp_path / f"phone-chart-{i}.png"))
    hidden = driver.find_elements(By.CSS_SELECTOR, "svg.chart[data-variant=wide]")
    assert len(hidden) == 12 and not any(c.is_displayed() for c in hidden)
    assert driver.execute_script("return document.documentElement.scrollWidth") <= driver.execute_script(
        "return document.documentElement.clientWidth"
    )
    # printed, even from a phone, the page has the wide charts
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    assert all(c.is_displayed() for c in hidden)
    assert not any(
        c.is_displayed() for c in driver.find_elements(By.CSS_SELECTOR, "svg[data-variant=compact]")
    )


@pytest.mark.parametrize("width", [1200, 700])
def test_on_a_desktop_the_wide_charts_show(driver: Any, awkward_url: str, width: int) -> None:
    from selenium.webdriver.common.by import By

    driver.set_window_size(width, 900)
    driver.get(awkward_url)
    charts = _shown_charts(driver)
    assert len(charts) == 12
    for chart, seen in charts:
        where = (chart.get_attribute("aria-label"), seen)
        assert seen["variant"] == "wide" and chart.get_dom_attribute("viewBox").startswith("0 0 560 "), where
        assert seen["scale"] > 0.9 and seen["other"] >= 11 and seen["axis"] >= 10, where
        assert seen["overlaps"] == [] and seen["outside"] == [] and seen["onPoints"] == [], where
    compact = driver.find_elements(By.CSS_SELECTOR, "svg.chart[data-variant=compact]")
    assert len(compact) == 12 and not any(c.is_displayed() for c in compact)


# Where the lines of an element's text start: the index (in its textContent) of each character whose box
# sits lower than the one before it.
LINE_STARTS = """
const starts = [], walker = document.createTreeWalker(arguments[0], NodeFilter.SHOW_TEXT);
let at = 0, top = null;
for (let node = walker.nextNode(); node; node = walker.nextNode()) {
  for (let i = 0; i < node.length; i++, at++) {
    const range = document.createRange();
    range.setStart(node, i);
    range.setEnd(node, i + 1);
    const rect = range.getBoundingClientRect();
    if (!rect.width) continue;
    if (top !== null && rect.top > top + 2) starts.push(at);
    top = rect.top;
  }
}
return starts;
"""


@pytest.mark.parametrize("width", [1366, 390])
def test_long_node_ids_wrap_between_their_parts(driver: Any, tmp_path: Path, width: int) -> None:
    """The overview table cut node ids anywhere ("test_catalog_s / ymmetric_answers"): they wrap after "/"
    and "::", before a parameter's "[", and in a piece too long for a line after an "_"."""
    from selenium.webdriver.common.by import By

    long_ids = [
        "examples/test_catalog_mitigated.py::test_catalog_symmetric_answers_both_ways",
        "tests/retrieval_quality/test_catalog_answers_in_both_directions_for_every_supplier.py::"
        "test_reverse_lookup_for_supplier_catalog_pages_indexed_as_written[acme-industrial-pumps-europe]",
    ]
    report = sample_report()
    for nodeid in long_ids:
        probe = _reverse().model_copy(deep=True)
        probe.nodeid = nodeid
        report.probes.append(probe)
    report.summary = report.counts()
    write_reports(tmp_path / "ids", report)
    driver.set_window_size(width, 900)
    driver.get((tmp_path / "ids" / "report.html").as_uri())
    cells = driver.find_elements(By.CSS_SELECTOR, "nav.toc td:nth-child(2) code")
    heads = driver.find_elements(By.CSS_SELECTOR, "section.probe h2 code")
    wrapped = 0
    for element in cells + heads:
        text = element.text.replace("\n", "")
        assert text in {p.nodeid for p in report.probes}  # <wbr> adds no character (copy-paste stays whole)
        for start in driver.execute_script(LINE_STARTS, element):
            wrapped += 1
            assert text[start - 1] in "/:_-" or text[start] == "[", (width, text[:start], text[start:])
    assert wrapped >= 4  # the long ones did wrap, at 1366 px in the table
    assert driver.execute_script("return document.documentElement.scrollWidth") <= width

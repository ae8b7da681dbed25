"""Right-to-left answers and questions in report.html's example tables, in headless chromium.

Skips where selenium, chromium or chromedriver is missing (the ``driver`` fixture of test_html_browser).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_html_browser import _reverse, driver, sample_report  # noqa: F401  (driver: a fixture)

from pytest_ragprobe.reporting import write_reports

# "Pump P-200 is compatible with controller C-17." in Hebrew: read right to left, P-200 comes first (right)
ANSWER = "המשאבה P-200 תואמת לבקר C-17."
QUESTION = "איזו משאבה תואמת לבקר C-17?"

# the x of the first character of each needle in the element's text, as laid out
LEFT_OF = """
const el = arguments[0], out = {};
const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
for (let node = walker.nextNode(); node; node = walker.nextNode()) {
  for (const needle of arguments[1]) {
    const at = node.data.indexOf(needle);
    if (at < 0) continue;
    const range = document.createRange();
    range.setStart(node, at);
    range.setEnd(node, at + needle.length);
    out[needle] = range.getBoundingClientRect().left;
  }
}
return out;
"""


@pytest.mark.parametrize("width", [1200, 390])
def test_right_to_left_answers_read_in_their_order(driver: Any, tmp_path: Path, width: int) -> None:  # noqa: F811
    """A Hebrew answer in the "got" cell was laid out in the page's left-to-right direction: its runs came
    in the wrong order for a right-to-left reader ("C-17" right of "P-200", the full stop at the far
    right), the question's too. Each untrusted text now takes its own direction (<bdi>), and the cell's
    label on a phone stays where it is."""
    from selenium.webdriver.common.by import By

    probe = _reverse().model_copy(deep=True)
    probe.examples = [{**probe.examples[0], "question": QUESTION, "answer": ANSWER, "expected": ["P-17"]}]
    report = sample_report()
    report.probes = [probe]
    report.summary = report.counts()
    write_reports(tmp_path / "rtl", report)
    driver.set_window_size(width, 900)
    driver.get((tmp_path / "rtl" / "report.html").as_uri())
    got = driver.find_element(By.CSS_SELECTOR, 'table.examples td[data-label="got"]')
    x = driver.execute_script(LEFT_OF, got, ["P-200", "C-17", "."])
    assert x["C-17"] < x["P-200"], x  # read right to left: P-200 first
    assert x["."] < x["C-17"], x  # the full stop ends the sentence, at its left
    question = driver.find_element(By.CSS_SELECTOR, 'table.examples td[data-label="question"]')
    x = driver.execute_script(LEFT_OF, question, ["C-17", "?"])
    assert x["?"] < x["C-17"], x
    if width < 600:  # the cell keeps its label
        label = driver.execute_script("return getComputedStyle(arguments[0], '::before').content", got)
        assert label == '"got: "'
    expected = driver.find_element(By.CSS_SELECTOR, 'table.examples td[data-label="expected"]')
    assert expected.text.endswith("P-17")

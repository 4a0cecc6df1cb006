"""Accessibility basics checked in the browser on every page the screenshot tests visit.

audit.js checks the page as it is: one h1; a label for every form control; aria-describedby and
aria-labelledby pointing at elements that exist; errors tied to their inputs; alt text on
images; links that go somewhere and buttons that are buttons; no positive tabindex; unique ids;
text contrast of 4.5:1 (3:1 for large text) against what is really behind it. Then the Tab key
walks the page and every element it reaches must show a focus indicator.
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page

AUDIT = (Path(__file__).parent / "audit.js").read_text()
FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2 &&
    style.outlineColor !== "transparent" && !/, 0\\)$/.test(style.outlineColor);
  const ring = style.boxShadow && style.boxShadow !== "none";
  return {tag: el.outerHTML.slice(0, 100), visible: outline || !!ring};
}"""


def assert_accessible(page: Page, tabs: int = 12) -> None:
    problems = page.evaluate(AUDIT)
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    for _ in range(tabs):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        if focused and not focused["visible"]:
            problems.append(f"no visible focus: {focused['tag']}")
    assert not problems, f"{page.url}:\n" + "\n".join(problems)

"""Keyboard-only use of a page: where Tab goes, and whether the focused element shows it (WCAG 2.1.1, 2.4.7)."""

from __future__ import annotations

from typing import Final

from playwright.sync_api import Page

#: The thinnest outline counted as a visible focus indicator, in CSS px (the browsers' own thin ring is 1 px).
MIN_OUTLINE_PX: Final = 2


def focused(page: Page) -> str:
    """The id of the element that has focus ("" when it has none)."""
    return str(page.evaluate("() => document.activeElement.id"))


def outline(page: Page) -> float:
    """The width of the focused element's outline, in CSS px (0 when it has none)."""
    style, width = page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement); return [s.outlineStyle, s.outlineWidth] }"
    )
    return 0.0 if style == "none" else float(width.removesuffix("px"))


def press_tab(page: Page, key: str = "Tab") -> str:
    """Press Tab (or Shift+Tab); the new focus must show a visible outline. Returns the focused element's id."""
    page.keyboard.press(key)
    assert outline(page) >= MIN_OUTLINE_PX, (
        f"no visible focus indicator on {page.evaluate('() => document.activeElement.outerHTML')[:200]}"
    )
    return focused(page)


def tab_to(page: Page, selector: str, limit: int = 80) -> None:
    """Press Tab until ``selector`` has focus; every stop on the way shows a visible focus outline."""
    for _ in range(limit):
        press_tab(page)
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")

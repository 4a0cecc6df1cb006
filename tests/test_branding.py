"""Brand colours stay readable: text on the brand colour, and the brand colour as text."""

import pytest

from tenants.branding import CANVAS, WHITE, contrast_ratio, contrast_text, readable_ink

COLOURS = ["#fde047", "#e11d48", "#0f766e", "#4f46e5", "#f59e0b", "#22c55e", "#38bdf8",
           "#ffffff", "#000000", "#808080", "#6b7280", "#ff0000"]  # fmt: skip


@pytest.mark.parametrize("colour", COLOURS)
def test_text_on_the_brand_colour_reaches_aa(colour):
    assert contrast_ratio(colour, contrast_text(colour)) >= 4.5


@pytest.mark.parametrize("colour", COLOURS)
def test_brand_ink_reads_on_cards_and_on_the_canvas(colour):
    ink = readable_ink(colour)
    assert contrast_ratio(ink, WHITE) >= 4.5
    assert contrast_ratio(ink, CANVAS) >= 4.5


def test_dark_enough_brand_colours_are_kept_as_they_are():
    assert readable_ink("#0f766e") == "#0f766e"
    assert readable_ink("#4f46e5") == "#4f46e5"
    assert contrast_text("#4f46e5") == "#ffffff"
    assert contrast_text("#fde047") == "#0f172a"

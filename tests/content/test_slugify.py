"""Slugs for report URLs."""

import pytest

from app.content import slugify


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("Al-Qaeda's 2025 Outlook", "al-qaedas-2025-outlook"),
        ("Al-Qaeda\u2019s 2025 Outlook", "al-qaedas-2025-outlook"),
        ("  Energy:  Gas & Oil -- Q3  ", "energy-gas-oil-q3"),
        ("Côte d'Ivoire après l'élection", "cote-divoire-apres-lelection"),
        ("Die Straße nach Øresund", "die-strasse-nach-oresund"),
        ("UPPER case", "upper-case"),
    ],
)
def test_slugs_are_ascii_lowercase_and_hyphenated(title: str, slug: str):
    assert slugify(title) == slug


@pytest.mark.parametrize("title", ["", "   ", "!!!", "中文标题"])
def test_a_title_with_nothing_usable_becomes_report(title: str):
    assert slugify(title) == "report"


def test_long_slugs_are_shortened_at_a_word_boundary():
    slug = slugify("alpha beta gamma delta", max_length=13)

    assert slug == "alpha-beta"


def test_a_single_long_word_is_cut_hard():
    assert slugify("a" * 200) == "a" * 120


def test_slugs_never_exceed_max_length():
    assert len(slugify("word " * 100, max_length=50)) <= 50

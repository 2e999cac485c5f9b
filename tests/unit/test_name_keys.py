"""Names across transliterations (workers.name_keys)."""

from __future__ import annotations

import pytest

from workers.name_keys import NameKeys, name_key


@pytest.mark.parametrize(("one", "other"), [
    ("belgorod", "bielgorodshchinu"),  # Ukrainian Бєлгородщину
    ("grayvoron", "grayvorone"),
    ("kharkov", "kharkiv"),
    ("alexei", "oleksiya"),
    ("crimea", "krimu"),
    ("moscow", "moskva"),
])
def test_one_name_in_two_transliterations_has_one_key(one: str, other: str) -> None:
    keys = NameKeys()
    keys.add(one)
    assert keys.match(other) == name_key(other)


@pytest.mark.parametrize(("one", "other"), [("belgorod", "belgium"), ("prigozhin", "progress"), ("putin", "petrov")])
def test_different_names_have_different_keys(one: str, other: str) -> None:
    keys = NameKeys()
    keys.add(one)
    assert keys.match(other) is None


def test_a_name_of_too_few_consonants_has_no_key() -> None:
    assert name_key("rosii") is None and name_key("oleg") is None
    keys = NameKeys()
    keys.add("rosii")
    assert keys.match("rosii") is None

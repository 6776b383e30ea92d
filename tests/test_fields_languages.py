"""Rates and dates in the languages added after the first extractors: German, Italian, French."""

from __future__ import annotations

import datetime as dt

import pytest

from policywatch.extract.dates import effective_date
from policywatch.extract.rates import NEW, OLD, find_rates


@pytest.mark.parametrize(
    ("text", "old", "new"),
    [
        ("Der Normalsatz steigt von 7,7 % auf 8,1 %.", 7.7, 8.1),
        ("Il dazio passa dal 10% al 0% per i prodotti industriali.", 10.0, 0.0),
        ("Le taux passe de 5 % à 35 % pour les marchandises visées.", 5.0, 35.0),
    ],
)
def test_a_rate_change_names_old_and_new(text, old, new):
    roles = {m.role: m.value for m in find_rates(text)}
    assert roles[OLD] == old and roles[NEW] == new


def test_a_list_of_rates_is_not_a_change():
    assert {m.role for m in find_rates("Tariffs of 10%, 15% and 25% apply to the three lists.")} == {"rate"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("A partire dal 1° gennaio 2024 la Svizzera sopprime i dazi doganali.", "2024-01-01"),
        ("Il regolamento entra in vigore il 14 dicembre 2027.", "2027-12-14"),
        ("Ab dem 1. Januar 2024 gilt der Normalsatz von 8,1 %.", "2024-01-01"),
        ("À compter du 3 mars 2022, les marchandises sont assujetties au tarif général.", "2022-03-03"),
    ],
)
def test_effective_dates(text, expected):
    assert effective_date(text, dt.date(2023, 6, 1)).isoformat() == expected

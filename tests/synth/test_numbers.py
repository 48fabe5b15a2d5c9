"""Numbers as papers write them: words, ranges, flattened exponents, percentages, units, and markers."""

from __future__ import annotations

import pytest

from sciresearcher.synth.numbers import numbers_in, quantities, read_numbers, states


@pytest.mark.parametrize(("value", "text", "unit"), [
    (10, "The incidence was eight to ten per 100,000 persons.", None),
    (8, "The incidence was eight to ten per 100,000 persons.", None),
    (1e-4, "The incidence was eight to ten per 100,000 persons.", None),
    (10000, "Mice were infected with 104 p.f.u. of virus.", None),
    (1e-6, "Dilutions of 10−6 − 10−4 were plated.", None),
    (1e-4, "Dilutions of 10−6 − 10−4 were plated.", None),
    (2.5e6, "Cells (2.5 × 10(6)) were seeded.", None),
    (2e4, "We seeded 2 x 104 cells per well.", None),
    (-2.5, "The sample was held at −2.5 °C.", None),
    (0.45, "Of the patients, 45% responded.", None),
    (0.5, "at least one in every two patients", None),
    (20, "doses of 10–20 mg/kg were given", None),
    (0.005, "a dose of 5 mg was given", "g"),
    (12400, "IL-6 rose to 12,400 pg/mL", None),
    (2.5e6, "about 2.5 million cells", None),
    (25, "twenty-five mice were used", None),
])
def test_values_written_the_way_papers_write_them_are_found(value, text, unit):
    assert states(value, text, unit)


def test_identifiers_and_ranges_are_not_negative_numbers_and_markers_are_tagged():
    text = "IL-6 and CD4 counts (n = 24) were 10–20 in 2010 [12], see Fig. 3 and Eq. (2); P < 0.05."
    assert -6 not in numbers_in(text) and 4 not in numbers_in(text) and -20 not in numbers_in(text)
    tags = {w.text: w.marker for w in read_numbers(text)}
    assert tags["2010"] == "year" and tags["12"] == "citation" and tags["3"] == "reference"
    assert tags["2"] == "reference" and tags["0.05"] == "reference" and tags["24"] is None
    assert [w.value for w in quantities(text)] == [24, 10, 20]


def test_a_value_not_written_is_not_found():
    assert not states(11, "eight to ten per 100,000")
    assert not states(0.006, "a dose of 5 mg", "g")
    assert 2 not in numbers_in("What is the sum of the two values?", words=False)

"""Answer checks that read answers as a careful grader would, and entity mentions as papers write them."""

from __future__ import annotations

import pytest

from sciresearcher.synth.answer_match import answer_matches
from sciresearcher.synth.mentions import identifies, names


@pytest.mark.parametrize(("gold", "answer"), [
    ("mitochondrial permeability transition pore", "the mitochondrial permeability transition pore (PTP)"),
    ("mitochondrial permeability transition pore (PTP)", "PTP"),
    ("one in every two", "at least one in every two (i.e., at least half)"),
    ("BMI", "Body mass index (BMI)"),
    ("obstructive sleep apnoea", "Obstructive sleep apnea"),
    ("triage nurses", "triage nurse"),
    ("tumour necrosis factor", "Tumor necrosis factors"),
    ("insufficient response or toxicity", "Insufficient response to, or toxicity of, first-line chemotherapy"),
])
def test_correct_answers_written_differently_match(gold, answer):
    assert answer_matches(gold, answer)


@pytest.mark.parametrize(("gold", "answer"), [("apoptosis", "necrosis"), ("BMI", "body weight"),
                                              ("leptin", ""), ("interleukin 6", "interleukin 1"),
                                              ("insulin resistance", "no insulin resistance")])
def test_wrong_answers_do_not(gold, answer):
    assert not answer_matches(gold, answer)


def test_mentions_and_identification():
    assert names("Patients with obstructive sleep apnoea (OSA) snore.", "obstructive sleep apnea")
    assert names("OSA was common.", "obstructive sleep apnea (OSA)") and not names("osa", "x (OSA)")
    assert not identifies("Eosinophil counts in induced sputum samples also were performed.", "Sputum")
    assert not identifies("However, in 32 patients (32%) at least 1 polyp was found.", "Polyps")
    assert identifies("Leptin is a hormone secreted by adipocytes.", "Leptin")
    assert identifies("Sputum, a mixture of mucus and saliva, is coughed up from the airways.", "Sputum")
    assert identifies("The mitochondrial permeability transition pore (PTP) opens under stress.",
                      "mitochondrial permeability transition pore (PTP)")

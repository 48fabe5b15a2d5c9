"""Graders on each answer format, including the hard cases the issue names."""

from __future__ import annotations

import pytest

from sciresearcher.grade.answers import extract_choice, extract_choice_set, parse_number
from sciresearcher.grade.graders import grade
from sciresearcher.records import FinalAnswer, Task

OPTS = ["Hexokinase", "Phosphofructokinase-1", "Pyruvate kinase", "None of the above"]
MC = Task(id="mc", question="q", answer="B", answer_type="multipleChoice", options=OPTS)


def fa(answer: str) -> str:
    return f"Explanation: x\nAnswer: {answer}\nConfidence: 70%"


@pytest.mark.parametrize("response,correct", [
    (fa("B"), True), (fa("(B)"), True), (fa("B."), True), (fa("\\boxed{B}"), True),
    (fa("B. Phosphofructokinase-1"), True), (fa("Phosphofructokinase-1"), True),
    (fa("The answer is B"), True), (fa("C"), False), (fa("A"), False),
    ("I think \\boxed{A} no wait \\boxed{B}", True),  # several boxed: the last one
])
def test_multiple_choice(response, correct):
    g = grade(MC, response)
    assert g.correct is correct and g.method == "multiple_choice"


def test_letter_inside_a_word_is_not_an_answer():
    assert extract_choice("Because the enzyme is allosteric", OPTS) is None
    g = grade(MC, fa("Because the enzyme is allosteric"))
    assert not g.correct and "no single option letter" in g.reason


def test_none_of_the_above_matches_its_option():
    task = MC.model_copy(update={"answer": "D"})
    assert grade(task, fa("none of the above")).correct
    assert not grade(MC, fa("none of the above")).correct


@pytest.mark.parametrize("text,expected", [
    ("ACD", {"A", "C", "D"}), ("A, C and D", {"A", "C", "D"}), ("\\boxed{A,C}", {"A", "C"}),
    ("(A)(C)", {"A", "C"}), ("Options B and D", {"B", "D"}), ("the cell cycle", None),
])
def test_extract_choice_set(text, expected):
    assert extract_choice_set(text, 6) == expected


def test_multi_select_exact_set_order_insensitive():
    task = Task(id="ms", question="q", answer="BCD", answer_type="multiSelect", options=list("abcdef"))
    assert grade(task, fa("D, B, C")).correct
    assert not grade(task, fa("BC")).correct
    assert not grade(task, fa("ABCD")).correct


@pytest.mark.parametrize("text,value", [
    ("1.0e-3", 1e-3), ("0.001", 1e-3), ("1.0 \\times 10^{-3}", 1e-3), ("$2.5\\times10^{4}$ M", 2.5e4),
    ("-3.2 kJ/mol", -3.2), ("1,234.5", 1234.5), ("10^{-3}", 1e-3),
])
def test_parse_number(text, value):
    assert parse_number(text)[0] == pytest.approx(value)


def test_numeric_tolerance_and_units():
    task = Task(id="n", question="q", answer="0.001", answer_type="numeric", unit="M", tolerance=0.01)
    assert grade(task, fa("1.0e-3")).correct
    assert grade(task, fa("1 mM")).correct  # converted with pint
    assert grade(task, fa("1.005e-3 M")).correct
    assert not grade(task, fa("1.05e-3 M")).correct
    g = grade(task, fa("about one thousandth"))
    assert not g.correct and "no number" in g.reason
    kj = Task(id="k", question="q", answer="-285.8", answer_type="numeric", unit="kJ/mol", tolerance=0.01)
    assert grade(kj, fa("-285800 J/mol")).correct


def test_exact_match_normalisation_and_formulas():
    t = Task(id="e", question="q", answer="H2O", answer_type="exactMatch")
    assert grade(t, fa("$\\mathrm{H_2O}$")).correct and grade(t, fa("H₂O")).correct
    co = Task(id="c", question="q", answer="CO", answer_type="exactMatch")
    assert not grade(co, fa("Co")).correct or grade(co, fa("Co")).reason.startswith("equal after")
    name = Task(id="n", question="q", answer="The p53 protein", answer_type="exactMatch")
    assert grade(name, fa("p53 protein.")).correct


def test_yes_no_maybe():
    t = Task(id="y", question="q", answer="maybe", answer_type="yesNo")
    assert grade(t, fa("Maybe.")).correct and not grade(t, fa("yes")).correct


def test_missing_and_unparseable_answers_are_wrong_with_reason():
    g = grade(MC, None)
    assert not g.correct and g.reason == "no final answer"
    g = grade(MC, FinalAnswer(answer=None, raw="blah"))
    assert not g.correct and "no readable answer" in g.reason


# ---- further hard cases (evaluation engineer)

from sciresearcher.grade.answers import explain_choice


@pytest.mark.parametrize("answer,expected", [
    ("A protein kinase phosphorylates it", None),      # the article "A" is not option A
    ("Cells divide", None),                             # a capital letter inside a word
    ("Answer: none of the above", None),                # not an option text here -> no letter
    ("(C) Pyruvate kinase", "C"), ("**C**", "C"), ("Option c", "C"), ("c", "C"),
    ("I'd pick B, not C", None),                        # two letters: ambiguous
    ("\\boxed{\\text{B}}", "B"),
])
def test_choice_extraction_hard_cases(answer, expected):
    letter, reason = explain_choice(answer, OPTS[:3])
    assert letter == expected, reason
    if expected is None:
        assert reason  # always says why


def test_unparseable_mc_records_reason():
    task = Task(id="m3", question="q", answer="A", answer_type="multipleChoice", options=OPTS[:3])
    g = grade(task, fa("none of the above"))
    assert not g.correct and g.reason.startswith("unparseable") and g.extracted is None


@pytest.mark.parametrize("answer,correct", [
    ("1.0e-3", True), ("0.001", True), ("1.0 \\times 10^{-3}", True), ("$1\\times10^{-3}$ M", True),
    ("1 mmol/L", True), ("1000 µM", True), ("0.1 M", False), ("1e-3 kg", False),
])
def test_numeric_notation_and_units(answer, correct):
    task = Task(id="n2", question="q", answer="0.001", answer_type="numeric", unit="M", tolerance=0.01)
    g = grade(task, fa(answer))
    assert g.correct is correct, g.reason


def test_numeric_scibench_scaled_units():
    task = Task(id="s", question="q", answer="9.13", answer_type="numeric", unit=" $10^{-35} \\mathrm{~J} \\mathrm{~s}$",
                tolerance=0.05)
    assert grade(task, fa("9.13e-35 J s")).correct
    assert grade(task, fa("9.1 \\times 10^{-35} J*s")).correct
    assert grade(task, fa("9.13")).correct  # the number in the stated unit
    assert not grade(task, fa("9.13e-34 J s")).correct
    temp = Task(id="t", question="q", answer="298.15", answer_type="numeric", unit="K", tolerance=0.001)
    assert grade(temp, fa("25 °C")).correct


def test_exact_match_formulas_keep_case_and_order():
    t = Task(id="f", question="q", answer="Ca(OH)2", answer_type="exactMatch")
    assert grade(t, fa("CaO2H2")).correct and grade(t, fa("$\\mathrm{Ca(OH)_2}$")).correct
    co = Task(id="co", question="q", answer="CO", answer_type="exactMatch")
    assert not grade(co, fa("Co")).correct


# ---- multi-select in any case / order / separator, SciFact labels, options apart by sign, unit letters

MS = Task(id="ms2", question="q", answer="BCD", answer_type="multiSelect",
          options=["cytosine", "adenine", "guanine", "hypoxanthine", "uracil"])


@pytest.mark.parametrize("answer", [
    "BCD", "bcd", "b, c, d", "D, b and C", "d; c; b", "B/C/D", "\\boxed{b,c,d}", "**B, C, D**", "(B) (C) (D)",
    "The correct options are B, C and D.", "adenine, guanine and hypoxanthine", "B. adenine\nC. guanine\nD. hypoxanthine",
])
def test_multi_select_formatting_variants(answer):
    g = grade(MS, fa(answer))
    assert g.correct, g.reason


@pytest.mark.parametrize("answer", ["BC", "bcde", "A, B, C, D", "adenine and guanine", "the purines"])
def test_multi_select_wrong_or_unreadable(answer):
    assert not grade(MS, fa(answer)).correct


@pytest.mark.parametrize("answer,letter", [
    ("SUPPORT", "A"), ("CONTRADICT", "B"), ("NOT ENOUGH INFO", "C"), ("Not enough info", "C"), ("**SUPPORT**", "A"),
    ("SUPPORT: the evidence supports the claim", "A"),
])
def test_scifact_label_only_answers(answer, letter):
    from sciresearcher.tasks.loaders import SCIFACT_OPTIONS

    task = Task(id="sf", question="q", answer=letter, answer_type="multipleChoice", options=SCIFACT_OPTIONS)
    g = grade(task, fa(answer))
    assert g.correct and g.extracted == letter, g.reason


def test_option_texts_that_differ_only_by_sign_or_punctuation():
    temps = Task(id="t", question="q", answer="B", answer_type="multipleChoice",
                 options=["78 °C", "-78 °C", "-196 °C", "0 °C"])
    for answer in ("-78 °C", "−78 °C", "$-78^\\circ$C", "-78 C", "The answer is -78 °C"):
        g = grade(temps, fa(answer))
        assert g.correct and g.extracted == "B", (answer, g.reason)
    assert grade(temps, fa("78 °C")).extracted == "A"
    ends = Task(id="e", question="q", answer="C", answer_type="multipleChoice", options=["5'-3'", "3'-5'", "5',3'"])
    assert grade(ends, fa("5',3'")).correct and grade(ends, fa("5'-3'")).extracted == "A"


@pytest.mark.parametrize("answer", ["-78 C", "77 K", "25 °C", "at 300 K"])
def test_a_unit_letter_after_a_number_is_not_an_option_letter(answer):
    task = Task(id="u", question="q", answer="C", answer_type="multipleChoice",
                options=["-196", "0", "25", "100", "200", "273", "300", "373", "400", "500", "600"])
    letter, reason = explain_choice(answer, task.options)
    assert letter is None, reason
    assert not grade(task, fa(answer)).correct


def test_boxed_and_bold_free_form_and_yes_no():
    ex = Task(id="x", question="q", answer="RuBisCO", answer_type="exactMatch")
    assert grade(ex, fa("\\boxed{RuBisCO}")).correct and grade(ex, fa("**rubisco**")).correct
    yn = Task(id="y", question="q", answer="no", answer_type="yesNo")
    assert grade(yn, fa("\\boxed{no}")).correct and grade(yn, fa("**No.**")).correct


@pytest.mark.parametrize("answer", [
    "1e99999", "-1e400 mol", "2 \\times 10^{9999} kJ/mol", "10^{400}", "0e999", "0 \\times 10^{999} K",
    "3 10^{500} J", "1e" + "9" * 5000, "1e-" + "9" * 5000, "9" * 400 + ".5 K", "10^{-99999}",
])
def test_numeric_answers_with_absurd_exponents_grade_wrong_without_raising(answer):
    """The policy writes these answers during GRPO: one OverflowError in the reward killed a run (seed 2)."""
    task = Task(id="t", question="q", answer="351.2", answer_type="numeric", unit="K")
    result = grade(task, FinalAnswer(answer=answer))
    assert result.correct is False
    assert result.extracted is not None


def test_pow10_saturates():
    from sciresearcher.grade.numeric import pow10

    assert pow10("3") == 1000.0 and pow10("-2") == 0.01 and pow10("+0") == 1.0
    assert pow10("309") == float("inf") and pow10("-401") == 0.0 and pow10("9" * 5000) == float("inf")


def test_grading_is_total_on_random_model_text():
    """Every answer type grades any string without raising: a grader exception inside a reward kills training."""
    import random

    rng = random.Random(0)
    pieces = ["1", "0", "9", ".", "e", "E", "-", "+", "^", "{", "}", "10", "\\times", "\\frac{", "$", " ", "K",
              "kJ/mol", "°C", "mol", ",", "A", "B", "(", ")", "**", "x", "×", "\\boxed{", "%", "/", "999"]
    tasks = [
        Task(id="n", question="q", answer="351.2", answer_type="numeric", unit="K"),
        Task(id="s", question="q", answer="3.5 \\times 10^{-3}", answer_type="numeric", unit="10^{-3} J s"),
        Task(id="m", question="q", answer="B", answer_type="multipleChoice", options=["x", "y", "z"]),
        Task(id="e", question="q", answer="C6H14", answer_type="exactMatch"),
    ]
    for _ in range(1000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 14)))
        for task in tasks:
            assert grade(task, FinalAnswer(answer=text)).correct in (True, False)

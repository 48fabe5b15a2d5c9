"""Biology question shapes over cited records: sequences (Biopython), enzyme kinetics, buffers, dilutions,
population genetics and growth.

Each function takes a seeded RNG and the fact documents by kind and returns a `Draft` whose values come from
the records of `records_bio.py`, so none can be answered without reading them. Sequence properties are computed
with Biopython (`ProteinAnalysis` molecular weight, isoelectric point and extinction coefficient, `gc_fraction`,
`Tm_Wallace`, `Seq.translate`, `molecular_weight`), the rest with the stated formula. Conditions are drawn
where the question is well posed (substrate and inhibitor concentrations positive, a buffer inside pKa +/- 1
after the addition, a dilution that dilutes).
"""

from __future__ import annotations

import random

from sciresearcher.records import Document
from sciresearcher.synth.draft import N_A, Docs, Draft, TemplateFn, fact, facts_of, rounded


def _by_code(docs: Docs, kind: str, code: str) -> Document | None:
    return next((d for d in docs[kind] if d.metadata["code"] == code), None)


def _bio(template: str, q: str, formula: str, unit: str, facts: dict, given: dict, entity: str,
         conversions: int = 0, state: dict | None = None) -> Draft:
    return Draft(template, q, formula, unit, facts, given, entity, domain="biology", conversions=conversions,
                 state=state or {})


def peptide_nmol(rng: random.Random, docs: Docs) -> Draft | None:
    rec = rng.choice(docs["pep"])
    mass = rounded(rng.uniform(0.2, 5))
    q = (f"How many nanomoles of peptide construct {rec.metadata['code']} are in {mass:g} mg of the pure peptide "
         "(average molecular weight from its sequence)?")
    return _bio("peptide_nmol", q, "m / ProteinAnalysis(seq).molecular_weight() * 1e6", "nmol",
                facts_of(rec, seq="sequence"), {"m": mass}, rec.metadata["code"], conversions=1)


def peptide_pi(rng: random.Random, docs: Docs) -> Draft | None:
    rec = rng.choice(docs["pep"])
    q = (f"What is the predicted isoelectric point of peptide construct {rec.metadata['code']} (Biopython "
         "ProtParam, EMBOSS pK values)?")
    return _bio("peptide_pi", q, "ProteinAnalysis(seq).isoelectric_point()", "", facts_of(rec, seq="sequence"),
                {}, rec.metadata["code"])


def _uv_and_protein(rng: random.Random, docs: Docs) -> tuple[Document, Document] | None:
    uv = rng.choice(docs["uv"])
    pro = _by_code(docs, "pro", uv.metadata["target"])
    return (uv, pro) if pro is not None else None


def protein_mg_per_ml(rng: random.Random, docs: Docs) -> Draft | None:
    pair = _uv_and_protein(rng, docs)
    if pair is None:
        return None
    uv, pro = pair
    q = (f"Absorbance record {uv.metadata['code']} gives an A280 reading of construct {pro.metadata['code']}. "
         "Using the construct's extinction coefficient at 280 nm (all cysteines reduced) and molecular weight "
         "from its sequence, what is the protein concentration of the undiluted sample in mg/mL?")
    formula = ("A / (ProteinAnalysis(seq).molar_extinction_coefficient()[0] * l) * d"
               " * ProteinAnalysis(seq).molecular_weight()")
    return _bio("protein_mg_per_ml", q, formula, "mg/mL", {**facts_of(uv, A="a280", l="path", d="dilution"),
                                                           **facts_of(pro, seq="sequence")}, {},
                uv.metadata["code"], conversions=1)


def protein_micromolar(rng: random.Random, docs: Docs) -> Draft | None:
    pair = _uv_and_protein(rng, docs)
    if pair is None:
        return None
    uv, pro = pair
    q = (f"From the A280 reading in absorbance record {uv.metadata['code']} and the sequence of construct "
         f"{pro.metadata['code']} (extinction coefficient with reduced cysteines), what is the molar concentration "
         "of the undiluted protein, in micromolar?")
    formula = "A / (ProteinAnalysis(seq).molar_extinction_coefficient()[0] * l) * d * 1e6"
    return _bio("protein_micromolar", q, formula, "uM", {**facts_of(uv, A="a280", l="path", d="dilution"),
                                                         **facts_of(pro, seq="sequence")}, {}, uv.metadata["code"],
                conversions=1)


def primer_tm(rng: random.Random, docs: Docs) -> Draft | None:
    rec = rng.choice(docs["oli"])
    q = f"What is the Wallace-rule melting temperature (2 °C per A/T, 4 °C per G/C) of primer {rec.metadata['code']}, in °C?"
    return _bio("primer_tm", q, "Tm_Wallace(seq)", "°C", facts_of(rec, seq="sequence"), {}, rec.metadata["code"])


def primer_copies(rng: random.Random, docs: Docs) -> Draft | None:
    nd = rng.choice(docs["nd"])
    oli = _by_code(docs, "oli", nd.metadata["target"])
    if oli is None:
        return None
    vol = float(rng.choice((1, 2, 5, 10)))
    q = (f"Stock record {nd.metadata['code']} gives the concentration of a single-stranded stock of primer "
         f"{oli.metadata['code']}. How many primer molecules (in units of 10^12) are in {vol:g} uL of it (molecular "
         "weight of the single-stranded DNA from its sequence)?")
    formula = "c * v * 1e-9 / molecular_weight(seq, seq_type='DNA') * N_A / 1e12"
    return _bio("primer_copies", q, formula, "1e12 molecules", {**facts_of(nd, c="conc"),
                                                                **facts_of(oli, seq="sequence")},
                {"v": vol, "N_A": N_A}, nd.metadata["code"], conversions=1)


def orf_protein_mass(rng: random.Random, docs: Docs) -> Draft | None:
    rec = rng.choice(docs["orf"])
    q = (f"Translate the open reading frame of synthetic gene {rec.metadata['code']} (standard code, up to the stop "
         "codon). What is the average molecular weight of the encoded protein, in kDa?")
    return _bio("orf_protein_mass", q, "ProteinAnalysis(str(Seq(seq).translate(to_stop=True))).molecular_weight() / 1000",
                "kDa", facts_of(rec, seq="sequence"), {}, rec.metadata["code"], conversions=1)


def orf_gc(rng: random.Random, docs: Docs) -> Draft | None:
    rec = rng.choice(docs["orf"])
    q = (f"What is the GC content, in percent, of the open reading frame of synthetic gene {rec.metadata['code']} "
         "excluding its start and stop codons?")
    return _bio("orf_gc", q, "gc_fraction(seq[3:-3]) * 100", "%", facts_of(rec, seq="sequence"), {},
                rec.metadata["code"])


def mm_rate(rng: random.Random, docs: Docs) -> Draft | None:
    rec = rng.choice(docs["assay"])
    km = fact(rec, "Km").value  # type: ignore[union-attr]
    s_mm = rounded(km * rng.uniform(0.2, 5) / 1000)
    amount = rounded(rng.uniform(2, 50))
    q = (f"Using the Michaelis-Menten constants of {rec.metadata['enzyme']} preparation {rec.metadata['code']} "
         f"(assay record), what initial rate, in nmol/min, do {amount:g} ug of the preparation give at "
         f"{s_mm:g} mM {rec.metadata['substrate']}?")
    return _bio("mm_rate", q, "Vmax * (S * 1000) / (Km + S * 1000) * (m / 1000) * 1000", "nmol/min",
                facts_of(rec, Vmax="Vmax", Km="Km"), {"S": s_mm, "m": amount}, rec.metadata["code"], conversions=3)


def mm_inhibited(rng: random.Random, docs: Docs) -> Draft | None:
    ki = rng.choice(docs["ki"])
    rec = _by_code(docs, "assay", ki.metadata["target"])
    if rec is None:
        return None
    km, k_i = fact(rec, "Km").value, fact(ki, "Ki").value  # type: ignore[union-attr]
    s, i = rounded(km * rng.uniform(0.3, 3)), rounded(k_i * rng.uniform(0.5, 5))
    q = (f"Inhibition record {ki.metadata['code']} describes a competitive inhibitor of preparation "
         f"{rec.metadata['code']}. At {s:g} uM substrate and {i:g} uM inhibitor, what percentage of the "
         "uninhibited initial rate remains (use the preparation's Michaelis constant)?")
    formula = "(S / (Km * (1 + I / Ki) + S)) / (S / (Km + S)) * 100"
    return _bio("mm_inhibited", q, formula, "%", {**facts_of(rec, Km="Km"), **facts_of(ki, Ki="Ki")},
                {"S": s, "I": i}, ki.metadata["code"])


def kcat_km(rng: random.Random, docs: Docs) -> Draft | None:
    rec = rng.choice(docs["assay"])
    q = (f"From assay record {rec.metadata['code']} ({rec.metadata['enzyme']}: maximal velocity per mg, Michaelis "
         "constant, subunit molar mass, one active site per subunit), what is the specificity constant kcat/Km, in "
         "units of 10^4 M^-1 s^-1?")
    formula = "Vmax * Mw / 60 / (Km * 1e-6) / 1e4"
    return _bio("kcat_km", q, formula, "1e4 M^-1 s^-1", facts_of(rec, Vmax="Vmax", Mw="Mw", Km="Km"), {},
                rec.metadata["code"], conversions=2)


def two_point_km(rng: random.Random, docs: Docs) -> Draft | None:
    rec = rng.choice(docs["rate"])
    q = (f"Rate record {rec.metadata['code']} gives initial rates of a {rec.metadata['enzyme']} preparation at two "
         "substrate concentrations. Assuming Michaelis-Menten kinetics, what Km (in uM) do the two points imply?")
    formula = "S1 * S2 * (v2 - v1) / (v1 * S2 - v2 * S1)"
    return _bio("two_point_km", q, formula, "uM", facts_of(rec, S1="S1", v1="v1", S2="S2", v2="v2"), {},
                rec.metadata["code"])


def buffer_ph(rng: random.Random, docs: Docs) -> Draft | None:
    rec = rng.choice(docs["buf"])
    na, nb = fact(rec, "n_acid").value, fact(rec, "n_base").value  # type: ignore[union-attr]
    hcl = rounded(rng.uniform(0.05, 0.5) * min(nb, na))
    if not 0.1 < (nb - hcl) / (na + hcl) < 10:
        return None
    q = (f"To the buffer of record {rec.metadata['code']} ({rec.metadata['buffer']}), {hcl:g} mmol of HCl is added. "
         "Using the record's apparent pKa (Henderson-Hasselbalch, no volume effect on the ratio), what is the pH?")
    return _bio("buffer_ph", q, "pKa + math.log10((nb - x) / (na + x))", "",
                facts_of(rec, pKa="pKa", na="n_acid", nb="n_base"), {"x": hcl}, rec.metadata["code"],
                state={"buffer": {"ratio": (nb - hcl) / (na + hcl)}})


def serial_dilution(rng: random.Random, docs: Docs) -> Draft | None:
    rec = rng.choice(docs["stock"])
    v1, v_1 = float(rng.choice((5, 10, 20, 50))), float(rng.choice((1, 2, 5, 10)))
    v2, v_2 = float(rng.choice((2, 5, 10, 25))), float(rng.choice((0.5, 1, 2)))
    # every number follows a word that finds it ("twice:", "to", "then"): a question opening on its first volume gave
    # that number nothing before it, and the demo's student wrote a volume it remembered instead (docs/training.md)
    q = (f"The {rec.metadata['reagent']} stock of record {rec.metadata['code']} is diluted twice: {v1:g} uL of it to "
         f"{v_1:g} mL, then {v2:g} uL of that to {v_2:g} mL. What is the final concentration, in uM?")
    return _bio("serial_dilution", q, "c * 1000 * (a / (A * 1000)) * (b / (B * 1000))", "uM",
                facts_of(rec, c="conc"), {"a": v1, "A": v_1, "b": v2, "B": v_2}, rec.metadata["code"], conversions=3,
                state={"dilution": [v1 / (v_1 * 1000), v2 / (v_2 * 1000)]})


def hwe_inbreeding(rng: random.Random, docs: Docs) -> Draft | None:
    rec = rng.choice(docs["hwe"])
    q = (f"From the genotype counts of survey record {rec.metadata['code']}, what is the inbreeding coefficient "
         "F = 1 - Hobs/Hexp, with Hexp = 2pq from the sample's allele frequencies?")
    formula = "1 - (Aa / (AA + Aa + aa)) / (2 * ((2 * AA + Aa) / (2 * (AA + Aa + aa))) * (1 - (2 * AA + Aa) / (2 * (AA + Aa + aa))))"
    return _bio("hwe_inbreeding", q, formula, "", facts_of(rec, AA="AA", Aa="Aa", aa="aa"), {}, rec.metadata["code"])


def hwe_chi_square(rng: random.Random, docs: Docs) -> Draft | None:
    rec = rng.choice(docs["hwe"])
    q = (f"Test the genotype counts of survey record {rec.metadata['code']} against Hardy-Weinberg proportions: "
         "what is the chi-square statistic (expected counts from the sample's allele frequency, no continuity "
         "correction)?")
    n, p = "(AA + Aa + aa)", "((2 * AA + Aa) / (2 * (AA + Aa + aa)))"
    e_aa, e_het, e_bb = f"({p} ** 2 * {n})", f"(2 * {p} * (1 - {p}) * {n})", f"((1 - {p}) ** 2 * {n})"
    formula = f"(AA - {e_aa}) ** 2 / {e_aa} + (Aa - {e_het}) ** 2 / {e_het} + (aa - {e_bb}) ** 2 / {e_bb}"
    return _bio("hwe_chi_square", q, formula, "", facts_of(rec, AA="AA", Aa="Aa", aa="aa"), {}, rec.metadata["code"])


def doubling_time(rng: random.Random, docs: Docs) -> Draft | None:
    rec = rng.choice(docs["growth"])
    q = (f"From the two OD600 readings of growth record {rec.metadata['code']} ({rec.metadata['strain']}), what is "
         "the culture's doubling time, in minutes?")
    return _bio("doubling_time", q, "(t2 - t1) * math.log(2) / math.log(od2 / od1)", "min",
                facts_of(rec, od1="od1", od2="od2", t1="t1", t2="t2"), {}, rec.metadata["code"])


def time_to_od(rng: random.Random, docs: Docs) -> Draft | None:
    rec = rng.choice(docs["growth"])
    od2 = fact(rec, "od2").value  # type: ignore[union-attr]
    target = rounded(min(od2 * rng.uniform(1.5, 4), 0.8))
    if target <= od2:
        return None
    q = (f"If the culture of growth record {rec.metadata['code']} keeps growing exponentially at the rate of its "
         f"two readings, how many hours after the second reading will it reach OD600 = {target:g}?")
    formula = "(t2 - t1) * math.log(target / od2) / math.log(od2 / od1) / 60"
    return _bio("time_to_od", q, formula, "h", facts_of(rec, od1="od1", od2="od2", t1="t1", t2="t2"),
                {"target": target}, rec.metadata["code"], conversions=1)


BIO_SHAPES: dict[str, TemplateFn] = {f.__name__: f for f in (
    peptide_nmol, peptide_pi, protein_mg_per_ml, protein_micromolar, primer_tm, primer_copies, orf_protein_mass,
    orf_gc, mm_rate, mm_inhibited, kcat_km, two_point_km, buffer_ph, serial_dilution, hwe_inbreeding, hwe_chi_square,
    doubling_time, time_to_od)}

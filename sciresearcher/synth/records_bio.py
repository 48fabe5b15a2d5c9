"""Seeded biology records: sequences, assays, buffers, stocks, surveys and growth curves as citable documents.

Each record is a short `Document` (id `record:<kind>:<code>`) whose values exist nowhere else, so a task built
on it needs it:

- `pep`, `pro`, `oli`, `orf`: a peptide, an expression construct, a DNA primer and an open reading frame, each
  with its sequence (Biopython computes their masses, pI, extinction coefficients, GC content, Tm, translation);
- `uv`: the A280 reading of a purified construct (with its path length and dilution); `nd`: a primer stock's
  concentration in ng/uL;
- `assay`: Michaelis-Menten constants (Km, Vmax) and the subunit mass of an enzyme preparation; `rate`: two
  initial rates of a preparation at two substrate concentrations; `ki`: a competitive inhibitor's Ki;
- `buf`: a buffer's preparation (acid and base amounts, volume, temperature) and its apparent pKa there;
- `stock`: a reagent stock's concentration; `hwe`: genotype counts of a population survey; `growth`: two
  OD600 readings of an exponentially growing culture.

Values are synthetic, drawn with a fixed seed, and labelled so (`source`, `license`). The enzyme, buffer and
organism names are real, so questions read naturally, but every number is the record's own. It writes no
questions (see `shapes_bio.py`).
"""

from __future__ import annotations

import math
import random

from sciresearcher.records import Document
from sciresearcher.synth.facts import Builder
from sciresearcher.synth.records_chem import LICENSE, SOURCE

AMINO = "ACDEFGHIKLMNPQRSTVWY"
AMINO_WEIGHTS = (8.3, 1.4, 5.5, 6.8, 3.9, 7.1, 2.3, 5.9, 5.8, 9.7, 2.4, 4.1, 4.7, 3.9, 5.3, 6.6, 5.3, 6.9, 1.1, 2.9)
CODONS = [a + b + c for a in "TCAG" for b in "TCAG" for c in "TCAG" if a + b + c not in ("TAA", "TAG", "TGA")]
ENZYMES = (("hexokinase", "glucose"), ("lactate dehydrogenase", "pyruvate"),
           ("alkaline phosphatase", "p-nitrophenyl phosphate"), ("beta-galactosidase", "ONPG"),
           ("acetylcholinesterase", "acetylthiocholine"), ("carbonic anhydrase", "p-nitrophenyl acetate"),
           ("chymotrypsin", "Suc-AAPF-pNA"), ("trypsin", "BAPNA"), ("urease", "urea"), ("invertase", "sucrose"),
           ("glucose oxidase", "glucose"), ("malate dehydrogenase", "oxaloacetate"),
           ("citrate synthase", "acetyl-CoA"), ("horseradish peroxidase", "ABTS"), ("glutathione S-transferase",
                                                                                     "CDNB"))
# textbook pKa at 25 C and dpKa/dT (per K) of common buffers; a record states its own apparent pKa
BUFFERS = {"MES": (6.15, -0.011), "PIPES": (6.80, -0.0085), "MOPS": (7.20, -0.015), "HEPES": (7.55, -0.014),
           "Tricine": (8.15, -0.021), "Tris": (8.06, -0.028), "Bicine": (8.35, -0.018), "TAPS": (8.40, -0.018),
           "CHES": (9.50, -0.018), "CAPS": (10.40, -0.032), "phosphate": (7.20, -0.0028), "acetate": (4.76, 0.0002)}
REAGENTS = ("NaCl", "glucose", "ATP", "EDTA", "MgCl2", "IPTG", "DTT", "imidazole", "KCl", "sucrose", "CaCl2",
            "NADH", "ampicillin", "HEPES", "spermidine")
SPECIES = ("Drosophila melanogaster", "Arabidopsis thaliana", "Mus musculus", "Danio rerio", "Zea mays",
           "Anopheles gambiae", "Daphnia pulex", "Silene latifolia")
STRAINS = ("Escherichia coli K-12 MG1655", "Bacillus subtilis 168", "Saccharomyces cerevisiae BY4741",
           "Pseudomonas putida KT2440", "Caulobacter crescentus NA1000", "Vibrio natriegens ATCC 14048",
           "Lactococcus lactis MG1363", "Streptomyces coelicolor A3(2)")


def _doc(kind: str, code: str, title: str, b: Builder, **meta: object) -> Document:
    return Document(id=f"record:{kind}:{code}", title=title, text=" ".join(b.sentences), sentences=b.sentences,
                    source=SOURCE, license=LICENSE, metadata={"kind": "record", "record": kind, "code": code,
                                                              "facts": b.facts, **meta})


def _protein(rng: random.Random, n: int) -> str:
    body = "".join(rng.choices(AMINO, AMINO_WEIGHTS, k=n - 2))
    return "M" + body + rng.choice("WY")  # at least one aromatic residue: A280 is defined


def sequence_records(rng: random.Random, n: int) -> list[Document]:
    out = []
    for i in range(n):
        code = f"PEP-{i:04d}"
        b = Builder()
        seq = _protein(rng, rng.randint(12, 40))
        b.say_text(f"Peptide construct {code} was synthesised with the sequence {{value}} (one-letter code, "
                   "N- to C-terminus).", "sequence", seq)
        out.append(_doc("pep", code, f"Peptide construct {code}", b, entity=code))
    for i in range(n):
        code = f"PRO-{i:04d}"
        b = Builder()
        seq = _protein(rng, rng.randint(80, 220))
        b.say_text(f"Expression construct {code} encodes the protein sequence {{value}}.", "sequence", seq)
        b.sentences.append(f"Construct {code} was purified by affinity chromatography.")
        out.append(_doc("pro", code, f"Expression construct {code}", b, entity=code))
    for i in range(n):
        code = f"OLI-{i:04d}"
        b = Builder()
        seq = "".join(rng.choices("ACGT", k=rng.randint(18, 30)))
        b.say_text(f"Primer {code} has the sequence 5'-{{value}}-3'.", "sequence", seq)
        out.append(_doc("oli", code, f"Primer {code}", b, entity=code))
    for i in range(n):
        code = f"ORF-{i:04d}"
        b = Builder()
        seq = "ATG" + "".join(rng.choices(CODONS, k=rng.randint(20, 60))) + rng.choice(("TAA", "TAG", "TGA"))
        b.say_text(f"Synthetic gene {code} contains the open reading frame {{value}} (coding strand, 5' to 3').",
                   "sequence", seq)
        out.append(_doc("orf", code, f"Open reading frame {code}", b, entity=code))
    return out


def measurement_records(rng: random.Random, n: int) -> list[Document]:
    out = []
    for i in range(n):
        code, target = f"UV-{i:04d}", f"PRO-{rng.randrange(n):04d}"
        b = Builder()
        b.sentences.append(f"Absorbance record {code} is a UV reading of purified construct {target}.")
        b.say("Diluted {dilution}-fold, the sample read A280 = {a280} in a {path} cm cuvette.", None,
              dilution=(rng.choice((2, 5, 10, 20)), ""), a280=(round(rng.uniform(0.15, 0.95), 3), ""),
              path=(rng.choice((1, 0.5, 0.2)), "cm"))
        out.append(_doc("uv", code, f"Absorbance record {code} ({target})", b, target=target, entity=code))
    for i in range(n):
        code, target = f"ND-{i:04d}", f"OLI-{rng.randrange(n):04d}"
        b = Builder()
        b.say(f"Stock record {code}: the single-stranded stock of primer {target} measured {{conc}} ng/uL.", None,
              conc=(round(rng.uniform(5, 400), 1), "ng/uL"))
        out.append(_doc("nd", code, f"Primer stock record {code} ({target})", b, target=target, entity=code))
    return out


def assay_records(rng: random.Random, n: int) -> list[Document]:
    out = []
    for i in range(n):
        enzyme, substrate = rng.choice(ENZYMES)
        code = f"EP-{i:04d}"
        km = round(10 ** rng.uniform(0.7, 3.5), 1)  # uM
        b = Builder()
        b.sentences.append(f"Assay record {code} characterises a recombinant {enzyme} preparation with {substrate} "
                           f"at {rng.choice((25, 30, 37))} C.")
        b.say(f"For preparation {code} the Michaelis constant for {substrate} was {{Km}} uM and the maximal "
              "velocity {Vmax} umol/min per mg of protein.", None, Km=(km, "uM"),
              Vmax=(round(10 ** rng.uniform(-0.5, 2.5), 2), "umol/min/mg"))
        b.say(f"The subunit molar mass of the {enzyme} in {code} is {{Mw}} kDa.", None,
              Mw=(round(rng.uniform(25, 120), 1), "kDa"))
        out.append(_doc("assay", code, f"Assay record {code}: {enzyme}", b, enzyme=enzyme, substrate=substrate,
                        entity=code))
        kcode = f"KI-{i:04d}"
        b = Builder()
        b.say(f"Inhibition record {kcode}: compound Z-{rng.randint(100, 999)} inhibits {enzyme} preparation {code} "
              "competitively with respect to " + substrate + ", with Ki = {Ki} uM.", None,
              Ki=(round(10 ** rng.uniform(-0.5, 2.5), 2), "uM"))
        out.append(_doc("ki", kcode, f"Inhibition record {kcode} ({code})", b, target=code, entity=kcode))
        rcode = f"RT-{i:04d}"
        vmax, s1 = round(10 ** rng.uniform(-0.5, 2), 2), round(km * rng.uniform(0.2, 0.8), 1)
        s2 = round(km * rng.uniform(2, 6), 1)
        b = Builder()
        b.sentences.append(f"Rate record {rcode}: initial rates of a {enzyme} preparation with {substrate}.")
        b.say("At {S1} uM substrate the initial rate was {v1} uM/min, and at {S2} uM it was {v2} uM/min.", None,
              S1=(s1, "uM"), v1=(round(vmax * s1 / (km + s1), 4), "uM/min"), S2=(s2, "uM"),
              v2=(round(vmax * s2 / (km + s2), 4), "uM/min"))
        out.append(_doc("rate", rcode, f"Rate record {rcode}: {enzyme}", b, enzyme=enzyme, entity=rcode))
    return out


def lab_records(rng: random.Random, n: int) -> list[Document]:
    out = []
    for i in range(n):
        name = rng.choice(sorted(BUFFERS))
        pka25, slope = BUFFERS[name]
        temp = rng.choice((4, 10, 20, 25, 30, 37))
        code = f"BUF-{i:04d}"
        b = Builder()
        b.sentences.append(f"Buffer record {code}: a {name} buffer made up to {rng.choice((100, 250, 500))} mL at "
                           f"{temp} C.")
        n_acid = round(rng.uniform(3, 40), 2)
        b.say(f"Buffer {code} contains {{n_acid}} mmol of the {name} acid form and {{n_base}} mmol of its conjugate "
              "base.", None, n_acid=(n_acid, "mmol"), n_base=(round(n_acid * 10 ** rng.uniform(-0.8, 0.8), 2), "mmol"))
        b.say(f"The apparent pKa of {name} at {temp} C and the buffer's ionic strength was taken as {{pKa}}.",
              {"pKa": {"lib": "buffer_pka", "name": name, "T": temp}},
              pKa=(round(pka25 + slope * (temp - 25) + rng.uniform(-0.12, 0.12), 3), ""))
        out.append(_doc("buf", code, f"Buffer record {code}: {name}", b, buffer=name, T=temp, entity=code))
    for i in range(n):
        reagent = rng.choice(REAGENTS)
        code = f"ST-{i:04d}"
        b = Builder()
        b.say(f"Stock record {code}: the {reagent} stock solution was {{conc}} mM.", None,
              conc=(round(10 ** rng.uniform(1, 3.3), 1), "mM"))
        out.append(_doc("stock", code, f"Stock record {code}: {reagent}", b, reagent=reagent, entity=code))
    for i in range(n):
        species, code = rng.choice(SPECIES), f"POP-{i:04d}"
        total, p = rng.randint(150, 2000), rng.uniform(0.15, 0.85)
        f = rng.uniform(-0.25, 0.25)  # departure from Hardy-Weinberg proportions
        het = max(1, round(total * 2 * p * (1 - p) * (1 - f)))
        hom_a = max(1, round((total - het) * p * p / (p * p + (1 - p) ** 2)))
        b = Builder()
        b.sentences.append(f"Survey record {code}: {species} sampled at one site and genotyped at a biallelic locus.")
        b.say("The survey counted {AA} AA homozygotes, {Aa} heterozygotes and {aa} aa homozygotes.", None,
              AA=(hom_a, ""), Aa=(het, ""), aa=(max(1, total - het - hom_a), ""))
        out.append(_doc("hwe", code, f"Survey record {code}: {species}", b, species=species, entity=code))
    for i in range(n):
        strain, code = rng.choice(STRAINS), f"GR-{i:04d}"
        td = rng.uniform(20, 180)
        t1 = rng.randint(30, 120)
        t2 = t1 + rng.randint(60, 300)
        od1 = round(rng.uniform(0.05, 0.2), 3)
        b = Builder()
        b.sentences.append(f"Growth record {code}: {strain} in exponential phase in shaken flasks.")
        b.say("The culture read OD600 = {od1} at {t1} min and OD600 = {od2} at {t2} min.", None, od1=(od1, ""),
              t1=(t1, "min"), od2=(round(od1 * 2 ** ((t2 - t1) / td), 3), ""), t2=(t2, "min"))
        out.append(_doc("growth", code, f"Growth record {code}: {strain}", b, strain=strain, entity=code))
    return out


def bio_records(seed: int = 0, per_kind: int = 60) -> list[Document]:
    """Every biology record kind, `per_kind` of each, with a fixed seed."""
    rng = random.Random(seed + 1)
    docs = [*sequence_records(rng, per_kind), *measurement_records(rng, per_kind), *assay_records(rng, per_kind),
            *lab_records(rng, per_kind)]
    assert all(not math.isnan(len(d.text)) for d in docs)
    return docs

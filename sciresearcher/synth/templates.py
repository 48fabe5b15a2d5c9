"""The offline question writer's shapes by name (docs/architecture.md, "Synthesis").

`TEMPLATES` maps each question shape to its function: chemistry shapes in `shapes_chem.py` (Antoine and DIPPR
correlations, Clausius-Clapeyron, Pitzer's virial correlation, mixtures, isotopes and labels), biology shapes in
`shapes_bio.py` (sequences through Biopython, enzyme kinetics, buffers, dilutions, population genetics, growth).
The `Draft` they return is defined in `draft.py`.
"""

from __future__ import annotations

from sciresearcher.synth.draft import Draft, TemplateFn
from sciresearcher.synth.shapes_bio import BIO_SHAPES
from sciresearcher.synth.shapes_chem import CHEM_SHAPES

TEMPLATES: dict[str, TemplateFn] = {**CHEM_SHAPES, **BIO_SHAPES}

__all__ = ["TEMPLATES", "Draft", "TemplateFn"]

"""The offline fact corpus: every fact document the computational shapes cite, in a fixed order.

Elements and compounds (`facts.py`), correlation and isotope tables (`facts_tables.py`), and the seeded
chemistry and biology records (`records_chem.py`, `records_bio.py`). `synth facts` writes it as a corpus for
`index build`, so an agent can search and read the documents the tasks cite.
"""

from __future__ import annotations

from functools import lru_cache

from sciresearcher.records import Document
from sciresearcher.synth.facts import COMPOUNDS, compound_documents, element_documents
from sciresearcher.synth.facts_tables import antoine_documents, isotope_documents, table_compounds
from sciresearcher.synth.records_bio import bio_records
from sciresearcher.synth.records_chem import chem_records


@lru_cache(maxsize=1)
def _fact_documents() -> tuple[Document, ...]:
    compounds = compound_documents(COMPOUNDS + tuple(c for c in table_compounds() if c not in _COMMON_CAS))
    return (*element_documents(), *compounds, *antoine_documents(compounds), *isotope_documents(),
            *chem_records(compounds), *bio_records())


def fact_documents() -> list[Document]:
    """Every fact document in a fixed order (built once per process)."""
    return list(_fact_documents())


_COMMON_CAS = frozenset(("7732-18-5", "74-82-8", "74-84-0", "74-98-6", "106-97-8", "64-17-5", "67-56-1", "67-64-1",
                         "71-43-2", "108-88-3", "124-38-9", "7664-41-7", "67-66-3", "64-19-7", "60-29-7",
                         "110-54-3", "110-82-7", "7727-37-9", "7782-44-7", "7446-09-5", "7783-06-4", "74-85-1",
                         "74-86-2", "56-81-5", "108-95-2", "110-86-1", "75-05-8", "75-09-2", "56-23-5", "57-13-6"))

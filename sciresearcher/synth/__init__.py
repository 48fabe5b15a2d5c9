"""Synthesis: fact documents, seed selection, and the computational and conceptual pipelines.

Computational tasks are written offline from templates over cited facts and verified in the sandbox (and by
solver votes with a model); conceptual tasks are written by a model from a corpus: seed entities ranked by
frontier relevance, anchor-based multi-hop augmentation with a search sub-agent, evidence-chain verification.
"""

"""Synthesis: fact documents from scientific packages and the computational pipeline (offline writer, verification).

Covers DESIGN §6 for computational tasks written offline from templates; the LLM writer and the conceptual
pipeline (seed entities, frontier relevance, anchor-based multi-hop) are not built yet.
"""

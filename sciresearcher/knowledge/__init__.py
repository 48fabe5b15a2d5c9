"""Knowledge: documents and loaders, the local index (BM25 / dense / hybrid), scholarly and web sources,
URL/DOI fetching, and three-level evidence selection. The agent's `search` and `read` tools over these are
built in `agent/toolbox.py`. Nothing heavy is imported here."""

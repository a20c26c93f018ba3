"""Retrieval: hybrid (dense + BM25) search, the lexical index and the corpus's term index."""

"""opsqa's write side: read, clean and chunk documents, embed them, and keep the Chroma index.

Modules are imported where used (``ingest.pipeline``, ``ingest.store``, ...) so that the
read path (``opsqa ask``) does not pay for PDF, charset and YAML libraries it never needs.
"""

"""The one DuckDB file that holds libraries, documents, chunks, vectors and the keyword index."""

from .db import Store, open_store

__all__ = ["Store", "open_store"]

"""The one DuckDB file that holds libraries, documents, chunks, vectors and the keyword index."""

from .db import Store, int_list, open_store, scalar

__all__ = ["Store", "int_list", "open_store", "scalar"]

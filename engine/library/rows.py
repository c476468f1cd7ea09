"""The rows of indexed documents: deleting them, and inserting chunks with their vectors.

Shared by the indexer, the evaluation's fixed stores and the benchmarks' generated ones.
"""

from __future__ import annotations

import numpy as np

from ..store import int_list


def delete_documents(cur, doc_ids: list[int]) -> np.ndarray:
    """Delete documents with their chunks, vectors and postings; returns the chunk ids."""
    if not doc_ids:
        return np.empty(0, np.int64)
    docs = int_list(doc_ids)
    chunk_ids = cur.execute(f"SELECT id FROM chunks WHERE document_id IN {docs}").fetchnumpy()["id"].astype(np.int64)
    if len(chunk_ids):
        ids = int_list(chunk_ids.tolist())
        for table in ("embeddings", "kw_tail", "kw_main"):
            cur.execute(f"DELETE FROM {table} WHERE chunk_id IN {ids}")
        cur.execute(f"DELETE FROM chunks WHERE document_id IN {docs}")
    cur.execute(f"DELETE FROM ocr_pages WHERE document_id IN {docs}")
    cur.execute(f"DELETE FROM documents WHERE id IN {docs}")
    return chunk_ids


def delete_library_rows(cur, library_id: int) -> None:
    """Everything indexed from one library, by library id (no id lists to build)."""
    for table in ("embeddings", "kw_tail", "kw_main", "chunks", "ocr_pages", "documents"):
        cur.execute(f"DELETE FROM {table} WHERE library_id = ?", [library_id])


INSERT_ROWS = 1024  # chunks per insert: the arrays of one huge document stay small


def insert_chunks(cur, rows: list[tuple], chunk_ids: np.ndarray, library_id: int, vecs: np.ndarray) -> None:
    for start in range(0, len(rows), INSERT_ROWS):
        end = start + INSERT_ROWS
        _insert_chunks(cur, rows[start:end], chunk_ids[start:end], library_id, vecs[start:end])


def _insert_chunks(cur, rows: list[tuple], chunk_ids: np.ndarray, library_id: int, vecs: np.ndarray) -> None:
    if not rows:
        return
    cols = list(zip(*rows))
    frame = {
        "id": np.array(cols[0], np.int64),
        "document_id": np.array(cols[1], np.int64),
        "library_id": np.array(cols[2], np.int32),
        "ord": np.array(cols[3], np.int32),
        # Unicode arrays, not object arrays: duckdb scans object columns element by
        # element (trying to import pandas for each), ~4x slower per batch.
        "text": np.array(cols[4], dtype=str),
        "page": np.array([-1 if v is None else v for v in cols[5]], np.int32),
        "heading": np.array(["" if v is None else v for v in cols[6]], dtype=str),  # '' is none
        "line_start": np.array([-1 if v is None else v for v in cols[7]], np.int32),
        "line_end": np.array([-1 if v is None else v for v in cols[8]], np.int32),
        "n_tokens": np.array(cols[9], np.int32),
    }
    cur.register("bunko_new_chunks", frame)
    cur.execute(
        "INSERT INTO chunks SELECT id, document_id, library_id, ord, text, nullif(page, -1), nullif(heading, ''),"
        " nullif(line_start, -1), nullif(line_end, -1), n_tokens FROM bunko_new_chunks"
    )
    cur.unregister("bunko_new_chunks")
    # The vectors travel as one hex string cut apart in SQL: a registered array stays
    # alive until the transaction ends, and a Unicode array of hex takes 12 KB a vector.
    width = 2 * vecs.shape[1] * 4 if len(vecs) else 0
    cur.register("bunko_new_vecs", {"chunk_id": np.asarray(chunk_ids, np.int64),
                                    "pos": np.arange(len(chunk_ids), dtype=np.int64)})
    cur.execute("INSERT INTO embeddings SELECT chunk_id, $lib, unhex(substr($hex, pos * $width + 1, $width)) "
                "FROM bunko_new_vecs", {"lib": library_id, "hex": vecs.astype("<f4").tobytes().hex(),
                                        "width": width})
    cur.unregister("bunko_new_vecs")

"""Finding passages: dense vectors, keyword (BM25) and their fusion."""

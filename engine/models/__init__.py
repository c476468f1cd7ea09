"""Model files and how they arrive: the registry, the catalog, downloads, imports, GGUF reading."""

"""The database schema and its migrations.

`MIGRATIONS[n]` moves a database from version n to n + 1. A database whose
version is above `SCHEMA_VERSION` was written by a newer Bunko and is refused
rather than guessed at.
"""

from __future__ import annotations

SCHEMA_VERSION = 13

# Version 0 -> 1: the knowledge engine's tables.
# Large tables carry no PRIMARY KEY: DuckDB keeps such indexes in memory and
# slows bulk inserts; the single writer keeps ids unique instead.
_V1 = [
    "CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)",
    """CREATE TABLE libraries (
        id INTEGER PRIMARY KEY,
        name VARCHAR NOT NULL UNIQUE,
        root VARCHAR NOT NULL UNIQUE,
        embedder_id VARCHAR,
        embedder_name VARCHAR,
        dim INTEGER,
        watch BOOLEAN DEFAULT false,
        created_at TIMESTAMP DEFAULT current_timestamp,
        indexed_at TIMESTAMP,
        last_error VARCHAR
    )""",
    """CREATE TABLE documents (
        id BIGINT NOT NULL,
        library_id INTEGER NOT NULL,
        path VARCHAR NOT NULL,          -- relative to the library root, '/' separated
        size BIGINT,
        mtime DOUBLE,
        hash VARCHAR,                   -- blake2b of the bytes; finds renames
        kind VARCHAR,
        title VARCHAR,
        encoding VARCHAR,
        status VARCHAR NOT NULL,        -- indexed | skipped | error
        reason VARCHAR,                 -- why skipped or failed, for people
        n_chunks INTEGER DEFAULT 0,
        indexed_at TIMESTAMP DEFAULT current_timestamp
    )""",
    """CREATE TABLE chunks (
        id BIGINT NOT NULL,
        document_id BIGINT NOT NULL,
        library_id INTEGER NOT NULL,
        ord INTEGER NOT NULL,
        text VARCHAR NOT NULL,
        page INTEGER,
        heading VARCHAR,
        line_start INTEGER,
        line_end INTEGER,
        n_tokens INTEGER
    )""",
    # float32 little-endian bytes; the library row says which model and size.
    "CREATE TABLE embeddings (chunk_id BIGINT NOT NULL, library_id INTEGER NOT NULL, vec BLOB NOT NULL)",
    # The keyword index: `kw_main` is kept sorted by term so DuckDB's zone maps
    # skip everything but the query's terms; new postings go to `kw_tail` until
    # a compaction merges them in.
    "CREATE TABLE kw_main (term BIGINT, chunk_id BIGINT, library_id INTEGER, w FLOAT)",
    "CREATE TABLE kw_tail (term BIGINT, chunk_id BIGINT, library_id INTEGER, w FLOAT)",
]

# Version 1 -> 2: document frequencies of kw_main's terms, kept by compaction,
# so a query need not count millions of postings of its common terms; and chunk
# text stored uncompressed: with DuckDB's FSST compression, fetching the 10
# texts of a result took 140-230 ms at 1 M chunks (every segment decoded),
# uncompressed 9-15 ms.
_V2 = [
    "CREATE TABLE kw_df (term BIGINT, df INTEGER)",
    "INSERT INTO kw_df SELECT term, count(*) FROM kw_main GROUP BY term ORDER BY term",
    """CREATE TABLE chunks_v2 (
        id BIGINT NOT NULL,
        document_id BIGINT NOT NULL,
        library_id INTEGER NOT NULL,
        ord INTEGER NOT NULL,
        text VARCHAR USING COMPRESSION uncompressed NOT NULL,
        page INTEGER,
        heading VARCHAR,
        line_start INTEGER,
        line_end INTEGER,
        n_tokens INTEGER
    )""",
    "INSERT INTO chunks_v2 SELECT * FROM chunks ORDER BY id",
    "DROP TABLE chunks",
    "ALTER TABLE chunks_v2 RENAME TO chunks",
]

# Version 2 -> 3: indexes for fetching rows by id. Without them, fetching the
# 10 passages of a result scanned every chunk id: 12 ms at 1 M chunks, 1 ms with.
_V3 = [
    "CREATE INDEX chunks_id ON chunks (id)",
    "CREATE INDEX documents_id ON documents (id)",
]

# Version 3 -> 4: chat. Models and adapters the user added, conversations and
# their messages. JSON values are kept as VARCHAR: the json extension is not
# needed to store or read them.
_V4 = [
    """CREATE TABLE models (
        id INTEGER PRIMARY KEY,
        name VARCHAR NOT NULL UNIQUE,
        kind VARCHAR NOT NULL,          -- model | adapter
        path VARCHAR NOT NULL,
        size BIGINT,
        fingerprint VARCHAR,            -- size + sha256 of the head and tail: finds a changed file
        architecture VARCHAR,
        quantization VARCHAR,
        context_length INTEGER,
        n_layers INTEGER,
        chat_template VARCHAR,
        base_model_id INTEGER,          -- adapters: the model they were trained on
        lora_alpha DOUBLE,
        builtin BOOLEAN DEFAULT false,
        metadata VARCHAR,               -- JSON: the rest of what the file says about itself
        training VARCHAR,               -- JSON: how an adapter was trained (data, settings, loss)
        added_at TIMESTAMP DEFAULT current_timestamp
    )""",
    """CREATE TABLE conversations (
        id INTEGER PRIMARY KEY,
        title VARCHAR NOT NULL,
        system_prompt VARCHAR,
        model VARCHAR,                  -- model name; NULL = the default
        adapter VARCHAR,
        adapter_scale DOUBLE DEFAULT 1.0,
        libraries VARCHAR,              -- JSON list of library names; [] = model alone
        settings VARCHAR,               -- JSON: temperature, top_p, max_tokens, ...
        created_at TIMESTAMP DEFAULT current_timestamp,
        updated_at TIMESTAMP DEFAULT current_timestamp
    )""",
    """CREATE TABLE messages (
        id INTEGER PRIMARY KEY,
        conversation_id INTEGER NOT NULL,
        seq INTEGER NOT NULL,           -- order inside the conversation
        role VARCHAR NOT NULL,          -- user | assistant
        content VARCHAR NOT NULL,
        sources VARCHAR,                -- JSON: passages given to the model with this answer
        citations VARCHAR,              -- JSON: source numbers the answer cites
        model VARCHAR,
        adapter VARCHAR,
        settings VARCHAR,               -- JSON: the generation settings used
        status VARCHAR DEFAULT 'complete',  -- complete | stopped | error
        stats VARCHAR,                  -- JSON: tokens, time to first token, tokens/s
        created_at TIMESTAMP DEFAULT current_timestamp
    )""",
    "CREATE INDEX messages_conversation ON messages (conversation_id)",
]

# Version 4 -> 5: fine-tuning jobs. The state lives here, not in the app, so a job
# started from the CLI is seen by the app and one started before a restart is
# followed again. Every line the trainer printed is kept (the loss curve).
_V5 = [
    """CREATE TABLE jobs (
        id INTEGER PRIMARY KEY,
        name VARCHAR NOT NULL UNIQUE,   -- also the trained adapter's name
        base_model VARCHAR NOT NULL,
        host VARCHAR NOT NULL,          -- JSON: how to reach the training host (no secrets)
        settings VARCHAR NOT NULL,      -- JSON: rank, alpha, learning rate, ...
        data VARCHAR,                   -- JSON: sources, example counts, token lengths
        local_dir VARCHAR NOT NULL,     -- dataset, spec and results on this computer
        remote_dir VARCHAR,             -- the job's folder on the host
        status VARCHAR NOT NULL,        -- created | setup | uploading | running | converting | done
                                        -- | failed | cancelled | lost
        pid INTEGER,                    -- the trainer's process (group) on the host
        events_read BIGINT DEFAULT 0,   -- bytes of the host's progress.jsonl already taken
        step INTEGER DEFAULT 0,
        total_steps INTEGER,
        loss DOUBLE,
        eta_s DOUBLE,
        error VARCHAR,
        error_kind VARCHAR,
        adapter VARCHAR,                -- the registered adapter, once done
        result VARCHAR,                 -- JSON: the trainer's result.json
        created_at TIMESTAMP DEFAULT current_timestamp,
        updated_at TIMESTAMP DEFAULT current_timestamp,
        finished_at TIMESTAMP
    )""",
    "CREATE TABLE job_events (job_id INTEGER NOT NULL, seq INTEGER NOT NULL, event VARCHAR NOT NULL)",
]

# Version 5 -> 6: what each chat model writes and its licence, so that a Japanese
# question is not sent to a model that cannot answer in Japanese. Rows of
# older databases are filled in when the registry first reads them.
_V6 = [
    "ALTER TABLE models ADD COLUMN IF NOT EXISTS languages VARCHAR",  # JSON list: ["en", "ja"]
    "ALTER TABLE models ADD COLUMN IF NOT EXISTS license VARCHAR",
]

# Version 6 -> 7: where a model runs. 'local' (a GGUF here, `path`), 'endpoint' (any
# OpenAI-compatible server; `path` holds its base URL) or 'ssh' (llama-server started on
# the user's GPU server; `path` is the GGUF here that is uploaded). `remote` is JSON: the
# model's name at the endpoint, the host (no secrets), idle shutdown. API keys are kept in
# the OS keyring, never here.
_V7 = [
    "ALTER TABLE models ADD COLUMN IF NOT EXISTS location VARCHAR DEFAULT 'local'",
    "ALTER TABLE models ADD COLUMN IF NOT EXISTS remote VARCHAR",
]

# Version 7 -> 8: the keyword index records the tokenizer rules it was built
# with (search/keyword.py KW_VERSION). Postings written before are version 1
# (no stemming); they keep being searched by those rules until `bunko index`
# rebuilds them. A database with no postings yet gets no row: the current rules.
_V8 = [
    "INSERT OR REPLACE INTO meta SELECT 'kw_version', '1' "
    "WHERE EXISTS (SELECT 1 FROM kw_main) OR EXISTS (SELECT 1 FROM kw_tail)",
]

# Version 8 -> 9: the comparison lab. A run keeps its questions (round 0; later rounds
# re-ask some after a document changed) and every answer with its scores as soon as it is
# made, so a crashed or closed run continues without answering anything twice.
_V9 = [
    """CREATE TABLE IF NOT EXISTS lab_runs (
        id INTEGER PRIMARY KEY,
        name VARCHAR NOT NULL,
        status VARCHAR NOT NULL,        -- created | running | done | cancelled | failed
        config VARCHAR NOT NULL,        -- JSON: arms, base model, libraries, adapter, job, settings
        prep VARCHAR,                   -- JSON: preparation cost of each technique
        rounds VARCHAR,                 -- JSON: freshness rounds (re-index time, training estimate)
        error VARCHAR,
        created_at TIMESTAMP DEFAULT current_timestamp,
        finished_at TIMESTAMP
    )""",
    """CREATE TABLE IF NOT EXISTS lab_questions (
        run_id INTEGER NOT NULL,
        round INTEGER NOT NULL,
        ord INTEGER NOT NULL,
        key VARCHAR NOT NULL,
        question VARCHAR NOT NULL,
        refs VARCHAR NOT NULL,          -- JSON list of reference answers
        source VARCHAR
    )""",
    """CREATE TABLE IF NOT EXISTS lab_answers (
        run_id INTEGER NOT NULL,
        round INTEGER NOT NULL,
        key VARCHAR NOT NULL,
        arm VARCHAR NOT NULL,
        text VARCHAR NOT NULL,
        status VARCHAR,
        sources VARCHAR,                -- JSON: passages given, with the cited numbers
        stats VARCHAR,                  -- JSON: time to first token, tokens/s, prompt tokens, memory
        scores VARCHAR,                 -- JSON: match, f1, similarity, grounded, judge
        seconds DOUBLE,                 -- wall time of the answer
        created_at TIMESTAMP DEFAULT current_timestamp
    )""",
]

# Version 9 -> 10: file names that are not valid UTF-8 (Shift_JIS names unpacked from a
# zip made on Japanese Windows). `path` holds a display form with U+FFFD for each bad
# byte, and `path_raw` the name's own bytes, which identify the file; NULL for the rest.
_V10 = [
    "ALTER TABLE documents ADD COLUMN IF NOT EXISTS path_raw BLOB",
]

# Version 10 -> 11: what a library's index cost to build, for the comparison lab's
# preparation cost: the seconds of every indexing run that wrote something, summed
# (an interrupted build counts its parts), and the last such run's own seconds.
# Libraries indexed before stay NULL ("not recorded") until their next indexing run.
_V11 = [
    "ALTER TABLE libraries ADD COLUMN IF NOT EXISTS index_seconds DOUBLE",
    "ALTER TABLE libraries ADD COLUMN IF NOT EXISTS last_index_seconds DOUBLE",
]

# Version 11 -> 12: OCR. Each page read by OCR keeps its mean confidence (pages below
# ingest.ocr.LOW_CONFIDENCE are listed for a person to check), how it was turned, and
# its lines' boxes as shares of the page (JSON), which the citation preview marks on
# the page image. A library can switch OCR off.
_V12 = [
    """CREATE TABLE IF NOT EXISTS ocr_pages (
        document_id BIGINT NOT NULL,
        library_id INTEGER NOT NULL,
        page INTEGER NOT NULL,
        confidence DOUBLE,              -- NULL: no text found on the page
        rotation INTEGER,               -- degrees turned clockwise to read it
        vertical BOOLEAN,               -- written vertically (縦書き)
        lines VARCHAR                   -- JSON: [[x0, y0, x1, y1, text], ...] in reading order
    )""",
    "ALTER TABLE libraries ADD COLUMN IF NOT EXISTS ocr BOOLEAN DEFAULT true",
]

# Version 12 -> 13: a library's switch to index generated code (node_modules, lock files,
# minified bundles) and what .gitignore files leave out, both skipped by default.
_V13 = [
    "ALTER TABLE libraries ADD COLUMN IF NOT EXISTS include_generated BOOLEAN DEFAULT false",
]

MIGRATIONS: dict[int, list[str]] = {0: _V1, 1: _V2, 2: _V3, 3: _V4, 4: _V5, 5: _V6, 6: _V7, 7: _V8, 8: _V9, 9: _V10,
                                    10: _V11, 11: _V12, 12: _V13}

"""Opening the DuckDB file: extensions from their packages, locks, schema version.

DuckDB lets one process open a file read-write. Inside that process every
thread works through its own `cursor()` of the one connection, and writes go
through `Store.write_lock` so that only one transaction writes at a time.
"""

from __future__ import annotations

import importlib.util
import logging
import re
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from collections.abc import Iterator

import duckdb

from ..errors import SchemaTooNewError, StoreError, StoreLockedError
from ..paths import make_private, private_dir
from .schema import MIGRATIONS, SCHEMA_VERSION

log = logging.getLogger(__name__)

# 512 MB: at 1 M chunks the buffer pool at 1 GB took the process past 2 GB beside the
# 480 MB vector index (`bunko bench search --sizes 1000000`); hybrid search stays < 100 ms.
MEMORY_LIMIT = "512MB"

_EXTENSION_PACKAGES = {"vss": "duckdb_extension_vss", "fts": "duckdb_extension_fts"}


def int_list(values) -> str:
    """A literal SQL list of integers: "(1, 2, 3)".

    DuckDB prunes row groups by zone maps for a literal IN list, but not for
    `IN (SELECT unnest($param))`; the values are ints, so inlining is safe.
    """
    items = ", ".join(str(int(v)) for v in values)
    return f"({items or 'NULL'})"


def scalar(cur: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> Any:
    """The one value of a query that always returns one row (a count, a sum, a max)."""
    row = (cur.execute(sql, params) if params else cur.execute(sql)).fetchone()
    assert row is not None, sql
    return row[0]


def extension_path(name: str) -> Path:
    """The extension file shipped in its PyPI package, for this duckdb version."""
    package = _EXTENSION_PACKAGES[name]
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise StoreError(f"The DuckDB extension package {package} is not installed.")
    folder = Path(next(iter(spec.submodule_search_locations)))
    path = folder / "extensions" / f"v{duckdb.__version__}" / f"{name}.duckdb_extension"
    if not path.is_file():
        raise StoreError(
            f"{package} does not carry an extension for duckdb {duckdb.__version__} "
            f"(looked for {path}); install matching versions."
        )
    return path


def load_extension(con: duckdb.DuckDBPyConnection, name: str) -> None:
    con.execute(f"LOAD '{extension_path(name).as_posix()}'")


def _connect(path: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    # No autoinstall/autoload: an extension must never be fetched from the network.
    # DuckDB would otherwise cache up to 80 % of RAM; the app keeps its vectors
    # in memory beside it (see search/vectors.py), so the database gets a fixed share.
    config: dict[str, Any] = {"autoinstall_known_extensions": False, "autoload_known_extensions": False,
                              "memory_limit": MEMORY_LIMIT}
    try:
        return duckdb.connect(str(path), read_only=read_only, config=config)
    except duckdb.IOException as exc:
        text = str(exc)
        if "lock" in text.lower():
            pid = re.search(r"PID (\d+)", text)
            holder = f" (process {pid.group(1)})" if pid else ""
            raise StoreLockedError(
                f"The Bunko database {path} is in use by another program{holder}. "
                "Close the Bunko app or the other bunko command and try again."
            ) from exc
        raise StoreError(f"Cannot open the Bunko database {path}: {text}") from exc
    except duckdb.Error as exc:
        raise StoreError(
            f"The Bunko database {path} cannot be read; it may be damaged or not a "
            f"DuckDB file ({exc})."
        ) from exc


class Store:
    """The open database. Create with `open_store`."""

    def __init__(self, con: duckdb.DuckDBPyConnection, path: Path, read_only: bool) -> None:
        self.con = con
        self.path = path
        self.read_only = read_only
        self.write_lock = threading.RLock()

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor for the calling thread (DuckDB cursors are not thread-safe)."""
        return self.con.cursor()

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """One write transaction: all of it lands, or none of it (also on kill -9)."""
        with self.write_lock:
            cur = self.con.cursor()
            cur.execute("BEGIN TRANSACTION")
            try:
                yield cur
            except BaseException:
                cur.execute("ROLLBACK")
                cur.close()
                raise
            cur.execute("COMMIT")
            cur.close()

    def load_extension(self, name: str) -> None:
        """Load vss or fts from its PyPI package, on demand: the search path uses
        neither (see search/keyword.py and search/vectors.py), and loading both costs ~0.35 s."""
        load_extension(self.con, name)

    def schema_version(self) -> int:
        return _schema_version(self.con)

    def close(self) -> None:
        try:
            self.con.close()
        except duckdb.Error:  # closing twice, or after a failed open
            log.debug("closing the store failed", exc_info=True)


def _schema_version(con: duckdb.DuckDBPyConnection) -> int:
    has_meta = scalar(con, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'meta'")
    if not has_meta:
        return 0
    row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    return int(row[0]) if row else 0


def _migrate(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    version = _schema_version(con)
    if version > SCHEMA_VERSION:
        raise SchemaTooNewError(
            f"The Bunko database {path} was written by a newer version of Bunko "
            f"(schema {version}; this version understands up to {SCHEMA_VERSION}). "
            "Update Bunko, or choose another database file."
        )
    migrated = False
    while version < SCHEMA_VERSION:
        log.info("migrating %s from schema %d to %d", path, version, version + 1)
        con.execute("BEGIN TRANSACTION")
        try:
            for statement in MIGRATIONS[version]:
                con.execute(statement)
            version += 1
            con.execute(
                "INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [str(version)]
            )
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")
        migrated = True
    if migrated:
        # Leave no schema change in the write-ahead log: DuckDB 1.5.5 cannot replay an
        # ALTER TABLE on a table whose defaults call functions (current_timestamp) after a
        # crash ("GetDefaultDatabase with no default database set"), so a killed first run
        # would leave a database that cannot be opened.
        con.execute("CHECKPOINT")


def open_store(path: Path, read_only: bool = False) -> Store:
    """Open (creating and migrating if needed) the database at `path`."""
    path = Path(path)
    if not read_only:
        if not path.parent.exists():
            private_dir(path.parent)
    con = _connect(path, read_only)
    if not read_only:   # the documents' text is in it: this user's only, wherever it lives
        for own in (path, path.with_name(path.name + ".wal")):
            make_private(own)
    try:
        if read_only:
            version = _schema_version(con)
            if version > SCHEMA_VERSION:
                raise SchemaTooNewError(
                    f"The Bunko database {path} was written by a newer version of Bunko."
                )
        else:
            _migrate(con, path)
    except duckdb.Error as exc:
        con.close()
        raise StoreError(f"The Bunko database {path} cannot be used: {exc}") from exc
    except BaseException:
        con.close()
        raise
    return Store(con, path, read_only)

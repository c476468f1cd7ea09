"""Errors the engine raises. Each message is meant for a person, not a developer."""


class BunkoError(Exception):
    """Base of every error the engine raises on purpose."""


class StoreLockedError(BunkoError):
    """The database file is held by another process (the app, or another `bunko`)."""


class SchemaTooNewError(BunkoError):
    """The database was written by a newer Bunko."""


class StoreError(BunkoError):
    """The database file cannot be opened or is damaged."""


class LibraryNotFoundError(BunkoError):
    """No library has that name, id or folder."""


class EmbedderMismatchError(BunkoError):
    """A library's vectors were built by another embedding model."""


class EmbedderError(BunkoError):
    """The embedding model is missing, broken or cannot run."""


class SkipFile(BunkoError):
    """A file is deliberately not indexed (unsupported type, too big, hidden…)."""


class ParseError(BunkoError):
    """A file could not be read, decoded or parsed; the message says why."""


class Cancelled(BunkoError):
    """Long work stopped because its cancel token was set."""


class DatasetError(BunkoError):
    """An evaluation dataset is missing files or has bad rows."""

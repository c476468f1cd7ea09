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


class ModelError(BunkoError):
    """A chat model or adapter cannot be added, installed or used; the message says why."""


class ModelFileError(ModelError):
    """A model file is missing, unreadable, not GGUF, truncated or changed since it was added."""


class ModelNotFoundError(ModelError):
    """No model or adapter has that name."""


class ModelLoadError(BunkoError):
    """llama.cpp could not load a model or adapter, or there is no memory for it."""


class ModelCrashedError(ModelLoadError):
    """The process that runs a local model died (a crash in llama.cpp, an abort, out of memory).
    The app itself is unaffected; the next request starts a fresh worker."""


class NoModelError(BunkoError):
    """A question was asked while no chat model is available."""


class ChatTemplateError(BunkoError):
    """A model's chat template failed to render the conversation."""


class ContextOverflowError(BunkoError):
    """The question alone does not fit in the model's context."""


class ConversationNotFoundError(BunkoError):
    """No conversation has that id (it may have been deleted)."""


class MessageNotFoundError(BunkoError):
    """No message has that id (it may have been deleted or regenerated)."""


class ServeError(BunkoError):
    """The server cannot start (address refused or taken)."""


class ApiError(BunkoError):
    """A request the server refuses; it carries the HTTP status and OpenAI's error type and code."""

    def __init__(self, status: int, message: str, code: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.headers = status, code, headers or {}


class AdapterNeedsBaseError(ModelError):
    """A LoRA adapter was added without saying which model it belongs to."""


class FinetuneError(BunkoError):
    """A fine-tuning job could not be made, started, followed or finished."""


class JobNotFoundError(FinetuneError):
    pass


class UnsafeAdapterError(FinetuneError):
    """The host offered adapter files Bunko will not take: unexpected, a link, outside the job or too big."""


class HostError(FinetuneError):
    """The training host cannot be used: unreachable, no Python, no disk space..."""


class ConnectionLostError(HostError):
    """The SSH connection dropped; the job goes on on the host and can be reattached."""


class HostKeyUnknownError(HostError):
    """An SSH host not in known_hosts: the user must compare and accept its fingerprint."""

    def __init__(self, host: str, fingerprint: str, key_type: str) -> None:
        super().__init__(f"{host} is not a known host. Its {key_type} key fingerprint is {fingerprint}. "
                         "Compare it with the one your provider shows, then accept it to continue.")
        self.host, self.fingerprint, self.key_type = host, fingerprint, key_type


class HostKeyChangedError(HostError):
    """The host's key differs from the one in known_hosts: refused, never overwritten."""


class AuthError(HostError):
    """The SSH server refused the key, agent or password."""


class PassphraseNeededError(AuthError):
    """The private key is encrypted: ask the user for its passphrase (kept in memory only)."""


class DownloadError(ModelError):
    """A model could not be downloaded or imported; the message says what to do."""


class HubUnreachableError(DownloadError):
    """The model hub (or the proxy in front of it) cannot be reached; a later try resumes."""


class HubAccessError(DownloadError):
    """The hub refused access (401/403): a gated or private repository needs a token."""


class HubNotFoundError(DownloadError):
    """The repository, revision or file is not on the hub (404): the catalog may be out of date."""


class DiskFullError(DownloadError):
    """Not enough free disk space for the model; the partial file was removed."""


class DownloadCheckError(DownloadError):
    """The file's size or sha256 is not the expected one; it was deleted, never registered."""


class UnverifiedModelError(DownloadError):
    """The catalog does not pin this file (commit, sha256, size): downloaded only when the user says so."""


class EndpointError(ModelLoadError):
    """A model server (an OpenAI-compatible endpoint, or llama-server on a GPU server) refused,
    failed or could not be reached; the message says which and what to do."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class CompareError(BunkoError):
    """The comparison lab cannot run as asked: a mismatched adapter, a missing judge model,
    a library not indexed yet, an unknown run."""

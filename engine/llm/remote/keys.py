"""API keys of remote models, kept in the OS keyring (never in the database, settings or logs).

A key is filed under a random id stored with the model, the data profile (BUNKO_DATA_DIR)
and the server's address, never under the model's name alone: a model of the same name in
another profile, in a database made again after a reset, or moved to another server never
finds a key that was given for something else. Adding a model without a key finds none.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets

from ...errors import ModelError

log = logging.getLogger(__name__)

SERVICE = "bunko"


def new_key_id() -> str:
    """A fresh id for a new remote model's key (kept in its `remote` settings; not a secret)."""
    return secrets.token_hex(16)


def _keyring():
    try:
        import keyring
    except ImportError as exc:  # pragma: no cover - a dependency
        raise ModelError("The keyring package is missing, so API keys cannot be kept safely. "
                         "Install it with: pip install keyring") from exc
    return keyring


def _profile() -> str:
    from ...paths import data_dir
    return str(data_dir().resolve())


def _key_id(info) -> str | None:
    remote = info.remote or {}
    if remote.get("key_id"):
        return str(remote["key_id"])
    if info.location == "ssh":
        # a model on a GPU server added before ids: its key is one Bunko made for its own llama-server
        seed = json.dumps([info.id, info.name, remote], sort_keys=True, default=str)
        return "legacy-" + hashlib.sha256(seed.encode()).hexdigest()[:24]
    return None   # an endpoint added before ids: its key must be entered again (never guessed by name)


def _user(info) -> str | None:
    key_id = _key_id(info)
    if key_id is None:
        return None
    scope = hashlib.sha256(f"{_profile()}\n{info.path}".encode()).hexdigest()[:24]
    return f"key:{key_id}:{scope}"


def set_key(info, key: str) -> None:
    user = _user(info)
    if user is None:
        raise ModelError(f"{info.name!r} was added by an older Bunko; remove it and add it again to give it a key.")
    try:
        _keyring().set_password(SERVICE, user, key)
    except Exception as exc:  # keyring.errors.* and backend errors alike
        raise ModelError(f"The API key for {info.name!r} could not be kept in the system keyring "
                         f"({type(exc).__name__}). Unlock or set up the keyring and try again.") from exc
    log.info("API key for %r kept in the keyring", info.name)


def get_key(info) -> str | None:
    user = _user(info)
    if user is None:
        return None
    try:
        return _keyring().get_password(SERVICE, user)
    except Exception as exc:
        raise ModelError(f"The API key for {info.name!r} could not be read from the system keyring "
                         f"({type(exc).__name__}). Unlock the keyring and try again.") from exc


def delete_key(info) -> None:
    """Delete the model's key; raises ModelError in words when the keyring refuses (a key left
    behind is worth telling), and also clears what an older Bunko filed under the name alone."""
    kr = _keyring()
    from keyring.errors import NoKeyringError, PasswordDeleteError
    failed = None
    for user in (_user(info), f"model:{info.name}"):
        if user is None:
            continue
        try:
            if kr.get_password(SERVICE, user) is not None:
                kr.delete_password(SERVICE, user)
        except (PasswordDeleteError, NoKeyringError):
            pass   # nothing kept under it, or no keyring at all (so no key was ever kept)
        except Exception as exc:
            failed = exc
    if failed is not None:
        raise ModelError(f"{info.name!r} was removed, but its API key could not be deleted from the system "
                         f"keyring ({type(failed).__name__}). Unlock the keyring and delete the entry of "
                         f"service 'bunko' for this model by hand.") from failed

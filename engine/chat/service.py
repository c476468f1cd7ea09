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
from collections.abc import Callable, Iterator, Sequence

from ..cancel import CancelToken
from .conversations import Conversations, Message
from ..errors import Cancelled
from ..library.searcher import Searcher
from ..llm.manager import Models
from ..llm.repetition import RepetitionGuard
from ..llm.runtime import GenerationStats
from ..types import Answer, AnswerEvent, AskOptions, GenerationSettings, ModelAdvice, Source
from . import checks, citations, prompt, quotes
from .attribution import attribute
from .routing import notice, route

log = logging.getLogger(__name__)

DEFAULT_K = 4
SAVE_EVERY_S = 2.0


def _prompt_sources(sources) -> tuple[prompt.PromptSource, ...]:
    return tuple(prompt.PromptSource(s.number, s.label, s.text) for s in sources)


class Chat:
    """Answers, one-off (`stream`) or inside stored conversations (`ask`, `regenerate`, `edit`)."""

    def __init__(self, models: Models, conversations: Conversations, searcher: Searcher | None = None) -> None:
        """`searcher`: finds the passages and gives the embedder that picks quotes (None: no documents)."""
        self.models = models
        self.host = models.host
        self.conversations = conversations
        self._searcher = searcher

    # -- one answer, stored nowhere ------------------------------------------
    def retrieve(self, question: str, libraries: list[str] | None, k: int = DEFAULT_K,
                 path: str | None = None) -> list[Source]:
        """The passages an answer would be given, numbered as the answer cites them."""
        if self._searcher is None:
            return []
        hits = self._searcher.search(question, k=k, libraries=libraries or None, path=path)
        return [Source.from_hit(i, h) for i, h in enumerate(hits, 1)]

    def stream(self, question: str, options: AskOptions | None = None, *, history: Sequence[prompt.Turn] = (),
               cancel: CancelToken | None = None, **choices) -> Iterator[AnswerEvent]:
        """Events: `sources` (the passages that fit), `token`s, `notice`s, then `done` with the Answer.
        `choices` are AskOptions fields given as keywords."""
        o = (options or AskOptions()).with_choices(**choices)
        settings = o.settings or GenerationSettings()
        rag = bool(o.rag)
        if rag and o.sources is None:
            sources = self.retrieve(question, list(o.libraries or ()), o.k or DEFAULT_K, o.path)
        else:
            sources = list(o.sources or ())
        pieces: list[str] = []
        lang = prompt.language_of(question)
        loaded = self.host.state
        way = route(self.host.registry, loaded.model if loaded else None, o.model, question, o.any_language)
        if not way.ask:
            yield from self._without_model(question, sources, rag, way, lang)
            return
        if loaded is not None and way.model in (None, loaded.model):
            prompt.prerender(loaded, o.system_prompt, len(history), question)  # outside the model's lock
        scale = 1.0 if o.adapter_scale is None else o.adapter_scale
        with self.host.use(way.model, o.adapter, scale) as (llm, state):
            built = prompt.build(llm, state.chat_template, o.system_prompt, list(history), question,
                                 list(_prompt_sources(sources)), rag, reserve=settings.max_tokens)
            kept = {s.number for s in built.sources}
            sources = [s for s in sources if s.number in kept]
            yield AnswerEvent("sources", sources=tuple(sources))
            found = self._quotes(question, sources, rag)
            lead = quotes.block(found, lang)
            if lead:
                yield AnswerEvent("token", text=lead)
            filt = citations.CitationStream(len(sources))
            stats = GenerationStats()
            status = "stopped"
            guard = RepetitionGuard()
            notices: list[dict] = []
            try:
                for piece in llm.generate(built.payload, settings.max_tokens, settings, cancel, stats):
                    pieces.append(piece)
                    out = filt.feed(piece)
                    if out:
                        yield AnswerEvent("token", text=out)
                    if guard.feed(piece):
                        break
                tail = filt.flush()
                if tail:
                    yield AnswerEvent("token", text=tail)
                # "interrupted": a remote model's link dropped; "crashed": a local model's worker
                # died (the host starts a new one). What came is kept as stopped, and said why.
                status = "stopped" if stats.finish_reason in ("cancelled", "interrupted", "crashed") else "complete"
                if stats.finish_reason == "crashed":
                    stats.error = self.host.crashed() or stats.error
                if stats.finish_reason in ("interrupted", "crashed"):
                    notices.append(notice(stats.finish_reason, stats.error or "", model=state.model))
                if guard.looping:
                    stats.finish_reason, status = "repetition", "complete"
                    notices.append(notice("repetition", "The model began repeating itself, so the answer "
                                          "was stopped there; the repeated part is shown once."))
            except Cancelled:
                status = "stopped"
            raw = citations.relabel(guard.kept() if guard.looping else "".join(pieces), sources)
            text = citations.clean(raw, len(sources)).strip()
            cited = citations.find_citations(raw, len(sources))
            why = checks.left_out(question, lang, text, found, sources) if status == "complete" else None
            if why and found:  # the quote answers alone
                notices.append(notice("left_out", checks.LEFT_OUT[why], reason=why))
                text, cited = "", []
            elif why:  # nothing to answer instead: the text stays, with a warning
                notices.append(notice("foreign", checks.FOREIGN, reason=why))
            inferred = not cited and bool(text)
            if inferred:
                cited = attribute(text, [(s.number, s.text) for s in sources])
            cited = list(dict.fromkeys([q.number for q in found] + list(cited)))
            # where it ran ("CPU", "all 30 layers"), so the answer can say so beside its speed
            stats_out = {**stats.as_dict(), "ran_on": state.offload}
            if found:
                stats_out["quotes"] = [q.as_dict() for q in found]
            for n in notices:
                yield AnswerEvent("notice", text=n["text"], notice=n)
            answer = Answer((lead + text).strip(), tuple(sources), tuple(cited), status, stats_out, state.model,
                            state.adapter, inferred=inferred and bool(cited), notices=tuple(notices))
        yield AnswerEvent("done", answer=answer)

    def _without_model(self, question, sources, rag, way, lang) -> Iterator[AnswerEvent]:
        """The answer when the chosen model cannot write the question's language: the quote alone."""
        yield AnswerEvent("sources", sources=tuple(sources))
        found = self._quotes(question, sources, rag)
        lead = quotes.block(found, lang)
        if lead:
            yield AnswerEvent("token", text=lead)
        yield AnswerEvent("notice", text=way.notice["text"], notice=way.notice)
        stats = {"finish_reason": "language", "prompt_tokens": 0, "completion_tokens": 0}
        if found:
            stats["quotes"] = [q.as_dict() for q in found]
        yield AnswerEvent("done", answer=Answer(lead.strip(), tuple(sources), tuple(q.number for q in found),
                                                "complete", stats, way.model, notices=(way.notice,)))

    def _quotes(self, question, sources, rag) -> list[quotes.Quote]:
        if not (rag and sources and self._searcher):
            return []
        return quotes.pick(question, sources, self._searcher.embedder)

    def answer_text(self, model: str | None, adapter: str | None, settings: GenerationSettings,
                    cancel: CancelToken | None = None) -> Callable[[str], str]:
        """question -> the model's whole answer, without documents (drafting, before/after)."""
        def answer(question: str) -> str:
            events = self.stream(question, model=model, adapter=adapter, settings=settings, cancel=cancel,
                                 any_language=True)  # this model's own answer, whatever it can write
            return "".join(e.text for e in events if e.kind == "token").strip()

        return answer

    def model_advice(self, gpu: bool = True) -> ModelAdvice:
        """Which model answers when none is chosen and why, and the catalog model suggested for this computer."""
        from .routing import model_advice

        state = self.models.loaded()
        return model_advice(self.models.registry, state.model if state else None, self.models.catalog(gpu=gpu))

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
            settings=o.settings or GenerationSettings.from_dict(conv.settings), system_prompt=conv.system_prompt,
            any_language=o.any_language)

    def _answer(self, conv, question: str, history: list[prompt.Turn], options: AskOptions,
                cancel: CancelToken | None) -> Iterator[AnswerEvent]:
        o = self._resolve(conv, options)
        model, adapter, settings = o.model, o.adapter, o.settings
        assert settings is not None   # _resolve() always fills it
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
                    assert a is not None   # a "done" event carries the answer
                    # the model that answered, also when the default was asked for (its speed is
                    # then that model's on the Models page and in `bunko models`)
                    self.conversations.update_message(msg.id, content=a.text, citations=list(a.citations),
                                                      status=a.status, model=model or a.model,
                                                      stats={**a.stats, "citations_inferred": a.inferred,
                                                             "notices": list(a.notices)})
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


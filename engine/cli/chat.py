"""`bunko ask` and `bunko chat`: streamed answers in the terminal."""

from __future__ import annotations

import json
import sys

from ..api import Engine
from ..types import GenerationSettings
from .common import open_engine

HELP_CHAT = "Type a question. /new starts a new conversation, /regen answers the last question again, /quit leaves."


def _settings(args) -> GenerationSettings:
    base = GenerationSettings()
    return GenerationSettings(
        temperature=base.temperature if args.temperature is None else args.temperature,
        max_tokens=args.max_tokens or base.max_tokens, seed=args.seed)


def _rag_options(engine: Engine, args) -> dict:
    """--library narrows; --no-rag asks the model alone; by default every library is used."""
    if args.no_rag:
        return {"rag": False, "libraries": []}
    names = args.library or [lib.name for lib in engine.libraries.list()]
    return {"rag": bool(names), "libraries": names}


def _stream(events, out=None, as_json: bool = False):
    """Print an answer as it streams; return the finished Answer (None if interrupted)."""
    out = out or sys.stdout
    answer = None
    notes: list[str] = []
    cancel_hint = False
    try:
        for event in events:
            if event.kind == "token" and not as_json:
                out.write(event.text)
                out.flush()
            elif event.kind == "notice" and not as_json:
                notes.append(event.text)
            elif event.kind == "done":
                answer = event.answer
    except KeyboardInterrupt:
        cancel_hint = True
    finally:
        events.close()  # a stopped answer is saved with what was generated
    if as_json:
        if answer is not None:
            print(json.dumps(_answer_json(answer), ensure_ascii=False, indent=2))
        return answer
    out.write("\n")
    for note in notes:
        out.write(f"({note})\n")
    if cancel_hint:
        out.write("(stopped)\n")
    if answer is not None:
        _print_sources(answer, out)
    return answer


def _print_sources(answer, out) -> None:
    if not answer.sources:
        return
    cited = set(answer.citations)
    out.write("\nSources:\n")
    for s in answer.sources:
        mark = "*" if s.number in cited else " "
        out.write(f" {mark}[{s.number}] {s.library}/{s.label}\n")
    if answer.inferred:
        out.write("  (* the model wrote no citation; marked are the sources whose words the answer uses)\n")
    elif cited:
        out.write("  (* cited in the answer)\n")
    stats = answer.stats
    if stats.get("tokens_per_second"):
        out.write(f"  {stats['completion_tokens']} tokens, {stats['tokens_per_second']:.1f} tokens/s, "
                  f"first token after {stats['time_to_first_token']:.2f} s, model {answer.model}"
                  f"{' + ' + answer.adapter if answer.adapter else ''}\n")


def _answer_json(a) -> dict:
    return {"answer": a.text, "status": a.status, "citations": list(a.citations),
            "citations_inferred": a.inferred, "model": a.model, "adapter": a.adapter,
            "conversation_id": a.conversation_id, "message_id": a.message_id, "stats": a.stats,
            "finish_reason": a.stats.get("finish_reason"), "notices": list(a.notices),
            "sources": [s.as_dict() for s in a.sources]}


def _conversation(engine: Engine, args, title: str = "") -> int | None:
    """--conversation, or a new conversation when a system prompt is given."""
    if args.conversation is not None or not args.system:
        return args.conversation
    conv = engine.conversations.create(title, system_prompt=args.system, model=args.model,
                                       adapter=args.adapter, libraries=tuple(args.library or ()))
    return conv.id


def cmd_ask(args) -> int:
    with open_engine(args) as engine:
        args.conversation = _conversation(engine, args)
        events = engine.ask(args.question, args.conversation, model=args.model, adapter=args.adapter,
                            adapter_scale=args.scale, k=args.k, settings=_settings(args),
                            **_rag_options(engine, args))
        answer = _stream(events, as_json=args.json)
        return 0 if answer is not None and answer.status == "complete" else 1


def cmd_chat(args) -> int:
    with open_engine(args) as engine:
        options = dict(model=args.model, adapter=args.adapter, adapter_scale=args.scale, k=args.k,
                       settings=_settings(args), **_rag_options(engine, args))
        conversation = _conversation(engine, args)
        where = ", ".join(options["libraries"]) if options["rag"] else "the model alone"
        print(f"Bunko chat ({where}). {HELP_CHAT}", file=sys.stderr)
        while True:
            try:
                line = input("\n> ").strip()
            except (EOFError, KeyboardInterrupt):
                print(file=sys.stderr)
                return 0
            if not line:
                continue
            if line in ("/quit", "/exit", "/q"):
                return 0
            if line == "/new":
                conversation = None
                print("(new conversation)", file=sys.stderr)
                continue
            if line == "/regen":
                if conversation is None:
                    print("Nothing to answer again yet.", file=sys.stderr)
                    continue
                events = engine.chat.regenerate(conversation, **options)
            else:
                events = engine.ask(line, conversation, **options)
            answer = _stream(events)
            if answer is not None:
                conversation = answer.conversation_id


def _common(p) -> None:
    p.add_argument("--library", action="append", help="answer from this library (repeatable; default: all)")
    p.add_argument("--no-rag", action="store_true", help="ask the model alone, without your documents")
    p.add_argument("--model", help="chat model name (see `bunko models`; default: the embedded one)")
    p.add_argument("--adapter", help="LoRA adapter to attach")
    p.add_argument("--scale", type=float, default=None, help="adapter strength (default 1.0)")
    p.add_argument("-k", type=int, default=None, help="passages given to the model (default 4)")
    p.add_argument("--temperature", type=float, default=None, help="0 = always the likeliest word (default 0.7)")
    p.add_argument("--max-tokens", type=int, default=None, help="longest answer in tokens (default 1024)")
    p.add_argument("--seed", type=int, help="fixed random seed, for repeatable answers")
    p.add_argument("--conversation", type=int, help="continue this conversation (id)")
    p.add_argument("--system", help="system prompt for a new conversation (default: Bunko's own)")


def add_chat_parsers(sub) -> None:
    p = sub.add_parser("ask", help="ask a question; the answer streams, with its sources")
    p.add_argument("question")
    _common(p)
    p.add_argument("--json", action="store_true", help="print the finished answer as JSON")
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("chat", help="a conversation in the terminal that remembers earlier turns")
    _common(p)
    p.set_defaults(func=cmd_chat)

"""Chat templates come from model files, so they are rendered on a budget: huge numbers,
repetition, doubling, padding, runaway loops and endless output are refused in words,
quickly, and without holding the model while they run."""

from __future__ import annotations

import dataclasses
import threading
import time

import pytest

from engine.errors import ChatTemplateError
from engine.llm import template, template_sandbox

HI = [template.Message("user", "hi")]

HOSTILE = {
    "power": "{{ 7 ** 999999 }}",
    "repeat": "{{ 'x' * 10**9 }}",
    "repeat_list": "{{ ([1] * 10**8)|length }}",
    "doubling": "{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s + ns.s %}{% endfor %}",
    "doubling_tilde": "{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
    "pad_filter": "{{ 'x'|center(1000000000) }}",
    "pad_method": "{{ 'x'.ljust(1000000000) }}",
    "percent_width": "{{ '%0999999999d' % 1 }}",
    "format_filter": "{{ '%0999999999d'|format(1) }}",
    "join": "{% set s = 'x' * 100000 %}{{ ([s] * 100000)|join }}",
    "replace": "{% set s = 'x' * 90000 %}{{ s.replace('x', s) }}",
    "output": "{% for i in range(100000) %}{{ 'abcdefghij' * 1000 }}{% endfor %}",
    "recursion": "{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}",
    "nested_range": "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
    "nested_list": "{% set l = [0] * 100000 %}{% for i in l %}{% for j in l %}{% endfor %}{% endfor %}",
    "branching_macro": "{% macro f(n) %}{% if n %}{{ f(n-1) }}{{ f(n-1) }}{% endif %}{% endmacro %}{{ f(60) }}",
    "huge_source": "x" * (template_sandbox.MAX_SOURCE + 1),
}


@pytest.fixture(autouse=True)
def short_budget(monkeypatch):
    monkeypatch.setattr(template_sandbox, "TIME_BUDGET_S", 0.3)
    template._render_text.cache_clear()


@pytest.mark.parametrize("name", HOSTILE)
def test_a_hostile_template_is_refused_quickly_and_in_words(name):
    started = time.monotonic()
    with pytest.raises(ChatTemplateError, match="chat template"):
        template.render_parts(HOSTILE[name], HI, {})
    assert time.monotonic() - started < 3


def test_real_templates_render_as_before():
    llama3 = ("{{ bos_token }}{% for message in messages %}{% set content = '<|start_header_id|>' + message['role'] "
              "+ '<|end_header_id|>\n\n' + message['content'] | trim + '<|eot_id|>' %}{{ content }}{% endfor %}"
              "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}")
    msgs = [template.Message("system", "be brief"), template.Message("user", "hi"),
            template.Message("assistant", "hello"), template.Message("user", "again " * 5000)]
    text = "".join(t for t, _ in template.render_parts(llama3, msgs, {"bos_token": "<s>"}))
    assert text.startswith("<s><|start_header_id|>system<|end_header_id|>\n\nbe brief<|eot_id|>")
    assert text.endswith("<|start_header_id|>assistant<|end_header_id|>\n\n")
    chatml = "".join(t for t, _ in template.render_parts(None, msgs, {}))
    assert chatml.count("<|im_start|>") == 5 and ("again " * 5000) in chatml
    # numbers, lists and loops of ordinary size stay allowed
    ok = "{{ (2 ** 64) }} {{ ([0] * 1000)|length }} {% for i in range(5000) %}{% endfor %}{{ 'ab' * 100 }}"
    assert "18446744073709551616 1000" in "".join(t for t, _ in template.render_parts(ok, HI, {}))


def test_a_hostile_template_fails_before_the_model_is_held(tmp_path):
    """Rendering needs no model: while another answer holds the model, a request with a runaway
    template fails on its own budget instead of queueing behind the lock."""
    from engine.api import Engine
    from engine.types import GenerationSettings, LoadSettings

    with Engine.open(tmp_path / "b.duckdb") as engine:
        engine.models.load(None, LoadSettings(n_ctx=512, n_threads=1))
        engine.models.host._state = dataclasses.replace(engine.models.host.state, chat_template=HOSTILE["nested_range"])
        held, release = threading.Event(), threading.Event()

        def hold():
            with engine.models.host.use():
                held.set()
                release.wait(20)
        holder = threading.Thread(target=hold)
        holder.start()
        held.wait(10)
        outcome = {}

        def ask():
            try:
                list(engine.chat.stream("hi", settings=GenerationSettings(max_tokens=4)))
                outcome["result"] = "answered"
            except ChatTemplateError as exc:
                outcome["result"] = exc
        try:
            asker = threading.Thread(target=ask, daemon=True)
            asker.start()
            asker.join(8)
            assert isinstance(outcome.get("result"), ChatTemplateError), "the request waited for the model's lock"
            assert "stopped" in str(outcome["result"])
        finally:
            release.set()
            holder.join()

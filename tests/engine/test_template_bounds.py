"""Chat templates cannot make a huge text in one call: `~`, string filters and methods, `str()`
of a list of long texts and the text of macros and blocks are measured before they are built,
so each attack below is refused with a peak of a few megabytes (tracemalloc) and quickly."""

from __future__ import annotations

import time
import tracemalloc

import pytest

from engine.errors import ChatTemplateError
from engine.llm import template, template_sandbox

HI = [template.Message("user", "hi")]
BIG = "{% set s = 'a' * 99999 %}{% set l = [s] * 99999 %}"

ATTACKS = {
    "replace": "{{ ('a' * 99999)|replace('a', 'b' * 99999) }}",
    "replace_empty": "{{ ('a' * 99999)|replace('', 'b' * 99999) }}",
    "replace_method": "{{ ('a' * 99999).replace('a', 'b' * 99) }}",
    "tilde": "{{ ('a' * 99999) ~ ('b' * 99999) ~ ('c' * 99999) }}",
    "tilde_list": BIG + "{{ (l ~ 'x')|length }}",
    "tilde_doubling": "{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
    "indent": "{{ ('a\n' * 49999)|indent(99999) }}",
    "indent_text": "{{ ('a\n' * 49999)|indent('b' * 99999) }}",
    "center": "{{ ('a\n' * 49999)|center(99999)|center(99999) ~ 'x' * 99999 }}",
    "wordwrap": "{{ ('a ' * 49999)|wordwrap(1, wrapstring='b' * 99999) }}",
    "join": BIG + "{{ l|join }}",
    "join_generator": "{% set s = 'a' * 99999 %}{{ range(99999)|map('string')|join(s) }}",
    "join_method": BIG + "{{ ''.join(l) }}",
    "join_attribute": "{% set d = {'k': 'a' * 99999} %}{{ ([d] * 99999)|join(attribute='k') }}",
    "format": "{{ ('%99999s' * 14000)|format(*([1] * 14000)) }}",
    "format_method": "{{ ('{:99999}' * 12000).format(*([1] * 12000)) }}",
    "percent": "{{ ('%99999s' * 14000) % ((1,) * 14000) }}",
    "multiplication": "{{ ('a' * 99999) * 99999 }}",
    "string_of_list": BIG + "{{ l|string }}",
    "tojson": BIG + "{{ l|tojson }}",
    "urlencode": BIG + "{{ l|urlencode }}",
    "print_list": BIG + "{{ l }}",
    "expandtabs": "{{ ('\t' * 99999).expandtabs(99999) }}",
    "translate": "{{ ('a' * 99999).translate({97: 'b' * 99999}) }}",
    "lipsum": "{{ lipsum(99999, max=99999) }}",
    "macro_text": BIG + "{% macro m() %}{% for x in l %}{{ s }}{% endfor %}{% endmacro %}{{ m()|length }}",
    "set_block": BIG + "{% set b %}{% for x in l %}{% for y in l %}QQQQQQQQ{% endfor %}{% endfor %}{% endset %}",
    "filter_block": BIG + "{% filter upper %}{% for x in l %}{{ s }}{% endfor %}{% endfilter %}",
}


@pytest.fixture(autouse=True)
def fresh():
    template._render_text.cache_clear()


@pytest.mark.parametrize("name", ATTACKS)
def test_an_attack_is_refused_in_words_in_bounded_memory_and_time(name):
    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(ChatTemplateError, match="chat template"):
            template.render_parts(ATTACKS[name], HI, {})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 * 1024 * 1024, f"{name}: peak {peak / 1e6:.1f} MB"
    assert time.monotonic() - started < 10


def test_ordinary_uses_of_the_same_operations_still_work():
    ok = ("{% for m in messages %}{{ m['role'] ~ ': ' ~ m['content']|trim }}{% endfor %}|{{ 'x\ny'|indent(2) }}|"
          "{{ ['a', 'b']|join(', ') }}|{{ [{'k': 'v'}]|join(attribute='k') }}|{{ 'x'|replace('x', 'yy') }}|"
          "{{ '%s-%d'|format('a', 3) }}|{{ '{}+{}'.format(1, 2) }}|{{ 'ab'|center(6) }}|{{ [1, 2]|tojson }}|"
          "{{ 'a b c'|wordwrap(3) }}|{{ range(3)|map('string')|join('.') }}|{{ 'a' ~ 1 ~ [2] }}")
    text = "".join(t for t, _ in template.render_parts(ok, HI, {}))
    assert "x\n  y|a, b|v|yy|a-3|1+2|  ab  |[1, 2]|a b\nc|0.1.2|a1[2]" in text


def test_the_tilde_operator_is_seen_by_the_sandbox():
    """Without the rewrite, `~` compiles to a bare join the sandbox never sees."""
    compiled = template_sandbox.compile_template("{{ 'a' ~ x }}")
    with pytest.raises(template_sandbox.Exhausted, match="~"):
        template_sandbox.render_bounded(compiled, x="b" * (template_sandbox.MAX_SIZE + 1))


def test_loops_over_lists_count_their_steps(monkeypatch):
    monkeypatch.setattr(template_sandbox, "MAX_ITERATIONS", 1000)
    compiled = template_sandbox.compile_template("{% for i in l %}{% for j in l %}{% endfor %}{% endfor %}")
    with pytest.raises(template_sandbox.Exhausted, match="1,000 steps"):
        template_sandbox.render_bounded(compiled, l=list(range(100)))
    assert template_sandbox.render_bounded(compiled, l=list(range(10))) == ""   # 110 steps: fine

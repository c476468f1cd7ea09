"""A Jinja sandbox with a budget, for chat templates read from model files.

A GGUF file carries its chat template as code, and a model file is something a
person downloads from anywhere. Jinja's own sandbox stops attribute tricks but
not exhaustion: `'x' * 10**12`, `9 ** 9 ** 9`, a doubling loop or nested
`range`s hold a core or fill memory. Here every operation that could grow a
value is checked before it runs, every value read back is checked for size,
loops and calls look at a deadline, and the output is counted as it streams.
A loop with nothing in it that the sandbox sees (nested `for` over a list) is
stopped by a watchdog that raises in the rendering thread once the budget is
spent. A template that crosses a limit is refused with ChatTemplateError.
"""

from __future__ import annotations

import ctypes
import datetime as _dt
import functools
import math
import re
import threading
import time

from jinja2 import TemplateError, nodes
from jinja2.filters import make_attrgetter
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.visitor import NodeTransformer

from ..errors import ChatTemplateError
from .template_bounds import (Exhausted, bounded_items, check_filter, check_method, format_length, refuse_if_long,
                              text_length)

MAX_SOURCE = 256 * 1024     # characters of template source (real ones: a few KB, tool templates ~30 KB)
MAX_OUTPUT = 512 * 1024     # characters a render may write (message texts are markers, not counted in full)
MAX_SIZE = 100_000          # items or characters one value may have
MAX_INT_BITS = 4096         # bits of an integer a template may make
TIME_BUDGET_S = 2.0         # for one render; real templates take about a millisecond
MAX_ITERATIONS = 1_000_000  # loop steps in one render, all loops together
_BIG_FORMAT = re.compile(r"\d{6,}")   # a width or precision of a million or more in a format string


class _OutOfTime(Exhausted):
    """Raised into the rendering thread by the watchdog (so it takes no arguments)."""

    def __init__(self) -> None:
        super().__init__(f"it ran for more than {TIME_BUDGET_S:g} s")


def _size(value) -> int:
    return len(value) if isinstance(value, (str, bytes, list, tuple, dict, set, frozenset)) else 0


def _check_value(value):
    if _size(value) > MAX_SIZE:
        raise Exhausted(f"it made a value of {_size(value):,} items (the limit is {MAX_SIZE:,})")
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > MAX_INT_BITS:
        raise Exhausted(f"it made an integer of {value.bit_length():,} bits")
    return value


def _check_format(text) -> None:
    if isinstance(text, str) and _BIG_FORMAT.search(text):
        raise Exhausted("it formats with a huge width or precision")


def _int_bits(x) -> int:
    return abs(int(x)).bit_length() if isinstance(x, (int, float)) and math.isfinite(x) else 0


def _binop_guard(op: str, left, right) -> None:
    """Refuse before computing what would be too big."""
    if op == "*":
        for seq, n in ((left, right), (right, left)):
            if _size(seq) and isinstance(n, int) and _size(seq) * max(n, 0) > MAX_SIZE:
                raise Exhausted(f"it repeats a value {n:,} times")
        if isinstance(left, int) and isinstance(right, int) and _int_bits(left) + _int_bits(right) > MAX_INT_BITS:
            raise Exhausted("it multiplies huge integers")
    elif op == "**":
        if isinstance(right, (int, float)) and isinstance(left, (int, float)):
            if abs(right) > MAX_INT_BITS or (abs(left) > 1 and abs(right) * math.log2(abs(left)) > MAX_INT_BITS):
                raise Exhausted("it raises a number to a huge power")
    elif op == "+":
        if _size(left) + _size(right) > MAX_SIZE:
            raise Exhausted("it joins values into one too large")
    elif op == "%":
        _check_format(left)
        if isinstance(left, str):
            refuse_if_long(format_length(left, right), "the % operator")
        if isinstance(right, int) and _int_bits(left) > MAX_INT_BITS:
            raise Exhausted("it works on a huge integer")


# str methods whose result can be much larger than their inputs: a check before the call
def _call_guard(obj, args, kwargs) -> None:
    obj = getattr(obj, "__wrapped__", obj)   # the sandbox's own wrapper of str.format
    owner = getattr(obj, "__self__", None)
    if isinstance(owner, str):
        check_method(owner, getattr(obj, "__name__", ""), args, kwargs)


class _Guards(NodeTransformer):
    """Rewrites a parsed template so that what the sandbox does not see goes through it:
    `a ~ b` (compiled to a bare str join) and the steps of every `for` loop."""

    def visit_Concat(self, node):
        node = self.generic_visit(node)
        return nodes.Filter(nodes.List(node.nodes, lineno=node.lineno), "bunko_concat", [], [], None, None,
                            lineno=node.lineno)

    def visit_For(self, node):
        node = self.generic_visit(node)
        node.iter = nodes.Filter(node.iter, "bunko_steps", [], [], None, None, lineno=node.lineno)
        return node


class BudgetedEnvironment(ImmutableSandboxedEnvironment):
    """The immutable sandbox, plus a deadline and size limits (see the module's docstring)."""

    intercepted_binops = frozenset(["*", "**", "+", "%", "//", "/"])

    def __init__(self, **options) -> None:
        super().__init__(**options)
        self._local = threading.local()   # one compiled template may render in several threads
        self.globals.update(range=self._range, raise_exception=_raise_exception, strftime_now=_strftime_now)
        self.globals.pop("lipsum", None)   # lipsum(n, max=…) writes as much as it is asked for
        self.filters = {name: self._guard_filter(name, f) for name, f in self.filters.items()}
        self.filters["join"] = self._guard_filter("join", self._join)
        self.filters["bunko_concat"] = self._concat_parts
        self.filters["bunko_steps"] = self._steps
        # every `{{ value }}`, and the text of macros, `set` and `filter` blocks, is bounded before it is made
        self.finalize = self._finalize
        self.concat = self._concat  # type: ignore[method-assign]  # jinja2 reads it per instance

    def _generate(self, source, name, filename, defer_init=False):
        return super()._generate(_Guards().visit(source), name, filename, defer_init=defer_init)

    def _finalize(self, value):
        if not isinstance(value, str):
            refuse_if_long(text_length(value), "writing a value")
            value = str(value)
        self._count_text(len(value))
        return value

    def _count_text(self, n: int) -> None:
        made = getattr(self._local, "made", 0) + n
        self._local.made = made
        if made > MAX_OUTPUT * 4:
            raise Exhausted(f"it wrote more than {MAX_OUTPUT * 4:,} characters in all")

    def _concat(self, parts) -> str:
        parts = parts if isinstance(parts, list) else bounded_items(parts, MAX_SIZE * 10)
        total = 0
        for p in parts:
            total += len(p) if isinstance(p, str) else text_length(p)
            refuse_if_long(total, "joining the template's pieces")
        return "".join(parts)

    def _concat_parts(self, items) -> str:
        """`a ~ b ~ c`: each part measured before any is made text."""
        total = 0
        for item in items:
            total += len(item) if isinstance(item, str) else text_length(item)
            if total > MAX_SIZE:
                raise Exhausted(f"it joins values into a text of over {MAX_SIZE:,} characters with ~")
        return "".join(item if isinstance(item, str) else str(item) for item in items)

    def _steps(self, iterable):
        """The items of a loop, counted and on the clock: nested loops over lists are seen."""
        for i, item in enumerate(iterable):
            if not i & 63:
                self.tick()
            steps = getattr(self._local, "steps", 0) + 1
            self._local.steps = steps
            if steps > MAX_ITERATIONS:
                raise Exhausted(f"its loops ran more than {MAX_ITERATIONS:,} steps")
            yield item

    def _join(self, value, d="", attribute=None):
        """Jinja's join, with the result's length known before it is made."""
        items = bounded_items(value, MAX_SIZE)
        if attribute is not None:
            getter = make_attrgetter(self, attribute)
            items = [getter(x) for x in items]
        refuse_if_long(text_length(items) + len(str(d)) * len(items), "the join filter")
        return str(d).join(x if isinstance(x, str) else str(x) for x in items)

    @property
    def deadline(self) -> float:
        return getattr(self._local, "deadline", float("inf"))

    @deadline.setter
    def deadline(self, value: float) -> None:
        self._local.deadline = value

    def tick(self) -> None:
        if time.monotonic() > self.deadline:
            raise Exhausted(f"it ran for more than {TIME_BUDGET_S:g} s")

    def _range(self, *args):
        if any(_int_bits(a) > 64 for a in args):
            raise Exhausted("it asks for a huge range")
        span = range(*args)
        if len(span) > MAX_SIZE:
            raise Exhausted(f"it loops over {len(span):,} numbers (the limit is {MAX_SIZE:,})")
        for i, n in enumerate(span):
            if not i & 255:
                self.tick()
            yield n

    def _guard_filter(self, name, f):
        first = 1 if getattr(f, "jinja_pass_arg", None) else 0   # the context comes before the value

        @functools.wraps(f)
        def guarded(*args, **kwargs):
            self.tick()
            value, rest = (args[first], args[first + 1:]) if len(args) > first else (None, ())
            numbers = [a for a in (*rest, *kwargs.values()) if isinstance(a, int) and not isinstance(a, bool)]
            if any(abs(n) > MAX_SIZE for n in numbers):
                raise Exhausted(f"it calls the {name} filter with a huge number")
            if name == "format":
                _check_format(value)
            check_filter(name, value, rest, kwargs)
            return _check_value(f(*args, **kwargs))
        return guarded

    # Every operation the sandbox sees looks at the clock and the size of what it makes.
    def call_binop(self, context, operator, left, right):
        self.tick()
        _binop_guard(operator, left, right)
        return _check_value(super().call_binop(context, operator, left, right))

    def call(__self, __context, __obj, *args, **kwargs):  # noqa: N805 - Jinja's own signature
        __self.tick()
        if isinstance(getattr(__obj, "__self__", None), str) and getattr(__obj, "__name__", "") == "join" \
                and args and not isinstance(args[0], (list, tuple)):
            args = (bounded_items(args[0], MAX_SIZE), *args[1:])
        _call_guard(__obj, args, kwargs)
        return _check_value(super().call(__context, __obj, *args, **kwargs))

    def getattr(self, obj, attribute):
        self.tick()
        return _check_value(super().getattr(obj, attribute))

    def getitem(self, obj, argument):
        self.tick()
        return _check_value(super().getitem(obj, argument))


def _raise_exception(message):
    raise TemplateError(message)


def _strftime_now(fmt):
    _check_format(fmt)
    return _dt.datetime.now().strftime(str(fmt)[:200])


def compile_template(source: str):
    """A compiled template bound to its own budgeted environment."""
    if len(source) > MAX_SOURCE:
        raise ChatTemplateError(f"The model's chat template has {len(source):,} characters, more than the "
                                f"{MAX_SOURCE:,} Bunko reads. Choose another template for this model.")
    env = BudgetedEnvironment(trim_blocks=True, lstrip_blocks=True, autoescape=False)
    try:
        return env.from_string(source)
    except TemplateError as exc:
        raise ChatTemplateError(f"The model's chat template is not valid Jinja: {exc}") from exc


def render_bounded(template, **context) -> str:
    """Render within the time budget and the output cap; Exhausted (a TemplateError) otherwise."""
    env = template.environment
    env.deadline = time.monotonic() + TIME_BUDGET_S
    env._local.made = env._local.steps = 0
    thread, lock, rendering = threading.get_ident(), threading.Lock(), [True]

    def stop() -> None:   # the cooperative checks normally fire first; this catches bare loops
        with lock:
            if rendering[0]:
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread), ctypes.py_object(_OutOfTime))

    watchdog = threading.Timer(TIME_BUDGET_S + 0.25, stop)
    watchdog.daemon = True
    out, written = [], 0
    try:
        watchdog.start()
        try:
            for piece in template.generate(**context):
                written += len(piece)
                if written > MAX_OUTPUT:
                    raise Exhausted(f"it wrote more than {MAX_OUTPUT:,} characters")
                env.tick()
                out.append(piece)
        finally:
            with lock:
                rendering[0] = False
            watchdog.cancel()
            env.deadline = float("inf")
    except RecursionError:
        raise Exhausted("it calls itself without end") from None
    except (MemoryError, OverflowError) as exc:
        raise Exhausted(f"it computed a value too large ({type(exc).__name__})") from None
    return "".join(out)

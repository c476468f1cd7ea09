"""A hostile server cannot exhaust this computer's memory or hold an answer forever: the client
runs in a child process against a real server on loopback, and the child's own high-water mark
(VmHWM) stays far under what the server sent; malformed fields are errors in words."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.errors import EndpointError
from engine.llm.remote.openai_http import OpenAIClient
from tests.engine import hostile_http

ROOT = Path(__file__).resolve().parents[2]
CHILD = r"""
import json, resource, sys
resource.setrlimit(resource.RLIMIT_AS, (3 * 2**30, 3 * 2**30))   # a fault here must not take the machine
from engine.llm.remote import openai_http as o
url, call, tweaks = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
for name, value in tweaks.items():
    setattr(o, name, value)
out = {"pieces": 0, "finish": None}
try:
    client = o.OpenAIClient(url)
    if call == "models":
        out["models"] = client.models()
    else:
        for p in client.stream_chat("gpt", [{"role": "user", "content": "hi"}], {"max_tokens": 50}):
            out["pieces"] += bool(p.text)
            out["finish"] = p.finish_reason or out["finish"]
except Exception as exc:
    out["error"] = f"{type(exc).__name__}: {exc}"
out["hwm_kb"] = int(next(l for l in open("/proc/self/status") if l.startswith("VmHWM")).split()[1])
print(json.dumps(out))
"""


def run_child(behaviour: str, call: str = "chat", **tweaks) -> dict:
    server, url = hostile_http.start(behaviour)
    try:
        started = time.monotonic()
        done = subprocess.run([sys.executable, "-c", CHILD, url, call, json.dumps(tweaks)], cwd=ROOT,
                              capture_output=True, text=True, timeout=120)
        out = json.loads(done.stdout.strip().splitlines()[-1]) if done.stdout.strip() else {"stderr": done.stderr}
        out["seconds"] = time.monotonic() - started
        return out
    finally:
        server.shutdown()
        server.server_close()


LIMIT_KB = 200 * 1024   # the child's peak: Python and the client need about 30 MB; the server sends 512 MB


@pytest.mark.slow
@pytest.mark.parametrize("behaviour, call, words", [
    ("endless_line", "chat", "sent a line of over 1 MiB"),
    ("huge_models", "models", "list of models larger than 4 MiB"),
    ("padding", "chat", "sent over 4 MiB for an answer of at most 50 tokens"),
])
def test_a_flooding_server_is_stopped_in_bounded_memory(behaviour, call, words) -> None:
    out = run_child(behaviour, call)
    assert words in out.get("error", ""), out
    assert "EndpointError" in out["error"]
    assert out["hwm_kb"] < LIMIT_KB, f"{behaviour}: the client reached {out['hwm_kb'] // 1024} MiB"


@pytest.mark.slow
def test_a_server_that_ignores_max_tokens_is_cut_off_there() -> None:
    out = run_child("ignores_max_tokens")
    assert "error" not in out, out
    assert out["pieces"] <= 50 + 64 and out["finish"] == "length"
    assert out["hwm_kb"] < LIMIT_KB and out["seconds"] < 60


@pytest.mark.slow
def test_a_server_that_drips_for_ever_is_stopped_by_the_answer_time() -> None:
    out = run_child("slow_drip", ANSWER_SECONDS=1.0, SECONDS_PER_TOKEN=0.0, EXTRA_TOKENS=10**9)
    assert "was still sending after 1 s" in out.get("error", ""), out
    assert out["seconds"] < 30


@pytest.mark.parametrize("behaviour, words", [
    ("usage_list", "'usage' should be an object, not list"),
    ("content_list", "'delta.content' should be text, not list"),
    ("choices_dict", "'choices' should be a list, not dict"),
    ("delta_text", "'delta' should be an object, not str"),
    ("finish_number", "'finish_reason' should be text, not int"),
    ("usage_text", "'usage.prompt_tokens' should be a count, not str"),
    ("timings_list", "'timings' should be an object, not list"),
    ("deep_json", "did not answer like an OpenAI-compatible server"),
])
def test_malformed_fields_are_errors_in_words(behaviour, words) -> None:
    server, url = hostile_http.start(behaviour)
    try:
        with pytest.raises(EndpointError) as info:
            list(OpenAIClient(url).stream_chat("gpt", [{"role": "user", "content": "hi"}], {"max_tokens": 8}))
        assert words in str(info.value)
        assert "OpenAI-compatible" in str(info.value)
    finally:
        server.shutdown()
        server.server_close()


def test_a_well_behaved_server_still_answers() -> None:
    server, url = hostile_http.start("ok")
    try:
        pieces = list(OpenAIClient(url).stream_chat("gpt", [{"role": "user", "content": "hi"}], {"max_tokens": 8}))
        assert "".join(p.text for p in pieces) == "hello"
        assert pieces[-1].finish_reason == "stop" and pieces[-1].usage == {"prompt_tokens": 3, "completion_tokens": 1}
        assert OpenAIClient(url).models() == ["gpt"]
    finally:
        server.shutdown()
        server.server_close()

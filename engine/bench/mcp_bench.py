"""`bunko bench mcp`: a search through `bunko mcp` over stdio (the official SDK's client starting
the real server as a child process) against the same search through the engine directly.

Both run on copies of one generated library at the same time, query by query in turns, so a
busy machine slows both alike. Goal: MCP median ≤ 1.2 × direct median + 5 ms.

`bunko bench serve`: `POST /v1/embeddings` over HTTP (a `bunko serve` server on loopback)
against the embedder called directly, batch by batch in turns. Goal: ≥ 0.9 × the direct rate.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

from .common import emit, fmt, machine, queries, ratio, say, stats_ms, table, vocabulary

MCP_FACTOR, MCP_PLUS_MS = 1.2, 5.0
EMBED_GOAL = 0.9


def _library(work: Path, files: int, embedder_dir) -> Path:
    from ..api import Engine
    from .index_bench import generate_folder

    generate_folder(work / "docs", files)
    db = work / "a.duckdb"
    say(f"indexing {files} generated files")
    with Engine.open(db, embedder_dir) as engine:
        engine.libraries.index(engine.libraries.add(work / "docs", "bench").name)
    return db


def run_mcp_bench(args) -> int:
    import anyio

    from mcp import Client
    from mcp.client.stdio import StdioServerParameters, stdio_client

    from ..api import Engine

    work = Path(tempfile.mkdtemp(prefix="bunko-bench-mcp-"))
    try:
        db = _library(work, args.files, getattr(args, "embedder", None))
        copy = work / "b.duckdb"
        shutil.copy(db, copy)
        texts = queries(args.queries, vocabulary())
        direct_s: list[float] = []
        mcp_s: list[float] = []
        argv = ["-m", "engine.cli", "--db", str(copy)]
        if getattr(args, "embedder", None):
            argv += ["--embedder", str(args.embedder)]
        env = {k: v for k, v in os.environ.items() if k.startswith(("BUNKO_", "OMP_", "PYTHON"))}
        params = StdioServerParameters(command=sys.executable, args=argv + ["mcp"], env=env,
                                       cwd=str(Path(__file__).resolve().parents[2]))
        engine = Engine.open(db, getattr(args, "embedder", None))
        hits_seen = []

        server_log = open(work / "mcp-server.log", "w", encoding="utf-8")   # the child's stderr

        async def measure() -> None:
            async with Client(stdio_client(params, errlog=server_log), read_timeout_seconds=300) as client:
                for q in texts[:5]:   # warm both: the embedder, the vector index, the first pages
                    engine.search(q, k=args.k)
                    await client.call_tool("search", {"query": q, "k": args.k})
                for i, q in enumerate(texts):
                    began = time.perf_counter()
                    hits = engine.search(q, k=args.k)
                    direct_s.append(time.perf_counter() - began)
                    began = time.perf_counter()
                    result = await client.call_tool("search", {"query": q, "k": args.k})
                    mcp_s.append(time.perf_counter() - began)
                    if result.is_error:
                        raise RuntimeError(f"search over MCP failed: {result.content}")
                    hits_seen.append(([h.chunk_id for h in hits],
                                      [int(r["id"][1:]) for r in result.structured_content["results"]]))
                    if (i + 1) % 25 == 0:
                        say(f"{i + 1}/{len(texts)} queries")

        try:
            anyio.run(measure)
        except Exception:
            server_log.flush()
            say("bunko mcp said: " + (work / "mcp-server.log").read_text(encoding="utf-8")[-2000:])
            raise
        finally:
            engine.close()
            server_log.close()
        same = sum(a == b for a, b in hits_seen)
        direct, over = stats_ms(direct_s), stats_ms(mcp_s)
        limit = MCP_FACTOR * direct["median_ms"] + MCP_PLUS_MS
        result = {"bench": "mcp", "queries": len(texts), "k": args.k, "files": args.files,
                  "direct": direct, "mcp_stdio": over, "ratio": ratio(over["median_ms"], direct["median_ms"]),
                  "overhead_ms": round(over["median_ms"] - direct["median_ms"], 3),
                  "goal": f"mcp median ≤ {MCP_FACTOR} × direct + {MCP_PLUS_MS} ms", "limit_ms": round(limit, 3),
                  "meets_goal": over["median_ms"] <= limit, "same_results": same, "machine": machine()}
        text = table(["path", "median ms", "p95 ms", "mean ms"], [
            ["engine.search (direct)", direct["median_ms"], direct["p95_ms"], direct["mean_ms"]],
            ["MCP search over stdio", over["median_ms"], over["p95_ms"], over["mean_ms"]]]) + \
            f"\nratio {fmt(result['ratio'])}, overhead {fmt(result['overhead_ms'])} ms; goal ≤ {fmt(limit)} ms " \
            f"({MCP_FACTOR} × direct + {MCP_PLUS_MS:g} ms): {'met' if result['meets_goal'] else 'NOT met'}. " \
            f"Same passages in {same}/{len(texts)} queries; {result['machine']['cpus']} CPUs, " \
            f"load {result['machine']['loadavg_1m']}\n"
        emit(result, args.json, text)
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _post(conn, token: str, body: dict) -> dict:
    conn.request("POST", "/v1/embeddings", body=json.dumps(body).encode(),
                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    resp = conn.getresponse()
    data = json.loads(resp.read())
    if resp.status != 200:
        raise RuntimeError(f"/v1/embeddings answered {resp.status}: {data}")
    return data


def run_serve_bench(args) -> int:
    import numpy as np

    from ..api import Engine
    from ..serve.server import make_server
    from .common import detail_sentences, join_sentences, pool_sentences

    work = Path(tempfile.mkdtemp(prefix="bunko-bench-serve-"))
    try:
        engine = Engine.open(work / "b.duckdb", getattr(args, "embedder", None))
        embedder = engine.searcher.embedder
        pool, detail = pool_sentences(), detail_sentences(2000, vocabulary())
        texts = [join_sentences([pool[i * 7 % len(pool)], detail[i * 5 % len(detail)]] * 2)   # ~100 tokens
                 for i in range(args.texts)]
        batches = [texts[i:i + args.batch] for i in range(0, len(texts), args.batch)]
        server, token = make_server(engine, port=0)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        port = server.server_address[1]
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        direct_s = http_s = 0.0
        worst = 0.0
        try:
            _post(conn, token, {"model": embedder.name, "input": batches[0]})   # warm both
            embedder.embed_passages(batches[0])
            for round_ in range(args.runs):
                for i, batch in enumerate(batches):
                    first_http = (i + round_) % 2 == 0   # alternate which goes first
                    for path in ("http", "direct") if first_http else ("direct", "http"):
                        began = time.perf_counter()
                        if path == "http":
                            got = _post(conn, token, {"model": embedder.name, "input": batch,
                                                      "encoding_format": "base64"})
                            http_s += time.perf_counter() - began
                        else:
                            ref = embedder.embed_passages(batch)
                            direct_s += time.perf_counter() - began
                    vecs = np.array([np.frombuffer(base64.b64decode(d["embedding"]), dtype="<f4")
                                     for d in got["data"]])
                    worst = max(worst, float(np.max(np.abs(vecs - ref))))
                say(f"round {round_ + 1}/{args.runs}: direct {direct_s:.1f} s, http {http_s:.1f} s so far")
        finally:
            conn.close()
            server.shutdown()
            server.server_close()
            engine.close()
        n = len(texts) * args.runs
        direct_rate, http_rate = n / direct_s, n / http_s
        result = {"bench": "serve", "texts": len(texts), "batch": args.batch, "runs": args.runs,
                  "direct_texts_per_s": round(direct_rate, 2), "http_texts_per_s": round(http_rate, 2),
                  "ratio": ratio(http_rate, direct_rate), "goal": EMBED_GOAL,
                  "meets_goal": http_rate >= EMBED_GOAL * direct_rate, "max_abs_difference": worst,
                  "machine": machine()}
        text = table(["path", "texts/s", "seconds"], [
            ["embedder.embed_passages (direct)", round(direct_rate, 2), round(direct_s, 2)],
            ["POST /v1/embeddings (HTTP)", round(http_rate, 2), round(http_s, 2)]]) + \
            f"\nratio {fmt(result['ratio'])} (goal ≥ {EMBED_GOAL}): {'met' if result['meets_goal'] else 'NOT met'}" \
            f"; same vectors (largest difference {worst:.2e}); {len(texts)} texts in batches of {args.batch}, " \
            f"{args.runs} rounds; {result['machine']['cpus']} CPUs, load {result['machine']['loadavg_1m']}\n"
        emit(result, args.json, text)
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)

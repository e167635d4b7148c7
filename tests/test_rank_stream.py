"""`judge rank` writes each row as soon as it and every earlier row are judged; --limit N."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from helpers.fault_server import FaultServer

RELEASE_AFTER_S = 60   # the slow row is answered after this long at most (no hang on failure)


def verdict_for(body: dict[str, Any]) -> str:
    ids = list(json.loads(body["messages"][-1]["content"])["responses"])
    return json.dumps({"scores": {m: 5 - n for n, m in enumerate(ids)}, "best-to-worst": ids})


def rows(n: int) -> list[dict[str, Any]]:
    return [{"id": f"r{i}", "prompt": "slow" if i == 1 else f"p{i}",
             "responses": ["a", "b"]} for i in range(n)]


def rank(url: str, tmp_path: Path, *extra: str) -> subprocess.Popen[str]:
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows(4)), encoding="utf-8")
    return subprocess.Popen(
        [sys.executable, "-m", "judge", "rank", "-i", str(src), "--backend", f"openai:{url}",
         "--principle", "Be correct.", "-B", "max_concurrency=4", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


def test_rows_are_written_in_order_as_they_complete(tmp_path):
    release = threading.Event()
    answered: list[str] = []

    def reply(body: dict[str, Any]) -> str:
        prompt = json.loads(body["messages"][-1]["content"])["prompt"]
        if prompt == "slow":
            release.wait(RELEASE_AFTER_S)
        answered.append(prompt)
        return verdict_for(body)

    out = tmp_path / "out.jsonl"
    with FaultServer(reply=reply) as srv:
        proc = rank(srv.url, tmp_path, "-o", str(out), "--append")
        deadline = time.monotonic() + RELEASE_AFTER_S
        while not lines(out) and time.monotonic() < deadline:
            time.sleep(0.05)
        while len(answered) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
        before_release = lines(out)
        release.set()
        _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err[-2000:]
    # row 0 came out while row 1 was still being judged; rows 2-3 waited for row 1
    assert [r["id"] for r in before_release] == ["r0"]
    assert sorted(answered[:3]) == ["p0", "p2", "p3"]
    assert [r["id"] for r in lines(out)] == ["r0", "r1", "r2", "r3"]
    assert all(r["status"] == "ok" for r in lines(out))


def test_limit_ranks_only_the_first_rows(tmp_path):
    out = tmp_path / "out.jsonl"
    with FaultServer(reply=verdict_for) as srv:
        proc = rank(srv.url, tmp_path, "-o", str(out), "--limit", "2")
        _, err = proc.communicate(timeout=120)
        sent = len(srv.bodies)
    assert proc.returncode == 0, err[-2000:]
    assert [r["id"] for r in lines(out)] == ["r0", "r1"] and sent == 2
    assert "2 rows" in err

"""``--engine ray`` on a real local Ray cluster (2 CPUs, started once for this module).

Each Ray run starts fresh actors that load their model (about a minute for the module on an idle
2-core machine, several when it is busy): label on the head and on the tiny transformers model,
bench in both modes and the distill embedding step all run by default.

Label and bench runs through the actor pool are compared row by row with the local engine's
output (byte for byte for the reward head), after a worker process is SIGKILLed mid-run; a rerun
judges nothing again. Nothing here is mocked.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

ray = pytest.importorskip("ray")
pytest.importorskip("ray.data")
psutil = pytest.importorskip("psutil")

from judge.bench.runner import load_records, run_suite
from judge.bench.suites import load_suite
from judge.cli import main
from judge.engine import EngineOptions, JudgeSpec, make_engine
from judge.engine.shards import MANIFEST, ShardStore
from judge.errors import BackendUnavailable
from judge.label import LabelOptions, label_dataset
from judge.label.record import JOURNAL_FIELDS
from judge.types import Sampling

# The head's LRU of prompt vectors makes a vector depend on the batch that first embedded it
# (padding moves the last bits); without it, a batch's scores depend on that batch alone.
HEAD = JudgeSpec("head", {"principle": "correct-then-concise",
                          "backend_options": {"cache_size": 0}})


@pytest.fixture(scope="module")
def cluster() -> Any:
    ray.init(num_cpus=2, include_dashboard=False, configure_logging=False)
    yield ray
    ray.shutdown()


def _rows(path: Path) -> Path:
    topics = ["tides", "bread", "rust", "owls", "jazz", "glass", "moss", "kites"]
    with open(path, "w", encoding="utf-8") as fh:
        for n, topic in enumerate(topics * 2):
            responses = [f"{topic} answer {k} " + "detail " * (k + n % 3) for k in range(3)]
            row: dict[str, Any] = {"id": f"r{n}", "prompt": f"Explain {topic}.",
                                   "responses": responses}
            if n == 5:
                row = {"id": "one", "prompt": "Say hi.", "response": "hi"}
            fh.write(json.dumps(row) + "\n")
            if n == 7:
                fh.write("{not json\n")
            if n == 9:
                fh.write(json.dumps({"id": "none", "prompt": "no responses"}) + "\n")
        fh.write(json.dumps({"id": "dup", "prompt": "Explain tides.",
                             "responses": ["tides answer 0 ", "tides answer 1 detail "]}) + "\n")
        fh.write(json.dumps({"id": "dup", "prompt": "Explain tides.",
                             "responses": ["tides answer 0 ", "tides answer 1 detail "]}) + "\n")
    return path


def _map_workers() -> list[psutil.Process]:
    """The Ray Data actor processes of this test's cluster, busy ones (the process title names
    the method running, ``ray::MapWorker(...).submit``) first."""
    found = []
    for proc in psutil.Process().children(recursive=True):
        try:
            title = " ".join(proc.cmdline())
        except psutil.Error:
            continue
        if "MapWorker" in title:
            found.append((")." not in title, proc))
    return [proc for _, proc in sorted(found, key=lambda x: x[0])]


def _label(spec: JudgeSpec, source: Path, output: Path, engine: str, *, kill: bool = False,
           batch_size: int = 2) -> Any:
    judge = spec.build()
    runner = (make_engine(EngineOptions(engine="ray", workers=2), None, spec)
              if engine == "ray" else None)
    killed: list[int] = []

    def advance(n: int) -> None:
        if kill and not killed:
            workers = _map_workers()
            assert workers, "no Ray Data actor process found to kill"
            killed.append(workers[0].pid)
            os.kill(workers[0].pid, signal.SIGKILL)

    try:
        summary = label_dataset(judge, str(source), output, LabelOptions(batch_size=batch_size),
                                on_advance=advance, engine=runner)
    finally:
        judge.close()
    assert not kill or killed
    return summary


def test_label_on_ray_with_a_killed_worker_matches_local_and_resumes(
        cluster: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = _rows(tmp_path / "rows.jsonl")
    local = _label(HEAD, source, tmp_path / "local.jsonl", "local")
    remote = _label(HEAD, source, tmp_path / "ray.jsonl", "ray", kill=True)
    assert remote.total == local.total == 20 and remote.labeled == local.labeled == 18
    assert remote.counts == local.counts and remote.counts["invalid_input"] == 2
    local_rows = (tmp_path / "local.jsonl").read_text().splitlines()
    ray_rows = (tmp_path / "ray.jsonl").read_text().splitlines()
    for n, (a, b) in enumerate(zip(local_rows, ray_rows, strict=True)):
        assert json.loads(a) == json.loads(b), f"row {n} differs"
    assert (tmp_path / "ray.jsonl").read_bytes() == (tmp_path / "local.jsonl").read_bytes()

    # the shards hold every judged row exactly once, and the manifest counts them
    shards = tmp_path / "ray.jsonl.shards"
    keys = Counter(json.loads(line)["key"] for part in sorted(shards.glob("part-*.jsonl"))
                   for line in part.read_text().splitlines())
    out_keys = [json.loads(r)["label_key"] for r in ray_rows]
    assert sorted(keys) == sorted(k for k in out_keys if k is not None)
    assert set(keys.values()) == {1}
    manifest = json.loads((shards / MANIFEST).read_text())
    assert manifest["rows"] == 18 and len(manifest["shards"]) == len(list(shards.glob("part-*")))

    # the same command line again judges nothing; losing a shard judges exactly its rows again
    cli = ["label", "-i", str(source), "-o", str(tmp_path / "ray.jsonl"), "--batch-size", "2",
           "--principle", "correct-then-concise", "-B", "cache_size=0", "--engine", "ray",
           "--workers", "2"]
    assert main(cli) == 3  # the two invalid rows
    err = capsys.readouterr().err
    assert "resuming: 18 of 20 rows already labeled" in err and "labeled now 0" in err
    lost = sorted(shards.glob("part-*.jsonl"))[1]
    lost_rows = len(lost.read_text().splitlines())
    lost.unlink()
    assert main(cli) == 3
    err = capsys.readouterr().err
    assert f"label: {lost_rows}/{lost_rows} rows (100%)" in err  # the driver's progress line
    assert f"labeled now {lost_rows}, reused {18 - lost_rows}" in err
    assert (tmp_path / "ray.jsonl").read_bytes() == (tmp_path / "local.jsonl").read_bytes()
    store = ShardStore(shards, required=JOURNAL_FIELDS)
    assert len(store.scan()) == 18
    store.close()


def test_label_with_the_tiny_transformers_model_matches_local(cluster: Any, tmp_path: Path,
                                                              tiny_model_dir: Path) -> None:
    pytest.importorskip("judge.backends.hf.engine")
    spec = JudgeSpec(f"transformers:{tiny_model_dir}", {
        "principle": "correct-then-concise", "sampling": Sampling(max_tokens=4)})
    source = tmp_path / "rows.jsonl"
    source.write_text("".join(json.dumps({"id": str(n), "prompt": f"Q{n}?",
                                          "responses": [f"a{n}", f"b{n} longer"]}) + "\n"
                              for n in range(6)))
    local = _label(spec, source, tmp_path / "local.jsonl", "local", batch_size=3)
    remote = _label(spec, source, tmp_path / "ray.jsonl", "ray", batch_size=3)
    assert remote.counts == local.counts and remote.total == 6
    a = [json.loads(r) for r in (tmp_path / "local.jsonl").read_text().splitlines()]
    b = [json.loads(r) for r in (tmp_path / "ray.jsonl").read_text().splitlines()]
    assert a == b
    assert all(r["raw"] and r["provenance"]["backend"].startswith("transformers") for r in b)


@pytest.mark.parametrize("both", [False, True])
def test_bench_on_ray_writes_the_local_records(cluster: Any, tmp_path: Path, both: bool) -> None:
    suite = load_suite("sample")
    judge = HEAD.build()
    engine = make_engine(EngineOptions(engine="ray", workers=2), None, HEAD)
    try:
        local = run_suite(suite, judge, tmp_path / "local", chunk_size=3, limit=8,
                          both_orders=both)
        remote = run_suite(suite, judge, tmp_path / "ray", chunk_size=3, limit=8,
                           both_orders=both, engine=engine)
        again = run_suite(suite, judge, tmp_path / "ray", chunk_size=3, limit=8,
                          both_orders=both, engine=engine)
    finally:
        judge.close()
    assert (remote.judged, again.judged, again.already_done) == (8, 0, 8)
    assert remote.counts == local.counts
    by_key = {r["key"]: r for r in load_records(tmp_path / "local")}
    records = load_records(tmp_path / "ray")
    assert len(records) == 8 and all(r == by_key[r["key"]] for r in records)
    assert all(("orders" in r) == both for r in records)


def test_distill_embedding_on_ray_fills_the_cache_with_the_local_vectors(
        cluster: Any, tmp_path: Path) -> None:
    from judge.distill.cache import EmbedderSpec, EmbeddingCache

    spec = EmbedderSpec("minilm")
    embedder = spec.build()
    texts = [f"text {n} " + "word " * (n % 7) for n in range(40)] + ["text 3 word word word "]
    local = EmbeddingCache(tmp_path / "local", embedder).embed(texts, batch=8)
    done: list[int] = []
    cache = EmbeddingCache(tmp_path / "ray", embedder, on_embedded=done.append,
                           engine=make_engine(EngineOptions(engine="ray", workers=2), None, spec))
    remote = cache.embed(texts, batch=8)
    assert remote.tobytes() == local.tobytes()
    assert sum(done) == cache.misses == 40 and len(cache) == 40
    assert cache.embed(texts[:5], batch=8).tobytes() == local[:5].tobytes()
    assert cache.misses == 40  # nothing embedded again
    cache.close()


class _NoResource:
    def build(self) -> None:
        return None


def _server_gone(resource: None, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if any(r["n"] == 3 for r in rows):
        raise BackendUnavailable("the judge server at 127.0.0.1:9 went away")
    return [{"n": r["n"] * 10} for r in rows]


def test_an_error_in_a_worker_stops_the_run_as_the_same_error(cluster: Any) -> None:
    # this module is not importable in the workers: send these two by value
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    engine = make_engine(EngineOptions(engine="ray", workers=1), None, _NoResource())
    got: list[dict[str, Any]] = []
    with pytest.raises(BackendUnavailable, match="went away"):
        engine.map(_server_gone, ({"n": n} for n in range(6)), batch_size=2, on_batch=got.extend)
    assert all(r["n"] in (0, 10) for r in got)  # only the first batch can have finished


def test_the_driver_judge_is_described_by_a_worker_not_loaded(cluster: Any,
                                                              tiny_model_dir: Path) -> None:
    from judge.engine.described import DescribedBackend, DescribedScorer
    from judge.errors import CapabilityError, ConfigError

    text_spec = JudgeSpec(f"transformers:{tiny_model_dir}", {
        "principle": "correct-then-concise", "structured": True,
        "sampling": Sampling(max_tokens=8)})
    for spec, kind in ((HEAD, DescribedScorer), (text_spec, DescribedBackend)):
        engine = make_engine(EngineOptions(engine="ray"), None, spec)
        described = spec.build_described(engine.describe())
        loaded = spec.build()
        try:
            assert type(described.backend) is kind
            assert described.fingerprint() == loaded.fingerprint()    # the same resume keys
            assert described.config() == loaded.config()
        finally:
            loaded.close()
    with pytest.raises(CapabilityError, match="loaded in the Ray workers only"):
        described.rank([{"prompt": "q", "responses": ["a", "b"]}])
    missing = JudgeSpec("transformers:/no/such/model", {"principle": "correct-then-concise"})
    with pytest.raises(ConfigError, match="does not exist"):   # the worker's error, same class
        make_engine(EngineOptions(engine="ray"), None, missing).describe()


def test_a_run_resumes_across_engines(cluster: Any, tmp_path: Path) -> None:
    source = _rows(tmp_path / "rows.jsonl")
    first = _label(HEAD, source, tmp_path / "a.jsonl", "local")
    again = _label(HEAD, source, tmp_path / "a.jsonl", "ray")        # the journal's rows reused
    assert first.labeled == 18 and (again.labeled, again.reused) == (0, 18)
    b_first = _label(HEAD, source, tmp_path / "b.jsonl", "ray")
    b_again = _label(HEAD, source, tmp_path / "b.jsonl", "local")    # the shards' rows reused
    assert b_first.labeled == 18 and (b_again.labeled, b_again.reused) == (0, 18)
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()

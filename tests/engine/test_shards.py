"""The shard store of ``--engine ray``: complete shards, last record wins, a manifest that
catches up."""

from __future__ import annotations

import json
from pathlib import Path

from judge.engine.shards import MANIFEST, ShardStore, default_shards_path


def _records(rows: range, status: str = "ok") -> list[dict]:
    return [{"key": f"k{n}", "config": "c", "status": status, "row": n} for n in rows]


def test_shards_read_like_a_journal_and_the_manifest_lists_them(tmp_path: Path) -> None:
    path = default_shards_path(tmp_path / "out.jsonl")
    assert path.name == "out.jsonl.shards"
    store = ShardStore(path, required=("row",), meta={"config": "c"})
    store.append(_records(range(4, 8)))
    store.append(_records(range(4)))
    store.append([])  # nothing: no shard
    store.append(_records(range(2, 3), status="backend_error"))
    store.close()
    assert [p.name for p in store.shards()] == [f"part-00000{n}.jsonl" for n in range(3)]
    manifest = json.loads((path / MANIFEST).read_text())
    assert manifest["config"] == "c" and manifest["rows"] == 9
    assert [(e["first_row"], e["last_row"]) for e in manifest["shards"]] == [(4, 7), (0, 3),
                                                                            (2, 2)]
    again = ShardStore(path, required=("row",))
    found = again.scan()
    assert sorted(found) == [f"k{n}" for n in range(8)]
    assert found["k2"] == ("c", "backend_error")  # the later shard wins
    assert [again.read(f"k{n}")["row"] for n in range(8)] == list(range(8))  # type: ignore[index]
    assert again.read("missing") is None
    again.close()


def test_damage_is_skipped_and_a_manifest_left_behind_is_rebuilt(tmp_path: Path) -> None:
    store = ShardStore(tmp_path / "s", required=("row",))
    store.append(_records(range(3)))
    store.close()
    # a run killed mid-write leaves a temporary file (ignored) and, with a damaged last line,
    # a shard whose complete lines still count
    (tmp_path / "s" / ".part-000001.jsonl.tmp-1").write_text('{"key": "k9"')
    (tmp_path / "s" / "part-000001.jsonl").write_text(
        json.dumps(_records(range(3, 4))[0]) + "\n" + '{"key": "k4", "con')
    store = ShardStore(tmp_path / "s", required=("row",))
    assert sorted(store.scan()) == ["k0", "k1", "k2", "k3"] and store.skipped == 1
    store.close()  # nothing appended, but the manifest missed part-000001: rebuilt
    manifest = json.loads((tmp_path / "s" / MANIFEST).read_text())
    assert [e["file"] for e in manifest["shards"]] == ["part-000000.jsonl", "part-000001.jsonl"]
    assert manifest["rows"] == 4

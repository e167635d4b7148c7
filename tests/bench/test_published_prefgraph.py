"""Preference graphs: edges as gold, accuracy and tau-b over the edges by hand, cycles refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers.published_files import record, write_prefgraph

from judge.bench.published import load_published, prefgraph
from judge.errors import InputError

EDGES = [["0", "1"], ["0", "2"], ["1", "3"]]


def test_loads_lists_and_dicts_with_edges_as_gold(tmp_path: Path) -> None:
    suite = load_published("prefgraph", write_prefgraph(tmp_path))
    g1, g2 = suite.items
    assert g1.metadata["edges"] == EDGES and g2.metadata["edges"] == [["a", "b"]]
    gold = g1.gold()     # a value order consistent with every edge
    assert all(gold[a] > gold[b] for a, b in EDGES)
    assert g2.prompt.startswith("Answer in one word")


def test_accuracy_and_tau_b_over_edges_by_hand() -> None:
    gold = {"0": 3.0, "1": 2.0, "2": 2.0, "3": 1.0}
    r1 = record(gold, {"subset": "all", "edges": EDGES},
                {"0": 4, "1": 3, "2": 3, "3": 1},      # C=3 D=0 T=0: tau 1
                {"0": 2, "1": 2, "2": 3, "3": 1})      # C=1 D=1 T=1: tau 0
    r2 = record({"a": 2.0, "b": 1.0}, {"subset": "all", "edges": [["a", "b"]]},
                {"a": 1, "b": 2}, None)                # discordant; no verdict counts discordant
    result = prefgraph.score([r1, r2])
    assert list(result) == ["overall"]
    overall = result["overall"]
    assert overall["edges"] == 4 and overall["lists"] == 2
    assert overall["accuracy"] == pytest.approx(100 * 4.5 / 8)   # (C + T/2) / edges, both orders
    assert overall["tau_b"] == pytest.approx(100 * (1 + 0 - 1 - 1) / 4)
    assert prefgraph.item_score(r1) == pytest.approx((1 + 0.5) / 2)
    assert prefgraph.tau_b(0, 0, 2) is None


def test_a_cycle_or_an_unknown_id_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "g.jsonl"
    path.write_text(json.dumps({"prompt": "p", "responses": ["a", "b"],
                                "edges": [[0, 1], [1, 0]]}) + "\n")
    with pytest.raises(InputError, match="cycle") as err:
        load_published("prefgraph", path)
    assert (err.value.line, err.value.field) == (1, "edges")
    path.write_text(json.dumps({"prompt": "p", "responses": ["a", "b"], "edges": [[0, 5]]}) + "\n")
    with pytest.raises(InputError, match="prefgraph.*entry 0"):
        load_published("prefgraph", path)

"""Suite principle texts live in principles/suites/*.yaml and are read with clear errors."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from judge.bench import adapters, rmbench, suite_principles
from judge.errors import BenchmarkError

REPO = Path(__file__).resolve().parents[2]


def test_no_principle_text_is_written_in_python() -> None:
    for module in (rmbench, adapters):
        source = Path(module.__file__).read_text(encoding="utf-8")  # type: ignore[arg-type]
        assert "Among responses that are equally correct" not in source
        assert "Prefer the response that does what the user asked" not in source


def test_rm_bench_texts_come_from_the_yaml_unchanged() -> None:
    chosen = rmbench.principles()
    assert [p.name for p in chosen] == ["rmb-correct-then-concise", "rmb-correct-then-thorough",
                                        "rmb-correct-then-plain-prose"]
    assert all(p.text.startswith("A response is correct when it is accurate") for p in chosen)
    # the texts of builder rm-bench/1 (as they were in Python): a change needs a new builder
    digest = hashlib.sha256("\n".join(p.text for p in chosen).encode()).hexdigest()[:12]
    assert (rmbench.BUILDER, digest) == ("rm-bench/1", "67536352e847")


def test_pairwise_rows_without_a_principle_get_the_yaml_default(tmp_path: Path) -> None:
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text('{"prompt": "q", "chosen": "a", "rejected": "b"}\n', encoding="utf-8")
    item = adapters.build_pairwise(pairs)[0]
    assert item.principle == suite_principles.suite_principles("pairwise")["default"]


@pytest.mark.parametrize(("text", "match"), [
    ("correctness: [not, text]\nprinciples: []\n", "field 'correctness' must be a non-empty"),
    (("correctness: ok\nprinciples:\n  - name: x\n    category: style\n    text: t\n"
     "    style_order: [concise]\n"), (r"principles\[0\] needs name, category, text and a "
                                    "style_order listing concise, detailed, markdown")),
    ("correctness: ok\n", "no principles listed"),
    ("- just\n- a list\n", "expected a mapping"),
])
def test_a_malformed_suite_file_names_file_and_field(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, match: str) -> None:
    (tmp_path / "suites").mkdir()
    (tmp_path / "suites" / "rm-bench.yaml").write_text(text, encoding="utf-8")
    monkeypatch.setattr(suite_principles, "asset_dir", lambda name: tmp_path)
    suite_principles.suite_principles.cache_clear()
    rmbench.principles.cache_clear()
    try:
        with pytest.raises(BenchmarkError, match=match) as info:
            rmbench.principles()
        assert str(tmp_path / "suites" / "rm-bench.yaml") in str(info.value)
    finally:
        suite_principles.suite_principles.cache_clear()
        rmbench.principles.cache_clear()

"""One reader of ``responses`` for every path into the judge; batch errors name the index."""

from __future__ import annotations

import json
from typing import Any

import pytest

from judge import InputError, Judge
from judge.backends.scripted import ScriptedBackend
from judge.items import Item, RankItem, coerce_item, normalize_responses
from judge.types import GenerationRequest

SHAPES: list[tuple[Any, dict[str, str]]] = [
    (["first", "second"], {"0": "first", "1": "second"}),
    ({"a": "first", "b": "second"}, {"a": "first", "b": "second"}),
    ([{"id": "a", "text": "first"}, {"id": "b", "text": "second"}], {"a": "first", "b": "second"}),
    ([{"content": "first"}, {"response": "second"}], {"0": "first", "1": "second"}),
    ([{"role": "assistant", "content": [{"type": "text", "text": "first"}]},
      [{"role": "user", "content": "q"}, {"role": "assistant", "content": "second"}]],
     {"0": "first", "1": "second"}),
    ({"a": {"text": "first"}, "b": [{"role": "assistant", "content": "second"}]},
     {"a": "first", "b": "second"}),
]


@pytest.mark.parametrize(("value", "expected"), SHAPES)
def test_accepted_shapes(value: Any, expected: dict[str, str]) -> None:
    assert normalize_responses(value) == expected
    assert Item(prompt="q", responses=value).responses == expected


@pytest.mark.parametrize(("value", "where"), [
    (["ok", 3], "responses[1]"),
    (["ok", None], "responses[1]"),
    ([{"id": "a", "text": "ok"}, {"id": "b", "body": "lost"}], "responses[1]"),
    ([{"text": None}], "responses[0]"),
    ([{"id": "a", "text": "x"}, {"id": "a", "text": "y"}], "responses[1]"),
    ({"a": "ok", "b": {"score": 1}}, "responses.b"),
    ([{"role": "assistant", "content": [{"type": "image_url"}]}], "responses[0]"),
    ("just text", "responses"),
    ([], "responses"),
])
def test_other_shapes_are_refused_with_the_index(value: Any, where: str) -> None:
    with pytest.raises(InputError) as info:
        coerce_item({"prompt": "q", "responses": value}, path="in.jsonl", line=7)
    assert info.value.field == where
    assert str(info.value).startswith(f"in.jsonl:7: field '{where}': ")


def test_rank_item_is_the_same_type() -> None:
    assert RankItem is Item


def test_the_judge_sees_the_text_of_object_responses() -> None:
    seen: list[GenerationRequest] = []

    def reply(req: GenerationRequest) -> str:
        seen.append(req)
        return json.dumps({"scores": {"model-1": 5, "model-2": 1},
                           "best-to-worst": ["model-1", "model-2"]})

    judge = Judge(ScriptedBackend(reply), principle="Prefer correct answers.", shuffle=False)
    (j,) = judge.rank([{"prompt": "q", "responses": [{"id": "a", "text": "alpha answer"},
                                                     {"id": "b", "content": "beta answer"}]}])
    user = seen[0].messages[-1].content
    assert "alpha answer" in user and "beta answer" in user
    assert j.status == "ok" and j.ranking == ["a", "b"]


@pytest.mark.parametrize("method", ["rank", "score", "compare"])
def test_a_batch_call_names_the_bad_item(method: str) -> None:
    judge = Judge(ScriptedBackend([]), principle="Prefer correct answers.")
    good = {"prompt": "q", "responses": ["a", "b"] if method != "score" else ["a"]}
    bad = {"prompt": "q", "responses": ["a", {"body": "no text"}]}
    with pytest.raises(InputError, match=r"^item 2: field 'responses\[1\]'"):
        getattr(judge, method)([good, good, bad])


def test_a_batch_call_names_the_item_with_an_unknown_principle() -> None:
    judge = Judge(ScriptedBackend([]), principle="Prefer correct answers.")
    items = [{"prompt": "q", "responses": ["a", "b"]},
             {"prompt": "q", "responses": ["a", "b"], "principle": "no-such-id"}]
    with pytest.raises(Exception, match="^item 1: "):
        judge.rank(items)


@pytest.mark.parametrize("bad", [
    {"prompt": "q\ud800", "responses": ["a", "b"]},
    {"prompt": "q", "responses": ["a", "b\udfff"]},
    Item(prompt="q", responses=["a", "\ud83d"]),
])
def test_a_lone_surrogate_in_a_batch_names_the_item_and_field(bad: Any) -> None:
    judge = Judge(ScriptedBackend([]), principle="Prefer correct answers.")
    good = {"prompt": "q", "responses": ["a", "b"]}
    with pytest.raises(InputError, match=r"^item 1: field '(prompt|responses(\[1\]|\.1))': "
                                         r"character \d+ is a lone surrogate"):
        judge.rank([good, bad])

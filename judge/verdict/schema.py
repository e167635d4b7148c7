"""JSON schemas of the verdicts each template asks for (used for structured outputs)."""

from __future__ import annotations

from typing import Any


def verdict_schema(answer: str, ids: list[str], scale: tuple[int, int]) -> dict[str, Any]:
    """The schema a constrained decoder should enforce for one request.

    >>> verdict_schema("score", ["model-1"], (1, 5))["properties"]["score"]
    {'type': 'integer', 'minimum': 1, 'maximum': 5}
    """
    score = {"type": "integer", "minimum": scale[0], "maximum": scale[1]}
    if answer == "score":
        return {"type": "object", "properties": {"score": score}, "required": ["score"],
                "additionalProperties": False}
    if answer == "winner":
        return {"type": "object", "properties": {"better": {"enum": [*ids, "tie"]}},
                "required": ["better"], "additionalProperties": False}
    return {
        "type": "object",
        "properties": {
            "scores": {"type": "object", "properties": {i: score for i in ids},
                       "required": list(ids), "additionalProperties": False},
            "best-to-worst": {"type": "array", "items": {"enum": list(ids)},
                              "minItems": len(ids), "maxItems": len(ids)},
        },
        "required": ["scores", "best-to-worst"],
        "additionalProperties": False,
    }

"""The Markdown card (``README.md``) written beside a head's config and weights."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from judge.distill.evaluate import report_markdown


def _val(x: Any) -> str:
    if x is None:
        return "–"
    return f"{x:.3f}" if isinstance(x, float) else str(x)


def render_card(config: dict[str, Any], *, intro: str | None = None,
                sections: Sequence[str] = ()) -> str:
    """A card from a head config (as passed to :func:`~judge.distill.artifact.save_head`).

    Args:
        config: the head's config fields.
        intro: a paragraph under the title (what the head is for).
        sections: extra Markdown sections appended at the end (data, licences, ...).
    """
    emb = config["embedder"]
    emb = emb.model_dump() if hasattr(emb, "model_dump") else emb
    arch = config["architecture"]
    arch = arch.model_dump() if hasattr(arch, "model_dump") else arch
    score = config["score"]
    score = score.model_dump() if hasattr(score, "model_dump") else score
    training = config.get("training", {})
    metrics = config.get("metrics", {})
    head = metrics.get("headline", {})
    lines = [f"# Reward head: {config['name']}", ""]
    if intro:
        lines += [intro.strip(), ""]
    lines += [
        ("Scores `(principle, prompt, response)` with a small head over frozen text embeddings; "
        "one head serves many principles because the principle is part of its input."), "",
        "## Use", "",
        "```bash",
        "judge score --backend head:DIR --principle \"...\" --prompt \"...\" --response \"...\"",
        "```", "",
        "```python",
        "from judge.distill import load_head",
        "head = load_head(\"DIR\")",
        "head.score(\"correct-then-concise\", prompt, [response_a, response_b])",
        "```", "",
        "## What a score means", "", score["meaning"], "",
        "## Model", "",
        "| | |", "|---|---|",
        (f"| embedder | {emb['model_id']} (`{emb['spec']}`, revision {emb['revision']}, "
        f"{emb['dim']}-d) |"),
        f"| long texts | {_long_text(emb['input_format'])} |",
        "| features | pqr-v1: r, p·r, q·r, abs(p−r), abs(q−r), p, q, response statistics s, p ⊗ s |",
        (f"| architecture | {training.get('description', arch['kind'])}, "
        f"{training.get('parameters', '?')} parameters |"),
        f"| loss | {score['loss']} |",
        (f"| training | {training.get('epochs')} epochs, lr {training.get('lr')}, seed "
        f"{training.get('seed')}, {training.get('examples')} examples |"),
        f"| data hash | {training.get('data_hash')} |",
        f"| split | {_split(training)} |",
        f"| time | {_seconds(training.get('seconds') or {})} |",
        "",
    ]
    if head:
        lines += ["## Headline figures (held-out data)", "", "| figure | value |", "|---|---|"]
        lines += [f"| {k.replace('_', ' ')} | {_val(v)} |" for k, v in head.items()]
        lines.append("")
    if metrics.get("held_out"):
        lines += ["## Held-out agreement with the teacher", "",
                  report_markdown(metrics["held_out"], title="Held-out prompts")]
    if training.get("command"):
        lines += ["## Reproduce", "", "```bash", str(training["command"]), "```", ""]
    lines += list(sections)
    versions = config.get("library_versions") or {}
    if versions:
        lines += ["## Library versions", "",
                  ", ".join(f"{k} {v}" for k, v in sorted(versions.items())), ""]
    return "\n".join(lines).rstrip() + "\n"


def _seconds(seconds: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v} s" for k, v in seconds.items()) or "–"


def _long_text(fmt: dict[str, Any]) -> str:
    if fmt.get("long_text") == "chunk-mean":
        return (f"split into {fmt.get('window_tokens')}-token windows, up to "
                f"{fmt.get('max_windows')} per text, token-weighted mean")
    if fmt.get("long_text") == "truncate-left":
        return f"last {fmt.get('max_tokens')} tokens kept"
    return str(fmt.get("long_text", "whole text"))


def _split(training: dict[str, Any]) -> str:
    held = (training.get("split") or {}).get("test_answer_sets") or []
    by_prompt = f"by prompt, test fraction {training.get('test_fraction')}"
    if not held:
        return by_prompt
    return (f"held-out answer sets {', '.join(held)}; items without an answer set "
            f"{by_prompt}")

"""Build an ``hf-seq-cls`` export folder from a head directory and check it scores like the
head (see :mod:`judge.distill.export_hf`).

What is written::

    DIR/config.json              JudgeHeadConfig: BERT config, the encoder's tokenizer, head
                                 shape, text format, default principle, principle library,
                                 provenance and the validation measured here (auto_map)
    DIR/model.safetensors        the encoder's and the head's weights (float32)
    DIR/modeling_judge_head.py   the model code (torch / transformers / tokenizers only)
    DIR/tokenizer_config.json    a byte-level ByT5Tokenizer (lossless) with a chat template
    DIR/chat_template.jinja      [system] -> principle, user -> prompt, assistant -> response
    DIR/README.md                the card: source head, teacher, format, validation

The folder is assembled next to ``DIR`` and moved into place only after the exported model,
loaded back the way a trainer loads it, scored the built-in probes within
:data:`TOLERANCE` of the head.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from judge.backends.shared.quiet import quiet_loading
from judge.errors import ArtifactError, ConfigError

FORMAT = "hf-seq-cls"
MODELING_FILE = "modeling_judge_head.py"
#: An export whose probes differ from the head by more than this is refused.
TOLERANCE = 1e-4
MARKERS = ("<|principle|>", "<|prompt|>", "<|response|>")

CHAT_TEMPLATE = (
    "{%- set ns = namespace(system=none, user=none, assistant=none) -%}"
    "{%- for m in messages -%}"
    "{%- if m['content'] is not string -%}"
    "{{ raise_exception('judge reward head: message contents must be plain strings') }}"
    "{%- elif m['role'] == 'system' and loop.first -%}{%- set ns.system = m['content'] -%}"
    "{%- elif m['role'] == 'user' and ns.user is none -%}{%- set ns.user = m['content'] -%}"
    "{%- elif m['role'] == 'assistant' and ns.user is not none and ns.assistant is none -%}"
    "{%- set ns.assistant = m['content'] -%}"
    "{%- else -%}"
    "{{ raise_exception('judge reward head: it scores one turn: [system (the principle)], "
    "user (the prompt), assistant (the response); got a ' + m['role'] + ' message at position "
    "' + (loop.index0 | string)) }}"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- if ns.user is none -%}"
    "{{ raise_exception('judge reward head: the conversation has no user message') }}"
    "{%- endif -%}"
    "{%- if ns.system is not none -%}{{ '<|principle|>\\n' + ns.system + '\\n' }}{%- endif -%}"
    "{{ '<|prompt|>\\n' + ns.user + '\\n<|response|>\\n' }}"
    "{%- if ns.assistant is not none -%}{{ ns.assistant }}{%- endif -%}"
)

#: (principle, prompt, response) probes scored at export time: plain, markdown, code, multi-line,
#: non-ASCII, empty and a response longer than one 256-token window.
PROBES: tuple[tuple[str, str, str], ...] = (
    ("Be concise: give the answer directly.", "What is 2+2?", "4"),
    ("Prefer responses formatted with markdown headings and lists.", "List three fruits.",
     "# Fruits\n\n- **apple**\n- banana\n- `cherry`\n"),
    ("Correct answers beat wrong ones.", "Write hello world in Python.",
     "Sure:\n\n```python\nprint('hello world')\n```\nThat prints it."),
    ("Write in plain prose.", "Describe Paris.",
     "Paris is the capital of France.\nIt sits on the Seine.\n\n> Quote: city of light"),
    ("Answer accurately.", "¿Qué es el café?", "El café es una bebida — très populaire. 咖啡"),
    ("Be thorough.", "Explain gravity.", ""),
    ("Be thorough.", "Explain photosynthesis in depth.",
     "\n".join(f"{n}. Step {n}: light energy is captured by chlorophyll molecules and turned "
               "into chemical energy, which the plant stores as sugar for later use."
               for n in range(1, 25))),
)


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote and measured."""

    folder: Path
    max_abs_diff: float
    probes: int


def format_text(principle: str | None, prompt: str, response: str) -> str:
    """The plain ``judge-pqr-v1`` text of one item (what the exported tokenizer should get).

    >>> format_text("Be brief.", "2+2?", "4")
    '<|principle|>Be brief.<|prompt|>2+2?<|response|>4'
    >>> format_text(None, "2+2?", "4")
    '<|prompt|>2+2?<|response|>4'
    """
    head = f"{MARKERS[0]}{principle}" if principle is not None else ""
    return f"{head}{MARKERS[1]}{prompt}{MARKERS[2]}{response}"


def _check_target(out: Path, force: bool) -> None:
    if out.exists() and not out.is_dir():
        raise ConfigError(f"export folder {out} is a file; pass a folder path")
    if not out.is_dir() or not any(out.iterdir()):
        return
    if not force:
        raise ConfigError(f"export folder {out} is not empty; pass --force to replace an "
                          "earlier export, or choose an empty folder")
    try:
        previous = json.loads((out / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        previous = {}
    if "judge_export" not in previous:
        raise ConfigError(f"export folder {out} holds files that are not a judge head export; "
                          "--force only replaces an earlier export: choose an empty folder")


def _st_parts(head: Any) -> tuple[Any, Any]:
    """The head's BERT encoder and fast tokenizer, or an error naming why it cannot export."""
    from judge.distill.embed_st import SentenceTransformerEmbedder

    spec = head.config.embedder.spec
    if not (spec == "minilm" or spec.startswith("st:")):
        raise ConfigError(f"head '{head.name}' reads embedder '{spec}'; only heads over a "
                          "sentence-transformers BERT model (minilm, st:PATH) export to "
                          f"{FORMAT}")
    embedder = head.embedder
    if not isinstance(embedder, SentenceTransformerEmbedder):
        raise ConfigError(f"head '{head.name}': embedder '{spec}' is not a sentence-transformers "
                          f"model; it cannot export to {FORMAT}")
    modules = list(embedder.model)
    auto = getattr(modules[0], "auto_model", None)
    pooling = modules[1] if len(modules) > 1 else None
    model_type = getattr(getattr(auto, "config", None), "model_type", None)
    if model_type != "bert":
        raise ConfigError(f"head '{head.name}': its encoder is a '{model_type}' model; "
                          f"{FORMAT} exports BERT-like encoders only")
    mode = getattr(pooling, "pooling_mode", None) or (
        "mean" if getattr(pooling, "pooling_mode_mean_tokens", False) else None)
    if mode != "mean" or len(modules) > 3:
        raise ConfigError(f"head '{head.name}': its encoder pools with '{mode}' or adds "
                          f"modules after pooling; {FORMAT} exports mean pooling only")
    fmt = head.config.embedder.input_format
    if (fmt.get("long_text"), fmt.get("window_overlap"), fmt.get("normalise")) != \
            ("chunk-mean", 0, "l2"):
        raise ConfigError(f"head '{head.name}': input format {fmt} is not the chunk-mean "
                          f"format {FORMAT} reproduces")
    if head.config.input_format.features != "pqr-v1" or head.config.input_format.stats != \
            "stats-v1":
        raise ConfigError(f"head '{head.name}' reads features {head.config.input_format.features}"
                          f"/{head.config.input_format.stats}; {FORMAT} reproduces pqr-v1/stats-v1")
    tokenizer = embedder.tokenizer
    if not getattr(tokenizer, "is_fast", False):
        raise ConfigError(f"head '{head.name}': its encoder has no fast (tokenizers) "
                          f"tokenizer; {FORMAT} bundles one")
    return auto, tokenizer


def _teacher(config: Any) -> str:
    sources = config.training.get("sources") or {}
    return ", ".join(f"{k} ({v} items)" for k, v in sources.items()) or "not recorded"


def _build(head: Any, principle: str | None, source: str) -> tuple[Any, Any]:
    """The exported model (weights loaded) and the byte-level tokenizer."""
    from transformers import AddedToken, ByT5Tokenizer

    from judge.distill.export_hf.modeling_judge_head import (
        JudgeHeadConfig,
        JudgeHeadForSequenceClassification,
    )
    from judge.principles import default_library

    auto, tokenizer = _st_parts(head)
    arch = head.config.architecture
    bert_config = {k: v for k, v in auto.config.to_dict().items()
                   if k not in ("architectures", "_name_or_path", "transformers_version",
                                "dtype", "torch_dtype")}
    fmt = head.config.embedder.input_format
    config = JudgeHeadConfig(
        bert_config=bert_config,
        encoder_tokenizer=json.loads(tokenizer.backend_tokenizer.to_str()),
        bert_special={"cls": tokenizer.cls_token_id, "sep": tokenizer.sep_token_id,
                      "pad": tokenizer.pad_token_id},
        head={"in_dim": head.config.feature_dim, "member_kind": arch.member_kind,
              "hidden": arch.hidden, "layers": arch.layers, "members": arch.members},
        default_principle=principle,
        principles={p.id: p.text for p in default_library().principles.values()},
        window_tokens=int(fmt["window_tokens"]), max_windows=int(fmt["max_windows"]),
        judge_export={"format": FORMAT, "source_head": source, "head_name": head.name,
                      "embedder": head.config.embedder.model_dump(mode="json"),
                      "score": head.config.score.meaning, "teacher": _teacher(head.config)},
        auto_map={"AutoConfig": "modeling_judge_head.JudgeHeadConfig",
                  "AutoModelForSequenceClassification":
                      "modeling_judge_head.JudgeHeadForSequenceClassification"},
    )
    model = JudgeHeadForSequenceClassification(config)
    bert_state = {k: v for k, v in auto.state_dict().items() if not k.startswith("pooler.")}
    missing, unexpected = model.bert.load_state_dict(bert_state, strict=False)
    if unexpected or [k for k in missing if "position_ids" not in k]:
        raise ArtifactError(f"head '{head.name}': the encoder's weights do not fit a BERT "
                            f"model (missing {missing[:3]}, unexpected {unexpected[:3]})")
    model.head.load_state_dict(head.net.state_dict())
    model.eval()  # type: ignore[no-untyped-call]
    specials = {name: AddedToken(text, lstrip=False, rstrip=False, special=True,
                                 normalized=False)
                for name, text in (("pad_token", "<pad>"), ("eos_token", "</s>"),
                                   ("unk_token", "<unk>"))}
    byte_tok = ByT5Tokenizer(extra_ids=0, model_max_length=1 << 24, **specials)
    byte_tok.chat_template = CHAT_TEMPLATE
    return model, byte_tok


def _validate(folder: Path, head: Any) -> float:
    """Max abs difference between the saved export (loaded as a trainer loads it) and the head
    on :data:`PROBES`."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    model = AutoModelForSequenceClassification.from_pretrained(str(folder),
                                                               trust_remote_code=True)
    tok = AutoTokenizer.from_pretrained(str(folder))
    texts = [format_text(p, q, r) for p, q, r in PROBES]
    enc = tok(texts, add_special_tokens=False, padding=True, return_tensors="pt")
    with torch.inference_mode():
        got = model(**enc).logits[:, 0].tolist()
    want = [s[0] for s in head.score_batch([(p, q, [r]) for p, q, r in PROBES])]
    return float(max(abs(a - b) for a, b in zip(got, want, strict=True)))


def export_hf_seq_cls(head_dir: str | Path, out: str | Path, *, principle: str | None = None,
                      force: bool = False) -> ExportResult:
    """Write ``out`` as an ``hf-seq-cls`` checkpoint of the head in ``head_dir``.

    Args:
        head_dir: a head directory (``judge distill fit`` output or the shipped default).
        out: the folder to write (must be empty or absent; ``force`` replaces an earlier export).
        principle: the principle (library id or text) used for texts that carry none.
        force: replace an earlier export in ``out``.

    Raises:
        ConfigError: the head cannot be exported, or ``out`` is not free.
        ArtifactError: the written export does not score like the head.
    """
    from judge.distill.head import load_head, principle_text

    target = Path(out)
    _check_target(target, force)
    default = principle_text(principle) if principle is not None else None
    head = load_head(head_dir, runtime="torch")   # the fp32 computation the export copies
    model, byte_tok = _build(head, default, str(head_dir))
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        with quiet_loading():
            model.save_pretrained(str(staging), safe_serialization=True)
            byte_tok.save_pretrained(str(staging))
            shutil.copyfile(Path(__file__).with_name(MODELING_FILE), staging / MODELING_FILE)
            diff = _validate(staging, head)
        if not diff <= TOLERANCE:
            raise ArtifactError(f"the export of head '{head.name}' scores the probes up to "
                                f"{diff:.2e} away from the head (tolerance {TOLERANCE}); "
                                "report this with the library versions")
        cfg_path = staging / "config.json"
        cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
        cfg["judge_export"]["validation"] = {"probes": len(PROBES), "max_abs_diff": diff,
                                             "tolerance": TOLERANCE}
        cfg_path.write_text(json.dumps(cfg, indent=2, ensure_ascii=False) + "\n",
                            encoding="utf-8")
        (staging / "README.md").write_text(render_card(cfg), encoding="utf-8")
        _publishable(staging)
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return ExportResult(target, diff, len(PROBES))


def _publishable(folder: Path) -> None:
    """Give the staged folder and files the usual permissions (a temp folder is private)."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(folder, 0o777 & ~umask)
    for path in folder.iterdir():
        os.chmod(path, 0o666 & ~umask)


def render_card(cfg: dict[str, Any]) -> str:
    """The export folder's README.md."""
    info = cfg["judge_export"]
    val = info["validation"]
    emb = info["embedder"]
    default = cfg.get("default_principle")
    return f"""# Reward head `{info['head_name']}` as a transformers sequence classifier

Exported by `judge distill export --format {FORMAT}` from the head `{info['source_head']}`.

| | |
|---|---|
| source head | `{info['head_name']}` (`{info['source_head']}`) |
| teacher | {info['teacher']} |
| encoder | {emb['model_id']} (revision {emb['revision']}, {emb['dim']}-d), bundled |
| format | text format `{cfg['text_format']}`, byte-level tokenizer (ByT5Tokenizer, lossless) |
| default principle | {json.dumps(default) if default else 'none: every text must carry one'} |
| validation | max abs difference to the head {val['max_abs_diff']:.2e} on {val['probes']} \
built-in probes (tolerance {val['tolerance']}) |

## Load (no `judge` package needed)

```python
from transformers import AutoModelForSequenceClassification, AutoTokenizer
model = AutoModelForSequenceClassification.from_pretrained(DIR, trust_remote_code=True)
tokenizer = AutoTokenizer.from_pretrained(DIR)
batch = tokenizer(["<|principle|>Be brief.<|prompt|>What is 2+2?<|response|>4"],
                  add_special_tokens=False, padding=True, return_tensors="pt")
model(**batch).logits  # shape (batch, 1): the head's score
```

## Text format

    [<|principle|>PRINCIPLE]<|prompt|>PROMPT<|response|>RESPONSE

Split at the first `<|response|>`; one newline right after a marker and right before the next
marker belongs to the markup. Without a principle section the default principle above is used.
A principle that looks like a library id (`correct-then-concise`) is replaced by its text. A
text without the markers raises `ValueError`: it is never scored silently.

Conversations: the tokenizer's chat template renders `[system], user, assistant` as
`<|principle|>` system, `<|prompt|>` user, `<|response|>` assistant; any other shape raises.

## Score

{info['score']}

The native head's flags (`truncated`, `empty_response`, `principle_out_of_distribution`) are
not reported here; long texts are read as the head reads them (windows of
{cfg['window_tokens']} word pieces, at most {cfg['max_windows']} per text; responses cut at
{cfg['read_chars']} characters).

## TRL

```python
GRPOTrainer(model=..., reward_funcs=DIR, args=GRPOConfig(..., trust_remote_code=True), ...)
```

Conversational datasets: put the principle in the system message. Standard (text) datasets:
TRL scores `prompt + completion`, so each prompt must end with `<|response|>` (e.g.
`<|principle|>...<|prompt|>...<|response|>`).
"""

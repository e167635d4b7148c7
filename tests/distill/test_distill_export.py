"""``judge distill export --format hf-seq-cls``: a transformers checkpoint that loads without
the ``judge`` package and scores like the head it came from."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from judge.cli import main
from judge.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
PRINCIPLE = "correct-then-concise"
QUESTIONS = ["What is 2+2?", "Name a colour.", "Say hi.", "Count to three."]

#: Runs in a fresh interpreter where ``import judge`` fails: loads the export with transformers
#: only and prints the scores of the texts (and of the conversations, via the chat template).
STANDALONE = r"""
import importlib.abc, json, sys
class NoJudge(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "judge" or name.startswith("judge."):
            raise ImportError("judge is blocked in this test")
sys.meta_path.insert(0, NoJudge())
try:
    import judge
    raise SystemExit("judge is importable")
except ImportError:
    pass
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer
folder, data = sys.argv[1], json.load(open(sys.argv[2]))
tok = AutoTokenizer.from_pretrained(folder)
model = AutoModelForSequenceClassification.from_pretrained(folder, trust_remote_code=True,
                                                           num_labels=1)
def score(texts):
    out = []
    for i in range(0, len(texts), 25):
        enc = tok(texts[i:i + 25], add_special_tokens=False, padding=True, padding_side="right",
                  return_tensors="pt")
        with torch.inference_mode():
            logits = model(**enc).logits
        assert logits.shape == (len(texts[i:i + 25]), 1), logits.shape
        out += logits[:, 0].tolist()
    return out
chat = [tok.apply_chat_template(c, tokenize=False) for c in data["conversations"]]
errors = []
for bad in data["bad"]:
    try:
        score([bad])
        errors.append(None)
    except ValueError as exc:
        errors.append(str(exc))
try:
    tok.apply_chat_template(data["bad_conversation"], tokenize=False)
    chat_error = None
except Exception as exc:
    chat_error = str(exc)
print(json.dumps({"scores": score(data["texts"]), "chat": score(chat), "chat_texts": chat,
                  "errors": errors, "chat_error": chat_error,
                  "modules": sorted(m for m in sys.modules if m.split(".")[0] == "judge")}))
"""


def make_items(n: int = 100, seed: int = 0) -> list[tuple[str, str, str]]:
    """``n`` (principle, prompt, response) items: the repository's examples, then synthetic
    ones of varied length with markdown, code and multi-line text; two responses are longer
    than one 256-token window (one longer than the 8 windows read)."""
    from judge.principles import resolve_principle

    items = []
    for line in (ROOT / "examples" / "items.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        text = resolve_principle(row["principle"]).text
        responses = row["responses"]
        if isinstance(responses, dict):
            responses = list(responses.values())
        items += [(text, row["prompt"], r) for r in responses]
    rng = random.Random(seed)
    principles = ["Be concise: give the answer directly.", "Prefer detailed answers.",
                  "Write in plain prose, no markdown.", resolve_principle(PRINCIPLE).text]
    sentence = ("the answer is simple because water boils at one hundred degrees when pressure "
                "is normal and ice melts at zero café naïve résumé 42 3.14")
    words = sentence.split(" ")
    shapes = ["plain", "markdown", "code", "lines", "quote"]
    while len(items) < n - 2:
        k = len(items)
        prompt = f"Question {k % 23}: " + " ".join(rng.choices(words, k=rng.randint(3, 12))) + "?"
        body = " ".join(rng.choices(words, k=rng.randint(0, 120)))
        shape = shapes[k % len(shapes)]
        if shape == "markdown":
            body = f"## Answer\n\n- **{body[:40]}**\n- {body[40:]}\n\n1. `x`\n2) y"
        elif shape == "code":
            body = f"Here:\n```python\nprint({k})\n```\n{body}"
        elif shape == "lines":
            body = body.replace(" is ", "\nis ").replace(" and ", "\n\n  and ")
        elif shape == "quote":
            body = f"> {body}\n| a | b |\n|---|---|\n| 1 | 2 |"
        items.append((principles[k % len(principles)], prompt, body))
    long_text = " ".join(rng.choices(words, k=900))  # ~4 windows of 254 word pieces
    items.append((principles[1], "Explain boiling in depth.", long_text))
    items.append((principles[0], "Say a lot.", "\n".join([long_text] * 4)))  # > 8 windows
    return items


@pytest.fixture(scope="module")
def native(minilm):  # type: ignore[no-untyped-def]
    from judge.distill.backend import default_head_dir
    from judge.distill.head import load_head

    return load_head(default_head_dir(), runtime="torch")


@pytest.fixture(scope="module")
def exported(native, tmp_path_factory: pytest.TempPathFactory) -> Path:  # type: ignore[no-untyped-def]
    """The shipped head exported through the API, then again over it by the CLI (--force)."""
    from judge.distill.export_hf import export_hf_seq_cls

    folder = tmp_path_factory.mktemp("export") / "head-hf"
    first = export_hf_seq_cls("heads/default" if (ROOT / "heads/default").is_dir() else
                              native.folder, folder)
    assert first.max_abs_diff <= 1e-4 and json.loads(
        (folder / "config.json").read_text())["default_principle"] is None
    code = main(["distill", "export", "--format", "hf-seq-cls", str(folder), "--principle",
                 PRINCIPLE, "--force"])
    assert code == 0
    return folder


def test_loads_without_judge_and_scores_like_the_head(native, exported: Path,  # type: ignore[no-untyped-def]
                                                      tmp_path: Path) -> None:
    from judge.distill.export_hf import format_text

    items = make_items()
    assert len(items) == 100
    windows = native.embedder.windows_needed([r for _, _, r in items])
    assert max(windows) > 8 and sum(w > 1 for w in windows) >= 2  # chunk-mean is exercised
    texts = [format_text(p, q, r) for p, q, r in items]
    texts[0] = format_text(None, items[0][1], items[0][2])  # the baked-in default principle
    conversations = [[{"role": "system", "content": p}, {"role": "user", "content": q},
                      {"role": "assistant", "content": r}] for p, q, r in items[:12]]
    conversations.append(conversations[0][1:])  # no system message: the default principle
    data = {"texts": texts, "conversations": conversations,
            "bad": ["What is 2+2? 4", "<|prompt|>q<|principle|>p<|response|>r",
                    "<|principle|>P<|response|>r", "<|principle|>no-such-principle<|prompt|>q<|response|>r"],
            "bad_conversation": [{"role": "user", "content": "a"},
                                 {"role": "assistant", "content": "b"},
                                 {"role": "user", "content": "c"},
                                 {"role": "assistant", "content": "d"}]}
    (tmp_path / "data.json").write_text(json.dumps(data), encoding="utf-8")
    env = {"PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "OMP_NUM_THREADS": "1", "HF_HOME": str(tmp_path / "hf-home")}
    proc = subprocess.run([sys.executable, "-c", STANDALONE, str(exported),
                           str(tmp_path / "data.json")], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "custom code" not in proc.stdout + proc.stderr  # no trust prompt for the tokenizer
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["modules"] == []

    from judge.principles import resolve_principle

    default = resolve_principle(PRINCIPLE).text
    want = [s[0] for s in native.score_batch(
        [(default if n == 0 else p, q, [r]) for n, (p, q, r) in enumerate(items)])]
    diffs = [abs(a - b) for a, b in zip(got["scores"], want, strict=True)]
    print(f"max abs diff on {len(items)} items: {max(diffs):.3e}")
    assert max(diffs) <= 1e-4
    assert len({round(s, 3) for s in want}) > 50  # the items really differ
    # Conversations through the chat template score like the same items.
    chat_want = list(want[:12])
    chat_want[0] = native.score_batch([(items[0][0], items[0][1], [items[0][2]])])[0][0]
    assert max(abs(a - b) for a, b in zip(got["chat"][:12], chat_want, strict=True)) <= 1e-4
    assert abs(got["chat"][12] - want[0]) <= 1e-4
    assert got["chat_texts"][1].startswith("<|principle|>\n") and "\n<|response|>\n" in \
        got["chat_texts"][1]
    # Texts that cannot be split are refused with the format named, never scored.
    errors = got["errors"]
    assert all(e and "judge-pqr-v1" in e for e in errors[:3]), errors
    assert "unknown principle id 'no-such-principle'" in errors[3]
    assert "no '<|response|>' marker" in errors[0]
    assert "scores one turn" in got["chat_error"]


def test_config_and_card_record_source_and_validation(exported: Path) -> None:
    cfg = json.loads((exported / "config.json").read_text(encoding="utf-8"))
    val = cfg["judge_export"]["validation"]
    assert val["probes"] >= 5 and 0 <= val["max_abs_diff"] <= 1e-4
    assert cfg["auto_map"]["AutoModelForSequenceClassification"] == \
        "modeling_judge_head.JudgeHeadForSequenceClassification"
    assert cfg["default_principle"].startswith("Correct")
    card = (exported / "README.md").read_text(encoding="utf-8")
    assert "alpaca-eval/gpt4-turbo" in card and "judge-pqr-v1" in card and "default" in card
    source = (exported / "modeling_judge_head.py").read_text(encoding="utf-8")
    imports = {line.split()[1].split(".")[0] for line in source.splitlines()
               if line.startswith(("import ", "from "))}
    assert imports <= {"__future__", "collections", "json", "math", "re", "typing", "torch",
                       "tokenizers", "transformers"}


def test_windows_and_stats_match_the_native_code(native, exported: Path) -> None:  # type: ignore[no-untyped-def]
    from transformers import AutoModelForSequenceClassification

    from judge.distill.features import text_stats

    model = AutoModelForSequenceClassification.from_pretrained(str(exported),
                                                               trust_remote_code=True)
    texts = [r for _, _, r in make_items()] + ["", "a", "word " * 254, "word " * 255]
    assert model.windows(texts) == native.embedder.windows(texts)
    stats = sys.modules[type(model).__module__].text_stats
    assert all(stats(t, "a prompt?") == text_stats(t, "a prompt?") for t in texts)


def test_principle_cache_evicts_least_recently_used_without_losing_a_vector(
        exported: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from transformers import AutoModelForSequenceClassification

    model = AutoModelForSequenceClassification.from_pretrained(str(exported),
                                                               trust_remote_code=True)
    monkeypatch.setattr(sys.modules[type(model).__module__], "_PRINCIPLE_CACHE", 2)
    texts = [f"<|principle|>Prefer answers about topic {n}.<|prompt|>q<|response|>an answer"
             for n in range(4)]
    fresh = [float(model.score_texts([t])[0]) for t in texts]   # one at a time, cache cycling
    model._principles.clear()
    model.score_texts(texts[:2])                                # cache full: topics 0, 1
    mixed = model.score_texts([texts[0], texts[3]])             # 0 cached + a new one (evicts 1)
    assert [float(x) for x in mixed] == pytest.approx([fresh[0], fresh[3]], abs=1e-6)
    assert list(model._principles) == ["Prefer answers about topic 0.",
                                       "Prefer answers about topic 3."]


@pytest.mark.parametrize(("text", "want"), [
    ("<|principle|>P<|prompt|>Q<|response|>R", ("P", "Q", "R")),
    ("<|principle|>\nP\n<|prompt|>\nQ\n\n<|response|>\nR\n", ("P", "Q\n", "R\n")),
    ("<|prompt|>Q<|response|>R <|response|> x", ("D", "Q", "R <|response|> x")),
    ("Q plain\n<|response|>R", ("D", "Q plain", "R")),
    ("  <|principle|> <|prompt|>Q<|response|>", ("D", "Q", "")),
])
def test_split_text(text: str, want: tuple[str, str, str]) -> None:
    from judge.distill.export_hf.modeling_judge_head import split_text

    assert split_text(text, "D") == want


def test_byte_decoding_is_lossless() -> None:
    from transformers import AddedToken, ByT5Tokenizer

    from judge.distill.export_hf.modeling_judge_head import decode_bytes

    special = {n: AddedToken(t, lstrip=False, rstrip=False, special=True, normalized=False)
               for n, t in (("pad_token", "<pad>"), ("eos_token", "</s>"), ("unk_token", "<unk>"))}
    tok = ByT5Tokenizer(extra_ids=0, **special)
    text = "a </s> b\n\n<pad>  é 咖啡 <unk>\t``` code ```"
    assert decode_bytes(tok(text, add_special_tokens=False)["input_ids"]) == text
    assert decode_bytes(tok(text)["input_ids"]) == text  # a final eos is dropped


def test_refusals(head_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from judge.distill.export_hf import export_hf_seq_cls

    with pytest.raises(ConfigError, match="unknown principle id 'no-such-id'"):
        export_hf_seq_cls(head_dir, tmp_path / "out", principle="no-such-id")
    with pytest.raises(ConfigError, match="only heads over a sentence-transformers BERT"):
        export_hf_seq_cls(head_dir, tmp_path / "out")  # a hash-embedder head
    assert not (tmp_path / "out").exists()
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(ConfigError, match="not empty; pass --force"):
        export_hf_seq_cls(head_dir, busy)
    with pytest.raises(ConfigError, match="not a judge head export"):
        export_hf_seq_cls(head_dir, busy, force=True)
    assert (busy / "notes.txt").read_text(encoding="utf-8") == "mine"
    code = main(["distill", "export", "--format", "hf-seq-cls", str(busy)])
    err = capsys.readouterr().err
    assert code != 0 and "not empty" in err and "Traceback" not in err
    code = main(["distill", "export", "--format", "hf-seq-cls", str(tmp_path / "x"), "--head",
                 str(tmp_path)])
    assert code != 0 and "config.json missing" in capsys.readouterr().err


def _trl_step(exported: Path, tiny_model_dir: Path, tmp_path: Path, conversational: bool) -> Any:
    datasets = pytest.importorskip("datasets")
    pytest.importorskip("trl")
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import GRPOConfig, GRPOTrainer

    if conversational:
        prompts: list[Any] = [[{"role": "system", "content": "Be brief."},
                               {"role": "user", "content": q}] for q in QUESTIONS]
    else:
        prompts = [f"<|principle|>Be brief.<|prompt|>{q}<|response|>" for q in QUESTIONS]
    args = GRPOConfig(output_dir=str(tmp_path / "run"), max_steps=1, learning_rate=1e-4,
                      per_device_train_batch_size=4, num_generations=2,
                      max_completion_length=6, logging_steps=1, report_to=[], use_cpu=True,
                      save_strategy="no", seed=0, disable_tqdm=True, trust_remote_code=True)
    trainer = GRPOTrainer(model=AutoModelForCausalLM.from_pretrained(tiny_model_dir),
                          reward_funcs=str(exported), args=args,
                          train_dataset=datasets.Dataset.from_dict({"prompt": prompts}),
                          processing_class=AutoTokenizer.from_pretrained(tiny_model_dir))
    trainer.train()
    return trainer


@pytest.mark.parametrize("conversational", [False, True])
def test_a_trl_grpo_step_with_reward_funcs_dir(exported: Path, tiny_model_dir: Path,  # type: ignore[no-untyped-def]
                                               tmp_path: Path, native,
                                               conversational: bool) -> None:
    trainer = _trl_step(exported, tiny_model_dir, tmp_path, conversational)
    assert trainer.state.global_step == 1
    name = next(iter(trainer._logs["rewards"]))
    rewards = list(trainer._logs["rewards"][name])
    prompts = list(trainer._logs["prompt"])
    completions = list(trainer._logs["completion"])
    assert len(rewards) == len(completions) == 4  # 2 prompts x 2 generations
    completions = [c if isinstance(c, str) else c[-1]["content"] for c in completions]
    # TRL's rewards are the head's scores of those very completions.
    asked = [next(q for q in QUESTIONS if q in str(p)) for p in prompts]
    want = [native.score_batch([("Be brief.", q, [c])])[0][0]
            for q, c in zip(asked, completions, strict=True)]
    assert rewards == pytest.approx(want, abs=1e-4)


@pytest.mark.parametrize("arch", [{"kind": "linear"}, {"kind": "mlp", "layers": 2, "hidden": 8}])
def test_other_architectures_export(minilm, tmp_path: Path, arch: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    """A small MiniLM head of each architecture exports and passes the export's own check."""
    from helpers.distill_data import make_items as labels

    from judge.distill.export_hf import export_hf_seq_cls
    from judge.distill.heads import HeadArch
    from judge.distill.train import TrainConfig, fit_head

    config = TrainConfig(arch=HeadArch(**arch), epochs=1, test_fraction=0.0)
    fit_head(labels(n_prompts=6), minilm, config, name="small").save(tmp_path / "head")
    result = export_hf_seq_cls(tmp_path / "head", tmp_path / "out", principle="Be brief.")
    assert result.max_abs_diff <= 1e-4
    cfg = json.loads((tmp_path / "out" / "config.json").read_text(encoding="utf-8"))
    assert cfg["head"]["member_kind"] == HeadArch(**arch).member_kind

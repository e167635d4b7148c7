"""A head's network run in numpy: the same forward pass as :class:`~judge.distill.heads.RewardNet`
(standardise, clip to ±``Z_CLIP``, each member's linear layers with exact GELU between them,
dropout off), read from the verified ``weights.safetensors`` without torch.

GELU needs the error function, which numpy lacks; :func:`erf` is a rational approximation
(Abramowitz & Stegun 7.1.26: absolute error below 1.5e-7, 5e-7 when evaluated in float32 as
here), far inside the float32 noise of the encoder that feeds the head.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from judge.distill.arch import Z_CLIP
from judge.distill.artifact import HeadConfig, check_tensors, verified_weights
from judge.errors import ArtifactError

_P = 0.3275911
_A = (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)


def erf(x: np.ndarray) -> np.ndarray:
    """The error function, elementwise (absolute error < 5e-7 in float32).

    >>> [round(float(v), 6) for v in erf(np.array([-1.0, 0.0, 0.5, 2.0]))]
    [-0.842701, 0.0, 0.5205, 0.995322]
    """
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + _P * a)
    poly = t * (_A[0] + t * (_A[1] + t * (_A[2] + t * (_A[3] + t * _A[4]))))
    out: np.ndarray = (sign * (1.0 - poly * np.exp(-a * a))).astype(x.dtype)
    return out


def gelu(x: np.ndarray) -> np.ndarray:
    """Exact (erf) GELU, as ``torch.nn.GELU()``."""
    out: np.ndarray = 0.5 * x * (1.0 + erf(x / np.float32(np.sqrt(2.0))))
    return out


def _expected(config: HeadConfig) -> dict[str, tuple[int, ...]]:
    """Tensor names and shapes of the torch network, without building it."""
    arch, dim = config.architecture, config.feature_dim
    out: dict[str, tuple[int, ...]] = {"feature_mean": (dim,), "feature_std": (dim,)}
    for m in range(arch.members):
        if arch.member_kind == "linear":
            out[f"members.{m}.weight"], out[f"members.{m}.bias"] = (1, dim), (1,)
            continue
        width = dim
        for layer in range(arch.layers):  # Sequential: Linear, GELU, Dropout per hidden layer
            out[f"members.{m}.{3 * layer}.weight"] = (arch.hidden, width)
            out[f"members.{m}.{3 * layer}.bias"] = (arch.hidden,)
            width = arch.hidden
        out[f"members.{m}.{3 * arch.layers}.weight"] = (1, width)
        out[f"members.{m}.{3 * arch.layers}.bias"] = (1,)
    return out


class NumpyNet:
    """The head network's inference in numpy.

    Args:
        config: the head's config.
        tensors: its weights by name (as stored; cast to float32).
    """

    def __init__(self, config: HeadConfig, tensors: dict[str, np.ndarray]) -> None:
        arch = config.architecture
        self.members = arch.members
        self.mean = tensors["feature_mean"].astype(np.float32)
        self.std = tensors["feature_std"].astype(np.float32)
        self.layers: list[list[tuple[np.ndarray, np.ndarray]]] = []
        for m in range(arch.members):
            names = ([""] if arch.member_kind == "linear"
                     else [f"{3 * n}." for n in range(arch.layers + 1)])
            self.layers.append([(np.ascontiguousarray(
                tensors[f"members.{m}.{n}weight"].astype(np.float32).T),
                tensors[f"members.{m}.{n}bias"].astype(np.float32)) for n in names])

    def __call__(self, features: np.ndarray) -> np.ndarray:
        """Scores of shape ``(members, n)``, computed with one BLAS thread: a multi-threaded
        sgemm sums in another order, so scores would change in the last bits with the machine's
        thread count (a Ray actor and a local run would disagree)."""
        with _one_blas_thread():
            return self._forward(features)

    def _forward(self, features: np.ndarray) -> np.ndarray:
        z = np.clip((features - self.mean) / self.std, -Z_CLIP, Z_CLIP, dtype=np.float32)
        out = np.empty((self.members, len(z)), dtype=np.float32)
        for m, layers in enumerate(self.layers):
            h = z
            for n, (w, b) in enumerate(layers):
                h = h @ w + b
                if n < len(layers) - 1:
                    h = gelu(h)
            out[m] = h[:, 0]
        return out


_CONTROLLER: Any = None


def _one_blas_thread() -> Any:
    """A context that limits numpy's BLAS to one thread (the network is small: no loss)."""
    global _CONTROLLER
    if _CONTROLLER is None:
        from threadpoolctl import ThreadpoolController

        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER.limit(limits=1, user_api="blas")


def load_numpy_net(folder: str | Path, config: HeadConfig) -> NumpyNet:
    """The network a head directory declares, with verified weights, for numpy inference.

    Raises:
        ArtifactError: weights missing, tampered with, unreadable or not fitting the
            architecture.
    """
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    path = verified_weights(folder, config)
    try:
        tensors = load_file(str(path))
    except (SafetensorError, OSError) as exc:
        raise ArtifactError(f"{path}: not a readable safetensors file ({exc})") from None
    check_tensors(path, config, {k: tuple(v.shape) for k, v in tensors.items()},
                  _expected(config))
    return NumpyNet(config, tensors)

"""Validation of backend options (``-B KEY=VALUE`` on the command line, kwargs in Python)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from judge.errors import ConfigError
from judge.types import Generation

OptionsT = TypeVar("OptionsT", bound="BackendOptions")


class BackendOptions(BaseModel):
    """Base class of each backend's options: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def parse_options(cls: type[OptionsT], backend: str, options: Mapping[str, Any]) -> OptionsT:
    """Validate ``options`` against ``cls``.

    Raises:
        ConfigError: naming each unknown or invalid option and listing the known ones.
    """
    try:
        return cls(**dict(options))
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"]) or "options"
            if err["type"] == "extra_forbidden":
                problems.append(f"unknown option '{where}'")
            else:
                problems.append(f"option '{where}': {err['msg']}")
        known = ", ".join(sorted(cls.model_fields))
        raise ConfigError(f"{backend} backend: {'; '.join(problems)} (known options: {known}; "
                          "on the command line pass them as -B KEY=VALUE)") from None


def make_generation(*, flags: list[str] | None = None, **fields: Any) -> Generation:
    """A :class:`Generation`; ``flags`` are kept when the installed ``Generation`` has that field."""
    if flags and "flags" in Generation.model_fields:
        fields["flags"] = list(flags)
    return Generation(**fields)


def json_object_option(value: Any) -> Any:
    """Decode an option given as JSON text (``-B extra_body='{"a": 1}'``); other values pass."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not a JSON object ({exc.msg})") from None
    return value


def require_device(device: str, backend: str) -> None:
    """Refuse a ``cuda``/``mps`` device this machine does not have, before any model loads.

    ``auto``, ``cpu`` and devices torch does not name are left to the engine. Without torch
    the check is skipped (the engine reports the missing dependency).

    Raises:
        ConfigError: the device is not available, saying what to use instead.
    """
    kind = device.split(":", 1)[0].lower()
    if kind not in ("cuda", "mps"):
        return
    try:
        import torch
    except ImportError:
        return
    if kind == "cuda" and not torch.cuda.is_available():
        why = ("this torch build has no CUDA support" if torch.version.cuda is None
               else "no CUDA GPU is visible")
        raise ConfigError(f"{backend} backend: -B device={device} asks for CUDA, but CUDA is not "
                          f"available here ({why}); use -B device=cpu, or leave device unset to "
                          "pick a GPU when there is one")
    if kind == "mps" and not torch.backends.mps.is_available():
        raise ConfigError(f"{backend} backend: -B device={device} asks for Apple's MPS, which is "
                          "not available here; use -B device=cpu or leave device unset")

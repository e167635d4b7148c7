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

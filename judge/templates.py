"""Prompt templates: jinja2 files rendered strictly in a sandbox.

A template is a folder ``prompts/<name>/`` holding ``template.yaml`` (mode, score scale,
description), ``system.jinja`` and ``user.jinja``. Principle, prompt and response texts are passed
as *values* and the shipped templates JSON-encode them with the ``json`` filter, so nothing inside
a response (``{{ 7*7 }}``, ``</think>``, a fake verdict) can change the prompt's structure.

A user folder (argument, or the ``JUDGE_TEMPLATES_DIR`` environment variable) overrides shipped
templates of the same name.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from jinja2 import StrictUndefined, TemplateSyntaxError, Undefined, UndefinedError
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment
from pydantic import BaseModel, ConfigDict, ValidationError

from judge.assets import asset_dir
from judge.errors import TemplateError
from judge.types import ChatMessage, Mode

TEMPLATES_ENV = "JUDGE_TEMPLATES_DIR"
_FILES = ("template.yaml", "system.jinja", "user.jinja")


class TemplateMeta(BaseModel):
    """The contents of ``template.yaml``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mode: Mode
    scale: tuple[int, int] = (1, 5)
    description: str = ""
    answer: Literal["scores-ranking", "score", "winner"] = "scores-ranking"
    """Which answer shape the parser expects."""


def _json_filter(value: Any, indent: int | None = 2) -> str:
    """Encode a value as JSON text, keeping non-ASCII readable."""

    def undefined(obj: Any) -> Any:
        if isinstance(obj, Undefined):
            obj._fail_with_undefined_error()  # raises UndefinedError naming the variable
        raise TypeError(f"cannot put a {type(obj).__name__} into a prompt as JSON")

    return json.dumps(value, ensure_ascii=False, indent=indent, default=undefined)


def _environment(folder: Path) -> SandboxedEnvironment:
    env = SandboxedEnvironment(
        undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False,
        trim_blocks=True, lstrip_blocks=True,
    )
    env.filters["json"] = _json_filter
    return env


@dataclass(frozen=True)
class PromptTemplate:
    """A loaded template: render variables into chat messages."""

    name: str
    folder: Path
    meta: TemplateMeta
    hash: str
    """sha256 prefix over the three files' contents (recorded with every verdict)."""
    _sources: dict[str, str]

    @property
    def mode(self) -> Mode:
        """listwise, pairwise or pointwise."""
        return self.meta.mode

    def render(self, **variables: Any) -> list[ChatMessage]:
        """Render the system and user turns.

        Raises:
            TemplateError: a variable the template uses was not given.
        """
        env = _environment(self.folder)
        messages: list[ChatMessage] = []
        for role, fname in (("system", "system.jinja"), ("user", "user.jinja")):
            try:
                text = env.from_string(self._sources[fname]).render(**variables)
            except UndefinedError as exc:
                raise TemplateError(
                    f"{self.folder / fname}: missing variable ({exc.message}); pass it to render()"
                ) from None
            except SecurityError as exc:
                raise TemplateError(
                    f"{self.folder / fname}: the sandbox blocked an unsafe operation ({exc})"
                ) from None
            except TemplateSyntaxError as exc:  # pragma: no cover - caught at load
                raise TemplateError(f"{self.folder / fname}:{exc.lineno}: {exc.message}") from None
            if text.strip():
                messages.append(ChatMessage(role=role, content=text.strip("\n")))
        return messages


def template_folders(user_dir: str | Path | None = None) -> list[Path]:
    """Folders searched for templates, first match wins."""
    folders: list[Path] = []
    for candidate in (user_dir, os.environ.get(TEMPLATES_ENV)):
        if candidate:
            path = Path(candidate)
            if not path.is_dir():
                raise TemplateError(f"templates folder '{path}' does not exist")
            folders.append(path)
    folders.append(asset_dir("prompts"))
    return folders


def available_templates(user_dir: str | Path | None = None) -> list[str]:
    """Names of all templates visible from the search folders."""
    names = {p.name for f in template_folders(user_dir) for p in f.iterdir()
             if (p / "template.yaml").is_file()}
    return sorted(names)


def load_template(name: str, user_dir: str | Path | None = None) -> PromptTemplate:
    """Load a template by name from the user folder or the shipped ones.

    Raises:
        TemplateError: not found, a file missing, bad metadata or a jinja syntax error.
    """
    folders = template_folders(user_dir)
    for folder in folders:
        path = folder / name
        if path.is_dir():
            return _load_folder(name, path)
    raise TemplateError(
        f"template '{name}' not found in {[str(f) for f in folders]}; "
        f"available: {available_templates(user_dir)}"
    )


def _load_folder(name: str, path: Path) -> PromptTemplate:
    sources: dict[str, str] = {}
    for fname in _FILES:
        f = path / fname
        if not f.is_file():
            raise TemplateError(f"{path}: missing file '{fname}' (a template needs {_FILES})")
        sources[fname] = f.read_text(encoding="utf-8")
    try:
        meta = TemplateMeta.model_validate(yaml.safe_load(sources["template.yaml"]) or {})
    except (ValidationError, yaml.YAMLError) as exc:
        raise TemplateError(f"{path / 'template.yaml'}: {exc}") from None
    env = _environment(path)
    for fname in ("system.jinja", "user.jinja"):
        try:
            env.parse(sources[fname])
        except TemplateSyntaxError as exc:
            raise TemplateError(f"{path / fname}:{exc.lineno}: {exc.message}") from None
    digest = hashlib.sha256()
    for fname in _FILES:
        digest.update(fname.encode() + b"\0" + sources[fname].encode("utf-8") + b"\0")
    return PromptTemplate(name=name, folder=path, meta=meta, hash=digest.hexdigest()[:12],
                          _sources=sources)

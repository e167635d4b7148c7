"""The principle library: YAML files validated on load, plus free-text one-line principles.

Anywhere a library id is accepted, a free-text principle is accepted too::

    >>> p = resolve_principle("Prefer answers that cite their sources.")
    >>> p.id.startswith("text:"), p.version is None
    (True, True)
"""

from __future__ import annotations

import difflib
import re
from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from judge.assets import asset_dir
from judge.errors import PrincipleError
from judge.hashing import text_hash
from judge.types import PrincipleRef

Category = Literal["content", "logic", "tone", "style", "structure"]
Domain = Literal["chat", "code", "safety", "math"]
CATEGORIES: tuple[str, ...] = ("content", "logic", "tone", "style", "structure")
DOMAINS: tuple[str, ...] = ("chat", "code", "safety", "math")

_ID_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


class Principle(BaseModel):
    """A judging principle. Library principles have an id and version; free text gets a hash."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    version: int | None = Field(None, ge=1)
    title: str
    statement: str
    category: Category | None = None
    domains: tuple[Domain, ...] = ()
    rubric: dict[int, str] | None = None
    tags: tuple[str, ...] = ()

    @field_validator("rubric")
    @classmethod
    def _rubric_keys(cls, v: dict[int, str] | None) -> dict[int, str] | None:
        if v is not None and sorted(v) != [1, 2, 3, 4, 5]:
            raise ValueError(f"rubric must have exactly the keys 1..5, got {sorted(v)}")
        return v

    @property
    def text(self) -> str:
        """The text the judge reads: the statement, then the rubric anchors if any."""
        if not self.rubric:
            return self.statement.strip()
        anchors = "\n".join(f"{k}: {self.rubric[k].strip()}" for k in sorted(self.rubric))
        return f"{self.statement.strip()}\nScore anchors:\n{anchors}"

    @property
    def hash(self) -> str:
        """Content hash of :attr:`text`."""
        return text_hash(self.text)

    def ref(self) -> PrincipleRef:
        """How verdicts name this principle."""
        return PrincipleRef(id=self.id, version=self.version, hash=self.hash)

    @classmethod
    def from_text(cls, text: str) -> Principle:
        """A free-text principle; its id is ``text:<content hash>``."""
        clean = " ".join(text.split())
        if not clean:
            raise PrincipleError("a principle cannot be empty: give a library id or a sentence")
        return cls(id=f"text:{text_hash(clean)}", title=clean[:60], statement=clean)


class PrincipleSet(BaseModel):
    """A named list of library principles."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    title: str
    description: str
    principles: tuple[str, ...]


_REQUIRED_LIBRARY_FIELDS = ("id", "version", "title", "statement", "category", "domains")


def _load_yaml(path: Path) -> dict[str, object]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise PrincipleError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise PrincipleError(f"{path}: expected a mapping of fields, got {type(data).__name__}")
    return data


def _explain(path: Path, model: type[BaseModel], data: dict[str, object]) -> PrincipleError:
    """Turn a pydantic failure into 'file: field: problem (did you mean ...?)'."""
    known = list(model.model_fields)
    try:
        model.model_validate(data)
    except ValidationError as exc:
        errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
        err = errors[0]  # an unknown field explains a "missing" one: report it first
        field = ".".join(str(p) for p in err["loc"]) or "(file)"
        if err["type"] == "extra_forbidden":
            guess = difflib.get_close_matches(str(err["loc"][0]), known, n=1)
            hint = f" (did you mean '{guess[0]}'?)" if guess else f" (known fields: {known})"
            return PrincipleError(f"{path}: unknown field '{field}'{hint}")
        return PrincipleError(f"{path}: field '{field}': {err['msg']}")
    return PrincipleError(f"{path}: invalid")  # pragma: no cover


def load_principle_file(path: str | Path) -> Principle:
    """Load and validate one library principle file.

    Raises:
        PrincipleError: naming the file and the field at fault.
    """
    p = Path(path)
    data = _load_yaml(p)
    try:
        principle = Principle.model_validate(data)
    except ValidationError:
        raise _explain(p, Principle, data) from None
    missing = [f for f in _REQUIRED_LIBRARY_FIELDS if data.get(f) in (None, "", [])]
    if missing:
        raise PrincipleError(f"{p}: missing required field(s) {missing}")
    if not _ID_RE.match(principle.id) or principle.id != p.stem:
        raise PrincipleError(
            f"{p}: field 'id': '{principle.id}' must be a lowercase slug equal to the file name "
            f"('{p.stem}')"
        )
    return principle


class PrincipleLibrary:
    """All principles and sets found in one or more folders (later folders override earlier)."""

    def __init__(self, folders: list[Path]) -> None:
        self.folders = folders
        self.principles: dict[str, Principle] = {}
        self.sets: dict[str, PrincipleSet] = {}
        for folder in folders:
            for path in sorted(folder.glob("*.yaml")):
                principle = load_principle_file(path)
                self.principles[principle.id] = principle
            for path in sorted((folder / "sets").glob("*.yaml")):
                data = _load_yaml(path)
                try:
                    pset = PrincipleSet.model_validate(data)
                except ValidationError:
                    raise _explain(path, PrincipleSet, data) from None
                self.sets[pset.id] = pset
        for pset in self.sets.values():
            for pid in pset.principles:
                if pid not in self.principles:
                    raise PrincipleError(
                        f"set '{pset.id}': unknown principle id '{pid}'{self._hint(pid)}"
                    )

    def _hint(self, pid: str) -> str:
        guess = difflib.get_close_matches(pid, list(self.principles), n=1)
        return f" (did you mean '{guess[0]}'?)" if guess else ""

    def get(self, pid: str) -> Principle:
        """Look a principle up by id.

        Raises:
            PrincipleError: unknown id, with the closest match.
        """
        if pid not in self.principles:
            raise PrincipleError(
                f"unknown principle id '{pid}'{self._hint(pid)}; see `judge principles list`, "
                "or write the principle as a sentence to use free text"
            )
        return self.principles[pid]

    def get_set(self, set_id: str) -> list[Principle]:
        """The principles of a named set."""
        if set_id not in self.sets:
            guess = difflib.get_close_matches(set_id, list(self.sets), n=1)
            hint = f" (did you mean '{guess[0]}'?)" if guess else ""
            raise PrincipleError(f"unknown principle set '{set_id}'{hint}")
        return [self.principles[p] for p in self.sets[set_id].principles]


@cache
def default_library() -> PrincipleLibrary:
    """The shipped library (cached)."""
    return PrincipleLibrary([asset_dir("principles")])


def resolve_principle(value: str | Principle, library: PrincipleLibrary | None = None) -> Principle:
    """Turn a library id or a free-text sentence into a :class:`Principle`.

    A single lowercase slug (no spaces) is an id and must exist; anything else is free text.

    Raises:
        PrincipleError: an id-shaped value that is not in the library.
    """
    if isinstance(value, Principle):
        return value
    text = value.strip()
    if _ID_RE.match(text):
        return (library or default_library()).get(text)
    return Principle.from_text(text)

"""The toolkit's exceptions: one root, each message says what is wrong, where, and how to fix it.

```
JudgeError
├── ConfigError                 usage mistake: bad flag, bad option value, bad config
│   ├── PrincipleError          bad or unknown principle (file and field named)
│   ├── TemplateError           missing template or undefined variable
│   └── InputError              a bad input row (file, line and field named)
├── MissingDependency           an optional extra is not installed (also an ImportError)
├── AssetsNotFound              shipped principles/prompts not found (lists places searched)
├── BackendError
│   ├── BackendUnavailable      cannot connect, or a server never became ready
│   ├── BackendRequestError     an HTTP error after retries
│   └── CapabilityError         a feature this backend cannot provide
├── BenchmarkError              a benchmark suite or run directory is malformed
└── ArtifactError               a reward-head directory is missing files or incompatible
```

A judge's *content* failures (unparsable verdict, truncated answer) are never exceptions: they are
``Judgment.status`` values.
"""

from __future__ import annotations


class JudgeError(Exception):
    """Root of every error this package raises on purpose."""


class ConfigError(JudgeError):
    """A usage mistake: a bad option, flag or configuration value."""


class PrincipleError(ConfigError):
    """A principle file is malformed, or a principle id is unknown."""


class TemplateError(ConfigError):
    """A prompt template is missing, malformed, or used with a missing variable."""


class InputError(ConfigError):
    """An input row is malformed.

    Attributes:
        path: the input file (or ``"<stdin>"``), when known.
        line: 1-based line number, when known.
        field: the offending field, when known.
        index: the item's 0-based position in a batch call, when known.
    """

    def __init__(
        self, message: str, *, path: str | None = None, line: int | None = None,
        field: str | None = None, index: int | None = None,
    ) -> None:
        where = ":".join(str(p) for p in (path, line) if p is not None)
        if index is not None:
            where = f"{where} item {index}" if where else f"item {index}"
        prefix = f"{where}: " if where else ""
        field_part = f"field '{field}': " if field else ""
        super().__init__(f"{prefix}{field_part}{message}")
        self.path, self.line, self.field, self.detail = path, line, field, message
        self.index = index

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (_rebuild_input_error, (self.detail, self.path, self.line, self.field, self.index))


def _rebuild_input_error(
    message: str, path: str | None, line: int | None, field: str | None, index: int | None = None
) -> InputError:
    return InputError(message, path=path, line=line, field=field, index=index)


class MissingDependency(JudgeError, ImportError):
    """An optional dependency is missing; the message names the extra to install."""


def missing_dependency(feature: str, package: str, extra: str) -> MissingDependency:
    """Build the standard "install the extra" error.

    >>> str(missing_dependency("vLLM backend", "vllm", "vllm"))
    "vLLM backend needs the 'vllm' package: pip install 'judge[vllm]'"
    """
    return MissingDependency(f"{feature} needs the '{package}' package: pip install 'judge[{extra}]'")


class AssetsNotFound(JudgeError):
    """The shipped principles/ or prompts/ folder could not be found."""


class BackendError(JudgeError):
    """A backend failed as a whole (not a single item's content)."""


class BackendUnavailable(BackendError):
    """A backend cannot be reached or never became ready."""


class BackendRequestError(BackendError):
    """An HTTP request failed after retries.

    Attributes:
        status_code: the last HTTP status, or None for a transport error.
    """

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (_rebuild_request_error, (str(self), self.status_code))


def _rebuild_request_error(message: str, status_code: int | None) -> BackendRequestError:
    return BackendRequestError(message, status_code=status_code)


class CapabilityError(BackendError):
    """A feature was requested that this backend cannot provide."""


class BenchmarkError(JudgeError):
    """A benchmark suite, item or run directory is malformed."""


class ArtifactError(JudgeError):
    """A saved artifact (reward head) is missing files or has an incompatible schema."""

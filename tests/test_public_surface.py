"""The public surface: ``judge.__all__`` pinned, ``import judge`` light, the CLI lazy."""

from __future__ import annotations

import json
import subprocess
import sys

import judge
from judge.cli import COMMANDS, build_parser

PINNED = [
    "ArtifactError", "AssetsNotFound", "BackendError", "BackendRequestError",
    "BackendUnavailable", "BenchmarkError", "CapabilityError", "ChatMessage", "ConfigError",
    "Generation", "GenerationRequest", "InputError", "Item", "Judge", "JudgeError", "Judgment",
    "LabelOptions", "MissingDependency", "ParsedVerdict", "Principle", "PrincipleError",
    "PrincipleLibrary", "PromptTemplate", "RankItem", "Reward", "RewardError", "Sampling",
    "ScoringBackend", "ScriptedBackend", "TemplateError", "TextBackend", "__version__",
    "default_library", "label_dataset", "load_backend", "load_template", "parse_verdict",
    "resolve_principle",
]


def _modules_after(code: str) -> list[str]:
    """The ``judge.*`` and heavy-library modules loaded by ``code`` in a fresh interpreter."""
    probe = (f"{code}\nimport json, sys\nprint(json.dumps(sorted(m for m in sys.modules if "
             "m.split('.')[0] in ('judge', 'torch', 'transformers', 'fastapi', 'jinja2', "
             "'sentence_transformers', 'numpy'))))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return list(json.loads(out.stdout.splitlines()[-1]))


def test_all_is_pinned_and_every_name_resolves() -> None:
    assert judge.__all__ == PINNED
    for name in judge.__all__:
        assert getattr(judge, name) is not None, name
    assert set(judge.__all__) <= set(dir(judge))


def test_import_judge_loads_the_core_only() -> None:
    assert _modules_after("import judge") == ["judge", "judge._version", "judge.errors"]


def test_a_public_name_imports_its_module_on_first_use() -> None:
    loaded = _modules_after("import judge\njudge.resolve_principle('correct-then-concise')")
    assert "judge.principles" in loaded
    assert not any(m.startswith(("judge.label", "judge.rl", "judge.serve", "judge.distill",
                                 "torch", "transformers")) for m in loaded)


def test_help_imports_no_subcommand() -> None:
    code = ("from judge.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n"
            "    pass")
    loaded = _modules_after(code)
    assert [m for m in loaded if m.startswith("judge.cli.")] == []
    assert "judge.core" not in loaded


def test_a_subcommand_imports_only_its_own_module() -> None:
    code = ("import contextlib, io\nfrom judge.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n    main(['principles', 'list'])")
    loaded = _modules_after(code)
    assert [m for m in loaded if m.startswith("judge.cli.")] == ["judge.cli.principles"]
    assert not any(m.startswith(("judge.core", "judge.label", "judge.bench", "torch"))
                   for m in loaded)


def test_the_help_table_matches_each_subcommand() -> None:
    parser = build_parser()  # every subcommand registered in full
    actions = [a for a in parser._actions if a.dest == "command"]
    registered = {c.dest: c.help for c in actions[0]._choices_actions}
    assert registered == {name: COMMANDS[name] for name in registered}
    assert set(registered) == set(COMMANDS)

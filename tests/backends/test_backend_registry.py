"""The backend registry, the one option validator, and options that do not apply."""

from __future__ import annotations

import subprocess
import sys

import pytest

from judge.backends import backend_entry, backend_kinds, load_backend
from judge.backends.shared.options import require_device
from judge.cli import main
from judge.core import Judge
from judge.errors import ConfigError
from judge.types import Sampling

HEAD_SCORE = ["score", "--principle", "correct-then-concise", "--prompt", "q",
              "--response", "a", "--response", "b"]


def test_every_backend_is_registered_with_an_importable_factory() -> None:
    assert backend_kinds() == ["head", "openai", "oracle", "scripted", "transformers", "vllm"]
    for kind in backend_kinds():
        entry = backend_entry(kind)
        module, _, func = entry.factory.partition(":")
        assert entry.owner.startswith("judge.") and module.startswith(entry.owner)
        if kind != "vllm":  # the engine module imports without vllm; its factory is checked here
            assert callable(getattr(__import__(module, fromlist=[func]), func))


def test_registry_imports_nothing_upward() -> None:
    code = ("import sys, judge.backends; "
            "print([m for m in sys.modules if m.startswith(('judge.distill', 'judge.bench', "
            "'judge.core', 'judge.label', 'judge.serve'))])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_unknown_kind_names_the_registered_ones() -> None:
    with pytest.raises(ConfigError, match=r"unknown backend 'nope:x'.*head:.*oracle:.*scripted:"):
        load_backend("nope:x")


def test_oracle_outside_bench_is_refused_with_where_to_use_it() -> None:
    with pytest.raises(ConfigError, match="oracle backend cannot be used here.*judge bench run"):
        load_backend("oracle:reversed")


@pytest.mark.parametrize(("spec", "options", "match"), [
    ("scripted:x.jsonl", {"bogus": 1}, (r"scripted backend: unknown option 'bogus' \(known "
                                       r"options: cycle; on the command line")),
    ("scripted:x.jsonl", {"cycle": "maybe"}, r"scripted backend: option 'cycle'"),
    ("head", {"thinking": "on"}, (r"head backend: unknown option 'thinking' \(known options: "
                                 r"batch_size, cache_size")),
    ("head", {"batch_size": 0}, r"head backend: option 'batch_size'"),
    ("openai:http://127.0.0.1:9/v1#m", {"retries": 3}, r"openai backend: unknown option"),
])
def test_one_validator_for_every_backend(spec: str, options: dict[str, object],
                                         match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        load_backend(spec, **options)


def test_oracle_options_use_the_same_validator() -> None:
    with pytest.raises(ConfigError, match=r"oracle backend: unknown option 'nois' \(known "
                                          r"options: noise, seed, unparsed"):
        load_backend("oracle:noisy", context={"items": []}, nois=1.0)


@pytest.mark.parametrize("flags", [
    ["--permutations", "3"], ["--structured"], ["--temperature", "0.7"],
    ["--top-logprobs", "5"], ["--template", "no-such-template"], ["--max-tokens", "64"],
    ["--no-shuffle"], ["--templates-dir", "prompts"],
])
def test_head_refuses_generative_options_naming_option_and_backend(
        flags: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code = main([*HEAD_SCORE, *flags])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("error: ")
    assert f"{flags[0]}: not applicable to --backend head" in err


def test_head_refuses_thinking_as_an_unknown_backend_option(
        capsys: pytest.CaptureFixture[str]) -> None:
    code = main([*HEAD_SCORE, "-B", "thinking=on"])
    err = capsys.readouterr().err
    assert code == 2 and "head backend: unknown option 'thinking'" in err


@pytest.mark.parametrize(("kwargs", "named"), [
    ({"permutations": 2}, "permutations"), ({"structured": True}, "structured"),
    ({"template": "pairwise"}, "template"),
    ({"sampling": Sampling(temperature=0.5)}, "sampling.temperature"),
    ({"sampling": Sampling(max_tokens=10)}, "sampling.max_tokens"),
])
def test_judge_api_refuses_before_loading_the_head(kwargs: dict[str, object],
                                                    named: str) -> None:
    with pytest.raises(ConfigError, match=f"{named}: not applicable to the scoring backend 'head:"):
        Judge("head:/does/not/matter", **kwargs)  # type: ignore[arg-type]


def test_a_seed_alone_is_fine_for_a_scoring_backend() -> None:
    with pytest.raises(ConfigError, match="is not a directory"):  # got past the option check
        Judge("head:/no/such/dir", sampling=Sampling(seed=7))


def test_cuda_device_without_cuda_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(ConfigError, match="CUDA is not available here.*use -B device=cpu"):
        require_device("cuda:0", "transformers")
    with pytest.raises(ConfigError, match="transformers backend: -B device=cuda asks for CUDA"):
        load_backend("transformers:/no/such/model", device="cuda")
    code = main([*HEAD_SCORE, "-B", "device=cuda"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert err.startswith("error: head backend: -B device=cuda asks for CUDA")


def test_cpu_and_auto_devices_pass() -> None:
    require_device("cpu", "head")
    require_device("auto", "transformers")

"""The engine options on the command line: what is refused, in one line, before any work."""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path

import pytest

from judge.cli import main


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(argv)
    err = capsys.readouterr().err.strip().splitlines()
    return code, err[-1] if err else ""


def _rows(tmp_path: Path) -> Path:
    path = tmp_path / "rows.jsonl"
    path.write_text(json.dumps({"prompt": "p", "responses": ["a", "b"]}) + "\n")
    return path


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # nothing listens once the socket is closed


def _commands(tmp_path: Path) -> dict[str, list[str]]:
    rows = str(_rows(tmp_path))
    return {
        "label": ["label", "-i", rows, "-o", str(tmp_path / "out.jsonl"),
                  "--principle", "correct-then-concise"],
        "bench": ["bench", "run", "sample", "--out", str(tmp_path / "run"), "--no-report"],
        "distill": ["distill", "fit", "--labels", rows, "--out", str(tmp_path / "head")],
    }


@pytest.mark.parametrize("command", ["label", "bench", "distill"])
@pytest.mark.parametrize("option", [["--workers", "2"], ["--ray-address", "auto"],
                                    ["--num-gpus-per-worker", "1"]])
def test_ray_options_are_refused_with_the_local_engine(
        command: str, option: list[str], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run([*_commands(tmp_path)[command], *option], capsys)
    assert code == 2
    assert err == f"error: {option[0]}: only apply to --engine ray; drop them or add --engine ray"
    assert not (tmp_path / "out.jsonl").exists()


@pytest.mark.parametrize("scheme", ["", "ray://"])
@pytest.mark.parametrize("command", ["label", "bench"])
def test_an_unreachable_ray_address_is_one_line_with_the_fix(
        scheme: str, command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("ray.data")
    address = f"{scheme}127.0.0.1:{_closed_port()}"
    code, err = run([*_commands(tmp_path)[command], "--engine", "ray", "--ray-address", address],
                    capsys)
    assert code == 2
    assert err.startswith(f"error: --ray-address {address}: cannot connect (")
    assert "ray start --head" in err
    assert not (tmp_path / "out.jsonl").exists()


def test_a_malformed_ray_address_is_refused(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("ray.data")
    code, err = run([*_commands(tmp_path)["label"], "--engine", "ray", "--ray-address",
                     "headnode"], capsys)
    assert code == 2
    assert err == ("error: --ray-address headnode: expected auto, local, HOST:PORT or "
                   "ray://HOST:PORT")


@pytest.mark.parametrize("command", ["label", "bench"])
def test_the_missing_ray_extra_names_the_install(command: str, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # what an install without the extra sees
    code, err = run([*_commands(tmp_path)[command], "--engine", "ray"], capsys)
    assert code == 2
    assert err == "error: --engine ray needs the 'ray[data]' package: pip install 'judge[ray]'"

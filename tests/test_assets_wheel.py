"""The wheel ships principles/ and prompts/, and an installed copy finds and uses them."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("hatchling")
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(out), str(ROOT)], check=True, capture_output=True)
    return next(out.glob("judge-*.whl"))


def test_wheel_contains_assets(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    principles = [n for n in names if n.startswith("judge/_assets/principles/")]
    assert len([n for n in principles if n.count("/") == 3 and n.endswith(".yaml")]) >= 40
    assert any(n.startswith("judge/_assets/principles/sets/") for n in names)
    # copied into every `judge distill export --format hf-seq-cls` folder
    assert "judge/distill/export_hf/modeling_judge_head.py" in names
    for tpl in ("listwise", "pointwise", "pairwise"):
        for f in ("template.yaml", "system.jinja", "user.jinja"):
            assert f"judge/_assets/prompts/{tpl}/{f}" in names


def test_installed_copy_renders_from_its_own_assets(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target",
                    str(target), str(wheel)], check=True, capture_output=True)
    code = (
        "import judge, judge.assets as a, json;"
        f"assert str(a.asset_dir('prompts')).startswith({str(target)!r}), a.asset_dir('prompts');"
        "t = judge.load_template('listwise');"
        "p = judge.resolve_principle('correct-then-concise');"
        "m = t.render(principle=p.text, prompt='q', responses={'model-1': 'a'},"
        " scale_min=1, scale_max=5);"
        "print(json.loads(m[1].content)['principle'][:11], len(judge.default_library().principles))"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                          text=True, env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"},
                          check=False)
    assert proc.returncode == 0, proc.stderr
    first, count = proc.stdout.split()[-2:]
    assert first == "Correctness" or first.startswith("Correct")
    assert int(count) >= 40

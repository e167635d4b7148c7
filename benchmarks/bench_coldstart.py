"""Cold start of the CLI: wall time of fresh processes and what ``import judge`` loads.

Each command runs in a new interpreter ``--runs`` times; the median is printed next to a bare
``python -c pass`` measured in the same run, so figures compare across machines. ``--against DIR``
runs the same commands from another checkout (e.g. main) and prints after/before ratios.

    python benchmarks/bench_coldstart.py --runs 5 --against /work/main

For ``judge score`` (the shipped head) it also sums ``-X importtime``: the seconds spent importing
and how much of that is the judge's own modules, versus the model libraries the head needs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = {
    "help": ["-m", "judge", "--help"],
    "principles list": ["-m", "judge", "principles", "list"],
    "score (head)": ["-m", "judge", "score", "--principle", "correct-then-concise",
                     "--prompt", "q", "--response", "a", "--response", "b"],
}
COUNT = ("import judge, sys; mods = [m for m in sys.modules if m.startswith('judge')]; "
         "print(len(mods), len(sys.modules))")


def _env(root: Path) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(root), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
               HF_DATASETS_OFFLINE="1")
    return env


def _wall(args: list[str], root: Path, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, *args], env=_env(root), cwd=root, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _import_seconds(args: list[str], root: Path) -> tuple[float, float]:
    """(all imports, the judge package's top-level import) in seconds, from -X importtime."""
    proc = subprocess.run([sys.executable, "-X", "importtime", *args], env=_env(root), cwd=root,
                          check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    total = judge_own = 0.0
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = line[len("import time:"):].split("|")
        if name.startswith(" ") and not name.startswith("  "):  # a top-level import
            total += int(cumulative) / 1e6
            if name.strip() == "judge" or name.strip().startswith("judge."):
                judge_own += int(cumulative) / 1e6
    return total, judge_own


def measure(root: Path, runs: int, score: bool) -> dict[str, float]:
    """Median walls, module counts and import seconds for one checkout."""
    out: dict[str, float] = {"bare python": _wall(["-c", "pass"], root, runs)}
    for name, args in COMMANDS.items():
        if name.startswith("score") and not score:
            continue
        out[name] = _wall(args, root, runs)
    counted = subprocess.run([sys.executable, "-c", COUNT], env=_env(root), cwd=root, check=True,
                             capture_output=True, text=True).stdout.split()
    out["judge modules after import judge"] = float(counted[0])
    out["all modules after import judge"] = float(counted[1])
    if score:
        total, own = _import_seconds(COMMANDS["score (head)"], root)
        out["score: seconds importing"] = total
        out["score: seconds importing judge.*"] = own
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--against", type=Path, help="another checkout to compare with")
    parser.add_argument("--no-score", action="store_true", help="skip the (slow) head command")
    args = parser.parse_args()
    now = measure(ROOT, args.runs, not args.no_score)
    before = measure(args.against, args.runs, not args.no_score) if args.against else None
    print(f"{'measure':36} {'this':>9}" + (f" {'against':>9} {'ratio':>7}" if before else ""))
    for key, value in now.items():
        line = f"{key:36} {value:9.3f}"
        if before:
            ratio = value / before[key] if before[key] else float("nan")
            line += f" {before[key]:9.3f} {ratio:7.2f}"
        print(line)
    bare = now["bare python"]
    print(f"(walls in seconds, median of {args.runs}; 'help' is {now['help'] / bare:.1f}x a bare "
          "interpreter in this run)")


if __name__ == "__main__":
    main()

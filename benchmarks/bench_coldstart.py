"""Cold start of the CLI: wall time of fresh processes and what ``import judge`` loads.

Each command runs in a new interpreter ``--runs`` times; the median wall time and the median CPU
time (user + system of the child: steadier than wall on a shared machine) are printed next to a
bare ``python -c pass`` measured in the same run, so figures compare across machines.
``--against DIR`` runs the same commands from another checkout (e.g. main) and prints after/before
ratios.

    python benchmarks/bench_coldstart.py --runs 5 --against /work/main

For ``judge score`` (the shipped head) it also reads ``-X importtime``: the seconds spent importing
in all, the judge's own modules' share (their self time), and how many judge modules load;
and it times the head under each runtime (``-B runtime=torch|onnx|onnx-int8``; the default is
``auto``) in the same run, with whether torch was imported. Each scoring command runs once
untimed first, so a first-use ONNX export build is not counted.
"""

from __future__ import annotations

import argparse
import os
import resource
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
#: The head under each runtime (this checkout only: --against checkouts may not have them).
RUNTIMES = ("torch", "onnx", "onnx-int8")
RUNTIME_COMMANDS = {f"score (head, {rt})": [*COMMANDS["score (head)"], "-B", f"runtime={rt}"]
                    for rt in RUNTIMES}
COUNT = ("import judge, sys; mods = [m for m in sys.modules if m.startswith('judge')]; "
         "print(len(mods), len(sys.modules))")


def _env(root: Path) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(root), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
               HF_DATASETS_OFFLINE="1")
    return env


def _child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed(args: list[str], root: Path, runs: int) -> tuple[float, float]:
    """Median (wall, cpu) seconds of ``runs`` fresh processes."""
    walls, cpus = [], []
    for _ in range(runs):
        cpu0, start = _child_cpu(), time.perf_counter()
        subprocess.run([sys.executable, *args], env=_env(root), cwd=root, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        walls.append(time.perf_counter() - start)
        cpus.append(_child_cpu() - cpu0)
    return statistics.median(walls), statistics.median(cpus)


def _import_figures(args: list[str], root: Path) -> tuple[float, float, int]:
    """(all imports in s, the judge's own modules' self time in s, judge modules loaded)."""
    proc = subprocess.run([sys.executable, "-X", "importtime", *args], env=_env(root), cwd=root,
                          check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    total = own = 0.0
    count = 0
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        self_us, cumulative, name = line[len("import time:"):].split("|")
        if name.startswith(" ") and not name.startswith("  "):  # a top-level import
            total += int(cumulative) / 1e6
        if name.strip() == "judge" or name.strip().startswith("judge."):
            own += int(self_us) / 1e6
            count += 1
    return total, own, count


def _imports_torch(args: list[str], root: Path) -> bool:
    """Whether the command imports torch (read from ``-X importtime``)."""
    proc = subprocess.run([sys.executable, "-X", "importtime", *args], env=_env(root), cwd=root,
                          check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return any(line.rsplit("|", 1)[-1].strip() == "torch" for line in proc.stderr.splitlines())


def measure(root: Path, runs: int, score: bool, runtimes: bool = False) -> dict[str, float]:
    """Median walls and CPU times, module counts and import seconds for one checkout."""
    out: dict[str, float] = {}
    commands = {"bare python": ["-c", "pass"], **COMMANDS,
                **(RUNTIME_COMMANDS if runtimes and score else {})}
    for name, args in commands.items():
        if name.startswith("score") and not score:
            continue
        if name.startswith("score"):  # untimed: builds the ONNX export if it is missing
            subprocess.run([sys.executable, *args], env=_env(root), cwd=root, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            out[f"{name}: imports torch"] = float(_imports_torch(args, root))
        out[f"{name}: wall"], out[f"{name}: cpu"] = _timed(args, root, runs)
    counted = subprocess.run([sys.executable, "-c", COUNT], env=_env(root), cwd=root, check=True,
                             capture_output=True, text=True).stdout.split()
    out["judge modules after import judge"] = float(counted[0])
    out["all modules after import judge"] = float(counted[1])
    if score:
        total, own, count = _import_figures(COMMANDS["score (head)"], root)
        out["score: s importing (all)"] = total
        out["score: s importing judge.* (self)"] = own
        out["score: judge modules loaded"] = float(count)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--against", type=Path, help="another checkout to compare with")
    parser.add_argument("--no-score", action="store_true", help="skip the (slow) head command")
    args = parser.parse_args()
    now = measure(ROOT, args.runs, not args.no_score, runtimes=True)
    before = measure(args.against, args.runs, not args.no_score) if args.against else None
    print(f"{'measure':36} {'this':>9}" + (f" {'against':>9} {'ratio':>7}" if before else ""))
    for key, value in now.items():
        line = f"{key:36} {value:9.3f}"
        if before and key in before:
            ratio = value / before[key] if before[key] else float("nan")
            line += f" {before[key]:9.3f} {ratio:7.2f}"
        print(line)
    ratio = now["help: cpu"] / now["bare python: cpu"]
    print(f"(seconds, median of {args.runs}; 'help' takes {ratio:.1f}x the CPU of a bare "
          "interpreter in this run)")
    torch_wall = now.get("score (head, torch): wall")
    for rt in RUNTIMES[1:]:
        wall = now.get(f"score (head, {rt}): wall")
        if torch_wall and wall:
            print(f"judge score cold start, {rt} vs torch: {wall:.2f} s vs {torch_wall:.2f} s "
                  f"({torch_wall / wall:.1f}x faster)")


if __name__ == "__main__":
    main()

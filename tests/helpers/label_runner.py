"""Run the label runner with a content-based fake judge (for the kill-and-resume test).

    cd tests && python -m helpers.label_runner INPUT OUTPUT [--delay S] [--batch-size N]

Exit code: 0 every row ok, 3 some failed.
"""

from __future__ import annotations

import argparse

from helpers.labelfakes import fake_backend
from judge.core import Judge
from judge.label import LabelOptions, label_dataset


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--delay", type=float, default=0.0)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--pairs")
    a = ap.parse_args()
    judge = Judge(fake_backend(a.delay), principle="correct-then-concise")
    summary = label_dataset(judge, a.input, a.output,
                            LabelOptions(batch_size=a.batch_size, pairs=a.pairs))
    print(f"labeled={summary.labeled} reused={summary.reused} total={summary.total}")
    return 3 if summary.failed else 0


if __name__ == "__main__":
    raise SystemExit(main())

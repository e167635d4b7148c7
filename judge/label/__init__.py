"""Reward labels for whole datasets: resumable labeling, chosen/rejected pairs, normalisation.

Example::

    from judge import Judge
    from judge.label import LabelOptions, label_dataset

    judge = Judge("head", principle="correct-then-concise")
    summary = label_dataset(judge, "rows.jsonl", "labeled.parquet",
                            LabelOptions(pairs="pairs.jsonl", normalize="group-z"))
    print(summary.counts, summary.failed)
"""

from __future__ import annotations

from judge.journal import Journal, default_journal_path
from judge.label.io import RowSource, open_source, output_format, write_rows
from judge.label.normalize import NORMALIZE_MODES, normalize_scores
from judge.label.pairs import PAIR_MODES, make_pairs
from judge.label.runner import LabelOptions, LabelSummary, label_dataset
from judge.messages import prompt_text, response_text

__all__ = ["NORMALIZE_MODES", "PAIR_MODES", "Journal", "LabelOptions", "LabelSummary",
           "RowSource", "default_journal_path", "label_dataset", "make_pairs",
           "normalize_scores", "open_source", "output_format", "prompt_text", "response_text",
           "write_rows"]

"""Export a reward head as a self-contained transformers checkpoint (``hf-seq-cls``).

The folder loads with ``AutoModelForSequenceClassification.from_pretrained(DIR,
trust_remote_code=True)`` and ``AutoTokenizer.from_pretrained(DIR)`` where the ``judge`` package
is not installed, so a trainer that takes a reward *model* (TRL's ``reward_funcs=DIR``) can use
the head. :mod:`judge.distill.export_hf.export` builds it; ``modeling_judge_head.py`` is the file
copied into the folder (it imports only torch, transformers and tokenizers).
"""

from __future__ import annotations

from judge.distill.export_hf.export import ExportResult, export_hf_seq_cls, format_text

__all__ = ["ExportResult", "export_hf_seq_cls", "format_text"]

"""Record per-token logprobs during ``generate`` without keeping every step's full logits.

``output_logits=True`` would hold batch × steps × vocabulary floats (gigabytes for a real
vocabulary). This ``LogitsProcessor`` runs before temperature and sampling, and keeps
only each step's top-k alternatives and, one step later, the chosen token's logprob. Placed
after a grammar processor it sees the constrained distribution (forbidden tokens at -inf).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class LogprobRecorder:
    """Keeps top-k logprobs for the rows that asked for them (``ks[row] > 0``)."""

    def __init__(self, ks: Sequence[int]) -> None:
        self.ks = list(ks)
        self.rows = [i for i, k in enumerate(self.ks) if k > 0]
        self.kmax = max(self.ks, default=0)
        self.top: list[tuple[Any, Any]] = []     # per step: (ids, values), shape (rows, kmax)
        self.chosen: list[Any] = []              # per step: chosen token logprob, shape (rows,)
        self._previous: Any = None

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import torch

        if not self.rows:
            return scores
        if self._previous is not None:
            self._take(input_ids[:, -1])
        index = torch.tensor(self.rows, device=scores.device)
        logp = torch.log_softmax(scores.index_select(0, index).float(), dim=-1)
        values, ids = torch.topk(logp, min(self.kmax, logp.shape[-1]), dim=-1)
        self.top.append((ids.cpu(), values.cpu()))
        self._previous = logp
        return scores

    def _take(self, tokens: Any) -> None:
        import torch

        index = torch.tensor(self.rows, device=tokens.device)
        chosen = tokens.index_select(0, index).to(self._previous.device)
        self.chosen.append(self._previous.gather(1, chosen[:, None])[:, 0].cpu())
        self._previous = None

    def finalize(self, sequences: Any) -> None:
        """Take the last step's chosen tokens (``generate`` makes no call after it)."""
        if self._previous is not None:
            self._take(sequences[:, -1])

    def row(self, row: int, steps: int) -> list[tuple[float, list[int], list[float]]] | None:
        """``(chosen logprob, top ids, top logprobs)`` for the first ``steps`` steps of a row."""
        if row not in self.rows or steps > len(self.chosen):
            return None
        r = self.rows.index(row)
        k = self.ks[row]
        return [(float(self.chosen[t][r]), self.top[t][0][r, :k].tolist(),
                 self.top[t][1][r, :k].tolist()) for t in range(steps)]

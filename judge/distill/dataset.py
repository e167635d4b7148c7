"""Label items turned into tensors: unique principle/prompt/response embeddings plus one "slot"
per (item, response) pointing into them.

Each distinct text is embedded once (through the disk cache when one is given), however many
principles or items share it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from judge.distill.cache import EmbeddingCache, embed_with
from judge.distill.embedders import Embedder
from judge.distill.features import build_features, stats_matrix
from judge.distill.labels import LabelItem

log = logging.getLogger(__name__)


@dataclass
class EmbeddedItems:
    """Items with their embeddings.

    Attributes:
        items: the label items.
        P, Q, R: unique principle, prompt and response embeddings.
        S: ``stats-v1`` per slot.
        slot_p, slot_q, slot_r: per slot, the row in P, Q and R.
        item_slots: per item, its slots in response order.
    """

    items: list[LabelItem]
    P: torch.Tensor
    Q: torch.Tensor
    R: torch.Tensor
    S: torch.Tensor
    slot_p: torch.Tensor
    slot_q: torch.Tensor
    slot_r: torch.Tensor
    item_slots: list[list[int]]

    @property
    def n_slots(self) -> int:
        """Number of (item, response) slots."""
        return int(self.slot_p.shape[0])

    def features(self, slots: torch.Tensor) -> torch.Tensor:
        """``pqr-v1`` features of the given slots."""
        out: torch.Tensor = build_features(self.P[self.slot_p[slots]], self.Q[self.slot_q[slots]],
                                           self.R[self.slot_r[slots]], self.S[slots])
        return out

    def cosine(self) -> list[list[float]]:
        """Prompt-response cosine per item and response (a baseline scorer)."""
        sims = (self.Q[self.slot_q] * self.R[self.slot_r]).sum(1).tolist()
        return [[sims[s] for s in slots] for slots in self.item_slots]

    def scores(self, net: torch.nn.Module, batch: int = 4096) -> tuple[list[list[float]],
                                                                       list[list[float]]]:
        """Per item, the head's mean score and member spread for each response."""
        was_training = net.training
        net.eval()
        means, spreads = [], []
        with torch.inference_mode():
            for start in range(0, self.n_slots, batch):
                idx = torch.arange(start, min(start + batch, self.n_slots))
                out = net(self.features(idx))
                means.append(out.mean(0))
                spreads.append(out.std(0, unbiased=False))
        net.train(was_training)
        mean = torch.cat(means).tolist() if means else []
        spread = torch.cat(spreads).tolist() if spreads else []
        return ([[mean[s] for s in slots] for slots in self.item_slots],
                [[spread[s] for s in slots] for slots in self.item_slots])


def _index(texts: Sequence[str]) -> tuple[list[str], list[int]]:
    unique: dict[str, int] = {}
    rows = [unique.setdefault(t, len(unique)) for t in texts]
    return list(unique), rows


def embed_items(items: Sequence[LabelItem], embedder: Embedder,
                cache: EmbeddingCache | None = None) -> EmbeddedItems:
    """Embed every distinct principle, prompt and response of ``items``."""
    items = list(items)
    p_texts, p_rows = _index([it.principle for it in items])
    q_texts, q_rows = _index([it.prompt for it in items])
    r_texts, r_rows = _index([r for it in items for r in it.responses])
    log.info("embedding %d principles, %d prompts, %d responses", len(p_texts), len(q_texts),
             len(r_texts))
    vectors = embed_with(embedder, p_texts + q_texts + r_texts, cache)
    P = torch.from_numpy(np.ascontiguousarray(vectors[:len(p_texts)]))
    Q = torch.from_numpy(np.ascontiguousarray(vectors[len(p_texts):len(p_texts) + len(q_texts)]))
    R = torch.from_numpy(np.ascontiguousarray(vectors[len(p_texts) + len(q_texts):]))
    slot_p, slot_q, item_slots, pairs = [], [], [], []
    cursor = 0
    for n, it in enumerate(items):
        k = len(it.responses)
        slot_p += [p_rows[n]] * k
        slot_q += [q_rows[n]] * k
        item_slots.append(list(range(cursor, cursor + k)))
        pairs += [(r, it.prompt) for r in it.responses]
        cursor += k
    stats_index: dict[tuple[str, str], int] = {}
    for pair in pairs:
        stats_index.setdefault(pair, len(stats_index))
    stats_unique = stats_matrix(list(stats_index))  # dicts keep insertion (= index) order
    S = torch.from_numpy(stats_unique[[stats_index[p] for p in pairs]])
    return EmbeddedItems(
        items=items, P=P, Q=Q, R=R, S=S,
        slot_p=torch.tensor(slot_p, dtype=torch.long),
        slot_q=torch.tensor(slot_q, dtype=torch.long),
        slot_r=torch.tensor(r_rows, dtype=torch.long), item_slots=item_slots)

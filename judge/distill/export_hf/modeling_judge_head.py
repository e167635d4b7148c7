"""A judge reward head as a transformers sequence-classification model.

Written into an export folder by ``judge distill export --format hf-seq-cls``; it imports only
torch, transformers and tokenizers, so the folder loads where the ``judge`` package is absent::

    model = AutoModelForSequenceClassification.from_pretrained(DIR, trust_remote_code=True)
    tokenizer = AutoTokenizer.from_pretrained(DIR)

The tokenizer is a byte-level ``ByT5Tokenizer`` (lossless: raw text, newlines included). The
model decodes the bytes back to text, splits it into principle, prompt and response at the
markers below, and scores exactly as the head's native code does: sentence embeddings of the
three texts (windows of the bundled BERT encoder, mean-pooled, token-count-weighted mean, l2),
six surface statistics of the raw response, features ``pqr-v1``, standardisation, an ensemble
of small networks. The logit is the head's score.

Text format (``judge-pqr-v1``)::

    [<|principle|>PRINCIPLE]<|prompt|>PROMPT<|response|>RESPONSE

The text is split at the first ``<|response|>``; before it, an optional ``<|principle|>``
section (then ``<|prompt|>`` is required) or an optional ``<|prompt|>`` marker; without a
principle section the principle baked in at export time is used. One newline right after a
marker and one right before the next marker belong to the markup. A text that does not follow
this format raises ``ValueError``; it is never scored silently.
"""

from __future__ import annotations

import json
import math
import re
from collections import OrderedDict
from typing import Any

import torch
from tokenizers import Tokenizer
from torch import nn
from transformers import BertConfig, BertModel, PretrainedConfig, PreTrainedModel
from transformers.modeling_outputs import SequenceClassifierOutput

PRINCIPLE, PROMPT, RESPONSE = "<|principle|>", "<|prompt|>", "<|response|>"
TEXT_FORMAT = "judge-pqr-v1"
FORMAT_HELP = ("expected '[<|principle|>PRINCIPLE]<|prompt|>PROMPT<|response|>RESPONSE' "
               f"(format {TEXT_FORMAT}; see the folder's README.md)")
#: Byte-level token ids: 0 pad, 1 eos, 2 unk, then byte b is b + 3.
_SPECIAL_TEXT = {0: "<pad>", 1: "</s>", 2: "<unk>"}
_BYTE_OFFSET = 3
_SLUG = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_WORD = re.compile(r"\w+", re.UNICODE)
_MD_LINE = re.compile(r"^\s*(#{1,6}\s|[-*+]\s|\d+[.)]\s|\||>\s)")
_EMPHASIS = re.compile(r"\*\*|__|`")
_Z_CLIP = 6.0
_PRINCIPLE_CACHE = 256


class JudgeHeadConfig(PretrainedConfig):
    """Everything the model needs: the encoder's config and tokenizer, the head's shape, the
    text format and the default principle."""

    #: A type transformers knows (so ``AutoTokenizer`` reads the folder without running this
    #: file) that has no built-in sequence-classification model (so
    #: ``AutoModelForSequenceClassification`` without ``trust_remote_code`` fails loudly instead
    #: of loading a randomly initialised classifier).
    model_type = "bert-generation"

    def __init__(self, bert_config: dict[str, Any] | None = None,
                 encoder_tokenizer: dict[str, Any] | None = None,
                 head: dict[str, Any] | None = None, text_format: str = TEXT_FORMAT,
                 default_principle: str | None = None,
                 principles: dict[str, str] | None = None, window_tokens: int = 256,
                 max_windows: int = 8, read_chars: int = 65536, encoder_batch_size: int = 32,
                 bert_special: dict[str, int] | None = None,
                 judge_export: dict[str, Any] | None = None, **kwargs: Any) -> None:
        self.bert_config = bert_config or {}
        self.bert_special = bert_special or {}
        self.encoder_tokenizer = encoder_tokenizer or {}
        self.head = head or {}
        self.text_format = text_format
        self.default_principle = default_principle
        self.principles = principles or {}
        self.window_tokens = window_tokens
        self.max_windows = max_windows
        self.read_chars = read_chars
        self.encoder_batch_size = encoder_batch_size
        self.judge_export = judge_export or {}
        kwargs.setdefault("num_labels", 1)
        super().__init__(**kwargs)

    def __repr__(self) -> str:  # the bundled tokenizer would flood logs
        shown = {k: v for k, v in self.to_dict().items()
                 if k not in ("encoder_tokenizer", "principles")}
        return f"{self.__class__.__name__} {json.dumps(shown, indent=2, default=str)}"


def text_stats(response: str, prompt: str) -> list[float]:
    """The head's six ``stats-v1`` numbers of a response (must match the judge package)."""
    words = len(_WORD.findall(response))
    lines = [ln for ln in response.splitlines() if ln.strip()]
    md = sum(1 for ln in lines if _MD_LINE.match(ln))
    q_words = len(_WORD.findall(prompt))
    return [
        math.log1p(words),
        math.log1p(len(lines)),
        math.log1p(words) - math.log1p(q_words),
        md / len(lines) if lines else 0.0,
        math.log1p(len(_EMPHASIS.findall(response))),
        1.0 if "```" in response else 0.0,
    ]


def decode_bytes(ids: list[int]) -> str:
    """Byte-level token ids back to text (a final eos is dropped; a literal ``</s>``,
    ``<pad>`` or ``<unk>`` inside the text comes back as written)."""
    if ids and ids[-1] == 1:
        ids = ids[:-1]
    out = bytearray()
    for i in ids:
        if i >= _BYTE_OFFSET:
            out.append(i - _BYTE_OFFSET)
        else:
            out += _SPECIAL_TEXT[i].encode()
    return out.decode("utf-8", errors="replace")


def _strip_one_newline(text: str, start: bool = True, end: bool = True) -> str:
    if start and text.startswith("\n"):
        text = text[1:]
    if end and text.endswith("\n"):
        text = text[:-1]
    return text


def split_text(text: str, default_principle: str | None) -> tuple[str, str, str]:
    """``(principle, prompt, response)`` of a ``judge-pqr-v1`` text."""
    cut = text.find(RESPONSE)
    if cut < 0:
        raise ValueError(f"the text has no '{RESPONSE}' marker: {FORMAT_HELP}; got "
                         f"{text[:80]!r}")
    before, response = text[:cut], _strip_one_newline(text[cut + len(RESPONSE):], end=False)
    principle: str | None = None
    p_at, q_at = before.find(PRINCIPLE), before.find(PROMPT)
    if p_at >= 0:
        if before[:p_at].strip() or q_at < p_at:
            raise ValueError(f"'{PRINCIPLE}' must open the text and be followed by "
                             f"'{PROMPT}': {FORMAT_HELP}")
        principle = _strip_one_newline(before[p_at + len(PRINCIPLE):q_at])
        prompt = _strip_one_newline(before[q_at + len(PROMPT):])
    elif q_at >= 0:
        if before[:q_at].strip():
            raise ValueError(f"text before '{PROMPT}' that is not a '{PRINCIPLE}' section: "
                             f"{FORMAT_HELP}")
        prompt = _strip_one_newline(before[q_at + len(PROMPT):])
    else:
        prompt = _strip_one_newline(before, start=False)
    if principle is None or not principle.strip():
        principle = default_principle
    if principle is None:
        raise ValueError("the text has no principle section and the export has no default "
                         f"principle (export with --principle): {FORMAT_HELP}")
    return principle, prompt, response


class _Head(nn.Module):
    """Standardisation (clipped to +-6) and ensemble members, as in the judge package."""

    feature_mean: torch.Tensor
    feature_std: torch.Tensor

    def __init__(self, in_dim: int, kind: str, hidden: int, layers: int, members: int) -> None:
        super().__init__()
        self.register_buffer("feature_mean", torch.zeros(in_dim))
        self.register_buffer("feature_std", torch.ones(in_dim))
        nets: list[nn.Module] = []
        for _ in range(members):
            if kind == "linear":
                nets.append(nn.Linear(in_dim, 1))
                continue
            parts: list[nn.Module] = []
            width = in_dim
            for _ in range(layers):  # Linear, GELU, (dropout slot): the trained layout
                parts += [nn.Linear(width, hidden), nn.GELU(), nn.Identity()]
                width = hidden
            parts.append(nn.Linear(width, 1))
            nets.append(nn.Sequential(*parts))
        self.members = nn.ModuleList(nets)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        z = ((features - self.feature_mean) / self.feature_std).clamp(-_Z_CLIP, _Z_CLIP)
        return torch.stack([m(z).squeeze(-1) for m in self.members]).mean(0)


class JudgeHeadForSequenceClassification(PreTrainedModel):
    """Scores ``judge-pqr-v1`` texts; ``logits`` has shape ``(batch, 1)``."""

    config_class = JudgeHeadConfig
    base_model_prefix = "bert"
    main_input_name = "input_ids"
    _no_split_modules = ["BertLayer"]  # noqa: RUF012 (transformers declares it so)

    def __init__(self, config: JudgeHeadConfig) -> None:
        super().__init__(config)
        if config.num_labels != 1:
            raise ValueError(f"a judge reward head gives one score per text; num_labels must "
                             f"be 1, got {config.num_labels}")
        if config.text_format != TEXT_FORMAT:
            raise ValueError(f"this modeling file reads format {TEXT_FORMAT}, the config says "
                             f"{config.text_format}")
        self.bert = BertModel(BertConfig(**config.bert_config), add_pooling_layer=False)
        h = config.head
        self.head = _Head(int(h["in_dim"]), str(h["member_kind"]), int(h.get("hidden", 1)),
                          int(h.get("layers", 1)), int(h["members"]))
        self._tokenizer: Tokenizer | None = None
        self._principles: OrderedDict[str, torch.Tensor] = OrderedDict()  # text -> vector (cpu)
        self.post_init()

    def _init_weights(self, module: nn.Module) -> None:  # weights always come from the file
        pass

    @property
    def encoder_tokenizer(self) -> Tokenizer:
        """The encoder's WordPiece tokenizer (bundled in the config)."""
        if self._tokenizer is None:
            tok = Tokenizer.from_str(json.dumps(self.config.encoder_tokenizer))
            tok.no_truncation()
            tok.no_padding()
            self._tokenizer = tok
        return self._tokenizer

    def windows(self, texts: list[str]) -> list[list[list[int]]]:
        """Token-id windows per text: consecutive chunks of ``window_tokens - 2`` word pieces,
        each in ``[CLS] ... [SEP]``, at most ``max_windows`` per text."""
        c = self.config
        cls_id, sep_id = int(c.bert_special["cls"]), int(c.bert_special["sep"])
        step = c.window_tokens - 2
        out = []
        for enc in self.encoder_tokenizer.encode_batch(texts, add_special_tokens=False):
            ids = enc.ids
            out.append([[cls_id, *ids[i:i + step], sep_id]
                        for i in range(0, max(len(ids), 1), step)][:c.max_windows])
        return out

    def embed(self, texts: list[str]) -> torch.Tensor:
        """Unit vectors of the texts (window chunk-mean, as the judge package embeds)."""
        per_text = self.windows(texts)
        flat = [(t, w) for t, wins in enumerate(per_text) for w in wins]
        order = sorted(range(len(flat)), key=lambda i: -len(flat[i][1]))
        device = self.bert.embeddings.word_embeddings.weight.device
        vectors = torch.zeros(len(flat), self.bert.config.hidden_size, device=device)
        pad = int(self.config.bert_special["pad"])
        step = self.config.encoder_batch_size
        for start in range(0, len(order), step):
            chunk = order[start:start + step]
            longest = max(len(flat[i][1]) for i in chunk)
            ids = torch.full((len(chunk), longest), pad, dtype=torch.long)
            mask = torch.zeros((len(chunk), longest), dtype=torch.long)
            for row, i in enumerate(chunk):
                w = flat[i][1]
                ids[row, :len(w)] = torch.tensor(w)
                mask[row, :len(w)] = 1
            ids, mask = ids.to(device), mask.to(device)
            hidden = self.bert(input_ids=ids, attention_mask=mask,
                               token_type_ids=torch.zeros_like(ids)).last_hidden_state.float()
            m = mask.unsqueeze(-1).float()
            pooled = (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)
            vectors[torch.tensor(chunk, device=device)] = pooled
        vectors = vectors / vectors.norm(dim=1, keepdim=True).clamp(min=1e-12)
        weights = torch.tensor([float(len(w)) for _, w in flat], device=device)
        owners = torch.tensor([t for t, _ in flat], device=device)
        out = torch.zeros(len(texts), vectors.shape[1], device=device)
        out.index_add_(0, owners, vectors * weights[:, None])
        unit: torch.Tensor = out / out.norm(dim=1, keepdim=True).clamp(min=1e-12)
        return unit

    def resolve_principle(self, principle: str) -> str:
        """A library principle id (bundled at export time) becomes its text; text is kept."""
        key = principle.strip()
        if _SLUG.match(key):
            if key not in self.config.principles:
                raise ValueError(f"unknown principle id '{key}': write the principle as a "
                                 "sentence, or use an id bundled at export time")
            return str(self.config.principles[key])
        return principle

    def _vectors(self, triples: list[tuple[str, str, str]]
                 ) -> tuple[torch.Tensor, dict[str, int]]:
        """One vector per distinct text, in one encoder pass; principles (few, repeated every
        step of a training run) are kept in a small cache (the weights are frozen)."""
        known = list(dict.fromkeys(p for p, _, _ in triples if p in self._principles))
        unique = list(dict.fromkeys(t for tr in triples for t in tr if t not in known))
        index = {t: i for i, t in enumerate(unique + known)}
        device = self.bert.embeddings.word_embeddings.weight.device
        parts = [self.embed(unique)] if unique else []
        if known:       # read the cached ones before new principles can evict them
            for p in known:
                self._principles.move_to_end(p)
            parts.append(torch.stack([self._principles[p] for p in known]).to(device))
        for p in dict.fromkeys(p for p, _, _ in triples if p not in known):
            self._principles[p] = parts[0][index[p]].detach().cpu()
            if len(self._principles) > _PRINCIPLE_CACHE:
                self._principles.popitem(last=False)      # the least recently used
        return torch.cat(parts), index

    def score_texts(self, texts: list[str]) -> torch.Tensor:
        """Scores of ``judge-pqr-v1`` texts, shape ``(len(texts),)``."""
        triples: list[tuple[str, str, str]] = []
        for n, text in enumerate(texts):
            try:
                principle, prompt, response = split_text(text, self.config.default_principle)
                triples.append((self.resolve_principle(principle), prompt,
                                response[:self.config.read_chars]))
            except ValueError as exc:
                raise ValueError(f"text {n}: {exc}") from None
        vecs, index = self._vectors(triples)

        def pick(k: int) -> torch.Tensor:
            return vecs[torch.tensor([index[tr[k]] for tr in triples], device=vecs.device)]

        p, q, r = pick(0), pick(1), pick(2)
        s = torch.tensor([text_stats(r_, q_) for _, q_, r_ in triples], dtype=torch.float32,
                         device=vecs.device)
        outer = (p.unsqueeze(2) * s.unsqueeze(1)).flatten(1)
        feats = torch.cat([r, p * r, q * r, (p - r).abs(), (q - r).abs(), p, q, s, outer], 1)
        head_dtype = self.head.feature_mean.dtype
        scores: torch.Tensor = self.head(feats.to(head_dtype)).float()
        return scores

    def forward(self, input_ids: torch.Tensor | None = None,
                attention_mask: torch.Tensor | None = None, labels: Any = None,
                return_dict: bool | None = None, **kwargs: Any) -> Any:
        """Byte-level ``input_ids`` (from this folder's tokenizer) in, ``logits`` (batch, 1)
        out. Padding is read from ``attention_mask`` (left or right)."""
        if labels is not None:
            raise ValueError("a judge reward head only scores; it takes no labels")
        if input_ids is None:
            raise ValueError("input_ids are required (tokenize with this folder's tokenizer)")
        rows = input_ids.tolist()
        if attention_mask is not None:
            masks = attention_mask.tolist()
            rows = [[i for i, m in zip(row, mask) if m] for row, mask in zip(rows, masks)]
        else:
            rows = [_strip_trailing_pad(row) for row in rows]
        device = self.bert.embeddings.word_embeddings.weight.device
        # The head was validated in float32: a trainer's mixed-precision autocast (TRL runs
        # reward models under bf16 autocast by default) would move scores by ~1e-2.
        with torch.no_grad(), torch.autocast(device_type=device.type, enabled=False):
            logits = self.score_texts([decode_bytes(row) for row in rows]).unsqueeze(-1)
        if return_dict is False:
            return (logits,)
        return SequenceClassifierOutput(logits=logits)


def _strip_trailing_pad(row: list[int]) -> list[int]:
    end = len(row)
    while end and row[end - 1] == 0:
        end -= 1
    return row[:end]

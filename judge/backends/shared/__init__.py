"""Helpers shared by the generative engines: chat rendering and thinking modes (``chat``),
seeded sampling (``sampling``), logprob recording (``logprobs``), option validation
(``options``), per-token text pieces (``tokens``) and verdict schemas/grammars (``constrain``)."""

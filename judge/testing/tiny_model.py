"""Build a tiny random Qwen2-style causal LM and a byte-level BPE tokenizer, fully offline.

The model's output is gibberish; it exists to exercise real engine code paths (tokenizer, chat
template, batching, generation, logprobs, hidden states) in tests and benchmarks.

    python -m judge.testing.tiny_model OUT_DIR [--hidden 64] [--layers 2]
    python -m judge.testing.tiny_model OUT_DIR --corpus english --vocab-size 8192 --max-pos 32768

The default tokenizer is trained on a few sentences (fast to build, ~1.4 characters per token);
``corpus="english"`` trains it on the Python documentation that ships with the interpreter
(``pydoc_data``), about 2.7 characters per token on RM-Bench text, which makes long benchmark
prompts (RM-Bench) two to three times shorter and a CPU run correspondingly cheaper.
"""

from __future__ import annotations

import argparse
from pathlib import Path

_CORPUS = [
    'The judge reads the principle and ranks every response from best to worst.',
    '{"scores": {"model-1": 4, "model-2": 2}, "best-to-worst": ["model-1", "model-2"]}',
    '<think>Response one is correct and concise; response two rambles.</think>',
    "Prefer answers that cite sources, admit uncertainty and stay concise.",
    "def add(a, b):\n    return a + b\n",
    "What is 12 times 7? The answer is 84.",
    "I can't help with that, but here is a safer alternative.",
    "0 1 2 3 4 5 6 7 8 9 , : [ ] { } \" ' - _ model score scores best worst",
]
TOKENIZER_CORPORA = ("tests", "english")
SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
CHAT_TEMPLATE = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + "
    "message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)


def _tokenizer_corpus(name: str) -> list[str]:
    if name == "tests":
        return _CORPUS * 4
    if name == "english":
        from pydoc_data.topics import topics  # stdlib: ~465k characters of English prose

        return [*topics.values(), *_CORPUS]
    from judge.errors import ConfigError

    raise ConfigError(f"unknown tokenizer corpus {name!r}; choose one of {TOKENIZER_CORPORA}")


def build_tiny_model(out: str | Path, *, hidden_size: int = 64, num_layers: int = 2,
                     num_heads: int = 2, vocab_size: int = 512, seed: int = 0,
                     max_positions: int = 4096, corpus: str = "tests") -> Path:
    """Write a tiny random model + tokenizer to ``out`` and return the path.

    head_dim is ``hidden_size // num_heads`` (32 by default, which vLLM's CPU attention accepts).
    ``corpus`` picks the tokenizer's training text (see the module docstring).
    """
    texts = _tokenizer_corpus(corpus)
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    tok = Tokenizer(models.BPE(unk_token=None))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIALS,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tok.train_from_iterator(texts, trainer)
    hf_tok = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>",
                                     pad_token="<|endoftext|>", padding_side="left",
                                     model_max_length=max_positions)
    hf_tok.chat_template = CHAT_TEMPLATE
    cfg = Qwen2Config(
        vocab_size=len(hf_tok), hidden_size=hidden_size, intermediate_size=hidden_size * 2,
        num_hidden_layers=num_layers, num_attention_heads=num_heads, num_key_value_heads=1,
        max_position_embeddings=max_positions, eos_token_id=hf_tok.eos_token_id,
        pad_token_id=hf_tok.pad_token_id, bos_token_id=None, tie_word_embeddings=True,
    )
    torch.manual_seed(seed)
    model = Qwen2ForCausalLM(cfg).eval()
    model.generation_config.eos_token_id = hf_tok.eos_token_id
    model.generation_config.pad_token_id = hf_tok.pad_token_id
    model.generation_config.do_sample = False
    model.save_pretrained(out)
    hf_tok.save_pretrained(out)
    return out


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("out")
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--heads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--vocab-size", type=int, default=512,
                    help="BPE vocabulary size (the 'tests' corpus tops out near 430)")
    ap.add_argument("--max-positions", type=int, default=4096,
                    help="context length the model and tokenizer accept (default 4096)")
    ap.add_argument("--corpus", choices=TOKENIZER_CORPORA, default="tests",
                    help="tokenizer training text: 'tests' (a few sentences, default) or "
                         "'english' (the interpreter's own documentation; ~2x fewer tokens)")
    a = ap.parse_args(argv)
    path = build_tiny_model(a.out, hidden_size=a.hidden, num_layers=a.layers,
                            num_heads=a.heads, seed=a.seed, vocab_size=a.vocab_size,
                            max_positions=a.max_positions, corpus=a.corpus)
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

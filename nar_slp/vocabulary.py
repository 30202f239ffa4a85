"""The words a model was trained on, to say when a text is mostly new to it.

A student reads any text (its tokenizer splits an unknown word into pieces) and signs
a sentence about pizza as confidently as one about rain. ``nar-slp generate`` says so
when more than :data:`UNKNOWN_SHARE` of a text's words never occur in the training
texts of the model's corpus. Those words come from:

- a bundle: its ``config.json`` (``vocabulary``, written by ``nar-slp export``);
- a run folder: its training split's texts (``train.text`` of the PT folder that
  ``<run>/dataset.json`` names, else of ``<run>/data``);
- the bundled procedural corpus (the shipped weights, trained on it): its training
  sentences drawn again from its config, without motion (a fraction of a second).

Words are lowercase runs of letters and digits; punctuation does not count.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

UNKNOWN_SHARE = 0.5  # a text with more unknown words than this share is flagged
_WORD = re.compile(r"\w+")


def words(text: str) -> list[str]:
    """The lowercase words of ``text`` (punctuation dropped)."""
    return _WORD.findall(text.lower())


def vocabulary(texts: Iterable[str]) -> frozenset[str]:
    """Every word of ``texts``."""
    return frozenset(w for text in texts for w in words(text))


def run_vocabulary(run: str | Path) -> frozenset[str] | None:
    """The words of a run folder's training texts; None when it has none to read."""
    run = Path(run)
    folder = run / "data"
    try:
        record = json.loads((run / "dataset.json").read_text(encoding="utf-8"))
        folder = run / record["data_dir"]  # an absolute data_dir replaces run
    except (OSError, ValueError, KeyError, TypeError):
        pass
    path = folder / "train.text"
    if not path.is_file():
        return None
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    return vocabulary(lines)


def corpus_vocabulary(preset: str) -> frozenset[str]:
    """The words of the bundled corpus's training texts at ``preset``."""
    from nar_slp.config import get_config
    from nar_slp.data.corpus import training_texts

    return vocabulary(training_texts(get_config(preset).corpus))


@dataclass(frozen=True)
class Unfamiliar:
    """A text most of whose words the model never saw in training."""

    index: int  # 0-based position among the texts
    unknown: tuple[str, ...]  # its unknown words, in order, without repeats
    n_unknown: int  # how many of its words are unknown (repeats counted)
    n_words: int

    def line(self) -> str:
        shown = ", ".join(repr(w) for w in self.unknown[:4])
        more = ", ..." if len(self.unknown) > 4 else ""
        return (
            f"text {self.index + 1}: {self.n_unknown} of {self.n_words} words never "
            f"occur in the model's training texts ({shown}{more}); expect signing "
            "that does not follow it"
        )


def unfamiliar_texts(
    texts: Sequence[str], vocab: frozenset[str], share: float = UNKNOWN_SHARE
) -> list[Unfamiliar]:
    """The texts of which more than ``share`` of the words are not in ``vocab``."""
    found = []
    for i, text in enumerate(texts):
        ws = words(text)
        unknown = [w for w in ws if w not in vocab]
        if ws and len(unknown) > share * len(ws):
            found.append(
                Unfamiliar(i, tuple(dict.fromkeys(unknown)), len(unknown), len(ws))
            )
    return found

"""The data hand-over between chapters: ``01_data`` records where the poses are
(:func:`prepare_data`) and fits the normaliser (:func:`fit_normaliser`); later chapters
call :func:`load_run_data`.

``<run>/dataset.json`` names the PT folder (the bundled corpus under ``<run>/data`` or
the user's own PHOENIX folder) and ``<run>/normaliser.json`` holds the fitted
normaliser.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nar_slp.config import Config
from nar_slp.data.corpus import generate_corpus
from nar_slp.data.normaliser import Normaliser
from nar_slp.data.pt_format import SPLITS, SignSequence, read_split
from nar_slp.paths import require
from nar_slp.utils import atomic_write_text

DATASET_FILE = "dataset.json"
NORMALISER_FILE = "normaliser.json"


@dataclass
class RunData:
    data_dir: Path
    splits: dict[str, list[SignSequence]]
    normaliser: Normaliser
    source: str  # "bundled" | "external"

    def poses(self, split: str) -> list:
        return [s.poses for s in self.splits[split]]


def prepare_data(cfg: Config, run: Path, data_dir: str | Path | None = None) -> Path:
    """Generate the bundled corpus into ``run/data`` (``data_dir`` None) or record the
    user's PT folder, then write ``run/dataset.json``. Returns the PT folder."""
    run = Path(run)
    run.mkdir(parents=True, exist_ok=True)
    if data_dir is None:
        folder = run / "data"
        generate_corpus(cfg.corpus, folder)
        source = "bundled"
    else:
        folder = Path(data_dir).expanduser().resolve()
        if not folder.is_dir():
            raise FileNotFoundError(f"DATA_DIR {folder} is not a folder")
        source = "external"
    # Inside the run folder the path is stored relative, so the run can be moved.
    stored = folder.relative_to(run) if folder.is_relative_to(run) else folder
    record = {
        "data_dir": str(stored),
        "source": source,
        "with_counter": cfg.data.with_counter,
        "preset": cfg.preset,
    }
    atomic_write_text(run / DATASET_FILE, json.dumps(record, indent=2) + "\n")
    return folder


@dataclass
class NormaliserFit:
    """The normaliser fitted on the training split, and how many values of each
    held-out split fall outside its range (clipped by ``transform``)."""

    normaliser: Normaliser
    clipped: dict[str, int]  # split -> values outside the fitted range
    values: dict[str, int]  # split -> values in the split (J * K per frame)

    def clip_rate(self, split: str) -> float:
        return self.clipped[split] / max(self.values[split], 1)


def fit_normaliser(
    run: Path, splits: dict[str, list[SignSequence]], save: bool = True
) -> NormaliserFit:
    """Fit the [0, 1] normaliser on the TRAINING split only (``Normaliser.fit`` with its
    default margin), write ``run/normaliser.json`` (``save``), and count the dev/test
    values outside the fitted range. Later chapters load it with :func:`load_run_data`.
    """
    if not splits.get("train"):
        raise ValueError("fit_normaliser: the training split is empty")
    normaliser = Normaliser.fit([s.poses for s in splits["train"]])
    if save:
        normaliser.save(Path(run) / NORMALISER_FILE)
    clipped, values = {}, {}
    for split in SPLITS:
        if split == "train" or not splits.get(split):
            continue
        poses = np.concatenate([s.poses for s in splits[split]])
        _, clipped[split] = normaliser.transform(poses, warn=False, return_count=True)
        values[split] = int(poses.size)
    return NormaliserFit(normaliser, clipped, values)


def read_run_splits(run: Path) -> tuple[Path, dict[str, list[SignSequence]], str]:
    record = json.loads(require(Path(run) / DATASET_FILE, "01_data.ipynb").read_text())
    folder = Path(record["data_dir"])
    if not folder.is_absolute():
        folder = Path(run) / folder
    splits = {
        s: read_split(folder, s, with_counter=record["with_counter"]) for s in SPLITS
    }
    return folder, splits, record["source"]


def load_run_data(run: Path) -> RunData:
    """Everything a later chapter needs: splits and the fitted normaliser."""
    folder, splits, source = read_run_splits(run)
    normaliser = Normaliser.load(require(Path(run) / NORMALISER_FILE, "01_data.ipynb"))
    return RunData(folder, splits, normaliser, source)

"""A self-contained trained model: the student, its PGM and normaliser, in one folder.

A bundle is what a run's main student needs to sign a sentence, and nothing else::

    bundle/student.safetensors   the student's trained weights (a frozen pretrained
                                 text encoder is left out: it is named in
                                 config.json and loaded from its own package)
    bundle/pgm.safetensors       the VAE decoder (the PGM, §3.2); no encoder
    bundle/normaliser.json       the [0, 1] normaliser the poses were scaled with
    bundle/config.json           the full Config, the VAE's frame width, the input
                                 kind, the system, seed and epoch it was trained to,
                                 and the words of its training texts (``vocabulary``,
                                 what ``nar-slp generate`` warns against)
    bundle/manifest.json         every file above with its size and SHA-256

Safetensors and JSON only (no pickle). :func:`load_bundle` refuses a bundle whose
files do not match its manifest (a missing, truncated or altered file), naming the
file. :func:`export_bundle` writes one from a run folder; ``nar-slp export`` calls it.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from nar_slp.config import Config, config_from_dict
from nar_slp.data.normaliser import Normaliser
from nar_slp.models.pose_vae import PoseVAE, freeze, load_vae
from nar_slp.models.student import TextToLatentStudent, build_student, load_student
from nar_slp.models.text_encoder import PretrainedTextEncoder
from nar_slp.students import student_dir
from nar_slp.utils import manifest_mismatch, sha256_file
from nar_slp.vocabulary import corpus_vocabulary, run_vocabulary
from nar_slp.weights import SHIPPED_WEIGHTS

FORMAT = "nar-slp-bundle"
VERSION = 1
FILES = (
    "student.safetensors",
    "pgm.safetensors",
    "normaliser.json",
    "config.json",
)
MANIFEST = "manifest.json"


class BundleError(ValueError):
    """A bundle that cannot be loaded: the message names the folder and the file."""


@dataclass
class Bundle:
    """A loaded bundle: ``generate(bundle.model, bundle.vae, bundle.normaliser, ...)``.

    ``vae`` holds the PGM only: its encoder (the LGM, needed for training, not for
    generation) is not in the bundle and stays at its initial weights.
    """

    model: TextToLatentStudent
    vae: PoseVAE
    normaliser: Normaliser
    config: Config
    info: dict[str, Any]


def _frozen_encoder(model: TextToLatentStudent) -> bool:
    enc = model.encoder
    return isinstance(enc, PretrainedTextEncoder) and not enc.trainable


def export_bundle(
    run: str | Path, out: str | Path, system: str = "kd", seed: int = 0
) -> Path:
    """Write the bundle of ``<run>/students/<system>/seed<seed>`` (its dev-selected
    epoch) with the run's VAE decoder and normaliser to ``out``.

    Written into a temporary folder next to ``out`` and moved into place at the end,
    so a failed export leaves no half-written bundle. An existing ``out`` is replaced
    only if it is a nar-slp bundle (its manifest says so), and only once the new one
    is complete; any other non-empty folder is refused (:class:`BundleError`),
    before anything is loaded or written.
    """
    run, out = Path(run), Path(out)
    if (
        out.exists()
        and (not out.is_dir() or any(out.iterdir()))
        and not _is_bundle(out)
    ):
        raise BundleError(
            f"{out} exists and is not a nar-slp bundle: not replacing it (give a new "
            "or empty folder)"
        )
    model = load_student(student_dir(run, system, seed))
    vae = load_vae(run / "vae")
    normaliser = Normaliser.load(run / "normaliser.json")
    state = model.state_dict()
    if _frozen_encoder(model):
        state = {k: v for k, v in state.items() if not k.startswith("encoder.")}
    pgm = {
        k: v for k, v in vae.state_dict().items() if k.startswith("decoder.")
    }  # the PGM only
    full = config_from_dict(_saved_config(run, system, seed))
    info = {
        "format": FORMAT,
        "version": VERSION,
        "config": full.to_dict(),
        "n_values": vae.n_values,
        "input_kind": model.input_kind,
        "system": system,
        "seed": seed,
        "epoch": getattr(model, "trained_epoch", None),
        "text_encoder": full.student.text_encoder,
        "encoder_weights": "package" if _frozen_encoder(model) else "bundled",
    }
    vocab = run_vocabulary(run)
    if vocab is None and run.resolve() == SHIPPED_WEIGHTS:  # the bundled corpus's
        vocab = corpus_vocabulary(full.preset)
    if vocab is not None:
        info["vocabulary"] = sorted(vocab)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}."))
    try:
        save_file({k: v.contiguous() for k, v in state.items()}, tmp / FILES[0])
        save_file({k: v.contiguous() for k, v in pgm.items()}, tmp / FILES[1])
        normaliser.save(tmp / FILES[2])
        (tmp / FILES[3]).write_text(json.dumps(info, indent=1, sort_keys=True) + "\n")
        manifest = {
            "format": FORMAT,
            "version": VERSION,
            "files": {
                name: {
                    "bytes": (tmp / name).stat().st_size,
                    "sha256": sha256_file(tmp / name),
                }
                for name in FILES
            },
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
        tmp.chmod(0o755)  # mkdtemp/mkstemp made them private
        for file in tmp.iterdir():
            file.chmod(0o644)
        old = None
        if out.exists():
            old = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.old."))
            out.rename(old / out.name)
        tmp.rename(out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def _is_bundle(folder: Path) -> bool:
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        return manifest.get("format") == FORMAT
    except (OSError, ValueError, AttributeError):
        return False


def _saved_config(run: Path, system: str, seed: int) -> dict[str, Any]:
    folder = student_dir(run, system, seed)
    meta = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    return meta["config"]


def verify_bundle(path: str | Path) -> dict[str, Any]:
    """The manifest of ``path`` after checking every file's size and hash against it;
    :class:`BundleError` naming the first file that does not match."""
    path = Path(path)
    manifest_path = path / MANIFEST
    if not manifest_path.is_file():
        raise BundleError(f"{path} is not a nar-slp bundle: no {MANIFEST}")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        files = manifest["files"]
    except (json.JSONDecodeError, KeyError, TypeError) as err:
        raise BundleError(f"{manifest_path}: not a bundle manifest ({err})") from err
    if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        raise BundleError(
            f"{manifest_path}: format {manifest.get('format')!r} version "
            f"{manifest.get('version')!r}; this nar-slp reads {FORMAT!r} {VERSION}"
        )
    for name in FILES:
        if name not in files:
            raise BundleError(f"{manifest_path} does not list {name}")
        problem = manifest_mismatch(path / name, files[name], MANIFEST)
        if problem:
            raise BundleError(problem)
    return manifest


def load_bundle(path: str | Path, device: str | torch.device = "cpu") -> Bundle:
    """Load a bundle written by :func:`export_bundle` (verified first)."""
    path = Path(path)
    verify_bundle(path)
    info = json.loads((path / FILES[3]).read_text(encoding="utf-8"))
    cfg = config_from_dict(info["config"])
    model = build_student(cfg)
    state = load_file(path / FILES[0])
    missing, unexpected = model.load_state_dict(state, strict=False)
    if info["encoder_weights"] == "package":
        missing = [k for k in missing if not k.startswith("encoder.")]
    if missing or unexpected:
        raise BundleError(
            f"{path / FILES[0]} does not fit the student its config describes: "
            f"missing {sorted(missing)[:5]}, unexpected {sorted(unexpected)[:5]}"
        )
    model.input_kind = info["input_kind"]
    model.trained_epoch = info.get("epoch")
    vae = PoseVAE(cfg.vae, n_values=int(info["n_values"]))
    missing, unexpected = vae.load_state_dict(load_file(path / FILES[1]), strict=False)
    if unexpected or any(not k.startswith("encoder.") for k in missing):
        raise BundleError(f"{path / FILES[1]} is not the PGM of a {cfg.vae} VAE")
    normaliser = Normaliser.load(path / FILES[2])
    return Bundle(
        model.to(device).eval(), freeze(vae.to(device)), normaliser, cfg, info
    )

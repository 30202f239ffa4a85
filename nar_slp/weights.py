"""The committed run's trained models, shipped with the package (``nar_slp/shipped/``).

The field publishes results with their checkpoints; so does this project. ``make
retrain`` trains every model of the committed ``default`` run once (chapters 01-05
from scratch) and :func:`export_weights` writes them here; ``make reproduce``,
``make notebooks`` and nbval run the chapters over them (:func:`install_weights`).

Layout: the run folder's own paths, one checkpoint folder (:mod:`nar_slp.checkpoints`
format, no pickle) per trained model::

    nar_slp/shipped/default/
        normaliser.json               the run's [0, 1] normaliser (what the models read)
        manifest.json                 every file's bytes and SHA-256, and per model
                                      what produced it (preset, overrides, seed,
                                      epochs, selected epoch, training seconds,
                                      machine), and the run's normaliser hash
        vae/, vae_mse/                the BCE pose VAE (LGM + PGM) and NSLP-G's MSE VAE
        students/<key>/seed<s>/       each student seed's dev-selected epoch
        baselines/<key>/              PT (Base, FP&GN), NSLP-G (Base, GS, +ft)
        evaluators/tae/, slt/         the FGD autoencoder and back-translation model

What is stored is what the committed tables were computed from, rounded first: weight
matrices (4096 values or more) as float16 unless a value overflows it, smaller tensors
(biases, norms, statistics) as float32; a student's frozen pretrained
text encoder left out (its config names it; the weights come from its package), no
optimizer state. ``config.json`` keeps the checkpoint's config and its training
record (history per epoch, selected epoch, seconds).

One copy: the folder is package data, but a wheel carries only what the command
line's fallback needs (the manifest, the normaliser, the VAE and ``kd`` seed 0; see
``pyproject.toml``); a checkout has every model.

:func:`install_weights` checks each file against the manifest (a missing, truncated or
altered file is refused, naming it), refuses weights trained on other data than the
run's (the normaliser's hash), and writes each model into the run folder as an
ordinary checkpoint (float32 again) marked ``installed_from``, where the chapters'
loaders read it. It never replaces a model trained in that run folder unless asked.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import torch

from nar_slp.checkpoints import (
    MODEL_FILE,
    checkpoint_exists,
    load_checkpoint,
    save_checkpoint,
)
from nar_slp.config_keys import flatten
from nar_slp.utils import manifest_mismatch, sha256_file

FORMAT = "nar-slp-weights"
VERSION = 1
MANIFEST = "manifest.json"
SHIPPED = "shipped"  # the notebooks' WEIGHTS value for the folder below
SHIPPED_WEIGHTS = Path(__file__).resolve().parent / "shipped" / "default"
WEIGHTS_ENV = "NAR_SLP_WEIGHTS"  # nbval and `make reproduce` set it to "shipped"
DATA = "data"  # manifest key: where the run's sentences came from (data_record)
INSTALLED = "installed_from"  # checkpoint extra of an installed model
NORMALISER = "normaliser.json"  # the run's, beside the models: a loaded system needs it
HISTORY_FILE = "history.json"  # the VAE's per-epoch history beside its checkpoint
BEST = "best"  # a student's dev-selected epoch (nar_slp.models.student.BEST)

_FP16_MAX = float(torch.finfo(torch.float16).max)
FP16_MIN_VALUES = 4096  # smaller tensors stay float32 (a few kB in all)


class WeightsError(ValueError):
    """Shipped weights that cannot be used: the message names the folder and file."""


# ----------------------------------------------------------------------- choosing


def weights_source(value: str | os.PathLike | None = "") -> Path | None:
    """The weights folder a chapter's ``WEIGHTS`` parameter asks for, or None (train).

    ``""`` falls back to ``$NAR_SLP_WEIGHTS`` (unset or empty: train); ``"shipped"``
    is :data:`SHIPPED_WEIGHTS`; anything else a folder (relative paths
    from the current directory).
    """
    value = str(value or os.environ.get(WEIGHTS_ENV, "") or "").strip()
    if not value:
        return None
    if value == SHIPPED:
        return SHIPPED_WEIGHTS
    return Path(value).expanduser().resolve()


# ----------------------------------------------------------------------- records


def model_kind(config: Mapping[str, Any], extra: Mapping[str, Any]) -> str:
    """``vae`` | ``student`` | ``pt`` | ``nslpg`` | ``tae`` | ``slt``."""
    if config.get("kind") in ("pt", "nslpg", "tae", "slt"):
        return str(config["kind"])
    if extra.get("kind") == "student":
        return "student"
    if "vae" in config and "n_values" in config:  # the VAE's record: its whole config
        return "vae"
    raise WeightsError(f"unknown kind of checkpoint (config keys {sorted(config)})")


def training_record(
    config: Mapping[str, Any], extra: Mapping[str, Any], seed: int | None = None
) -> dict:
    """What a checkpoint says of its training: kind, seed, epochs trained, the epoch
    whose weights it holds (``selected_epoch``) and the training seconds."""
    kind = model_kind(config, extra)
    history = list(extra.get("history") or [])
    rows = [h for h in history if isinstance(h, Mapping)]
    seconds = (
        float(extra["seconds"])
        if "seconds" in extra
        else sum(float(h.get("seconds", 0.0)) for h in rows)
    )
    selected = {
        "vae": len(history) or extra.get("epoch"),
        "student": extra.get("best_epoch") or len(history),
        "pt": extra.get("selected_epoch"),
        "nslpg": extra.get("selected_epoch"),
        "tae": extra.get("best_epoch"),
        "slt": extra.get("best_epoch"),
    }[kind]
    run = config.get("run", config)
    return {
        "kind": kind,
        "seed": run.get("seed", seed) if isinstance(run, Mapping) else seed,
        "epochs": len(history),
        "selected_epoch": selected,
        "stopped_early": bool(extra.get("stopped_early", False)),
        "train_seconds": round(seconds, 1),
    }


def describe_training(folder: str | Path) -> str:
    """One line from a trained model's checkpoint: epochs, the epoch kept, the time,
    and the last training loss; the same for a model trained in the run folder and
    one installed from shipped weights (what the chapters print)."""
    folder = Path(folder)
    ckpt = load_checkpoint(folder, with_optimizer=False)
    rec = training_record(ckpt.config, ckpt.extra)
    history = ckpt.extra.get("history") or []
    last = history[-1] if history else None
    loss = ""
    if isinstance(last, Mapping):
        key = next((k for k in ("train_total", "train_loss") if k in last), None)
        loss = f", last train loss {last[key]:.4f}" if key else ""
    elif isinstance(last, float):
        loss = f", last train loss {last:.4f}"
    stop = ", stopped early" if rec["stopped_early"] else ""
    source = " [shipped weights]" if INSTALLED in ckpt.extra else ""
    return (
        f"{folder.name} ({rec['kind']}): {rec['epochs']} epochs{stop}, kept epoch "
        f"{rec['selected_epoch']}, {rec['train_seconds']:.0f} s{loss}{source}"
    )


def machine() -> dict[str, Any]:
    """The CPU (and its AVX-512 support), threads, torch version: what a timing and
    a bit-identical reproduction depend on."""
    cpu, flags = platform.processor() or platform.machine(), ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name") and cpu in ("", platform.machine()):
                cpu = line.split(":", 1)[1].strip()
            if line.startswith("flags") and not flags:
                flags = line
    except OSError:
        pass
    return {
        "cpu": cpu,
        "avx512": " avx512f" in flags,
        "avx512_bf16": " avx512_bf16" in flags,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    }


# ----------------------------------------------------------------------- export


def trained_models(run: str | Path) -> dict[str, tuple[Path, Path]]:
    """Every trained model of a run folder: ``{name: (weights folder, record
    folder)}``; ``name`` is its path in the run folder. A student's weights are its
    dev-selected epoch (``best/``), its record (history) the seed folder's."""
    run = Path(run)
    found: dict[str, tuple[Path, Path]] = {}
    for name in ("vae", "vae_mse"):
        if checkpoint_exists(run / name):
            found[name] = (run / name, run / name)
    for seed_dir in sorted(run.glob("students/*/seed*")):
        if checkpoint_exists(seed_dir):
            best = seed_dir / BEST
            src = best if checkpoint_exists(best) else seed_dir
            found[seed_dir.relative_to(run).as_posix()] = (src, seed_dir)
    for folder in sorted(run.glob("baselines/*")):
        if checkpoint_exists(folder):
            found[folder.relative_to(run).as_posix()] = (folder, folder)
    for name in ("evaluators/tae", "evaluators/slt"):
        if checkpoint_exists(run / name):
            found[name] = (run / name, run / name)
    return found


def _frozen_pretrained_encoder(config: Mapping[str, Any]) -> bool:
    student = config.get("student") or {}
    scratch = student.get("text_encoder") == "scratch"
    return not scratch and not student.get("finetune_encoder", False)


def stored_tensor(value: torch.Tensor) -> torch.Tensor:
    """How a tensor is stored: a float matrix of at least :data:`FP16_MIN_VALUES`
    values as float16 unless a value overflows it; smaller tensors (biases, norms,
    statistics such as a standardiser's std) and everything else as they are."""
    if (
        not value.is_floating_point()
        or value.numel() < FP16_MIN_VALUES
        or value.abs().max() > _FP16_MAX
    ):
        return value
    return value.to(torch.float16)


def _flat(tree: Mapping[str, Any]) -> dict[str, Any]:
    """``{"student": {"train": {"lr": 1}}}`` -> ``{"student.train.lr": 1}``."""
    out: dict[str, Any] = {}
    for key, value in tree.items():
        out.update(flatten(value, key) if isinstance(value, dict) else {key: value})
    return out


def config_overrides(config: Mapping[str, Any], preset: str) -> dict[str, Any]:
    """The settings of a saved full config that differ from ``preset``'s."""
    from nar_slp.config import get_config

    saved = _flat(config)
    base = _flat(get_config(preset).to_dict())
    return {
        k: v
        for k, v in saved.items()
        if k in base and json.dumps(base[k]) != json.dumps(v) and k != "seed"
    }


def export_weights(
    run: str | Path,
    out: str | Path,
    preset: str = "default",
    produced_by: Mapping[str, Any] | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Write every trained model of ``run`` to the weights folder ``out`` (see the
    module docstring) and return its manifest.

    ``seed`` is the chapters' ``SEED``, recorded for checkpoints that do not store
    their own (the baselines'). Written into a temporary folder beside ``out`` and
    moved into place at the end;
    an existing ``out`` is replaced only if it is a weights folder (its manifest
    says so), never another folder.
    """
    run, out = Path(run), Path(out)
    models = trained_models(run)
    if not models:
        raise WeightsError(f"{run} holds no trained model (run chapters 02-05 first)")
    if out.exists() and any(out.iterdir()):
        if not _is_weights_folder(out):
            raise WeightsError(
                f"{out} exists and is not a nar-slp weights folder; not replacing it"
            )
    normaliser = run / "normaliser.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}."))
    try:
        records: dict[str, Any] = {}
        for name, (src, rec_dir) in models.items():
            ckpt = load_checkpoint(src, with_optimizer=False)
            record_extra = (
                ckpt.extra
                if rec_dir == src
                else load_checkpoint(rec_dir, with_optimizer=False).extra
            )
            extra = {**record_extra, "epoch": ckpt.extra.get("epoch")}
            extra.pop("scaler", None)
            state = dict(ckpt.state_dict)
            kind = model_kind(ckpt.config, extra)
            package_encoder = kind == "student" and _frozen_pretrained_encoder(
                ckpt.config
            )
            if package_encoder:
                state = {k: v for k, v in state.items() if not k.startswith("encoder.")}
            extra["encoder_weights"] = "package" if package_encoder else "stored"
            stored = {k: stored_tensor(v) for k, v in state.items()}
            target = tmp / name
            save_checkpoint(target, stored, config=ckpt.config, extra=extra)
            if (rec_dir / HISTORY_FILE).is_file():
                shutil.copyfile(rec_dir / HISTORY_FILE, target / HISTORY_FILE)
            run_cfg = ckpt.config.get("run", ckpt.config)
            records[name] = {
                **training_record(ckpt.config, extra, seed),
                "preset": preset,
                "overrides": config_overrides(run_cfg, preset)
                if isinstance(run_cfg, Mapping) and "student" in run_cfg
                else {},
                "float16_tensors": sum(
                    v.dtype == torch.float16 for v in stored.values()
                ),
                "float32_tensors": sum(
                    v.dtype == torch.float32 for v in stored.values()
                ),
                "files": {},
            }
            for file in sorted(target.iterdir()):
                records[name]["files"][file.name] = {
                    "bytes": file.stat().st_size,
                    "sha256": sha256_file(file),
                }
        if normaliser.is_file():  # what a loaded system scales its poses with
            shutil.copyfile(normaliser, tmp / NORMALISER)
        manifest = {
            "format": FORMAT,
            "version": VERSION,
            "preset": preset,
            "normaliser_sha256": (
                sha256_file(normaliser) if normaliser.is_file() else None
            ),
            "files": {
                f.name: {"bytes": f.stat().st_size, "sha256": sha256_file(f)}
                for f in sorted(tmp.iterdir())
                if f.is_file()
            },
            "produced_by": {"machine": machine(), **dict(produced_by or {})},
            DATA: data_record(run),
            "total_bytes": sum(
                f["bytes"] for r in records.values() for f in r["files"].values()
            ),
            "models": records,
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
        _publish(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return manifest


def _is_weights_folder(folder: Path) -> bool:
    try:
        return json.loads((folder / MANIFEST).read_text())["format"] == FORMAT
    except (OSError, ValueError, KeyError, TypeError):
        return False


def _publish(tmp: Path, out: Path) -> None:
    """Move the finished folder ``tmp`` to ``out`` (the old one out of the way first,
    removed only once the new one is in place)."""
    for folder in [tmp, *[p for p in tmp.rglob("*") if p.is_dir()]]:
        folder.chmod(0o755)
    for file in tmp.rglob("*"):
        if file.is_file():
            file.chmod(0o644)
    old = None
    if out.exists():
        old = out.with_name(f".{out.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        out.rename(old)
    tmp.rename(out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


# ----------------------------------------------------------------------- install


def _texts_sha256(texts: Iterable[str]) -> str:
    return hashlib.sha256("\n".join(texts).encode("utf-8")).hexdigest()


def data_record(run: str | Path) -> dict[str, Any] | None:
    """Where ``run``'s sentences came from, for a user of its weights who does not
    have the run: the data source (``"bundled"`` or ``"external"``), for the bundled
    corpus its config (deterministic: :func:`run_test_split` regenerates the test
    split), and the SHA-256 of the test split's texts. None when the run has no data
    record.
    """
    from nar_slp.data.run_data import DATASET_FILE, read_run_splits

    run = Path(run)
    if not (run / DATASET_FILE).is_file():
        return None
    dataset = json.loads((run / DATASET_FILE).read_text(encoding="utf-8"))
    test = read_run_splits(run)[1].get("test", [])
    record: dict[str, Any] = {
        "source": dataset.get("source"),
        "test_sentences": len(test),
        "test_texts_sha256": _texts_sha256(s.text for s in test),
    }
    if dataset.get("source") == "bundled":
        vae = load_checkpoint(run / "vae", with_optimizer=False).config
        record["corpus"] = vae["corpus"]
    return record


def run_test_split(weights: str | Path = SHIPPED_WEIGHTS) -> tuple[list, str | None]:
    """The test sentences (``SignSequence`` list) of the run whose weights these are,
    regenerated from the bundled corpus's recorded config, and None; or ``([], why)``
    when they cannot be (the run read external data, the manifest predates the data
    record, or the regenerated texts differ from the recorded hash)."""
    from nar_slp.config import CorpusConfig
    from nar_slp.data.corpus import generate_splits

    record = read_manifest(weights).get(DATA) or {}
    if record.get("source") != "bundled" or "corpus" not in record:
        why = (
            "its run read its own data folder"
            if record.get("source") == "external"
            else "its manifest does not record the run's data"
        )
        return [], f"the test sentences of {weights} cannot be regenerated: {why}"
    test = generate_splits(CorpusConfig(**record["corpus"]), only=("test",))["test"]
    if _texts_sha256(s.text for s in test) != record["test_texts_sha256"]:
        return [], (
            f"the bundled corpus no longer generates the test sentences of {weights} "
            "(their recorded hash differs)"
        )
    return test, None


def read_manifest(weights: str | Path) -> dict[str, Any]:
    """The manifest of a weights folder (:class:`WeightsError` if it is not one)."""
    weights = Path(weights)
    path = weights / MANIFEST
    if not path.is_file():
        raise WeightsError(f"{weights} is not a nar-slp weights folder: no {MANIFEST}")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        manifest["models"].items()
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise WeightsError(f"{path}: not a weights manifest ({err})") from err
    if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        raise WeightsError(
            f"{path}: format {manifest.get('format')!r} version "
            f"{manifest.get('version')!r}; this nar-slp reads {FORMAT!r} {VERSION}"
        )
    return manifest


def verify_model(weights: str | Path, name: str, manifest: Mapping | None = None):
    """Check every file of model ``name`` against the manifest; return its record.
    :class:`WeightsError` names the first file that is missing or differs."""
    weights = Path(weights)
    manifest = manifest or read_manifest(weights)
    models = manifest["models"]
    if name not in models:
        same_kind = sorted(k for k in models if k.rsplit("/", 1)[0] in name)
        hint = f" (it has {', '.join(same_kind)})" if same_kind else ""
        raise WeightsError(f"{weights} holds no model {name!r}{hint}")
    record = models[name]
    for file, expected in record["files"].items():
        _check_file(weights / name / file, expected)
    return record


def _check_file(path: Path, expected: Mapping[str, Any]) -> None:
    problem = manifest_mismatch(path, dict(expected), MANIFEST)
    if problem:
        raise WeightsError(problem)


def verify_weights(weights: str | Path = SHIPPED_WEIGHTS) -> dict[str, Any]:
    """Check every file of a weights folder; return the manifest."""
    manifest = read_manifest(weights)
    for file, expected in manifest.get("files", {}).items():
        _check_file(Path(weights) / file, expected)
    for name in manifest["models"]:
        verify_model(weights, name, manifest)
    return manifest


def _trained_here(folder: Path) -> bool:
    """A model trained in the run folder (not one installed from weights)."""
    for candidate in (folder, folder / BEST):
        if checkpoint_exists(candidate):
            extra = load_checkpoint(candidate, with_optimizer=False).extra
            if INSTALLED not in extra:
                return True
    return False


def install_weights(
    run: str | Path,
    names: Iterable[str],
    weights: str | Path = SHIPPED_WEIGHTS,
    overwrite: bool = False,
) -> list[Path]:
    """Write the models ``names`` of a weights folder into the run folder ``run``.

    Each model's files are checked against the manifest first, and the run's
    ``normaliser.json`` against the one the weights were trained with. A model
    trained in ``run`` (not installed) is replaced only with ``overwrite``.
    Returns the checkpoint folders written.

    Raises:
        WeightsError: a file that does not match the manifest, a model the weights
            do not hold, other data, or a trained model in the way.
    """
    run, weights = Path(run), Path(weights)
    names = [str(n) for n in names]
    manifest = read_manifest(weights)
    records = {name: verify_model(weights, name, manifest) for name in names}
    expected = manifest.get("normaliser_sha256")
    normaliser = run / "normaliser.json"
    if expected and normaliser.is_file() and sha256_file(normaliser) != expected:
        raise WeightsError(
            f"{normaliser} is not the normaliser {weights} was trained with: these "
            "weights fit the committed run's data only (run 01_data at the same "
            "preset, or train instead of loading)"
        )
    for name in names:
        if _trained_here(run / name) and not overwrite:
            raise WeightsError(
                f"{run / name} holds a model trained in this run folder; loading "
                f"{weights} would replace it (pass overwrite=True / OVERWRITE=True, "
                "or use another run folder)"
            )
    written = []
    for name in names:
        ckpt = load_checkpoint(weights / name, with_optimizer=False)
        state = {
            k: v.float() if v.is_floating_point() else v
            for k, v in ckpt.state_dict.items()
        }
        extra = {
            **ckpt.extra,
            INSTALLED: {
                "weights": str(weights),
                "sha256": records[name]["files"][MODEL_FILE]["sha256"],
            },
        }
        target = run / name
        shutil.rmtree(target / BEST, ignore_errors=True)
        save_checkpoint(target, state, config=ckpt.config, extra=extra)
        if (weights / name / HISTORY_FILE).is_file():
            shutil.copyfile(weights / name / HISTORY_FILE, target / HISTORY_FILE)
        written.append(target)
    return written


__all__ = [
    "SHIPPED_WEIGHTS",
    "WEIGHTS_ENV",
    "WeightsError",
    "describe_training",
    "export_weights",
    "install_weights",
    "read_manifest",
    "trained_models",
    "verify_model",
    "verify_weights",
    "weights_source",
]


def main(argv: list[str] | None = None) -> int:
    """``python -m nar_slp.weights export RUN OUT`` | ``verify [FOLDER]`` | ``install
    RUN NAME... [--weights FOLDER] [--overwrite]``."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(prog="python -m nar_slp.weights")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("export", help="write a run folder's trained models")
    p.add_argument("run", type=Path)
    p.add_argument("out", type=Path)
    p.add_argument("--preset", default="default")
    p.add_argument("--times", type=Path, help="JSON of the chapters' seconds")
    p = sub.add_parser("verify", help="check every file against the manifest")
    p.add_argument("folder", type=Path, nargs="?", default=SHIPPED_WEIGHTS)
    args = parser.parse_args(argv)
    try:
        if args.command == "export":
            produced: dict[str, Any] = {"command": "make retrain"}
            if args.times:
                produced["chapter_seconds"] = json.loads(args.times.read_text())
            manifest = export_weights(args.run, args.out, args.preset, produced)
            print(
                f"{args.out}: {len(manifest['models'])} models, "
                f"{manifest['total_bytes'] / 1e6:.1f} MB"
            )
        else:
            manifest = verify_weights(args.folder)
            print(f"{args.folder}: {len(manifest['models'])} models verified")
    except (WeightsError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

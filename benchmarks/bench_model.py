"""Model speed: generation latency/throughput and training throughput of VAE + student.

Usage::

    python benchmarks/bench_model.py                          # preset default, auto
    python benchmarks/bench_model.py --device cpu --steps 10 --warmup 2
    python benchmarks/bench_model.py --device cuda --sweep    # + paper preset on GPU
    python benchmarks/bench_model.py --student-dir runs/default/student \\
        --vae-dir runs/default/vae --json bench_model.json

Three Markdown tables are printed:

1. **Generation** with the student (the LLM, §3.3) and the frozen PGM (the VAE's
   decoder, §3.2), through :func:`nar_slp.inference.generate`, end to end (text ->
   poses in data coordinates on the CPU): the median latency of one sentence over
   ``--runs`` runs after a warm-up, and batched throughput (sequences/s, frames/s).
   Without ``--student-dir``/``--vae-dir`` the models are UNTRAINED, of the preset's
   size: speed does not depend on the weights, but an untrained length regulator
   (Eq. 3) predicts arbitrary lengths, so the lengths are forced to the data's.
   A frozen text encoder caches its features per text; the cache is cleared before
   every timed run so each sentence counts as new.
2. **Training** throughput of one optimisation-step loop, mirroring the trainers:
   the VAE (Eq. 2/7, train_vae's own ``vae_step``, AdamW, batches of frames) and the
   student (Eq. 8-11, ``student_losses``, AdamW, gradient clipping,
   autocast/GradScaler on CUDA), the
   latter with a frozen text encoder whose cache is warm (every epoch after the first)
   and/or a fine-tuned one (``--finetune-encoder``). ``--steps`` steps are timed after
   ``--warmup`` steps.
3. On CUDA only (or ``--paper-run yes``): the ``paper`` preset (d 768, 8 layers, batch
   40) on a PHOENIX-sized training split (7,096 sequences) for ``--paper-steps``
   steps: sequences/s, peak GPU memory and the projected time of 500 epochs (the paper
   reports 24 h on a V100). ``--amp`` and ``--compile`` pick one setting, ``--sweep``
   runs fp32, bf16 and bf16 + torch.compile.

Data: the bundled corpus (``nar_slp.data.corpus.generate_splits``) when it can be
imported, else random walks of 40-200 frames with random short English texts; the
tables say which. The paper's text encoder (bert-base-german-cased) is not available
offline: it is replaced by the bundled MiniLM (hidden 384 instead of BERT-base's 768)
with a printed note, unless ``--text-encoder`` names another one.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from nar_slp.config import OFFLINE_TEXT_ENCODER, PRESETS, Config, get_config
from nar_slp.data.dataset import PoseBatch, PoseTextDataset, make_loader
from nar_slp.data.normaliser import Normaliser
from nar_slp.data.pt_format import SignSequence
from nar_slp.inference import generate
from nar_slp.loop import optimizer_step
from nar_slp.models.pose_vae import PoseVAE, freeze
from nar_slp.models.student import TextToLatentStudent, build_student, student_losses
from nar_slp.models.text_encoder import (
    SCRATCH,
    PretrainedTextEncoder,
    TextEncoderUnavailableError,
    load_tokenizer,
)
from nar_slp.recipe import adamw, grad_clip
from nar_slp.training.vae_trainer import vae_step
from nar_slp.utils import autocast_context, pick_device, seed_everything

AMP_CHOICES = ("no", "bf16", "fp16")
# The sweep of section 3: (mixed precision, torch.compile).
SWEEP = (("no", False), ("bf16", False), ("bf16", True))
PAPER_ENCODER_DIM = 768  # BERT-base hidden size (§4.2 uses bert-base-german-cased)
PAPER_HOURS_V100 = 24.0  # §4.2: training takes about 24 hours on one V100
LATENCY_TEXT = "tomorrow it will rain in the north with strong wind in the evening"

_WORDS = (
    "tomorrow today tonight monday tuesday friday weekend morning evening night "
    "north south east west northeast coast mountains region country "
    "rain snow sun clouds fog thunder storms showers wind gusts frost "
    "strong weak heavy light mild cold warm cool friendly mostly partly "
    "it will be there is are in the with and at some degrees minus five ten "
    "twenty temperatures rise fall later again clear dry wet"
).split()


# ------------------------------------------------------------------------------ data


def random_sequences(
    n: int, seed: int = 0, min_frames: int = 40, max_frames: int = 200
) -> list[SignSequence]:
    """``n`` random-walk pose sequences (T, 50, 3), T in [min_frames, max_frames],
    each with a random short English text (4-14 words) and a gloss string."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        t = int(rng.integers(min_frames, max_frames + 1))
        base = rng.normal(0.0, 0.2, (1, 50, 3))
        steps = rng.normal(0.0, 0.01, (t, 50, 3))
        poses = (base + np.cumsum(steps, axis=0)).astype(np.float32)  # (T, J, K)
        words = [str(w) for w in rng.choice(_WORDS, int(rng.integers(4, 15)))]
        out.append(
            SignSequence(
                name=f"random/{i:05d}",
                text=" ".join(words),
                gloss=" ".join(w.upper() for w in words[::2]),
                poses=poses,
            )
        )
    return out


def load_sequences(
    cfg: Config, n_train: int, source: str = "auto"
) -> tuple[list[SignSequence], str]:
    """Training sequences for the benchmark and a description of where they came from.

    Args:
        cfg: the preset's config (``cfg.corpus`` for the generator).
        n_train: how many training sequences to generate (at most the preset's).
        source: "auto" (the corpus generator, falling back to random sequences when
            it cannot be imported or fails), "corpus" (fail if unavailable) or
            "random".
    """
    if source not in ("auto", "corpus", "random"):
        raise ValueError(f"data source {source!r}: use auto, corpus or random")
    if source != "random":
        try:
            from nar_slp.data.corpus import generate_splits

            small = replace(
                cfg.corpus,
                n_train=n_train,
                n_dev=min(cfg.corpus.n_dev, 2),
                n_test=min(cfg.corpus.n_test, 2),
            )
            seqs = list(generate_splits(small)["train"])
            if not seqs:
                raise ValueError("generate_splits returned an empty train split")
            return seqs, f"bundled corpus ({len(seqs)} train sequences)"
        except Exception as err:  # the generator is optional for a benchmark
            if source == "corpus":
                raise
            reason = f"{type(err).__name__}: {err}"
            seqs = random_sequences(n_train, seed=cfg.seed)
            return seqs, (
                f"random synthetic sequences ({n_train}, 40-200 frames, random "
                f"English texts); corpus generator unavailable ({reason[:120]})"
            )
    seqs = random_sequences(n_train, seed=cfg.seed)
    return seqs, f"random synthetic sequences ({n_train}, 40-200 frames)"


def make_dataset(cfg: Config, seqs: Sequence[SignSequence]) -> PoseTextDataset:
    """Normalise ``seqs`` (normaliser fitted on them) into a dataset cut to T_max."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # clipping/truncation counts are irrelevant
        normaliser = Normaliser.fit(seqs)
        return PoseTextDataset(
            seqs, normaliser, max_frames=cfg.data.max_frames, truncate=True
        )


def _cycle(loader: Any) -> Iterator[PoseBatch]:
    """Endless batches, a new shuffle per pass (epoch)."""
    epoch = 0
    while True:
        loader.batch_sampler.set_epoch(epoch)
        yield from loader
        epoch += 1


# ------------------------------------------------------------------------ models


def resolve_text_encoder(cfg: Config, override: str | None) -> tuple[Config, list[str]]:
    """The config with a text encoder that loads offline, and notes about the choice.

    ``override`` (``--text-encoder``) wins and must be loadable. Otherwise the preset's
    encoder is used when its tokenizer is available offline, else the bundled MiniLM.
    """
    notes: list[str] = []
    wanted = cfg.student.text_encoder
    if override is not None:
        name = override
    else:
        name = wanted
        if name != SCRATCH:
            try:
                load_tokenizer(name)
            except TextEncoderUnavailableError:
                notes.append(
                    f"text encoder {wanted!r} (preset {cfg.preset}) is not available "
                    f"offline; using {OFFLINE_TEXT_ENCODER!r} instead"
                )
                name = OFFLINE_TEXT_ENCODER
    if name != SCRATCH:
        load_tokenizer(name)  # a clear TextEncoderUnavailableError if it is missing
    if name != wanted and override is not None:
        notes.append(f"text encoder {name!r} (--text-encoder; preset has {wanted!r})")
    return replace(cfg, student=replace(cfg.student, text_encoder=name)), notes


def _encoder_label(model: TextToLatentStudent) -> str:
    enc = model.encoder
    if not getattr(enc, "pretrained", False):
        return f"scratch {enc.dim}-d (random init, trained)"
    mode = "fine-tuned" if enc.trainable else "frozen, cached"
    return f"pretrained {enc.dim}-d ({mode})"


def _n_params(module: torch.nn.Module, trainable: bool = False) -> int:
    return sum(
        p.numel() for p in module.parameters() if p.requires_grad or not trainable
    )


def build_models(
    cfg: Config, device: torch.device, finetune: bool | None = None
) -> tuple[TextToLatentStudent, PoseVAE]:
    """An untrained student and a frozen, untrained VAE of ``cfg``'s sizes."""
    if finetune is not None:
        cfg = replace(cfg, student=replace(cfg.student, finetune_encoder=finetune))
    seed_everything(cfg.seed)
    vae = freeze(PoseVAE(cfg.vae).to(device))
    student = build_student(cfg).to(device)
    return student, vae


def _compile_student(model: TextToLatentStudent) -> None:
    # The decoder is where the frames are computed; the encoder runs on token lists
    # and a cache dict, which torch.compile cannot trace usefully. Frame and token
    # counts change from batch to batch: dynamic shapes avoid one graph per length.
    model.decoder = torch.compile(model.decoder, dynamic=True)


def _warm_cache(model: TextToLatentStudent, texts: Sequence[str]) -> float:
    """Fill a frozen encoder's feature cache with ``texts``; seconds per text."""
    enc = model.encoder
    if not isinstance(enc, PretrainedTextEncoder) or enc.trainable or not texts:
        return 0.0
    unique = list(dict.fromkeys(texts))
    t0 = time.perf_counter()
    for start in range(0, len(unique), 256):
        enc.encode(unique[start : start + 256], "cpu")
    return (time.perf_counter() - t0) / len(unique)


def _clear_cache(model: TextToLatentStudent) -> None:
    if isinstance(model.encoder, PretrainedTextEncoder):
        model.encoder.clear_cache()


# ------------------------------------------------------------------------ timing


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _reset_peak(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)


def _peak_mib(device: torch.device) -> float | None:
    if device.type != "cuda":
        return None
    return torch.cuda.max_memory_allocated(device) / 2**20


def _free(device: torch.device) -> None:
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()


def _timed(fn: Callable[[], Any], device: torch.device) -> float:
    """Seconds ``fn()`` takes, with CUDA work finished before and after."""
    _sync(device)
    t0 = time.perf_counter()
    fn()
    _sync(device)
    return time.perf_counter() - t0


# -------------------------------------------------------------------- section 1


def bench_generation(
    student: TextToLatentStudent,
    vae: PoseVAE,
    dataset: PoseTextDataset,
    device: torch.device,
    batch_size: int,
    runs: int,
    n_batches: int,
    amp: str,
    force_lengths: bool,
    compiled: bool = False,
) -> list[dict[str, Any]]:
    """Single-sentence latency (median of ``runs``) and batched throughput.

    Each timed run clears the frozen encoder's cache (every sentence is new). With
    ``force_lengths`` (untrained models) the decoder gets the data's lengths.
    """
    normaliser = dataset.normaliser
    lengths = np.asarray(dataset.lengths, dtype=np.int64)
    median_t = int(np.median(lengths))

    def one() -> Any:
        _clear_cache(student)
        forced = [median_t] if force_lengths else None
        with autocast_context(device, amp):
            return generate(
                student, vae, normaliser, [LATENCY_TEXT], 1, device, lengths=forced
            )

    n = min(len(dataset), batch_size * n_batches)
    texts = list(dataset.texts[:n])
    forced_many = lengths[:n] if force_lengths else None

    def many() -> Any:
        _clear_cache(student)
        with autocast_context(device, amp):
            return generate(
                student, vae, normaliser, texts, batch_size, device, forced_many
            )

    setting = _precision(amp, device) + (" + compile" if compiled else "")
    rows = []
    _reset_peak(device)
    frames_one = int(one().lengths.sum())  # warm-up
    times = [_timed(one, device) for _ in range(max(1, runs))]
    med = statistics.median(times)
    rows.append(
        {
            "what": "latency, 1 sentence",
            "setting": setting,
            "batch": 1,
            "sequences": 1,
            "frames": frames_one,
            "runs": len(times),
            "median_ms": 1e3 * med,
            "seq_per_s": 1.0 / med,
            "frames_per_s": frames_one / med,
            "peak_gpu_mib": _peak_mib(device),
        }
    )
    _reset_peak(device)
    result = many()  # warm-up (also a first pass with new shapes)
    frames_many = int(result.lengths.sum())
    reps = max(1, min(3, runs))
    times = [_timed(many, device) for _ in range(reps)]
    med = statistics.median(times)
    rows.append(
        {
            "what": f"throughput, batches of {batch_size}",
            "setting": setting,
            "batch": batch_size,
            "sequences": n,
            "frames": frames_many,
            "runs": reps,
            "median_ms": 1e3 * med,
            "seq_per_s": n / med,
            "frames_per_s": frames_many / med,
            "peak_gpu_mib": _peak_mib(device),
        }
    )
    return rows


# -------------------------------------------------------------------- section 2


def bench_vae_training(
    cfg: Config,
    dataset: PoseTextDataset,
    device: torch.device,
    steps: int,
    warmup: int,
    compile_model: bool = False,
) -> dict[str, Any]:
    """Frames/s of the VAE's training loop (the loop of ``train_vae``, Eq. 2 + 7).

    ``seq_per_s`` is frames/s divided by the mean sequence length (whole sequences'
    worth of frames per second); the VAE itself sees single frames.
    """
    vcfg = cfg.vae
    frames = [dataset[i].poses.flatten(1) for i in range(len(dataset))]  # (T_i, F)
    frames = torch.cat(frames).to(device)  # (N, F)
    n_frames = frames.shape[0]
    batch = max(1, min(vcfg.train.batch_size, n_frames))
    seed_everything(cfg.seed)
    model = PoseVAE(vcfg, n_values=frames.shape[1]).to(device).train()
    optimizer = adamw(model.parameters(), vcfg.train)  # as train_vae's
    forward = torch.compile(model, dynamic=True) if compile_model else model
    order = torch.Generator().manual_seed(cfg.seed)
    noise = torch.Generator(device=device).manual_seed(cfg.seed + 1)
    perm = torch.randperm(n_frames, generator=order).to(device)
    position = 0

    def step() -> None:
        nonlocal position, perm
        if position + batch > n_frames:  # next epoch
            perm = torch.randperm(n_frames, generator=order).to(device)
            position = 0
        x = frames[perm[position : position + batch]]  # (b, F)
        position += batch
        # train_vae's own step (it reads the recon and KL terms: two host syncs),
        # then the training loop's optimiser step
        done = vae_step(forward, x, noise, vcfg.recon_loss, vcfg.kl_weight)
        optimizer_step(model, optimizer, done.loss)
        done.loss.item()  # the loop reads the loss for the epoch mean

    _reset_peak(device)
    t_warm = _timed(lambda: [step() for _ in range(warmup)], device)
    seconds = _timed(lambda: [step() for _ in range(steps)], device)
    mean_t = float(np.mean(dataset.lengths))
    n = steps * batch
    row = {
        "model": "pose VAE (LGM + PGM)",
        "encoder": "-",
        "precision": "fp32",
        "compile": compile_model,
        "batch": f"{batch} frames",
        "steps": steps,
        "warmup_s": t_warm,
        "ms_per_step": 1e3 * seconds / steps,
        "seq_per_s": n / mean_t / seconds,
        "frames_per_s": n / seconds,
        "peak_gpu_mib": _peak_mib(device),
        "params": _n_params(model),
        "frames_per_epoch": n_frames,
        "mean_frames": mean_t,
    }
    return row  # the models die with this frame; callers run _free()


def bench_student_training(
    cfg: Config,
    dataset: PoseTextDataset,
    device: torch.device,
    steps: int,
    warmup: int,
    batch_size: int,
    finetune: bool,
    amp: str = "no",
    compile_model: bool = False,
) -> dict[str, Any]:
    """Sequences/s of the student's training loop (the loop of ``train_student``).

    A frozen encoder's cache is filled with every training text first (its cost per
    text is reported as ``cache_fill_ms_per_text``): the timed steps are those of
    epochs 2 and later.
    """
    scfg = cfg.student
    student, vae = build_models(cfg, device, finetune)
    label = _encoder_label(student)
    trainable = _n_params(student, trainable=True)
    fill = _warm_cache(student, dataset.texts)
    if compile_model:
        _compile_student(student)
    params = [p for p in student.parameters() if p.requires_grad]
    optimizer = adamw(params, scfg.train)
    use_fp16 = device.type == "cuda" and amp == "fp16"
    scaler = torch.amp.GradScaler("cuda", enabled=use_fp16)
    loader = make_loader(dataset, batch_size=batch_size, shuffle=True, seed=cfg.seed)
    batches = _cycle(loader)
    counts = {"seqs": 0, "frames": 0}
    student.train()

    def step() -> None:
        batch = next(batches).to(device)
        with autocast_context(device, amp):
            out = student(list(batch.texts), lengths=batch.lengths)
            losses = student_losses(
                out, batch, vae, cfg.data.max_frames, scfg.use_kd, scfg.loss_weights
            )
        if not torch.isfinite(losses.total):
            raise FloatingPointError(f"student loss is {float(losses.total)}")
        # the training loop's step (nar_slp.loop), as train_student takes it
        optimizer_step(
            student, optimizer, losses.total, grad_clip(scfg.train), scaler=scaler
        )
        float(losses.total.detach())
        counts["seqs"] += len(batch.lengths)
        counts["frames"] += int(batch.lengths.sum())

    _reset_peak(device)
    t_warm = _timed(lambda: [step() for _ in range(warmup)], device)
    counts.update(seqs=0, frames=0)
    seconds = _timed(lambda: [step() for _ in range(steps)], device)
    row = {
        "model": "student (LLM) + frozen VAE",
        "encoder": label,
        "precision": _precision(amp, device),
        "compile": compile_model,
        "batch": batch_size,
        "steps": steps,
        "warmup_s": t_warm,
        "ms_per_step": 1e3 * seconds / steps,
        "seq_per_s": counts["seqs"] / seconds,
        "frames_per_s": counts["frames"] / seconds,
        "peak_gpu_mib": _peak_mib(device),
        "params": _n_params(student),
        "trainable_params": trainable,
        "encoder_dim": int(student.encoder.dim),
        "cache_fill_ms_per_text": 1e3 * fill,
        "sequences": counts["seqs"],
    }
    return row  # the models die with this frame; callers run _free()


def _precision(amp: str, device: torch.device) -> str:
    if amp == "no":
        return "fp32"
    if device.type != "cuda":
        return f"fp32 ({amp} is CUDA-only)"
    return amp


# -------------------------------------------------------------------- section 3


def bench_paper(
    args: argparse.Namespace, device: torch.device, notes: list[str]
) -> list[dict[str, Any]]:
    """Section 3: the paper preset for ``--paper-steps`` steps, one row per setting,
    each with the projected time of a full training run."""
    cfg = get_config(args.paper_preset)
    cfg, enc_notes = resolve_text_encoder(cfg, args.text_encoder)
    notes += [f"[{args.paper_preset}] {n}" for n in enc_notes]
    finetune = cfg.student.finetune_encoder
    if args.finetune_encoder != "both":
        finetune = args.finetune_encoder == "yes"
    n_seq = min(cfg.corpus.n_train, args.paper_sequences)
    seqs, source = load_sequences(cfg, n_seq, args.data)
    notes.append(f"[{args.paper_preset}] data: {source}")
    dataset = make_dataset(cfg, seqs)
    del seqs
    batch = args.paper_batch_size or cfg.student.train.batch_size
    epochs, n_train = cfg.student.train.epochs, cfg.corpus.n_train
    if args.sweep:
        settings = list(SWEEP) if device.type == "cuda" else [("no", False)]
        if device.type != "cuda":
            notes.append("--sweep on CPU: only fp32 (autocast is CUDA-only here)")
    else:
        settings = [(args.amp, args.compile)]
    rows = []
    for amp, compile_model in settings:
        try:
            row = bench_student_training(
                cfg,
                dataset,
                device,
                args.paper_steps,
                args.paper_warmup,
                batch,
                finetune,
                amp,
                compile_model,
            )
        except Exception as err:  # one failing setting must not hide the others
            rows.append(
                {
                    "run": f"student, {args.paper_preset}",
                    "precision": amp,
                    "compile": compile_model,
                    "error": f"{type(err).__name__}: {str(err)[:200]}",
                }
            )
            _free(device)
            continue
        _free(device)
        fill_h = row["cache_fill_ms_per_text"] * n_train / 1e3 / 3600
        row["run"] = f"student, {args.paper_preset}"
        row["projected_hours"] = epochs * n_train / row["seq_per_s"] / 3600 + fill_h
        rows.append(row)
        if row["encoder_dim"] != PAPER_ENCODER_DIM and args.paper_preset == "paper":
            msg = (
                f"[paper] the text encoder is {row['encoder_dim']}-d, the paper's "
                f"BERT-base is {PAPER_ENCODER_DIM}-d: the student's input projection "
                f"maps {row['encoder_dim']} -> d_model {cfg.student.d_model}; a "
                "fine-tuned BERT-base would be slower than this MiniLM"
            )
            if msg not in notes:
                notes.append(msg)
    vae_row = bench_vae_training(
        cfg, dataset, device, args.paper_steps, args.paper_warmup
    )
    _free(device)
    vae_row["run"] = f"VAE, {args.paper_preset}"
    total_frames = vae_row["mean_frames"] * n_train
    vae_row["projected_hours"] = (
        cfg.vae.train.epochs * total_frames / vae_row["frames_per_s"] / 3600
    )
    rows.append(vae_row)
    notes.append(
        f"[{args.paper_preset}] projection: student {epochs} epochs x {n_train:,} "
        "sequences (+ one encoder cache fill when frozen), VAE "
        f"{cfg.vae.train.epochs} epochs of {n_train:,} x mean T frames; "
        "the paper reports "
        f"~{PAPER_HOURS_V100:.0f} h on a V100"
    )
    return rows


# ------------------------------------------------------------------------ output


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if abs(value) >= 100:
            return f"{value:,.0f}"
        return f"{value:.1f}" if abs(value) >= 10 else f"{value:.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def markdown_table(
    rows: Sequence[dict[str, Any]], columns: Sequence[tuple[str, str]]
) -> str:
    """A Markdown table of ``rows`` with ``columns`` = (key, header) pairs."""
    header = "| " + " | ".join(h for _, h in columns) + " |"
    rule = "|" + "|".join("---" for _ in columns) + "|"
    lines = [header, rule]
    for row in rows:
        lines.append("| " + " | ".join(_fmt(row.get(k)) for k, _ in columns) + " |")
    return "\n".join(lines)


GEN_COLUMNS = (
    ("what", "generation"),
    ("setting", "precision"),
    ("batch", "batch"),
    ("sequences", "sequences"),
    ("frames", "frames"),
    ("runs", "runs"),
    ("median_ms", "median ms"),
    ("seq_per_s", "seq/s"),
    ("frames_per_s", "frames/s"),
    ("peak_gpu_mib", "peak GPU MiB"),
)
TRAIN_COLUMNS = (
    ("model", "model"),
    ("encoder", "text encoder"),
    ("precision", "precision"),
    ("compile", "compile"),
    ("batch", "batch"),
    ("steps", "steps"),
    ("warmup_s", "warm-up s"),
    ("ms_per_step", "ms/step"),
    ("seq_per_s", "seq/s"),
    ("frames_per_s", "frames/s"),
    ("peak_gpu_mib", "peak GPU MiB"),
)
PAPER_COLUMNS = (
    ("run", "run"),
    ("encoder", "text encoder"),
    ("precision", "precision"),
    ("compile", "compile"),
    ("batch", "batch"),
    ("steps", "steps"),
    ("ms_per_step", "ms/step"),
    ("seq_per_s", "seq/s"),
    ("frames_per_s", "frames/s"),
    ("peak_gpu_mib", "peak GPU MiB"),
    ("projected_hours", "projected h"),
    ("error", "error"),
)


def _drop_gpu(columns: Sequence[tuple[str, str]], device: torch.device) -> list:
    return [c for c in columns if device.type == "cuda" or c[0] != "peak_gpu_mib"]


# -------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add("--preset", default="default", choices=PRESETS)
    add("--device", default="auto", help="auto | cpu | cuda[:i]")
    add("--steps", type=int, default=50, help="timed training steps")
    add("--warmup", type=int, default=5, help="untimed steps before (and runs)")
    add("--runs", type=int, default=20, help="timed runs of the 1-sentence latency")
    add("--gen-batches", type=int, default=4, help="batches in the throughput run")
    add("--batch-size", type=int, default=None, help="student batch (default preset)")
    add("--amp", default="no", choices=AMP_CHOICES, help="autocast on CUDA")
    add("--compile", action="store_true", help="torch.compile the student decoder")
    add("--sweep", action="store_true", help="section 3: fp32, bf16, bf16+compile")
    add("--text-encoder", default=None, help="override student.text_encoder")
    add(
        "--finetune-encoder",
        default="both",
        choices=("both", "no", "yes"),
        help="student training rows: frozen+cached, fine-tuned or both (section 3: "
        "'both' keeps the preset's setting)",
    )
    add("--data", default="auto", choices=("auto", "corpus", "random"))
    add("--student-dir", default=None, help="trained student checkpoint folder")
    add("--vae-dir", default=None, help="trained VAE checkpoint folder")
    add(
        "--paper-run",
        default="auto",
        choices=("auto", "yes", "no"),
        help="section 3 (paper preset); auto = only on CUDA",
    )
    add("--paper-preset", default="paper", choices=PRESETS)
    add("--paper-steps", type=int, default=300)
    add("--paper-warmup", type=int, default=20)
    add("--paper-batch-size", type=int, default=None)
    add("--paper-sequences", type=int, default=7096, help="cap on the train split")
    add("--json", default=None, help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    for name in ("steps", "runs", "gen_batches", "paper_steps", "paper_sequences"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1")
    for name in ("warmup", "paper_warmup"):
        if getattr(args, name) < 0:
            parser.error(f"--{name.replace('_', '-')} must be >= 0")
    if (args.student_dir is None) != (args.vae_dir is None):
        parser.error("--student-dir and --vae-dir go together")
    return args


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the benchmark, print the tables; returns the results (also ``--json``)."""
    args = parse_args(argv)
    device = pick_device(args.device)
    notes: list[str] = []
    cfg = get_config(args.preset)
    cfg, enc_notes = resolve_text_encoder(cfg, args.text_encoder)
    notes += enc_notes
    batch_size = args.batch_size or cfg.student.train.batch_size
    needed = max(batch_size * (args.steps + args.warmup), batch_size * args.gen_batches)
    seqs, source = load_sequences(cfg, min(cfg.corpus.n_train, needed), args.data)
    dataset = make_dataset(cfg, seqs)
    del seqs
    meta = {
        "preset": args.preset,
        "device": str(device),
        "device_name": torch.cuda.get_device_name(device)
        if device.type == "cuda"
        else "CPU",
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "data": source,
        "text_encoder": cfg.student.text_encoder,
        "mean_frames": float(np.mean(dataset.lengths)),
    }

    # 1. generation
    trained = args.student_dir is not None
    if trained:
        from nar_slp.models.pose_vae import load_vae
        from nar_slp.models.student import load_student

        student = load_student(args.student_dir, device)
        vae = load_vae(args.vae_dir, device)
        weights = f"trained checkpoints {args.student_dir}, {args.vae_dir}"
    else:
        student, vae = build_models(cfg, device)
        weights = (
            f"UNTRAINED models of preset {args.preset}'s size (weights do not matter "
            "for speed); lengths forced to the data's"
        )
    if args.compile:
        _compile_student(student)
    notes.append(f"generation: {weights}; encoder {_encoder_label(student)}")
    if isinstance(student.encoder, PretrainedTextEncoder) and not (
        student.encoder.trainable
    ):
        notes.append(
            "generation: a frozen encoder encodes each new text alone (batch of one, "
            "for its per-text cache), so batching does not speed up the encoder"
        )
    gen_rows = bench_generation(
        student,
        vae,
        dataset,
        device,
        batch_size,
        args.runs,
        args.gen_batches,
        args.amp,
        force_lengths=not trained,
        compiled=args.compile,
    )
    del student, vae
    _free(device)

    # 2. training
    train_rows = [
        bench_vae_training(cfg, dataset, device, args.steps, args.warmup, args.compile)
    ]
    _free(device)
    modes = {"both": [False, True], "no": [False], "yes": [True]}
    modes = modes[args.finetune_encoder]
    if cfg.student.text_encoder == SCRATCH:
        modes = [True]  # the scratch encoder always trains
    for finetune in modes:
        train_rows.append(
            bench_student_training(
                cfg,
                dataset,
                device,
                args.steps,
                args.warmup,
                batch_size,
                finetune,
                args.amp,
                args.compile,
            )
        )
        _free(device)
    train_rows[0]["seq_per_s_note"] = "frames/s / mean T"

    # 3. paper preset on the GPU
    run_paper = args.paper_run == "yes" or (
        args.paper_run == "auto" and device.type == "cuda"
    )
    paper_rows = bench_paper(args, device, notes) if run_paper else []

    results = {
        "meta": meta,
        "notes": notes,
        "generation": gen_rows,
        "training": train_rows,
        "paper": paper_rows,
    }
    _print(results, device, args)
    if args.json:
        path = Path(args.json)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return results


def _print(results: dict[str, Any], device: torch.device, args: Any) -> None:
    meta = results["meta"]
    print(
        f"## nar-slp model benchmark: preset {meta['preset']}, {meta['device_name']} "
        f"({meta['device']}), torch {meta['torch']}, {meta['threads']} threads"
    )
    print(f"\ndata: {meta['data']}; mean T = {meta['mean_frames']:.1f} frames\n")
    print("### 1. Generation (student + frozen PGM, `nar_slp.inference.generate`)\n")
    print(markdown_table(results["generation"], _drop_gpu(GEN_COLUMNS, device)))
    print(f"\n### 2. Training throughput ({args.steps} steps after {args.warmup})\n")
    print(markdown_table(results["training"], _drop_gpu(TRAIN_COLUMNS, device)))
    fills = [
        f"{r['cache_fill_ms_per_text']:.1f} ms/text"
        for r in results["training"]
        if r.get("cache_fill_ms_per_text")
    ]
    print("\nVAE: batches are frames; its seq/s = frames/s / mean T.", end="")
    if fills:
        print(
            " A frozen encoder's feature cache is warm in the timed steps (epochs "
            f">= 2); filling it cost {', '.join(fills)}.",
            end="",
        )
    print()
    if results["paper"]:
        print(f"\n### 3. `{args.paper_preset}` preset on {meta['device_name']}\n")
        columns = _drop_gpu(PAPER_COLUMNS, device)
        if not any("error" in r for r in results["paper"]):
            columns = [c for c in columns if c[0] != "error"]
        print(markdown_table(results["paper"], columns))
    elif device.type != "cuda":
        print("\n(section 3, the paper preset on a GPU, skipped: --device is not CUDA)")
    if results["notes"]:
        print("\nNotes:")
        for note in results["notes"]:
            print(f"- {note}")


if __name__ == "__main__":
    main()

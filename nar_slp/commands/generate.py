"""``nar-slp generate``: sign sentences with a run's trained system (any of
:data:`nar_slp.registry.SYSTEMS`), an exported bundle, or the bundle shipped in the
repository, and write them as .pose, .gif, .mp4 or one PT split (.skels)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from nar_slp.bundle import SHIPPED_BUNDLE, BundleError, load_bundle
from nar_slp.commands.common import UsageError, need, resolve_device, run_folder
from nar_slp.data.pose_io import write_pose
from nar_slp.data.pt_format import SignSequence, write_split
from nar_slp.registry import STUDENT, SYSTEMS, LoadedSystem, generate, load_system
from nar_slp.visualisation.animate import animate, save_animation

OUTPUT_KINDS = (".pose", ".gif", ".mp4", ".skels")


def read_texts(args: argparse.Namespace) -> list[str]:
    """The sentences to sign: positional arguments, then ``--input`` (one per line;
    ``-`` = standard input); blank lines are skipped."""
    texts = [t for t in args.texts if t.strip()]
    if args.input is not None:
        if args.input == "-":
            lines = sys.stdin.read().splitlines()
        else:
            path = need(Path(args.input), "--input must be a text file")
            lines = path.read_text(encoding="utf-8").splitlines()
        texts += [line for line in lines if line.strip()]
    if not texts:
        raise UsageError("no sentence given: pass one as an argument or use --input")
    return [t.strip() for t in texts]


def output_paths(out: Path, n: int) -> list[Path]:
    """One file per sentence for .pose/.gif/.mp4 (``stem_000.ext``... when several);
    one PT split for .skels."""
    if out.suffix.lower() not in OUTPUT_KINDS:
        raise UsageError(
            f"--out {out}: unknown kind {out.suffix or '(none)'!r}; "
            f"valid: {', '.join(OUTPUT_KINDS)}"
        )
    if out.suffix.lower() == ".skels" or n == 1:
        return [out]
    return [out.with_name(f"{out.stem}_{i:03d}{out.suffix}") for i in range(n)]


def cmd_generate(args: argparse.Namespace) -> int:
    texts = read_texts(args)
    out = Path(args.out)
    paths = output_paths(out, len(texts))
    signer, source = signer_of(args)
    print(f"model: {source}")
    gen = generate(signer, texts)
    suffix = out.suffix.lower()
    if suffix == ".skels":
        seqs = [
            SignSequence(name=f"{out.stem}/{i:06d}", text=t, gloss="", poses=p)
            for i, (t, p) in enumerate(zip(texts, gen.poses, strict=True))
        ]
        write_split(out.parent, out.stem, seqs)
    elif suffix == ".pose":
        for path, poses in zip(paths, gen.poses, strict=True):
            write_pose(path, poses)
    else:
        for path, poses, text in zip(paths, gen.poses, texts, strict=True):
            save_animation(animate(poses, title=text[:60]), path, close=True)
    for path, text, n in zip(paths, texts, gen.lengths, strict=False):
        print(f"{path}: {n} frames  {text[:60]!r}")
    if suffix == ".skels":
        print(f"{len(texts)} sequences in {out} (PT format, split {out.stem!r})")
    return 0


def signer_of(args: argparse.Namespace) -> tuple[LoadedSystem, str]:
    """(system, description) for ``generate``: ``--model``'s bundle, else the run's
    trained ``--system`` (any system of :data:`nar_slp.registry.SYSTEMS`), else —
    for a student only — the shipped bundle."""
    device = resolve_device(args.device)
    bundle_path = Path(args.model) if args.model else None
    if bundle_path is None:
        if args.system not in SYSTEMS:
            raise UsageError(
                f"--system {args.system!r}: valid systems are {', '.join(SYSTEMS)}"
            )
        spec, run = SYSTEMS[args.system], run_folder(args)
        folder = spec.checkpoint(run, args.seed)
        if spec.family != STUDENT or (folder / "config.json").exists():
            try:
                loaded = load_system(spec.key, run, args.seed, device)
            except FileNotFoundError as err:
                raise UsageError(str(err)) from err
            return loaded, str(folder)
        if not (SHIPPED_BUNDLE / "manifest.json").exists():
            raise UsageError(
                f"{folder} holds no trained student and no bundle ships with this "
                f"checkout: train one (nar-slp train student --system {spec.key} "
                f"--seed {args.seed} --run-dir {run}) or pass --model"
            )
        bundle_path = SHIPPED_BUNDLE
    try:
        bundle = load_bundle(bundle_path, device)
    except BundleError as err:
        raise UsageError(str(err)) from err
    loaded = LoadedSystem(
        SYSTEMS[bundle.info.get("system", "kd")],
        bundle.model,
        bundle.vae,
        bundle.normaliser,
        bundle_path,
    )
    return loaded, f"bundle {bundle_path}"

"""``nar-slp generate``: sign sentences with a trained system and write them as .pose,
.gif, .mp4 or one PT split (.skels).

What signs them is decided before anything is loaded (:func:`choose_source`), and
it is what was asked for or nothing:

1. ``--model BUNDLE``: that bundle (``--system``/``--seed``, when given, must be the
   bundle's own);
2. else the run folder (``--run-dir``, else ``runs/<preset>``), if it holds the
   trained ``--system`` (a student: its ``--seed``);
3. else, only without ``--run-dir`` and at the ``default`` preset: the shipped
   weights (:data:`nar_slp.weights.SHIPPED_WEIGHTS`: in a checkout every trained
   model of the committed run, in an installed wheel ``kd`` seed 0) if they hold
   that system and seed, checked against their manifest first;
4. anything else ends with one line naming what is missing and how to get it.

The inputs are read and the outputs checked before that, so a refused command
writes nothing. A text most of whose words the model never saw in training, and a
text cut to the encoder's token limit, each get one line on stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap
import warnings
from dataclasses import dataclass
from pathlib import Path

from nar_slp.bundle import BundleError, load_bundle, verify_bundle
from nar_slp.commands.common import (
    UsageError,
    read_utf8_lines,
    resolve_device,
    run_folder,
    run_is_explicit,
    writable_file,
)
from nar_slp.data.pose_io import write_pose
from nar_slp.data.pt_format import SignSequence, write_split
from nar_slp.models.text_encoder import TextEncoder
from nar_slp.models.word_encoder import WordTextEncoder, WordVocab
from nar_slp.registry import (
    STUDENT,
    SYSTEMS,
    LoadedSystem,
    System,
    generate,
    load_system,
)
from nar_slp.visualisation.animate import animate, save_animation
from nar_slp.vocabulary import corpus_vocabulary, run_vocabulary, unfamiliar_texts
from nar_slp.weights import SHIPPED_WEIGHTS, WeightsError, read_manifest, verify_model

OUTPUT_KINDS = (".pose", ".gif", ".mp4", ".skels")
SKELS_FILES = (".skels", ".text", ".gloss", ".files")  # what write_split writes
DEFAULT_PRESET = "default"  # the preset of the shipped models
RUN, WEIGHTS, BUNDLE = "run", "weights", "bundle"
# TextEncoder.tokenize's warning; generate says which text was cut instead
TRUNCATION_WARNING = r".*tokens and were truncated"
TITLE_CHARS = 90  # an animation's title: the sentence, shortened past this


@dataclass(frozen=True)
class Source:
    """What ``generate`` signs with, chosen before anything is loaded."""

    kind: str  # run | weights | bundle
    path: Path  # the run folder, the weights folder or the bundle
    system: str
    seed: int

    def describe(self) -> str:
        """What the ``model:`` line says."""
        if self.kind == BUNDLE:
            return f"bundle {self.path}"
        folder = SYSTEMS[self.system].checkpoint(self.path, self.seed)
        return f"shipped weights {folder}" if self.kind == WEIGHTS else str(folder)


# ------------------------------------------------------------------ inputs, outputs


def read_texts(args: argparse.Namespace) -> list[str]:
    """The sentences to sign: positional arguments, then ``--input`` (one per line,
    UTF-8; ``-`` = standard input); blank lines are skipped."""
    texts = [t for t in args.texts if t.strip()]
    if args.input is not None:
        texts += [line for line in read_utf8_lines(args.input) if line.strip()]
    if not texts:
        raise UsageError("no sentence given: pass one as an argument or use --input")
    return [t.strip() for t in texts]


def output_paths(out: Path, n: int) -> list[Path]:
    """One file per sentence for .pose/.gif/.mp4 (``stem_000.ext``... when several);
    one PT split for .skels. Every file it will write is checked writable now."""
    suffix = out.suffix.lower()
    if suffix not in OUTPUT_KINDS:
        raise UsageError(
            f"--out {out}: unknown kind {out.suffix or '(none)'!r}; "
            f"valid: {', '.join(OUTPUT_KINDS)}"
        )
    if suffix == ".skels":
        for ext in SKELS_FILES:
            writable_file(out.with_suffix(ext), "--out")
        return [out]
    if n == 1:
        paths = [out]
    else:
        paths = [out.with_name(f"{out.stem}_{i:03d}{out.suffix}") for i in range(n)]
    for path in paths:
        writable_file(path, "--out")
    return paths


# ------------------------------------------------------------------ the model


def choose_source(args: argparse.Namespace) -> Source:
    """The bundle, run folder or shipped model that serves ``--system``/``--seed``
    (see the module docstring), or :class:`UsageError` saying why none does."""
    if args.model is not None:
        return _bundle_source(Path(args.model), args)
    key = args.system or "kd"
    if key not in SYSTEMS:
        raise UsageError(f"--system {key!r}: valid systems are {', '.join(SYSTEMS)}")
    spec = SYSTEMS[key]
    if spec.family != STUDENT and args.seed not in (None, 0):
        raise UsageError(
            f"--seed {args.seed}: {key} has one checkpoint per run; --seed picks a "
            "student's training seed"
        )
    seed = args.seed or 0
    run = run_folder(args)
    if (spec.checkpoint(run, seed) / "config.json").is_file():
        return Source(RUN, run, key, seed)
    if run_is_explicit(args) or args.preset != DEFAULT_PRESET:
        raise UsageError(_missing_in_run(run, spec, seed, args))
    return _shipped_source(run, spec, seed, args)


def _bundle_source(path: Path, args: argparse.Namespace) -> Source:
    if not path.exists():
        raise UsageError(f"--model {path} does not exist: give a bundle folder")
    try:
        verify_bundle(path)
        info = json.loads((path / "config.json").read_text(encoding="utf-8"))
    except BundleError as err:
        raise UsageError(str(err)) from err
    system, seed = str(info.get("system", "kd")), int(info.get("seed", 0))
    for flag, asked, held in (
        ("--system", args.system, system),
        ("--seed", args.seed, seed),
    ):
        if asked is not None and asked != held:
            raise UsageError(
                f"--model {path} holds {system} seed {seed}, not {flag} {asked}: "
                f"leave {flag} out, or pass the bundle of {flag} {asked}"
            )
    return Source(BUNDLE, path, system, seed)


def _weights_name(spec: System, seed: int) -> str:
    """The model's name in a weights folder: its path in the run folder."""
    return spec.checkpoint(Path(), seed).as_posix()


def _shipped_source(run: Path, spec: System, seed: int, args) -> Source:
    """The shipped weights' model, if this installation carries it."""
    seeds: list[int] = []  # the seeds of this student the weights hold
    if (SHIPPED_WEIGHTS / "manifest.json").is_file():
        try:
            manifest = read_manifest(SHIPPED_WEIGHTS)
            name = _weights_name(spec, seed)
            if name in manifest["models"]:
                needed = [name, "vae"] if spec.family == STUDENT else [name]
                if not (SHIPPED_WEIGHTS / name).is_dir():  # a wheel: kd seed 0 only
                    raise UsageError(
                        f"this installation carries only kd seed 0 of the committed "
                        f"run's weights, not {_what(spec, seed)}: a checkout of the "
                        f"repository has every model, or train it: "
                        f"{_train_command(spec, seed, args, run)}"
                    )
                for model in needed:  # a missing or altered file: refused, named
                    verify_model(SHIPPED_WEIGHTS, model, manifest)
                return Source(WEIGHTS, SHIPPED_WEIGHTS, spec.key, seed)
        except WeightsError as err:
            raise UsageError(str(err)) from err
        if spec.family == STUDENT:
            prefix = _weights_name(spec, 0).removesuffix("0")  # students/<key>/seed
            seeds = sorted(
                int(m.removeprefix(prefix))
                for m in manifest["models"]
                if m.startswith(prefix) and m.removeprefix(prefix).isdigit()
            )
    train = _train_command(spec, seed, args, run)
    if seeds:
        held = _seeds(seeds)
        raise UsageError(
            f"the shipped weights hold {spec.key} {held}, not seed {seed}: "
            f"pass --seed {seeds[0]}, or train it: {train}"
        )
    shipped = (
        "the shipped weights hold none"
        if (SHIPPED_WEIGHTS / "manifest.json").is_file()
        else "no weights ship with this installation"
    )
    raise UsageError(f"no trained {_what(spec, seed)} in {run} and {shipped}: {train}")


def _seeds(seeds: list) -> str:
    """``seed 1`` | ``seeds 0, 1, 2``."""
    return ("seed " if len(seeds) == 1 else "seeds ") + ", ".join(map(str, seeds))


def _what(spec: System, seed: int) -> str:
    return f"{spec.key} seed {seed}" if spec.family == STUDENT else spec.key


def _train_command(spec: System, seed: int, args, run: Path) -> str:
    what = (
        f"student --system {spec.key} --seed {seed}"
        if spec.family == STUDENT
        else spec.family
    )
    preset = f" --preset {args.preset}" if args.preset != DEFAULT_PRESET else ""
    where = f" --run-dir {run}" if run_is_explicit(args) else ""
    return f"nar-slp train {what}{preset}{where}"


def _missing_in_run(run: Path, spec: System, seed: int, args) -> str:
    """Why a named run folder (or another preset's) cannot serve the request."""
    if not run.is_dir():
        if run_is_explicit(args):
            hint = "give the folder of a trained run"
            if args.preset == DEFAULT_PRESET:
                hint += ", or leave --run-dir out for the shipped model"
        else:
            hint = (
                f"train the {args.preset} preset first (nar-slp data --preset "
                f"{args.preset}, then nar-slp train); the shipped model is the "
                f"{DEFAULT_PRESET} preset's"
            )
        return f"{run} does not exist: {hint}"
    held = ""
    if spec.family == STUDENT:
        seeds = sorted(
            int(p.name.removeprefix("seed"))
            for p in (run / "students" / spec.key).glob("seed*")
            if p.name.removeprefix("seed").isdigit() and (p / "config.json").is_file()
        )
        if seeds:
            held = f" (it holds {spec.key} {_seeds(seeds)})"
    train = _train_command(spec, seed, args, run)
    return f"no trained {_what(spec, seed)} in {run}{held}: {train}"


def load_source(source: Source, device: str) -> LoadedSystem:
    """Load the chosen system; a file it lacks is one line naming it."""
    if source.kind == BUNDLE:
        try:
            bundle = load_bundle(source.path, device)
        except BundleError as err:
            raise UsageError(str(err)) from err
        spec = SYSTEMS[source.system]
        return LoadedSystem(
            spec, bundle.model, bundle.vae, bundle.normaliser, source.path
        )
    try:
        return load_system(source.system, source.path, source.seed, device)
    except FileNotFoundError as err:
        raise UsageError(str(err)) from err


def signer_of(args: argparse.Namespace) -> tuple[LoadedSystem, str]:
    """(system, description) for ``generate``: :func:`choose_source`, loaded."""
    source = choose_source(args)
    return load_source(source, resolve_device(args.device)), source.describe()


# ------------------------------------------------------------------ what it is told


def source_vocabulary(source: Source) -> frozenset[str] | None:
    """The words of the chosen model's training texts, None when unknown."""
    if source.kind == RUN:
        return run_vocabulary(source.path)
    if source.kind == WEIGHTS:  # the committed run: the bundled corpus
        return corpus_vocabulary(read_manifest(source.path).get("preset", "default"))
    info = json.loads((source.path / "config.json").read_text(encoding="utf-8"))
    words = info.get("vocabulary")
    return frozenset(words) if words else None


def truncation_notes(loaded: LoadedSystem, texts: list[str]) -> list[str]:
    """One line per text longer than the text encoder's token limit: how much of it
    the model reads. A baseline's word encoder has a hard limit: refused."""
    encoder = getattr(loaded.model, "encoder", None)
    if isinstance(encoder, WordTextEncoder):
        limit = int(encoder.pos.pe.shape[0])
        for i, text in enumerate(texts):
            if len(WordVocab.split(text)) > limit:
                raise UsageError(
                    f"text {i + 1} has {len(WordVocab.split(text))} words; "
                    f"{loaded.system.key} reads at most {limit}: split it"
                )
        return []
    if not isinstance(encoder, TextEncoder):
        return []
    limit, tokenizer = encoder.max_tokens, encoder.tokenizer
    probe = tokenizer(texts, truncation=True, max_length=limit + 1)["input_ids"]
    return [
        f"text {i + 1} was cut to {limit} tokens ({_kept(tokenizer, text, limit)})"
        for i, (text, ids) in enumerate(zip(texts, probe, strict=True))
        if len(ids) > limit
    ]


def _kept(tokenizer, text: str, limit: int) -> str:
    """``kept K of N words`` (a fast tokenizer's offsets), else ``of N words``."""
    n_words = len(text.split())
    try:
        enc = tokenizer(
            text, truncation=True, max_length=limit, return_offsets_mapping=True
        )
        end = max(stop for _, stop in enc["offset_mapping"])
    except (NotImplementedError, ValueError, TypeError, KeyError):
        return f"of {n_words} words"
    return f"kept {len(text[:end].split())} of {n_words} words"


def warn(line: str) -> None:
    print(f"nar-slp generate: warning: {line}", file=sys.stderr)


# ------------------------------------------------------------------ the command


def cmd_generate(args: argparse.Namespace) -> int:
    texts = read_texts(args)
    out = Path(args.out)
    paths = output_paths(out, len(texts))
    device = resolve_device(args.device)
    source = choose_source(args)
    print(f"model: {source.describe()}")
    signer = load_source(source, device)
    vocab = source_vocabulary(source)
    for found in unfamiliar_texts(texts, vocab) if vocab else []:
        warn(found.line())
    for line in truncation_notes(signer, texts):
        warn(line)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=TRUNCATION_WARNING)
        gen = generate(signer, texts)
    write_outputs(out, paths, texts, gen.poses)
    for i, (text, n) in enumerate(zip(texts, gen.lengths, strict=True)):
        where = f"{out}[{i}]" if out.suffix.lower() == ".skels" else paths[i]
        print(f"{where}: {n} frames  {textwrap.shorten(text, 60)!r}")
    if out.suffix.lower() == ".skels":
        print(f"{len(texts)} sequences in {out} (PT format, split {out.stem!r})")
    return 0


def write_outputs(out: Path, paths: list[Path], texts: list[str], poses) -> None:
    """Write every output; an animation goes to a hidden name first and is moved
    into place once complete, so a failed render leaves no half-written file."""
    suffix = out.suffix.lower()
    if suffix == ".skels":
        seqs = [
            SignSequence(name=f"{out.stem}/{i:06d}", text=t, gloss="", poses=p)
            for i, (t, p) in enumerate(zip(texts, poses, strict=True))
        ]
        write_split(out.parent, out.stem, seqs)
        return
    for path, pose, text in zip(paths, poses, texts, strict=True):
        if suffix == ".pose":
            write_pose(path, pose)
            continue
        partial = path.with_name(f".{path.stem}.partial{path.suffix}")
        title = textwrap.shorten(text, TITLE_CHARS, placeholder=" ...")
        try:
            save_animation(animate(pose, title=title), partial, close=True)
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)

"""What every ``nar-slp`` subcommand shares: the one-line usage error (exit code 2),
the config built from ``--preset``, ``--set`` and ``--seed``, and the checks of the
run folder, device, inputs and outputs made before anything is loaded or written.

Torch-free (the device check imports it when called), so that ``nar-slp --help``
answers at once: :mod:`nar_slp.cli` imports this module, never a command's own.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from nar_slp.config import Config, get_config
from nar_slp.paths import RUN_DIR_ENV, run_dir
from nar_slp.reproduce import literal_value
from nar_slp.systems import STUDENT_SYSTEMS

TRAINABLE = ("vae", "student", "pt", "nslpg", "tae", "slt")
# Path arguments taken from the current directory, like every other tool's.
PATH_ARGS = ("run_dir", "out", "input", "model", "data_dir")


class UsageError(Exception):
    """A bad argument, missing input or unknown key: one line, exit code 2."""


def parse_sets(items: Sequence[str]) -> dict[str, Any]:
    """``["student.train.epochs=3", ...]`` -> ``{"student.train.epochs": 3, ...}``."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--set {item!r}: expected section.field=value")
        out[key.strip()] = literal_value(value.strip())
    return out


def build_config(preset: str, sets: Sequence[str], seed: int | None) -> Config:
    """The preset with ``--set`` overrides; config errors become :class:`UsageError`."""
    overrides = parse_sets(sets)
    if seed is not None:
        overrides["seed"] = seed
    try:
        return get_config(preset, **overrides)
    except (KeyError, TypeError, ValueError) as err:
        raise UsageError(str(err).strip("'\"")) from err


def absolute_paths(args: argparse.Namespace) -> argparse.Namespace:
    """``args`` with every relative path argument made absolute from the current
    directory (``--input -`` stays standard input). The package's own default,
    ``runs/<preset>`` under the checkout, is left to :func:`nar_slp.paths.run_dir`,
    which takes an explicit relative folder from the repository root (the chapters
    run with the notebooks folder as their current directory)."""
    for name in PATH_ARGS:
        value = getattr(args, name, None)
        if value is not None and value != "-":
            setattr(args, name, str(Path(value).expanduser().resolve()))
    return args


def run_folder(args: argparse.Namespace) -> Path:
    return run_dir(args.preset, args.run_dir)


def run_is_explicit(args: argparse.Namespace) -> bool:
    """Whether the run folder was named (``--run-dir`` or ``$NAR_SLP_RUN_DIR``), not
    the preset's default."""
    return bool(args.run_dir or os.environ.get(RUN_DIR_ENV))


def resolve_device(name: str) -> str:
    """``--device`` resolved (``auto``: a visible GPU, else the CPU) or refused."""
    from nar_slp.utils import pick_device  # torch: only once a command runs

    try:
        return str(pick_device(name))
    except ValueError as err:
        raise UsageError(f"--device {name!r}: {err}") from err


def need(path: Path, what: str) -> Path:
    if not path.exists():
        raise UsageError(f"{path} does not exist: {what}")
    return path


def student_variant(args: argparse.Namespace) -> str:
    system = args.system or "kd"
    if system not in STUDENT_SYSTEMS:
        raise UsageError(
            f"--system {system!r}: valid systems are {', '.join(STUDENT_SYSTEMS)}"
        )
    return system


# ------------------------------------------------------------------ inputs, outputs


def writable_file(path: Path, flag: str) -> Path:
    """Refuse an output file that could not be written: its folder missing or not
    writable, a folder in its place, a read-only file. Checked before any model is
    loaded, so a refused command writes nothing."""
    if path.is_dir():
        raise UsageError(f"{flag} {path} is a folder; give a file name")
    if path.exists() and not os.access(path, os.W_OK):
        raise UsageError(f"{flag} {path} exists and is not writable")
    writable_folder(path.parent, flag, what=f"{flag} {path}: its folder")
    return path


def writable_folder(folder: Path, flag: str, what: str | None = None) -> Path:
    """Refuse a folder that is missing, not a folder, or not writable."""
    what = what or f"{flag} {folder}"
    if not folder.exists():
        raise UsageError(f"{what} {folder} does not exist")
    if not folder.is_dir():
        raise UsageError(f"{what} {folder} is not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"{what} {folder} is not writable")
    return folder


def creatable_folder(folder: Path, flag: str) -> Path:
    """A folder a command creates (``mkdir -p``): refused when it, or the nearest
    folder above it that exists, is not a writable folder."""
    if folder.exists():
        return writable_folder(folder, flag)
    above = folder.parent
    while not above.exists():
        above = above.parent
    writable_folder(above, flag, what=f"{flag} {folder} cannot be created, as")
    return folder


def read_utf8_lines(source: str) -> list[str]:
    """The lines of ``--input``: a file, or ``-`` for standard input, decoded as
    UTF-8; one line naming the file, the encoding and the line that is not."""
    if source == "-":
        stream = getattr(sys.stdin, "buffer", None)
        if stream is None:  # a text stream (already decoded): nothing to check
            return sys.stdin.read().splitlines()
        data, name = stream.read(), "standard input"
    else:
        path = Path(source)
        if not path.is_file():
            what = "is a folder" if path.is_dir() else "does not exist"
            raise UsageError(f"--input {path} {what}: give a text file, or - (stdin)")
        try:
            data = path.read_bytes()
        except OSError as err:
            raise UsageError(
                f"--input {path}: cannot read it ({err.strerror})"
            ) from err
        name = str(path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise UsageError(
            f"--input {name} is not UTF-8 text: line {line} has byte "
            f"0x{data[err.start]:02x} ({err.reason}); save it as UTF-8"
        ) from err
    return text.removeprefix("\ufeff").splitlines()

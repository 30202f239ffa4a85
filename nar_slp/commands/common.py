"""What every ``nar-slp`` subcommand shares: the one-line usage error (exit code 2),
the config built from ``--preset``, ``--set`` and ``--seed``, and the checks of the
run folder, device and inputs made before anything is written."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from nar_slp.config import Config, get_config
from nar_slp.paths import run_dir
from nar_slp.reproduce import literal_value
from nar_slp.students import STUDENT_VARIANTS
from nar_slp.utils import pick_device


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


def run_folder(args: argparse.Namespace) -> Path:
    return run_dir(args.preset, args.run_dir)


def resolve_device(name: str) -> str:
    """``--device`` resolved (``auto``: a visible GPU, else the CPU) or refused."""
    try:
        return str(pick_device(name))
    except ValueError as err:
        raise UsageError(f"--device {name!r}: {err}") from err


def need(path: Path, what: str) -> Path:
    if not path.exists():
        raise UsageError(f"{path} does not exist: {what}")
    return path


def student_variant(args: argparse.Namespace) -> str:
    if args.system not in STUDENT_VARIANTS:
        raise UsageError(
            f"--system {args.system!r}: valid systems are {', '.join(STUDENT_VARIANTS)}"
        )
    return args.system

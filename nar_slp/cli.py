"""The ``nar-slp`` command line: the chapters' package functions, for long jobs.

The chapters stay the narrative; this is what a job scheduler or a shell script calls.
Each subcommand works on a run folder laid out as the chapters lay it out
(``runs/<preset>/`` by default), so a run trained here can be opened in the chapters
and the other way round::

    nar-slp data     --preset default --run-dir runs/x [--data-dir PHOENIX/]
    nar-slp train    vae|student|pt|nslpg|tae|slt --preset default --run-dir runs/x \\
                     [--set student.train.epochs=20 ...] [--system kd] [--seed 0]
    nar-slp generate "a sentence" ... [--input FILE | --input -] --run-dir runs/x \\
                     [--system kd] [--seed 0] --out x.pose|x.gif|x.mp4|x.skels
    nar-slp evaluate --run-dir runs/x        (prints that run's Table 1)
    nar-slp export   --run-dir runs/x --out bundle/ [--system kd] [--seed 0]

``generate --system`` takes any system of :data:`nar_slp.registry.SYSTEMS` (the three
students and the six baselines: ``pt_base``, ``nslpg_gs_ft``...) trained in the run;
``--model bundle/`` signs with an exported bundle instead. Without ``--run-dir`` at
the ``default`` preset, a system the run folder does not hold comes from the shipped
weights (:data:`nar_slp.weights.SHIPPED_WEIGHTS`; an installed wheel carries ``kd``
seed 0 of them); anything else that is not there is an error
naming it, never another model (:mod:`nar_slp.commands.generate`). The subcommands
themselves are :mod:`nar_slp.commands`, imported only when one runs, so ``--help``
answers without loading torch. Relative paths are taken from the current directory.

Training resumes from the last checkpoint in the run folder (``student``, ``vae``) or
reuses a finished one (``pt``, ``nslpg``, ``tae``, ``slt``; ``--retrain`` starts over).
Bad arguments, missing inputs and unknown config keys end with one line naming what
is wrong and exit code 2, before anything is written.

``train student`` also runs under ``torchrun`` (DistributedDataParallel, see
:mod:`nar_slp.distributed`; README "Training at scale")::

    torchrun --standalone --nproc_per_node 4 -m nar_slp.cli train student \
        --preset paper --run-dir runs/x --device cuda
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from nar_slp.commands.common import TRAINABLE, UsageError, absolute_paths
from nar_slp.config import PRESETS
from nar_slp.systems import SYSTEM_KEYS


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nar-slp", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--preset", default="default", choices=PRESETS)
        p.add_argument(
            "--run-dir", default=None, help="run folder (default runs/<preset>)"
        )

    p = sub.add_parser("data", help="generate the bundled corpus or read a PT folder")
    common(p)
    p.add_argument("--data-dir", default=None, help="a PT-format folder")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    p.set_defaults(func="build:cmd_data")

    p = sub.add_parser("train", help="train one component of a run")
    p.add_argument("what", choices=TRAINABLE)
    common(p)
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="config override, e.g. student.train.epochs=20 (repeatable)",
    )
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--system", default="kd", help="student system (kd, no_kd, no_bert)")
    p.add_argument(
        "--recon-loss",
        default="bce",
        choices=("bce", "mse"),
        help="vae only: bce -> <run>/vae, mse -> <run>/vae_mse (NSLP-G's)",
    )
    p.add_argument("--device", default="auto")
    p.add_argument("--retrain", action="store_true", help="start over")
    p.set_defaults(func="build:cmd_train")

    p = sub.add_parser(
        "generate", help="sign sentences with a trained student or baseline"
    )
    p.add_argument("texts", nargs="*", help="sentences")
    common(p)
    p.add_argument("--input", default=None, help="a file of sentences, or - (stdin)")
    p.add_argument(
        "--system",
        default=None,
        help=f"one of {', '.join(SYSTEM_KEYS)} (default kd; with --model: the "
        "bundle's)",
    )
    p.add_argument(
        "--seed", type=int, default=None, help="a student's training seed (default 0)"
    )
    p.add_argument(
        "--out",
        required=True,
        help="x.pose | x.gif | x.mp4 | x.skels (folder must exist)",
    )
    p.add_argument("--model", default=None, help="an exported bundle folder")
    p.add_argument("--device", default="auto")
    p.set_defaults(func="generate:cmd_generate")

    p = sub.add_parser("export", help="write a self-contained bundle of a student")
    common(p)
    p.add_argument("--out", required=True, help="the bundle folder to write")
    p.add_argument("--system", default="kd", help="kd, no_kd or no_bert")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func="publish:cmd_export")

    p = sub.add_parser("evaluate", help="print a run's Table 1")
    common(p)
    p.set_defaults(func="publish:cmd_evaluate")
    return parser


def command(name: str):
    """The function of ``"module:function"`` in :mod:`nar_slp.commands`, imported now
    (torch and the models load only for a command that runs)."""
    module, _, func = name.partition(":")
    return getattr(importlib.import_module(f"nar_slp.commands.{module}"), func)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = absolute_paths(parser.parse_args(argv))
    try:
        return int(command(args.func)(args))
    except UsageError as err:
        print(f"nar-slp {args.command}: {err}", file=sys.stderr)
        return 2


def _entry() -> None:  # the console script
    sys.exit(main())


if __name__ == "__main__":  # python -m nar_slp.cli (what torchrun -m runs)
    _entry()

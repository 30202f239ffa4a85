"""Run the numbered chapters in order with papermill (``make reproduce``).

    python -m nar_slp.reproduce --preset default notebooks/01_data.ipynb ...

Executed notebooks go to ``<run-dir>/notebooks/``. ``--in-place`` writes them back into
``notebooks/`` instead (how the committed outputs are produced, at the ``default``
preset, without injecting a parameters cell), with volatile metadata stripped.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import sys
import time
from pathlib import Path

from nar_slp.config import PRESETS
from nar_slp.paths import repo_root, run_dir


def strip_volatile_metadata(path: Path) -> None:
    """Drop papermill timings and kernel metadata (like nbstripout --keep-output)."""
    nb = json.loads(path.read_text())
    nb["metadata"].pop("papermill", None)
    nb["metadata"].pop("widgets", None)
    for cell in nb["cells"]:
        cell.get("metadata", {}).pop("papermill", None)
        cell.get("metadata", {}).pop("execution", None)
        if cell.get("cell_type") == "code":
            for out in cell.get("outputs", []):
                out.get("metadata", {}).pop("execution", None)
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")


def literal_value(text: str) -> object:
    """A Python literal (``3``, ``0.0``, ``True``, ``'x'``, ``(1, 2)``), else the
    plain string; how every command line here reads a value."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def parse_param(text: str) -> tuple[str, object]:
    """``NAME=VALUE`` -> (NAME, value), the value read by :func:`literal_value`."""
    name, sep, value = text.partition("=")
    if not sep or not name.isidentifier():
        raise argparse.ArgumentTypeError(f"--param {text!r}: expected NAME=VALUE")
    return name, literal_value(value)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--preset", default="default", choices=PRESETS)
    parser.add_argument("--run-dir", default=None, help="default: runs/<preset>")
    parser.add_argument("--data-dir", default=None, help="a PT folder (else bundled)")
    parser.add_argument(
        "--in-place", action="store_true", help="write executed notebooks to notebooks/"
    )
    parser.add_argument(
        "--times", type=Path, help="write each chapter's seconds to this JSON file"
    )
    parser.add_argument(
        "--param",
        type=parse_param,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="another notebook parameter, e.g. SEED=1 (repeatable)",
    )
    args = parser.parse_args(argv)

    import papermill

    os.environ.setdefault("NAR_SLP_PROGRESS", "0")
    out_root = run_dir(args.preset, args.run_dir)
    params: dict[str, object] = {}
    if (
        not args.in_place
        or args.preset != "default"
        or args.run_dir
        or args.data_dir
        or args.param
    ):
        params = {"PRESET": args.preset}
        if args.run_dir:  # else the notebooks' own default, runs/<preset>
            params["RUN_DIR"] = str(out_root)
        if args.data_dir:
            params["DATA_DIR"] = str(Path(args.data_dir).resolve())
        params.update(dict(args.param))
    if args.in_place and params:
        parser.error(
            "--in-place is only for the committed default run (no other options)"
        )
    for nb in args.notebooks:
        if not nb.exists():
            parser.error(f"notebook {nb} does not exist")
    times: dict[str, float] = {}
    for nb in args.notebooks:
        target = nb if args.in_place else out_root / "notebooks" / nb.name
        target.parent.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        print(f"[reproduce] {nb.name} -> {target}", flush=True)
        papermill.execute_notebook(
            str(nb),
            str(target),
            parameters=params,
            cwd=str(repo_root() / "notebooks"),
            kernel_name="python3",
            progress_bar=False,
        )
        strip_volatile_metadata(target)
        times[nb.stem] = round(time.perf_counter() - start, 1)
        print(f"[reproduce] {nb.name} done in {times[nb.stem]:.0f} s", flush=True)
        if args.times:
            args.times.parent.mkdir(parents=True, exist_ok=True)
            args.times.write_text(json.dumps(times, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

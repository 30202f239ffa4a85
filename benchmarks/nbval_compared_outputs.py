"""Which outputs that nbval compares exactly differ between two executions?

nbval compares every code cell's text output unless the cell is marked
``# NBVAL_IGNORE_OUTPUT``; an output that comes from training (a loss, a generated
length) may differ on another CPU or thread count and fail ``make test``. Run the
chapters once more under other conditions (``make tolerance`` leaves such runs under
``runs/tolerance-*/notebooks/``) and compare them with the committed notebooks:

    python benchmarks/nbval_compared_outputs.py notebooks \
        runs/tolerance-threads1/notebooks

Prints one line per differing compared cell (chapter, cell index, first differing
line on each side), after the substitutions of ``notebooks/sanitize.cfg``. A cell
that differs only because a parameter was injected (``SEED``) is expected to differ;
everything else must be marked or made stable.
"""

from __future__ import annotations

import argparse
import configparser
import json
import re
import sys
from pathlib import Path

IGNORE = "NBVAL_IGNORE_OUTPUT"


def sanitizers(path: Path) -> list[tuple[re.Pattern[str], str]]:
    parser = configparser.ConfigParser()
    parser.read(path)
    return [
        (re.compile(parser[s]["regex"]), parser[s]["replace"])
        for s in parser.sections()
        if "regex" in parser[s]
    ]


def compared_outputs(
    nb_path: Path, subs: list[tuple[re.Pattern[str], str]]
) -> dict[int, str]:
    """Code-cell index (source cells only) -> the text nbval compares."""
    nb = json.loads(nb_path.read_text())
    out, index = {}, 0
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        if "injected-parameters" in cell.get("metadata", {}).get("tags", []):
            continue  # papermill's injected cell: not in the committed notebook
        index += 1
        # nbval's own rule: a comment line that is exactly the marker
        if any(
            line.strip().startswith("#") and line.strip().lstrip("#").strip() == IGNORE
            for line in source.splitlines()
        ):
            continue
        text = ""
        for o in cell.get("outputs", []):
            if o.get("output_type") == "stream":
                text += "".join(o["text"])
            elif o.get("output_type") in ("execute_result", "display_data"):
                text += "".join(o.get("data", {}).get("text/plain", ""))
        for pattern, replacement in subs:
            text = pattern.sub(replacement, text)
        out[index] = text
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("committed", type=Path, help="folder of committed notebooks")
    ap.add_argument("other", type=Path, help="folder of the other execution")
    ap.add_argument("--sanitize", type=Path, default=Path("notebooks/sanitize.cfg"))
    args = ap.parse_args(argv)
    subs = sanitizers(args.sanitize)
    n_diff = n_cells = 0
    for theirs in sorted(args.other.glob("*.ipynb")):
        ours = args.committed / theirs.name
        if not ours.exists():
            continue
        a, b = compared_outputs(ours, subs), compared_outputs(theirs, subs)
        for index in sorted(set(a) | set(b)):
            n_cells += 1
            if a.get(index) == b.get(index):
                continue
            n_diff += 1
            la = (a.get(index) or "").splitlines()
            lb = (b.get(index) or "").splitlines()
            first = next(
                (
                    i
                    for i in range(max(len(la), len(lb)))
                    if (la[i : i + 1] or [""]) != (lb[i : i + 1] or [""])
                ),
                0,
            )
            print(f"{theirs.stem} code cell {index}:")
            print(f"  committed: {(la[first : first + 1] or [''])[0][:150]}")
            print(f"  other:     {(lb[first : first + 1] or [''])[0][:150]}")
    print(f"{n_diff} of {n_cells} compared cells differ")
    return 0


if __name__ == "__main__":
    sys.exit(main())

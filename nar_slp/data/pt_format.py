"""Reader and writer for Progressive-Transformers (PT) data folders.

A PT data folder holds, for each split (``train``, ``dev``, ``test``), parallel text
files with one sequence per line:

- ``{split}.skels``: all frames of a sequence joined by single spaces, no frame
  delimiter. A frame is F = 150 joint values (J = 50 joints x K = 3 coordinates, x y z)
  followed by one counter value ``i / T`` for frame i of T (in [0, 1)). Joint values
  are printed with 5 decimals, the counter with 4; the reader does not depend on either.
  Coordinates are read as stored (neck at the origin, y down, already divided by 3
  relative to the lifted skeletons): nothing is rescaled.
- ``{split}.text``: the spoken-language sentence.
- ``{split}.gloss``: the gloss sequence (optional; ``gloss == ""`` when absent).
- ``{split}.files``: the sequence name.

``read_split`` either returns every sequence of a split or raises
:class:`PTFormatError` naming the file and 1-based line; it never returns a partial
split. ``write_split`` validates everything first, then writes each file to a temporary
name and renames them into place, so a crash leaves no half-written file.

Round trip: ``read(write(x)) == round(x, 5)`` (to float32 precision) and
``write(read(write(x)))`` is byte-identical for coordinates with ``|x| < 64``, where a
float32 still resolves the fifth decimal.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nar_slp.skeleton import FRAME_SIZE, NUM_COORDS, NUM_JOINTS
from nar_slp.utils import staged_write_text

SPLITS = ("train", "dev", "test")

# Required parallel files (suffix -> SignSequence field); ".gloss" is optional.
REQUIRED_SUFFIXES = (".skels", ".text", ".files")
OPTIONAL_SUFFIXES = (".gloss",)

JOINT_DECIMALS = 5
COUNTER_DECIMALS = 4


class PTFormatError(ValueError):
    """A PT-format file is malformed; the message names the file and 1-based line."""


@dataclass
class SignSequence:
    """One sentence: its pose sequence and parallel annotations."""

    name: str
    text: str
    gloss: str  # "" when the folder has no .gloss file
    poses: np.ndarray  # (T, J, K) float32, PT coordinates (neck origin, y down)

    @property
    def n_frames(self) -> int:
        return int(self.poses.shape[0])


# --------------------------------------------------------------------------- reading


def _read_lines(path: Path) -> list[str]:
    """Lines of a UTF-8 file, split on "\\n" only, with "\\r" and trailing blanks kept.

    A final newline does not start an extra line. We split on "\\n" rather than using
    ``str.splitlines`` because the latter also breaks on characters (form feed, U+2028)
    that may legitimately appear inside a sentence.
    """
    data = path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):  # a UTF-8 byte-order mark (Windows editors)
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise PTFormatError(
            f"{path}:{line}: not valid UTF-8 (byte {exc.start}: {exc.reason})"
        ) from None
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [ln[:-1] if ln.endswith("\r") else ln for ln in lines]


def _locate_bad_token(line: str) -> tuple[int, str]:
    """(1-based index, token) of the first token numpy's parser rejects, or (0, "").

    Python's ``float`` is more lenient than numpy (it takes "1_000" and non-ASCII
    digits), so those are rejected here too.
    """
    for k, tok in enumerate(line.split(), start=1):
        try:
            float(tok)
        except ValueError:
            return k, tok
        if "_" in tok or not tok.isascii():
            return k, tok
    return 0, ""


def _parse_skels_line(
    line: str, path: Path, lineno: int, n_values: int, with_counter: bool
) -> np.ndarray:
    """One ``.skels`` line -> poses (T, J, K) float32 (the counter is dropped)."""
    where = f"{path}:{lineno}"
    if not line.strip():
        raise PTFormatError(f"{where}: empty sequence (a sequence needs >= 1 frame)")
    try:
        # numpy's C text parser: ~1.7x faster than np.array(line.split(), float).
        # comments=None: a stray "#" must be an error, not silently end the line.
        values = np.loadtxt(
            io.StringIO(line), dtype=np.float64, comments=None, ndmin=1
        )  # (T * n_values,)
    except ValueError as exc:
        k, tok = _locate_bad_token(line)
        if not k:
            raise PTFormatError(f"{where}: unparsable values ({exc})") from None
        frame, offset = divmod(k - 1, n_values)
        raise PTFormatError(
            f"{where}: non-numeric token {tok!r} (value {k}, frame {frame + 1}, "
            f"position {offset + 1} of {n_values})"
        ) from None
    if values.size % n_values:
        hint = ""
        other = FRAME_SIZE if with_counter else FRAME_SIZE + 1
        if values.size % other == 0:
            hint = (
                " (it is a multiple of "
                f"{other}: pass with_counter={not with_counter} if the frames "
                f"{'have no' if with_counter else 'have a'} counter)"
            )
        raise PTFormatError(
            f"{where}: {values.size} values is not a multiple of the frame size "
            f"{n_values} ({FRAME_SIZE} joint values"
            f"{' + 1 counter' if with_counter else ''}){hint}"
        )
    finite = np.isfinite(values)
    if not finite.all():
        k = int(np.argmin(finite))
        frame, offset = divmod(k, n_values)
        raise PTFormatError(
            f"{where}: non-finite value {line.split()[k]!r} (value {k + 1}, "
            f"frame {frame + 1}, position {offset + 1} of {n_values})"
        )
    frames = values.reshape(-1, n_values)[:, :FRAME_SIZE]  # (T, F)
    return frames.reshape(-1, NUM_JOINTS, NUM_COORDS).astype(np.float32)  # (T, J, K)


def split_files(folder: str | Path, split: str) -> dict[str, Path]:
    """The paths of a split's parallel files, keyed by suffix (".skels", ...)."""
    folder = Path(folder)
    return {s: folder / f"{split}{s}" for s in REQUIRED_SUFFIXES + OPTIONAL_SUFFIXES}


def available_splits(folder: str | Path) -> tuple[str, ...]:
    """Splits of ``folder`` whose ``.skels`` file exists: ``SPLITS`` order first,
    then any other split names alphabetically. Empty if the folder does not exist."""
    folder = Path(folder)
    if not folder.is_dir():
        return ()
    found = {p.name[: -len(".skels")] for p in folder.glob("*.skels") if p.is_file()}
    return tuple(s for s in SPLITS if s in found) + tuple(
        sorted(found.difference(SPLITS))
    )


def read_split(
    folder: str | Path, split: str, with_counter: bool = True
) -> list[SignSequence]:
    """Read one split of a PT data folder.

    Args:
        folder: the PT data folder.
        split: split name; files ``{split}.skels/.text/.files`` (+ optional ``.gloss``).
        with_counter: frames carry a 151st counter value (the public PT data does);
            ``False`` reads files with 150 values per frame.

    Returns:
        One :class:`SignSequence` per line, poses (T, 50, 3) float32 as stored.

    Raises:
        PTFormatError: a missing split or file, parallel files of different lengths,
            or a malformed ``.skels`` line (wrong value count, non-numeric token,
            NaN/inf, empty sequence); the message names the file and 1-based line.
    """
    folder = Path(folder)
    paths = split_files(folder, split)
    missing = [paths[s] for s in REQUIRED_SUFFIXES if not paths[s].is_file()]
    if missing:
        expected = ", ".join(paths[s].name for s in REQUIRED_SUFFIXES)
        have = ", ".join(available_splits(folder)) or "none"
        raise PTFormatError(
            f"split {split!r} not found in {folder}: missing "
            f"{', '.join(str(p) for p in missing)}. Expected files: {expected} "
            f"(+ optional {split}.gloss). Splits present: {have}"
        )
    columns = {s: _read_lines(p) for s, p in paths.items() if p.is_file()}
    n = len(columns[".skels"])
    for suffix, lines in columns.items():
        if len(lines) != n:
            short, long_ = (suffix, ".skels") if len(lines) < n else (".skels", suffix)
            first_orphan = min(len(lines), n) + 1
            raise PTFormatError(
                f"{paths[suffix]} has {len(lines)} lines but {paths['.skels']} has "
                f"{n}: line {first_orphan} of {paths[long_]} has no partner in "
                f"{paths[short]}"
            )
    n_values = FRAME_SIZE + 1 if with_counter else FRAME_SIZE
    skels_path = paths[".skels"]
    glosses = columns.get(".gloss", [""] * n)
    sequences = []
    for i, line in enumerate(columns[".skels"]):
        poses = _parse_skels_line(line, skels_path, i + 1, n_values, with_counter)
        sequences.append(
            SignSequence(
                name=columns[".files"][i].strip(),
                text=columns[".text"][i].strip(),
                gloss=glosses[i].strip(),
                poses=poses,
            )
        )
    return sequences


def read_folder(
    folder: str | Path, splits: Iterable[str] = SPLITS, with_counter: bool = True
) -> dict[str, list[SignSequence]]:
    """Read several splits of a PT data folder: ``{split: read_split(...)}``.

    Raises :class:`PTFormatError` (naming the expected files) if a split is missing.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise PTFormatError(f"PT data folder {folder} does not exist")
    return {s: read_split(folder, s, with_counter=with_counter) for s in splits}


# --------------------------------------------------------------------------- writing


def _check_sequence(seq: SignSequence, index: int) -> np.ndarray:
    """Validate one sequence for writing; returns its poses as float64 (T, F)."""
    label = f"sequence {index} (name {seq.name!r})"
    for field in ("name", "text", "gloss"):
        value = getattr(seq, field)
        if not isinstance(value, str):
            raise TypeError(f"{label}: {field} must be str, got {type(value).__name__}")
        if "\n" in value or "\r" in value:
            raise ValueError(
                f"{label}: {field} contains a newline, which would break the "
                "one-sequence-per-line PT format"
            )
    poses = np.asarray(seq.poses, dtype=np.float64)
    if poses.ndim != 3 or poses.shape[1:] != (NUM_JOINTS, NUM_COORDS):
        raise ValueError(
            f"{label}: poses must have shape (T, {NUM_JOINTS}, {NUM_COORDS}), "
            f"got {poses.shape}"
        )
    if poses.shape[0] == 0:
        raise ValueError(f"{label}: poses has 0 frames; a sequence needs >= 1 frame")
    if not np.isfinite(poses).all():
        raise ValueError(f"{label}: poses contain NaN or inf")
    return poses.reshape(poses.shape[0], FRAME_SIZE)  # (T, F)


def format_skels_line(poses: np.ndarray) -> str:
    """poses (T, F) or (T, J, K) -> one ``.skels`` line (with counters, no newline)."""
    flat = np.asarray(poses, dtype=np.float64).reshape(len(poses), FRAME_SIZE)
    t = flat.shape[0]
    counter = np.arange(t, dtype=np.float64) / t  # (T,) i / T, never reaches 1
    frames = np.concatenate([flat, counter[:, None]], axis=1)  # (T, F + 1)
    frame_fmt = " ".join(
        [f"%.{JOINT_DECIMALS}f"] * FRAME_SIZE + [f"%.{COUNTER_DECIMALS}f"]
    )
    # One %-format over the whole sequence: ~10x faster than per-value f-strings.
    return " ".join([frame_fmt] * t) % tuple(frames.ravel().tolist())


def write_split(
    folder: str | Path, split: str, sequences: Sequence[SignSequence]
) -> None:
    """Write one split as PT files ``{split}.skels/.text/.gloss/.files``.

    Joint values are printed with 5 decimals and the counter ``i / T`` with 4; text,
    gloss and name are written with surrounding whitespace stripped. Every
    sequence is validated before anything is written; each file goes to a temporary
    name in ``folder`` (created if needed) and all are renamed into place at the end.

    Raises:
        ValueError: a name/text/gloss containing a newline, poses not (T, 50, 3),
            an empty sequence, or non-finite poses; the message names the sequence.
    """
    folder = Path(folder)
    if not split or any(c in split for c in "/\\\n"):
        raise ValueError(f"invalid split name {split!r}")
    flats = [_check_sequence(seq, i) for i, seq in enumerate(sequences)]
    contents = {
        ".skels": [format_skels_line(f) for f in flats],
        # The reader strips surrounding whitespace, so the writer does too: that
        # keeps write(read(write(x))) byte-identical.
        ".text": [s.text.strip() for s in sequences],
        ".gloss": [s.gloss.strip() for s in sequences],
        ".files": [s.name.strip() for s in sequences],
    }
    folder.mkdir(parents=True, exist_ok=True)
    temps: dict[Path, Path] = {}
    try:
        for suffix, lines in contents.items():
            final = folder / f"{split}{suffix}"
            temps[final] = staged_write_text(final, "".join(x + "\n" for x in lines))
        for final, tmp in temps.items():
            os.replace(tmp, final)
    finally:
        for tmp in temps.values():
            tmp.unlink(missing_ok=True)

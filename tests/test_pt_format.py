"""PT-format reader and writer: fixture contents, round trips, every bad-input case."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nar_slp.data import pt_format
from nar_slp.data.pt_format import (
    SPLITS,
    PTFormatError,
    SignSequence,
    available_splits,
    read_folder,
    read_split,
    write_split,
)

FIXTURE = Path(__file__).parent / "data" / "pt_tiny"


def _fixture_value(seq: int, frame: int, joint: int, coord: int) -> float:
    """The formula tests/data/pt_tiny was written with (neck = 0)."""
    if joint == 1:
        return 0.0
    v = (joint + 1) * 0.01 + coord * 0.1 + frame * 0.001 + seq * 0.0001
    return v * (-1) ** joint


def _random_sequences(n: int = 4, seed: int = 0) -> list[SignSequence]:
    rng = np.random.default_rng(seed)
    return [
        SignSequence(
            name=f"train/seq_{i}",
            text=f"satz nummer {i} für den test",
            gloss=f"GLOSS{i} WETTER",
            poses=rng.normal(0.0, 0.3, (int(rng.integers(1, 7)), 50, 3)).astype(
                np.float32
            ),
        )
        for i in range(n)
    ]


def _write_lines(folder: Path, split: str, suffix: str, lines: list[str]) -> Path:
    path = folder / f"{split}{suffix}"
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def _valid_split(tmp_path: Path, n: int = 3) -> Path:
    write_split(tmp_path, "train", _random_sequences(n))
    return tmp_path


def _replace_skels_line(folder: Path, lineno: int, new: str) -> None:
    path = folder / "train.skels"
    lines = path.read_text().split("\n")[:-1]
    lines[lineno - 1] = new
    _write_lines(folder, "train", ".skels", lines)


# --------------------------------------------------------------------- the fixture


def test_fixture_reads_with_expected_contents():
    data = read_folder(FIXTURE)
    assert {s: len(v) for s, v in data.items()} == {"train": 3, "dev": 2, "test": 2}
    train = data["train"]
    assert [s.n_frames for s in train] == [3, 2, 4]
    assert train[0].name == "train/seq_00"
    assert train[0].text == "und nun die wettervorhersage für morgen"
    assert train[2].gloss == "WIND FRISCH"
    for s, seq in enumerate(train):
        assert seq.poses.dtype == np.float32
        assert seq.poses.shape == (seq.n_frames, 50, 3)
        expected = np.array(
            [
                [[_fixture_value(s, i, j, k) for k in range(3)] for j in range(50)]
                for i in range(seq.n_frames)
            ]
        )
        # counter dropped, no rescaling: values exactly as printed
        np.testing.assert_allclose(seq.poses, expected, atol=1e-6)
    np.testing.assert_allclose(train[2].poses[3, 4], [0.0532, 0.1532, 0.2532], 1e-6)
    assert np.all(train[1].poses[:, 1] == 0.0)


def test_available_splits_lists_present_splits_in_order(tmp_path):
    assert available_splits(FIXTURE) == SPLITS
    assert available_splits(tmp_path / "nope") == ()
    write_split(tmp_path, "test", _random_sequences(1))
    write_split(tmp_path, "extra", _random_sequences(1))
    write_split(tmp_path, "train", _random_sequences(1))
    assert available_splits(tmp_path) == ("train", "test", "extra")


def test_read_folder_selected_splits():
    data = read_folder(FIXTURE, splits=("dev",))
    assert list(data) == ["dev"]
    assert [s.name for s in data["dev"]] == ["dev/seq_00", "dev/seq_01"]


# --------------------------------------------------------------------- reading variants


def test_missing_gloss_file_gives_empty_gloss(tmp_path):
    _valid_split(tmp_path)
    (tmp_path / "train.gloss").unlink()
    seqs = read_split(tmp_path, "train")
    assert [s.gloss for s in seqs] == ["", "", ""]
    assert seqs[1].text == "satz nummer 1 für den test"


def test_reads_frames_without_counter(tmp_path):
    poses = np.arange(2 * 150, dtype=np.float64).reshape(2, 150) / 1000
    line = " ".join(f"{v:.5f}" for v in poses.ravel())
    _write_lines(tmp_path, "train", ".skels", [line])
    _write_lines(tmp_path, "train", ".text", ["a"])
    _write_lines(tmp_path, "train", ".files", ["n"])
    (seq,) = read_split(tmp_path, "train", with_counter=False)
    np.testing.assert_allclose(seq.poses.reshape(2, 150), poses, atol=1e-7)
    # with the default (counter expected) 300 values are not a whole number of frames
    with pytest.raises(PTFormatError, match="with_counter=False"):
        read_split(tmp_path, "train")


def test_crlf_bom_trailing_whitespace_and_other_decimal_counts(tmp_path):
    frame = [f"{0.1 * (v % 7):.3f}" for v in range(150)]  # 3 decimals
    line = " ".join(frame + ["0.000000"] + frame + ["0.500000"]) + " \t "
    (tmp_path / "train.skels").write_bytes((line + "\r\n").encode())
    (tmp_path / "train.text").write_bytes("\ufeffgrüße welt  \r\n".encode())
    (tmp_path / "train.gloss").write_bytes(b"HALLO\r\n")
    (tmp_path / "train.files").write_bytes(b"name_1\r\n")
    (seq,) = read_split(tmp_path, "train")
    assert (seq.text, seq.gloss, seq.name) == ("grüße welt", "HALLO", "name_1")
    assert seq.poses.shape == (2, 50, 3)
    np.testing.assert_allclose(seq.poses[1].ravel(), [float(v) for v in frame])


def test_no_final_newline_is_fine(tmp_path):
    _valid_split(tmp_path, n=2)
    for suffix in (".skels", ".text", ".gloss", ".files"):
        p = tmp_path / f"train{suffix}"
        p.write_text(p.read_text().rstrip("\n"))
    assert len(read_split(tmp_path, "train")) == 2


# --------------------------------------------------------------------- writing


def test_round_trip_exact_to_printed_decimals(tmp_path):
    seqs = _random_sequences(5)
    write_split(tmp_path / "a", "train", seqs)
    back = read_split(tmp_path / "a", "train")
    assert [(s.name, s.text, s.gloss) for s in back] == [
        (s.name, s.text, s.gloss) for s in seqs
    ]
    for s, b in zip(seqs, back, strict=True):
        np.testing.assert_allclose(
            b.poses, np.round(s.poses.astype(np.float64), 5), atol=1e-6, rtol=0
        )
    write_split(tmp_path / "b", "train", back)
    for suffix in (".skels", ".text", ".gloss", ".files"):
        a = (tmp_path / "a" / f"train{suffix}").read_bytes()
        assert a == (tmp_path / "b" / f"train{suffix}").read_bytes(), suffix


def test_written_format_matches_pt_convention(tmp_path):
    seq = SignSequence("n", "t", "g", np.full((4, 50, 3), 0.123456, np.float32))
    write_split(tmp_path, "dev", [seq])
    tokens = (tmp_path / "dev.skels").read_text().rstrip("\n").split(" ")
    assert len(tokens) == 4 * 151
    assert tokens[0] == "0.12346"  # 5 decimals
    counters = tokens[150::151]
    assert counters == ["0.0000", "0.2500", "0.5000", "0.7500"]  # i / T, 4 decimals


def test_fixture_survives_read_write_read(tmp_path):
    first = read_folder(FIXTURE)
    for split, seqs in first.items():
        write_split(tmp_path, split, seqs)
    second = read_folder(tmp_path)
    for split in SPLITS:
        for a, b in zip(first[split], second[split], strict=True):
            assert (a.name, a.text, a.gloss) == (b.name, b.text, b.gloss)
            np.testing.assert_array_equal(a.poses, b.poses)


def test_write_creates_nested_folder_and_leaves_no_temp_files(tmp_path):
    out = tmp_path / "x" / "y"
    write_split(out, "test", _random_sequences(2))
    assert sorted(p.name for p in out.iterdir()) == [
        "test.files",
        "test.gloss",
        "test.skels",
        "test.text",
    ]


@pytest.mark.parametrize("field", ["text", "gloss", "name"])
def test_write_rejects_newline_and_writes_nothing(tmp_path, field):
    seqs = _random_sequences(3)
    setattr(seqs[2], field, "zwei\nzeilen")
    with pytest.raises(ValueError, match=rf"sequence 2 .*{field} contains a newline"):
        write_split(tmp_path / "out", "train", seqs)
    assert not (tmp_path / "out").exists()


def test_write_rejects_bad_poses(tmp_path):
    seqs = _random_sequences(2)
    seqs[1].poses = np.zeros((3, 49, 3), np.float32)
    with pytest.raises(ValueError, match=r"sequence 1 .*\(T, 50, 3\)"):
        write_split(tmp_path, "train", seqs)
    seqs[1].poses = np.zeros((0, 50, 3), np.float32)
    with pytest.raises(ValueError, match="0 frames"):
        write_split(tmp_path, "train", seqs)
    seqs[1].poses = np.full((2, 50, 3), np.nan, np.float32)
    with pytest.raises(ValueError, match="NaN"):
        write_split(tmp_path, "train", seqs)


def test_crash_mid_write_keeps_previous_split(tmp_path, monkeypatch):
    write_split(tmp_path, "train", _random_sequences(2, seed=1))
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    real = pt_format.staged_write_text
    calls = []

    def flaky(path, text):
        calls.append(path)
        if len(calls) == 3:
            raise OSError("disk full")
        return real(path, text)

    monkeypatch.setattr(pt_format, "staged_write_text", flaky)
    with pytest.raises(OSError, match="disk full"):
        write_split(tmp_path, "train", _random_sequences(5, seed=2))
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert after == before  # old split intact, no temp files left


# --------------------------------------------------------------------- bad input


def _assert_names(exc: pytest.ExceptionInfo, filename: str, lineno: int) -> None:
    msg = str(exc.value)
    assert filename in msg, msg
    assert f":{lineno}:" in msg or f"line {lineno}" in msg, msg


def test_bad_value_count(tmp_path):
    _valid_split(tmp_path)
    line = (tmp_path / "train.skels").read_text().split("\n")[1]
    _replace_skels_line(tmp_path, 2, line + " 0.5")
    with pytest.raises(
        PTFormatError, match="not a multiple of the frame size 151"
    ) as e:
        read_split(tmp_path, "train")
    _assert_names(e, "train.skels", 2)


@pytest.mark.parametrize("bad", ["0,25", "abc", "#", "1_000", "١٢"])
def test_bad_non_numeric_token(tmp_path, bad):
    _valid_split(tmp_path)
    tokens = (tmp_path / "train.skels").read_text().split("\n")[2].split(" ")
    tokens[151 + 4] = bad
    _replace_skels_line(tmp_path, 3, " ".join(tokens))
    expected = rf"non-numeric token '{bad}' \(value 156, frame 2, position 5 of 151"
    with pytest.raises(PTFormatError, match=expected) as e:
        read_split(tmp_path, "train")
    _assert_names(e, "train.skels", 3)


@pytest.mark.parametrize("bad", ["nan", "inf", "-Infinity"])
def test_bad_non_finite_value(tmp_path, bad):
    _valid_split(tmp_path)
    tokens = (tmp_path / "train.skels").read_text().split("\n")[0].split(" ")
    tokens[7] = bad
    _replace_skels_line(tmp_path, 1, " ".join(tokens))
    with pytest.raises(
        PTFormatError, match=rf"non-finite value '{bad}' \(value 8"
    ) as e:
        read_split(tmp_path, "train")
    _assert_names(e, "train.skels", 1)


@pytest.mark.parametrize("blank", ["", "   "])
def test_bad_empty_sequence(tmp_path, blank):
    _valid_split(tmp_path)
    _replace_skels_line(tmp_path, 2, blank)
    with pytest.raises(PTFormatError, match="empty sequence") as e:
        read_split(tmp_path, "train")
    _assert_names(e, "train.skels", 2)


@pytest.mark.parametrize("suffix", [".text", ".gloss", ".files"])
def test_bad_parallel_line_counts(tmp_path, suffix):
    _valid_split(tmp_path)
    path = tmp_path / f"train{suffix}"
    lines = path.read_text().split("\n")[:-1]
    _write_lines(tmp_path, "train", suffix, lines[:-1])
    with pytest.raises(PTFormatError, match="has 2 lines but") as e:
        read_split(tmp_path, "train")
    _assert_names(e, f"train{suffix}", 3)
    assert "train.skels" in str(e.value)


def test_bad_parallel_file_longer_than_skels(tmp_path):
    _valid_split(tmp_path)
    path = tmp_path / "train.text"
    path.write_text(path.read_text() + "ein satz zu viel\n")
    with pytest.raises(
        PTFormatError, match="line 4 of .*train.text has no partner"
    ) as e:
        read_split(tmp_path, "train")
    _assert_names(e, "train.text", 4)


def test_bad_missing_split_names_expected_files(tmp_path):
    _valid_split(tmp_path)
    with pytest.raises(PTFormatError) as e:
        read_split(tmp_path, "dev")
    msg = str(e.value)
    for name in ("dev.skels", "dev.text", "dev.files", "dev.gloss"):
        assert name in msg, msg
    assert "Splits present: train" in msg
    with pytest.raises(PTFormatError, match="dev.skels"):
        read_folder(tmp_path)  # asks for train, dev and test


def test_bad_missing_required_parallel_file(tmp_path):
    _valid_split(tmp_path)
    (tmp_path / "train.files").unlink()
    with pytest.raises(PTFormatError, match=r"missing .*train\.files"):
        read_split(tmp_path, "train")


def test_bad_missing_folder(tmp_path):
    with pytest.raises(PTFormatError, match="does not exist"):
        read_folder(tmp_path / "nowhere")


def test_bad_utf8(tmp_path):
    _valid_split(tmp_path)
    (tmp_path / "train.text").write_bytes(b"ok\nalso ok\nbad \xff byte\n")
    with pytest.raises(PTFormatError, match="not valid UTF-8") as e:
        read_split(tmp_path, "train")
    _assert_names(e, "train.text", 3)

"""Fig. 3 inputs and Fig. 4 (nar_slp.visualisation.figures)."""

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from nar_slp.data.pt_format import SignSequence, write_split  # noqa: E402
from nar_slp.visualisation.figures import (  # noqa: E402
    bins_from_table2,
    figure_systems,
    output_folder,
    plot_fgd_by_length,
)


def _bins(fgds: dict[str, float]) -> dict:
    out = {}
    for label, fgd in fgds.items():
        start, stop = (
            (0, int(label[1:])) if label[0] == "~" else map(int, label.split("-"))
        )
        out[label] = {"fgd": fgd, "start": start, "stop": stop}
    return out


def test_fig4_skips_nan_bins_and_excluded_systems():
    bins = {
        "GT": _bins({"0-50": 0.0, "~20": 0.0}),
        "A": _bins(
            {"0-50": 10.0, "50-100": math.nan, "100-150": 30.0, "~20": 5.0, "~40": 6.0}
        ),
        "B": _bins({"0-50": math.nan, "~20": math.nan}),  # nothing scored: no line
    }
    fig = plot_fgd_by_length(bins)
    ax_int, ax_pre = fig.axes
    assert [line.get_label() for line in ax_int.lines] == ["A"]
    np.testing.assert_array_equal(ax_int.lines[0].get_xdata(), [25.0, 125.0])
    np.testing.assert_array_equal(ax_int.lines[0].get_ydata(), [10.0, 30.0])
    np.testing.assert_array_equal(ax_pre.lines[0].get_xdata(), [20.0, 40.0])
    assert ax_pre.lines[0].get_color() == ax_int.lines[0].get_color()
    assert ax_int.get_yscale() == "log"
    plt.close(fig)


def test_table2_csv_round_trip(tmp_path):
    path = tmp_path / "table2.csv"
    path.write_text(
        "group,system,0-50,50-100,~20\nBounds,Mean,300.5,,400.0\nOther,GT,0.0,0.0,0.0\n"
    )
    bins = bins_from_table2(path)
    assert list(bins) == ["Mean", "GT"]
    assert bins["Mean"]["0-50"] == {"fgd": 300.5, "start": 0, "stop": 50}
    assert math.isnan(bins["Mean"]["50-100"]["fgd"])
    assert bins["Mean"]["~20"]["start"] == 0 and bins["Mean"]["~20"]["stop"] == 20
    fig = plot_fgd_by_length(bins)
    assert [line.get_label() for line in fig.axes[0].lines] == ["Mean"]
    plt.close(fig)


def _write(folder, n_seqs: int, frames: int, value: float):
    seqs = [
        SignSequence(
            f"s{i}", f"text {i}", "", np.full((frames + i, 50, 3), value, np.float32)
        )
        for i in range(n_seqs)
    ]
    write_split(folder, "test", seqs)


def test_figure_systems_seeded_and_old_layouts(tmp_path):
    run = tmp_path
    _write(run / "outputs" / "gt", 3, 5, 0.1)
    _write(run / "outputs" / "kd-seed0", 3, 7, 0.2)  # per-seed layout
    _write(run / "outputs" / "kd-seed1", 3, 9, 0.3)
    _write(run / "outputs" / "no_kd", 3, 4, 0.4)  # the layout before seeds
    assert output_folder(run, "kd").name == "kd-seed0"
    assert output_folder(run, "kd", seed=1).name == "kd-seed1"
    assert output_folder(run, "no_kd").name == "no_kd"
    assert output_folder(run, "pt_fpgn") is None
    found = figure_systems(run, [0, 2])
    assert list(found) == ["GT", "Ours (w/ KD)", "Ours (w/o KD)"]
    assert [len(p) for p in found["Ours (w/ KD)"]] == [7, 9]
    np.testing.assert_allclose(found["Ours (w/o KD)"][1], 0.4)
    with pytest.raises(IndexError):
        figure_systems(run, [5])


def test_every_keeps_every_kth_frame_at_real_speed(tmp_path):
    from PIL import Image

    from nar_slp.visualisation.animate import save_animation, side_by_side

    rng = np.random.default_rng(0)
    short, long_ = rng.normal(size=(4, 50, 3)), rng.normal(size=(9, 50, 3))
    anim = side_by_side([short, long_], ["A", "B"], hands="plain", dpi=30, every=2)
    assert sum(1 for _ in anim.new_frame_seq()) == 5  # frames 0, 2, 4, 6, 8
    anim.show_frame(4)  # source frame 8
    ax_a, ax_b = anim._fig.axes[:2]
    assert "9/9" in [t.get_text() for t in ax_b.texts]
    assert "end" in [t.get_text() for t in ax_a.texts]
    assert "(9 frames)" in ax_b.get_title()  # titles count the source frames
    path = save_animation(anim, tmp_path / "a.gif", close=True)
    with Image.open(path) as im:
        assert im.n_frames == 5
        assert im.info["duration"] == 80  # 12.5 fps: the signing keeps its speed

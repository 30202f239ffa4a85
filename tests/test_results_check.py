"""The results check: tolerances measured from floating-point runs; within passes,
beyond fails, missing pieces reported."""

import pytest

from nar_slp.results_check import check_results, main, write_tolerances
from nar_slp.results_compare import (
    EXACT,
    FACTOR,
    ResultsMismatchError,
    compare_results,
    tolerance_tables,
)
from nar_slp.results_table import ResultsTable

ROWS = [("Bounds", "GT"), ("Ours", "Ours (w/ KD)"), ("AR", "PT (Base)")]
ROWS_BY_SYSTEM = [(s, g) for g, s in ROWS]


def _write(folder, name, values, columns=("test FGD", "test BLEU-4")):
    table = ResultsTable(list(columns), ROWS)
    for system, vals in values.items():
        table.add_row(
            system, dict(ROWS_BY_SYSTEM)[system], dict(zip(columns, vals, strict=True))
        )
    folder.mkdir(parents=True, exist_ok=True)
    table.to_csv(folder / f"{name}.csv")


COMMITTED = {"GT": (0.0, 9.7), "Ours (w/ KD)": (34.8, 8.6), "PT (Base)": (50.0, 4.0)}


@pytest.fixture
def reference(tmp_path):
    """Committed tables whose tolerance was measured from one run at another thread
    count: Ours' FGD moved by 1e-4, PT's BLEU-4 by 0.1, nothing else."""
    ref = tmp_path / "ref"
    _write(ref, "table1", COMMITTED)
    _write(ref, "table1_se", {"GT": (0.0, 1.0), "Ours (w/ KD)": (2.0, 0.5)})
    measured = tmp_path / "threads1"
    _write(
        measured,
        "table1",
        {"GT": (0.0, 9.7), "Ours (w/ KD)": (34.8001, 8.6), "PT (Base)": (50.0, 4.1)},
    )
    write_tolerances(ref, [measured])
    return ref


def test_tolerance_is_the_measured_difference_times_the_factor(reference):
    tol = ResultsTable.read_csv(reference / "table1_tol.csv")
    assert tol.get("Ours (w/ KD)", "test FGD") == pytest.approx(FACTOR * 1e-4)
    # PT's FGD did not move, but its column did: the column's relative difference
    rel = 1e-4 / 34.8
    assert tol.get("PT (Base)", "test FGD") == pytest.approx(FACTOR * rel * 50.0)
    assert tol.get("GT", "test FGD") == 0.0  # 0 stays exactly 0
    assert tol.get("PT (Base)", "test BLEU-4") == pytest.approx(FACTOR * 0.1)
    assert tol.get("GT", "test BLEU-4") == pytest.approx(FACTOR * 0.1 / 4.0 * 9.7)
    assert not (reference / "table1_se_tol.csv").exists()  # companions not measured


def test_identical_run_passes(reference):
    report = check_results(reference, reference)
    assert report.ok and report.n_cells == 6 and report.tables == ["table1"]
    assert report.n_exact == 1  # GT's FGD


def test_within_tolerance_passes_and_beyond_fails(reference, tmp_path):
    run = tmp_path / "run"
    inside = {**COMMITTED, "Ours (w/ KD)": (34.8 + 0.9 * FACTOR * 1e-4, 8.6)}
    _write(run, "table1", inside)
    assert compare_results(run, reference).ok
    outside = 34.8 + 1.1 * FACTOR * 1e-4
    _write(run, "table1", {**COMMITTED, "Ours (w/ KD)": (outside, 8.6)})
    report = compare_results(run, reference)
    (m,) = report.mismatches
    assert (m.table, m.system, m.column) == ("table1", "Ours (w/ KD)", "test FGD")
    for piece in ("table1", "Ours (w/ KD)", "test FGD", "34.8", f"{outside:.6g}"):
        assert piece in str(m)
    with pytest.raises(ResultsMismatchError, match="tolerance"):
        check_results(run, reference)


def test_a_cell_that_never_moved_is_exact(reference, tmp_path):
    run = tmp_path / "run"
    _write(run, "table1", {**COMMITTED, "GT": (10 * EXACT, 9.7)})
    (m,) = compare_results(run, reference).mismatches
    assert (m.system, m.column) == ("GT", "test FGD")


def test_missing_row_column_table_and_value_are_reported(reference, tmp_path):
    run = tmp_path / "run"
    _write(run, "table1", {"GT": (0.0,)}, columns=("test FGD",))
    reasons = {
        (m.system, m.column, m.reason)
        for m in compare_results(run, reference).mismatches
    }
    assert ("-", "test BLEU-4", "column missing from the run") in reasons
    assert ("Ours (w/ KD)", "test FGD", "value missing in the run") in reasons
    empty = tmp_path / "empty"
    empty.mkdir()
    (m,) = compare_results(empty, reference).mismatches
    assert "table missing from the run" in m.reason


def test_nothing_to_compare_is_an_error(tmp_path):
    ref = tmp_path / "ref"
    _write(ref, "table1", {"GT": (0.0, 9.7)})  # no table1_tol.csv
    with pytest.raises(ResultsMismatchError, match="nothing to compare"):
        compare_results(ref, ref)
    with pytest.raises(ResultsMismatchError, match="does not exist"):
        compare_results(ref, tmp_path / "nope")


def test_a_measured_run_must_be_complete(reference, tmp_path):
    partial = tmp_path / "partial"
    _write(partial, "table1", {"GT": (0.0, 9.7)})
    with pytest.raises(ResultsMismatchError, match="missing from a measured run"):
        tolerance_tables(reference, [partial])


def test_cli_exit_codes(reference, tmp_path, capsys):
    assert main(["check", str(reference), "--reference", str(reference)]) == 0
    run = tmp_path / "run"
    _write(run, "table1", {**COMMITTED, "Ours (w/ KD)": (80.0, 8.6)})
    assert main(["check", str(run), "--reference", str(reference)]) == 1
    assert "beyond tolerance" in capsys.readouterr().out
    assert main(["check", str(run), "--reference", str(tmp_path / "nope")]) == 2
    assert main(["tolerance", str(run), "--reference", str(reference)]) == 0
    assert compare_results(run, reference).ok  # measured from itself: it fits


def _claims(folder, verdicts):
    lines = ["name,effect,ci_low,ci_high,verdict,evidence"]
    lines += [f'"{name}",1.0,0.5,1.5,{v},"x"' for name, v in verdicts.items()]
    (folder / "claims.csv").write_text("\n".join(lines) + "\n")


def test_verdict_stability_is_reported_not_failed(reference, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "table1.csv").write_text((reference / "table1.csv").read_text())
    _claims(reference, {"KD beats no-KD, on FGD": "inconclusive", "a, b": "yes"})
    _claims(run, {"KD beats no-KD, on FGD": "yes", "a, b": "yes"})
    report = check_results(run, reference)
    assert report.ok
    assert report.verdicts == (2, [("KD beats no-KD, on FGD", "inconclusive", "yes")])
    text = report.summary()
    assert "claim verdicts: 1 of 2 as committed" in text
    assert "KD beats no-KD, on FGD: inconclusive -> yes" in text
    (run / "claims.csv").unlink()
    assert compare_results(run, reference).verdicts is None

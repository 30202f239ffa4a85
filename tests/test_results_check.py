"""The results check: within tolerance passes, beyond fails, missing pieces reported."""

import json
import math

import pytest

from nar_slp.results_check import check_results, leave_one_out, main
from nar_slp.results_compare import ResultsMismatchError, bonferroni_z, compare_results
from nar_slp.results_spread import run_spread, write_spread
from nar_slp.results_table import ResultsTable

ROWS = [("Bounds", "GT"), ("Ours", "Ours (w/ KD)"), ("AR", "PT (Base)")]


def _write(folder, name, values, columns=("test FGD", "test BLEU-4")):
    table = ResultsTable(list(columns), ROWS)
    for system, vals in values.items():
        table.add_row(
            system, dict(ROWS_BY_SYSTEM)[system], dict(zip(columns, vals, strict=True))
        )
    folder.mkdir(parents=True, exist_ok=True)
    table.to_csv(folder / f"{name}.csv")


ROWS_BY_SYSTEM = [(s, g) for g, s in ROWS]


@pytest.fixture
def reference(tmp_path):
    ref = tmp_path / "ref"
    _write(ref, "table1", {"GT": (0.0, 9.7), "Ours (w/ KD)": (34.8, 8.6)})
    _write(ref, "table1_se", {"GT": (0.0, 1.0), "Ours (w/ KD)": (2.0, 0.5)})
    return ref


def _tol(se, n_cells=3):  # GT FGD has se 0 and is compared exactly
    return bonferroni_z(n_cells) * math.sqrt(2) * se


def test_bonferroni_z_grows_with_cells():
    assert bonferroni_z(1) == pytest.approx(1.95996, abs=1e-4)
    assert bonferroni_z(150) > 3.5 > bonferroni_z(10)


def test_identical_run_passes(reference, tmp_path):
    report = check_results(reference, reference)
    assert report.ok and report.n_cells == 4 and report.tables == ["table1"]


def test_within_tolerance_passes_and_beyond_fails(reference, tmp_path):
    run = tmp_path / "run"
    inside = 34.8 + 0.9 * _tol(2.0, 4)
    _write(run, "table1", {"GT": (0.0, 9.7), "Ours (w/ KD)": (inside, 8.6)})
    assert compare_results(run, reference).ok
    outside = 34.8 + 1.1 * _tol(2.0, 4)
    _write(run, "table1", {"GT": (0.0, 9.7), "Ours (w/ KD)": (outside, 8.6)})
    report = compare_results(run, reference)
    assert not report.ok
    (m,) = report.mismatches
    assert (m.table, m.system, m.column) == ("table1", "Ours (w/ KD)", "test FGD")
    text = str(m)
    for piece in ("table1", "Ours (w/ KD)", "test FGD", "34.8", f"{outside:.6g}"):
        assert piece in text
    with pytest.raises(ResultsMismatchError, match="tolerance"):
        check_results(run, reference)


def test_zero_se_cell_is_exact(reference, tmp_path):
    run = tmp_path / "run"
    _write(run, "table1", {"GT": (1e-6, 9.7), "Ours (w/ KD)": (34.8, 8.6)})
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
    _write(ref, "table1", {"GT": (0.0, 9.7)})  # no table1_se.csv
    with pytest.raises(ResultsMismatchError, match="nothing to compare"):
        compare_results(ref, ref)
    with pytest.raises(ResultsMismatchError, match="does not exist"):
        compare_results(ref, tmp_path / "nope")


def test_cli_exit_codes(reference, tmp_path, capsys):
    assert main(["check", str(reference), "--reference", str(reference)]) == 0
    run = tmp_path / "run"
    _write(run, "table1", {"GT": (0.0, 9.7), "Ours (w/ KD)": (80.0, 8.6)})
    assert main(["check", str(run), "--reference", str(reference)]) == 1
    assert "beyond tolerance" in capsys.readouterr().out
    assert main(["check", str(run), "--reference", str(tmp_path / "nope")]) == 2


def test_run_spread_widens_the_tolerance(reference, tmp_path):
    runs = []
    for i, fgd in enumerate((34.8, 40.8, 28.8)):  # sample sd 6.0
        run = tmp_path / f"run{i}"
        _write(run, "table1", {"GT": (0.0, 9.7), "Ours (w/ KD)": (fgd, 8.6)})
        runs.append(run)
    spread = run_spread(runs, reference)["table1"]
    assert spread.get("Ours (w/ KD)", "test FGD") == pytest.approx(6.0)
    assert spread.get("GT", "test FGD") == 0.0
    new = tmp_path / "new"
    far = 34.8 + 1.5 * _tol(2.0, 4)  # beyond the bootstrap-only tolerance
    _write(new, "table1", {"GT": (0.0, 9.7), "Ours (w/ KD)": (far, 8.6)})
    assert not compare_results(new, reference).ok
    assert compare_results(new, reference).no_spread == ["table1"]
    spread.to_csv(reference / "table1_spread.csv")
    report = compare_results(new, reference)
    assert report.ok and report.no_spread == []  # sqrt(2^2 + 6^2) x z x sqrt(2)
    beyond = 34.8 + 1.1 * _tol(math.hypot(2.0, 6.0), 4)
    _write(new, "table1", {"GT": (0.0, 9.7), "Ours (w/ KD)": (beyond, 8.6)})
    assert not compare_results(new, reference).ok


def test_spread_cli(reference, tmp_path):
    runs = []
    for i in range(2):
        run = tmp_path / f"r{i}"
        _write(run, "table1", {"GT": (0.0, 9.7), "Ours (w/ KD)": (30.0 + i, 8.6)})
        runs.append(str(run))
    assert main(["spread", *runs, "--out", str(reference)]) == 0
    assert (reference / "table1_spread.csv").exists()
    # a spread file is not itself a table to compare
    assert compare_results(reference, reference).tables == ["table1"]
    assert main(["spread", runs[0], "--out", str(reference)]) == 2  # needs 2 runs


def _claims(folder, verdicts):
    lines = ["name,effect,ci_low,ci_high,verdict,evidence"]
    lines += [f'"{name}",1.0,0.5,1.5,{v},"x"' for name, v in verdicts.items()]
    (folder / "claims.csv").write_text("\n".join(lines) + "\n")


def test_verdict_stability_is_reported_not_failed(reference, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    for name in ("table1", "table1_se"):
        (run / f"{name}.csv").write_text((reference / f"{name}.csv").read_text())
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


def test_the_mean_poses_back_translation_is_reported_not_compared(tmp_path):
    ref, run = tmp_path / "ref", tmp_path / "run"
    cols = ["test FGD", "test BLEU-1"]

    def write(folder, name, rows):
        table = ResultsTable(cols)
        for system, vals in rows.items():
            table.add_row(system, "Bounds", dict(zip(cols, vals, strict=True)))
        folder.mkdir(parents=True, exist_ok=True)
        table.to_csv(folder / f"{name}.csv")

    write(ref, "table1", {"GT": (0.0, 48.5), "Mean": (606.0, 22.9)})
    write(ref, "table1_se", {"GT": (0.0, 1.0), "Mean": (7.0, 0.7)})
    write(run, "table1", {"GT": (0.0, 48.5), "Mean": (606.0, 8.4)})
    report = check_results(run, ref)
    assert report.ok and report.n_unstable == 1 and report.n_cells == 3
    assert "1 back-translation cells of the Mean pose" in report.summary()
    write(run, "table1", {"GT": (0.0, 48.5), "Mean": (900.0, 22.9)})
    assert not compare_results(run, ref).ok  # Mean's FGD is still compared


def _spread_runs(tmp_path, fgds):
    runs = []
    for i, fgd in enumerate(fgds):
        run = tmp_path / f"s{i}"
        _write(run, "table1", {"GT": (0.0, 9.7), "Ours (w/ KD)": (fgd, 8.6)})
        runs.append(run)
    return runs


def test_a_prior_measurement_is_pooled_by_degrees_of_freedom(reference, tmp_path):
    runs = _spread_runs(tmp_path, (34.8, 40.8, 28.8))  # sd 6.0, df 2
    prior = tmp_path / "prior"
    prior.mkdir()
    old = ResultsTable(["test FGD", "test BLEU-4"], ROWS)
    old.add_row("GT", "Bounds", {"test FGD": 0.0, "test BLEU-4": 0.3})
    old.add_row("Ours (w/ KD)", "Ours", {"test FGD": 3.0, "test BLEU-4": None})
    old.to_csv(prior / "table1_spread.csv")
    pooled = run_spread(runs, reference, prior=(prior, 4))["table1"]
    # (2 * 6^2 + 4 * 3^2) / 6
    assert pooled.get("Ours (w/ KD)", "test FGD") == pytest.approx(math.sqrt(18.0))
    # a cell the prior lacks keeps the runs' own sd (here 0: all runs agree)
    assert pooled.get("Ours (w/ KD)", "test BLEU-4") == 0.0
    assert pooled.get("GT", "test BLEU-4") == pytest.approx(math.sqrt(4 * 0.09 / 6))
    with pytest.raises(ValueError, match="prior df"):
        run_spread(runs, reference, prior=(prior, 0))
    with pytest.raises(ResultsMismatchError, match="prior"):
        run_spread(runs, reference, prior=(tmp_path / "none", 2))


def test_write_spread_records_what_it_rests_on(reference, tmp_path):
    runs = _spread_runs(tmp_path, (34.8, 40.8))
    record = json.loads(write_spread(runs, reference).read_text())
    assert record["k"] == 2 and record["df"] == 1 and record["tables"] == ["table1"]
    assert record["prior"] is None and len(record["runs"]) == 2
    assert (reference / "table1_spread.csv").exists()
    assert compare_results(reference, reference).tables == ["table1"]


def test_leave_one_out_holds_each_run_out_of_its_own_spread(reference, tmp_path):
    # two runs that agree with the reference, one far off: held out, the far one
    # fails (the others' spread is small); the others pass although the far run
    # widens their spread
    runs = _spread_runs(tmp_path, (35.0, 34.6, 90.0))
    results = dict(leave_one_out(runs, reference))
    assert [results[str(r)].ok for r in runs] == [True, True, False]
    assert not (reference / "table1_spread.csv").exists()  # reference untouched
    assert main(["validate", *map(str, runs), "--reference", str(reference)]) == 1
    assert main(["validate", *map(str, runs[:2]), "--reference", str(reference)]) == 0


def test_prior_argument_errors_name_the_problem(reference, tmp_path, capsys):
    runs = [str(r) for r in _spread_runs(tmp_path, (34.8, 40.8))]
    for bad in ("nofolder", f"{tmp_path}:0", f"{tmp_path}:x", f"{tmp_path}/none:2"):
        with pytest.raises(SystemExit) as err:
            main(["spread", *runs, "--out", str(reference), "--prior", bad])
        assert err.value.code == 2
        assert "--prior" in capsys.readouterr().err

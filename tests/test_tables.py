"""Result tables and claims (nar_slp/evaluation/tables.py)."""

from __future__ import annotations

import math

import pytest

from nar_slp.evaluation.claims import read_claims, write_claims
from nar_slp.evaluation.tables import build_table1, build_table2, build_table3
from nar_slp.evaluation.verdicts import Claim
from nar_slp.results_table import ResultsTable


def test_missing_row_is_shown_as_missing(tmp_path):
    table = ResultsTable(["FGD", "BLEU-4"], rows=[("Bounds", "GT"), ("AR", "PT")])
    table.add_row("GT", "Bounds", {"FGD": 0.0, "BLEU-4": 10.956})
    assert table.is_missing("PT") and math.isnan(table.get("PT", "FGD"))
    md = table.markdown()
    assert "| Bounds | GT | 0.00 | 10.96 |" in md
    assert "| AR | PT | — | — |" in md
    table.to_csv(tmp_path / "t.csv")
    lines = (tmp_path / "t.csv").read_text().splitlines()
    assert lines[0] == "group,system,FGD,BLEU-4" and lines[2] == "AR,PT,,"
    back = ResultsTable.read_csv(tmp_path / "t.csv")
    assert back.systems == ["GT", "PT"] and back.get("GT", "BLEU-4") == 10.956
    assert back.is_missing("PT")


def test_unknown_column_and_bad_csv_are_rejected(tmp_path):
    table = ResultsTable(["FGD"])
    with pytest.raises(KeyError, match="valid"):
        table.add_row("Ours", "NAR", {"BLEU": 1.0})
    (tmp_path / "bad.csv").write_text("group,system,FGD\nNAR,Ours,abc\n")
    with pytest.raises(ValueError, match="line 2"):
        ResultsTable.read_csv(tmp_path / "bad.csv")


def test_build_table1_places_results_and_keeps_declared_rows():
    metrics = {
        "FGD": 1.5,
        "BLEU-1": 30,
        "BLEU-2": 20,
        "BLEU-3": 15,
        "BLEU-4": 10,
        "ROUGE": 33,
        "signature": "nrefs:1",
    }
    table = build_table1({"Ours (w/ KD)": {"dev": metrics}, "Extra": {"test": metrics}})
    assert table.get("Ours (w/ KD)", "dev BLEU-4") == 10.0
    assert math.isnan(table.get("Ours (w/ KD)", "test FGD"))
    assert table.is_missing("PT (Base)") and table.systems[0] == "GT"
    assert table.group_of("Extra") == "Other" and table.systems[-1] == "Extra"
    assert len(table.columns) == 16  # FGD, KID, BLEU-1..4, ROUGE, DTW-MJE per split


def test_build_table2_and_3():
    t2 = build_table2(
        {"Ours (w/ KD)": {"0-50": {"fgd": 0.21, "n_generated": 4}, "~20": 0.09}}
    )
    assert (
        t2.get("Ours (w/ KD)", "0-50") == 0.21 and t2.get("Ours (w/ KD)", "~20") == 0.09
    )
    assert math.isnan(t2.get("Ours (w/ KD)", "150-200"))
    t3 = build_table3({"GT": {"dev": {"FGD": 0.0, "DurACC": 1.0}}}, part="b")
    assert t3.get("GT", "dev DurACC") == 1.0 and t3.is_missing("Ours (w/o BERT)")
    with pytest.raises(ValueError, match="part"):
        build_table3({}, part="c")


def test_claims_round_trip(tmp_path):
    claims = [
        Claim("KD lowers FGD", "1.2 -> 0.8 (dev)", "yes", 0.4, (0.1, 0.7)),
        Claim("NAR beats AR | long", "PT not run", "not tested"),
        Claim("BT above GT", "ours 10.1 < GT 12.3", "no", -2.2, (-3.0, -1.0)),
    ]
    write_claims(claims, tmp_path / "claims.csv", tmp_path / "claims.md")
    assert read_claims(tmp_path / "claims.csv") == claims
    md = (tmp_path / "claims.md").read_text()
    assert "| not tested |" in md and "\\|" in md
    assert [c.reproduced for c in claims] == [True, None, False]


def test_markdown_shows_seed_sd():
    t = build_table3({"Ours (w/ KD)": {"test": {"FGD": 12.0}}}, part="a")
    sd = build_table3({"Ours (w/ KD)": {"test": {"FGD": 2.0}}}, part="a")
    assert "12.00 ± 2.00" in t.markdown(sd)
    assert "±" not in t.markdown()

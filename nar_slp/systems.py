"""The systems of the paper's tables: one row name per system, and the run-folder keys
of the baselines (chapter 04) and their oracle-timing variants.

Every table, claim, figure and chapter names a system through these constants, so a
row is spelled in one place. The students' keys (``kd``, ``no_kd``, ``no_bert``) and
their training overrides are in :mod:`nar_slp.students`, which takes its row names
from here.
"""

from __future__ import annotations

GT, MEAN = "GT", "Mean"
# The paper's "Random" baseline returns a random *training* sequence: real signing of
# the wrong sentence. On this corpus its windows have real-data statistics, so on FGD
# it sits at the real-data floor (see the claims).
RANDOM = "Random (real motion, wrong sentence)"
# The real-vs-real floor: the ground truth of the other split scored against this
# split's ground truth — the FGD two independent samples of real signing get.
REAL_FLOOR = "Real vs real (GT of the other split)"
# The "perfect student": the teacher's latents of the ground truth decoded by the PGM.
# No student can beat it on FGD, since the student's poses pass through the same PGM.
PGM_FLOOR = "PGM (teacher latents)"
OURS_KD, OURS_NO_KD, OURS_NO_BERT = "Ours (w/ KD)", "Ours (w/o KD)", "Ours (w/o BERT)"
# The students of chapter 03: run-folder key (<run>/students/<key>/) -> row name.
# Their training overrides are :data:`nar_slp.students.STUDENT_VARIANTS`.
STUDENT_SYSTEMS: dict[str, str] = {
    "kd": OURS_KD,
    "no_kd": OURS_NO_KD,
    "no_bert": OURS_NO_BERT,
}
PT_BASE, PT_FPGN = "PT (Base)", "PT (FP&GN)"
NSLPG_ROWS = ("NSLP-G (Base)", "NSLP-G (GS)", "NSLP-G (Base +ft)", "NSLP-G (GS +ft)")
# The baselines of chapter 04: run-folder key (<run>/baselines/<key>/,
# <run>/outputs/<key>/) -> row name of the main (non-oracle) rows.
BASELINE_SYSTEMS: dict[str, str] = {
    "pt_base": PT_BASE,
    "pt_fpgn": PT_FPGN,
    "nslpg_base": NSLPG_ROWS[0],
    "nslpg_gs": NSLPG_ROWS[1],
    "nslpg_base_ft": NSLPG_ROWS[2],
    "nslpg_gs_ft": NSLPG_ROWS[3],
}
BASELINE_ROWS: tuple[str, ...] = tuple(BASELINE_SYSTEMS.values())
# Every key of :data:`nar_slp.registry.SYSTEMS`, in its order, without importing torch
# (``nar-slp --help`` lists them; a test keeps the two equal).
SYSTEM_KEYS: tuple[str, ...] = (*STUDENT_SYSTEMS, *BASELINE_SYSTEMS)
# Oracle variants, never in the main rows: PT with the ground-truth first frame,
# counter and length (how the public PT code evaluates); NSLP-G with ground-truth
# lengths (the original NSLP-G setting).
ORACLE_SUFFIX = "_oracle"
ORACLE_SYSTEMS: dict[str, str] = {
    key + ORACLE_SUFFIX: row
    + (" [oracle timing]" if key.startswith("pt_") else " [GT length]")
    for key, row in BASELINE_SYSTEMS.items()
}

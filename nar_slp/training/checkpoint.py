"""Moved to :mod:`nar_slp.checkpoints` (checkpoint I/O is used by training *and*
evaluation, so it lives outside ``nar_slp.training``).

This name stays an alias of that very module (not a copy), so
``from nar_slp.training.checkpoint import save_checkpoint`` keeps working and a
monkeypatch through either name patches the one implementation.
"""

import sys

import nar_slp.checkpoints as _checkpoints

sys.modules[__name__] = _checkpoints

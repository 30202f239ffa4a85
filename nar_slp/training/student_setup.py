"""Setting up a student run (§3.4) before its first epoch.

- :func:`check_run_arguments`: the input kind and the ``student`` settings that
  :func:`~nar_slp.training.student_trainer.train_student` refuses before it builds
  anything;
- :func:`param_groups`: AdamW's parameter groups (a trained text encoder may have
  its own rate);
- :func:`compile_decoder`: ``torch.compile`` of the NAR decoder
  (``student.compile``);
- :func:`load_resume_state`: the last-epoch checkpoint of an interrupted run, checked
  against this run (architecture, trained parameters, VAE, input kind) and loaded
  into the model, optimizer and fp16 scaler.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from nar_slp.checkpoints import check_compatible, load_checkpoint
from nar_slp.config import Config
from nar_slp.models.student import ARCH_KEYS, TextToLatentStudent, check_student_extra
from nar_slp.schedules import SCHEDULES

INPUT_KINDS = ("text", "gloss")

# To resume, the architecture (ARCH_KEYS) and the set of trained parameters must
# match.
RESUME_KEYS = [*ARCH_KEYS, "student.finetune_encoder"]

COMPILE_OFF = "no"


def check_run_arguments(cfg: Config, input_kind: str) -> None:
    """Refuse an unknown ``input_kind``, ``student.compile`` backend or
    ``student.train.schedule``, and ``student.pad_to_multiple`` < 1."""
    if input_kind not in INPUT_KINDS:
        raise ValueError(f"input_kind={input_kind!r}; valid: {', '.join(INPUT_KINDS)}")
    scfg = cfg.student
    check_compile_backend(scfg.compile)
    if scfg.pad_to_multiple < 1:
        raise ValueError(f"student.pad_to_multiple={scfg.pad_to_multiple} must be >= 1")
    if scfg.train.schedule not in SCHEDULES:
        raise ValueError(
            f"student.train.schedule={scfg.train.schedule!r}; "
            f"valid: {', '.join(SCHEDULES)}"
        )


def compile_decoder(model: Any, backend: str) -> None:
    """``torch.compile`` the student's NAR decoder in place with ``backend``
    (``StudentConfig.compile``; ``"no"`` leaves it eager). ``dynamic=False``: with
    ``pad_to_multiple > 1`` the decoder sees a bounded set of shapes, one graph each.
    In place (``nn.Module.compile``), so the state dict keeps its names and
    checkpoints load with or without it."""
    check_compile_backend(backend)
    if backend != COMPILE_OFF:
        model.decoder.compile(backend=backend, dynamic=False)


def check_compile_backend(backend: str) -> None:
    """Refuse a ``student.compile`` value that is neither "no" nor a backend."""
    if backend == COMPILE_OFF:
        return
    if not isinstance(backend, str) or backend not in torch._dynamo.list_backends(
        exclude_tags=()
    ):
        raise ValueError(
            f"student.compile={backend!r} is not a torch.compile backend; use 'no', "
            "'inductor' or another name of torch._dynamo.list_backends()"
        )


def param_groups(
    model: TextToLatentStudent, lr: float, encoder_lr: float
) -> list[dict[str, Any]]:
    """AdamW parameter groups: a trained text encoder (scratch or fine-tuned) at
    ``encoder_lr`` (0 = ``lr``), everything else at ``lr``. One group when the encoder
    is frozen or shares the rate, so such runs' optimizer state keeps its layout."""
    encoder = [p for p in model.encoder.parameters() if p.requires_grad]
    if not encoder or encoder_lr <= 0 or encoder_lr == lr:
        return [{"params": [p for p in model.parameters() if p.requires_grad]}]
    ids = {id(p) for p in encoder}
    rest = [p for p in model.parameters() if p.requires_grad and id(p) not in ids]
    return [{"params": rest}, {"params": encoder, "lr": encoder_lr}]


def load_resume_state(
    out_dir: Path,
    cfg: Config,
    model: TextToLatentStudent,
    optimizer: torch.optim.Optimizer,
    scaler: torch.amp.GradScaler,
    n_values: int | None,
    input_kind: str,
) -> tuple[int, list[dict[str, Any]]]:
    """Load the last-epoch checkpoint in ``out_dir`` into ``model``, ``optimizer``
    and ``scaler``; returns the epochs it trained and its history.

    Raises:
        ValueError: it was trained with another architecture (:data:`RESUME_KEYS`),
            VAE (``n_values``) or input kind.
    """
    ckpt = load_checkpoint(out_dir, device="cpu")
    if "installed_from" in ckpt.extra:
        raise ValueError(
            f"{out_dir} holds shipped weights (nar_slp.weights), not a training run to "
            "resume: train with resume=False, or in another run folder"
        )
    check_compatible(ckpt.config, cfg.to_dict(), RESUME_KEYS, out_dir)
    check_student_extra(ckpt.extra, out_dir, n_values=n_values, input_kind=input_kind)
    model.load_state_dict(ckpt.state_dict)
    if ckpt.optimizer_state is not None:
        optimizer.load_state_dict(ckpt.optimizer_state)
    if ckpt.extra.get("scaler"):
        scaler.load_state_dict(ckpt.extra["scaler"])
    return int(ckpt.extra.get("epoch", 0)), list(ckpt.extra.get("history", []))

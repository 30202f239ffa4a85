"""Checkpoints without pickle: safetensors for tensors, JSON for everything else.

A checkpoint is a folder::

    <directory>/
        model.safetensors       the module's state dict (CPU, contiguous tensors)
        optimizer.safetensors   optional: every tensor of the optimizer's state dict
        config.json             config + extra (+ the optimizer's non-tensor structure)

Optimizer state dicts (``{"state": {param_id: {...}}, "param_groups": [...]}``) are
flattened: every tensor goes to ``optimizer.safetensors`` under a path-like key and is
replaced in the JSON tree by a reference; tuples and int-keyed dicts are tagged so that
the round trip gives back exactly what ``optimizer.state_dict()`` returned. This
module writes and reads the folder, and checks a saved config against the one asked
for.

Writes are atomic: each file is written to a temporary file in the same folder and
moved into place with ``os.replace``; ``config.json`` goes last, so a reader never
sees a half-written checkpoint. Each save draws a random ``save_id`` that is stored in
the safetensors metadata and in ``config.json``; if a crash leaves new tensors next to
an old ``config.json`` (or the reverse) loading says so instead of mixing them.
"""

from __future__ import annotations

import json
import os
import tempfile
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, safe_open, save_file

from nar_slp.utils import atomic_write_text

MODEL_FILE = "model.safetensors"
OPTIMIZER_FILE = "optimizer.safetensors"
CONFIG_FILE = "config.json"
FORMAT = "nar-slp-checkpoint"
FORMAT_VERSION = 1

# Tags of the JSON encoding of optimizer state (see _encode / _decode).
_TENSOR, _TUPLE, _ITEMS = "__tensor__", "__tuple__", "__items__"


class CheckpointError(ValueError):
    """A checkpoint file exists but cannot be read (corrupt, truncated, mismatched)."""


# ------------------------------------------------------------- optimizer (no pickle)


def _encode(obj: Any, key: str, tensors: dict[str, torch.Tensor]) -> Any:
    """JSON-able tree of ``obj``; tensors are moved into ``tensors`` under ``key``."""
    if isinstance(obj, torch.Tensor):
        while key in tensors:  # keys holding dots could collide with nested paths
            key += "_"
        tensors[key] = obj.detach().to("cpu").contiguous().clone()
        return {_TENSOR: key}
    if isinstance(obj, Mapping):
        if all(isinstance(k, str) for k in obj) and not {_TENSOR, _TUPLE, _ITEMS} & set(
            obj
        ):
            return {k: _encode(v, f"{key}.{k}", tensors) for k, v in obj.items()}
        # Optimizer state is keyed by int parameter ids; JSON keys would become str.
        items = []
        for k, v in obj.items():
            if not isinstance(k, (str, int, float, bool)) and k is not None:
                raise TypeError(f"optimizer state key {k!r} at {key} is not JSON-able")
            items.append([k, _encode(v, f"{key}.{k}", tensors)])
        return {_ITEMS: items}
    if isinstance(obj, tuple):
        return {_TUPLE: [_encode(v, f"{key}.{i}", tensors) for i, v in enumerate(obj)]}
    if isinstance(obj, list):
        return [_encode(v, f"{key}.{i}", tensors) for i, v in enumerate(obj)]
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TypeError(
        f"optimizer state value at {key} has type {type(obj).__name__}, which cannot "
        "be stored without pickle"
    )


def _decode(tree: Any, tensors: Mapping[str, torch.Tensor]) -> Any:
    if isinstance(tree, dict):
        if set(tree) == {_TENSOR}:
            name = tree[_TENSOR]
            if name not in tensors:
                raise CheckpointError(f"optimizer tensor {name!r} is missing")
            return tensors[name]
        if set(tree) == {_TUPLE}:
            return tuple(_decode(v, tensors) for v in tree[_TUPLE])
        if set(tree) == {_ITEMS}:
            return {k: _decode(v, tensors) for k, v in tree[_ITEMS]}
        return {k: _decode(v, tensors) for k, v in tree.items()}
    if isinstance(tree, list):
        return [_decode(v, tensors) for v in tree]
    return tree


def flatten_optimizer_state(
    state: Mapping[str, Any],
) -> tuple[dict[str, torch.Tensor], Any]:
    """Split ``optimizer.state_dict()`` into (tensors by key, JSON-able tree)."""
    tensors: dict[str, torch.Tensor] = {}
    tree = _encode(state, "opt", tensors)
    return tensors, tree


def unflatten_optimizer_state(
    tensors: Mapping[str, torch.Tensor], tree: Any
) -> dict[str, Any]:
    """Inverse of :func:`flatten_optimizer_state`: a dict for ``load_state_dict``."""
    return _decode(tree, tensors)


_TMP_PREFIX = ".tmp-"


@dataclass
class Checkpoint:
    """What :func:`load_checkpoint` returns.

    Unpacks like the 3-tuple of the shared interface:
    ``state_dict, config, extra = load_checkpoint(path)``.
    """

    state_dict: dict[str, torch.Tensor]
    config: dict[str, Any]
    extra: dict[str, Any] = field(default_factory=dict)
    optimizer_state: dict[str, Any] | None = None
    directory: Path | None = None

    def __iter__(self):
        return iter((self.state_dict, self.config, self.extra))


# --------------------------------------------------------------------------- writing


def _tmp_path(directory: Path, name: str) -> Path:
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f"{_TMP_PREFIX}{name}.")
    os.close(fd)
    return Path(tmp)


def _fsync(path: Path) -> None:
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


def atomic_write_json(path: str | Path, obj: Any) -> None:
    """Serialise ``obj`` (before touching the disk) and write it atomically."""
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")


def _state_dict_of(module_or_state_dict: Any) -> dict[str, torch.Tensor]:
    if isinstance(module_or_state_dict, torch.nn.Module):
        state = module_or_state_dict.state_dict()
    elif isinstance(module_or_state_dict, Mapping):
        state = dict(module_or_state_dict)
    else:
        raise TypeError(
            "module_or_state_dict must be an nn.Module or a mapping name -> tensor, "
            f"got {type(module_or_state_dict).__name__}"
        )
    out: dict[str, torch.Tensor] = {}
    for name, value in state.items():
        if not isinstance(value, torch.Tensor):
            raise TypeError(
                f"state dict entry {name!r} is a {type(value).__name__}, not a tensor; "
                "put non-tensor values in `config` or `extra`"
            )
        # clone(): safetensors refuses tensors that share storage (tied weights).
        out[name] = value.detach().to("cpu").contiguous().clone()
    return out


def save_checkpoint(
    directory: str | Path,
    module_or_state_dict: torch.nn.Module | Mapping[str, torch.Tensor],
    config: dict[str, Any],
    extra: dict[str, Any] | None = None,
    optimizer_state: dict[str, Any] | None = None,
) -> Path:
    """Write a checkpoint folder atomically (see the module docstring); returns it.

    Args:
        directory: the checkpoint folder (created if needed; files in it are replaced).
        module_or_state_dict: an ``nn.Module`` or its state dict (tensors only).
        config: JSON-serialisable description needed to rebuild the model.
        extra: JSON-serialisable bookkeeping (epoch, history, metrics...).
        optimizer_state: ``optimizer.state_dict()``; its tensors go to
            ``optimizer.safetensors``, the rest to ``config.json``. No pickle.
    """
    directory = Path(directory)
    if not isinstance(config, Mapping):
        raise TypeError(f"config must be a dict, got {type(config).__name__}")
    tensors = _state_dict_of(module_or_state_dict)
    save_id = uuid.uuid4().hex
    meta: dict[str, Any] = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "save_id": save_id,
        "config": dict(config),
        "extra": dict(extra or {}),
        "optimizer": None,
        # safetensors stores tensors sorted by name; this restores the module's order.
        "state_keys": list(tensors),
    }
    opt_tensors: dict[str, torch.Tensor] = {}
    if optimizer_state is not None:
        opt_tensors, meta["optimizer"] = flatten_optimizer_state(optimizer_state)
    # Serialise first: a non-JSON value fails here, before any file is touched.
    try:
        # Insertion order is kept (no sort_keys) so that loaded dicts iterate as saved.
        config_text = json.dumps(meta, indent=2) + "\n"
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"checkpoint {directory}: config/extra must be JSON-serialisable ({err})"
        ) from err

    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    try:
        payloads = [(MODEL_FILE, tensors)]
        if optimizer_state is not None:
            payloads.append((OPTIMIZER_FILE, opt_tensors))
        for name, payload in payloads:
            tmp = _tmp_path(directory, name)
            written.append(tmp)
            save_file(payload, str(tmp), metadata={"save_id": save_id})
            _fsync(tmp)
            os.replace(tmp, directory / name)
        atomic_write_text(directory / CONFIG_FILE, config_text)  # last: commits
    finally:
        for tmp in written:
            tmp.unlink(missing_ok=True)
    if optimizer_state is None:
        # A stale optimizer file from an earlier save would not match this save_id.
        (directory / OPTIMIZER_FILE).unlink(missing_ok=True)
    return directory


# --------------------------------------------------------------------------- reading


def _read_tensors(path: Path, save_id: str | None, device: str | torch.device):
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint file {path} does not exist")
    try:
        with safe_open(str(path), framework="pt") as fh:
            file_id = (fh.metadata() or {}).get("save_id")
        tensors = load_file(str(path), device=str(device))
    except (SafetensorError, OSError, RuntimeError) as err:
        raise CheckpointError(
            f"checkpoint file {path} is corrupt or not a safetensors file: {err}"
        ) from err
    if save_id is not None and file_id != save_id:
        raise CheckpointError(
            f"checkpoint file {path} does not belong to {path.parent / CONFIG_FILE} "
            f"(save_id {file_id} vs {save_id}): the checkpoint was half-written; "
            "retrain or restore it"
        )
    return tensors


def _read_meta(directory: Path) -> dict[str, Any]:
    if not directory.exists():
        raise FileNotFoundError(f"checkpoint directory {directory} does not exist")
    if not directory.is_dir():
        raise NotADirectoryError(f"checkpoint path {directory} is not a directory")
    path = directory / CONFIG_FILE
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint file {path} does not exist")
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise CheckpointError(
            f"checkpoint file {path} is not valid JSON (line {err.lineno}, "
            f"column {err.colno}: {err.msg})"
        ) from err
    except UnicodeDecodeError as err:
        raise CheckpointError(f"checkpoint file {path} is not UTF-8 text") from err
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(
            f"checkpoint file {path} is not a nar-slp checkpoint "
            f"(expected a JSON object with format={FORMAT!r})"
        )
    if meta.get("version") != FORMAT_VERSION:
        raise CheckpointError(
            f"checkpoint file {path} has format version {meta.get('version')!r}; "
            f"this code reads version {FORMAT_VERSION}"
        )
    return meta


def load_checkpoint(
    directory: str | Path,
    device: str | torch.device = "cpu",
    with_optimizer: bool = True,
) -> Checkpoint:
    """Read a checkpoint written by :func:`save_checkpoint`.

    Raises:
        FileNotFoundError: the folder or one of its files is missing (names the path).
        CheckpointError: a file is corrupt, or files from two different saves are
            mixed (a ``ValueError``).
    """
    directory = Path(directory)
    meta = _read_meta(directory)
    save_id = meta.get("save_id")
    state = _read_tensors(directory / MODEL_FILE, save_id, device)
    order = meta.get("state_keys")
    if isinstance(order, list) and set(order) == set(state):
        state = {name: state[name] for name in order}
    optimizer_state = None
    if with_optimizer and meta.get("optimizer") is not None:
        opt_tensors = _read_tensors(directory / OPTIMIZER_FILE, save_id, device)
        optimizer_state = unflatten_optimizer_state(opt_tensors, meta["optimizer"])
    return Checkpoint(
        state_dict=state,
        config=meta.get("config", {}),
        extra=meta.get("extra", {}),
        optimizer_state=optimizer_state,
        directory=directory,
    )


def load_optimizer_state(
    directory: str | Path, device: str | torch.device = "cpu"
) -> dict[str, Any] | None:
    """The optimizer state dict stored in a checkpoint, or None if it has none."""
    directory = Path(directory)
    meta = _read_meta(directory)
    if meta.get("optimizer") is None:
        return None
    tensors = _read_tensors(directory / OPTIMIZER_FILE, meta.get("save_id"), device)
    return unflatten_optimizer_state(tensors, meta["optimizer"])


def checkpoint_exists(directory: str | Path) -> bool:
    """True if ``directory`` holds a committed checkpoint (its config.json exists)."""
    directory = Path(directory)
    return (directory / CONFIG_FILE).is_file() and (directory / MODEL_FILE).is_file()


# ------------------------------------------------------------------ compatibility


def _lookup(config: Mapping[str, Any], key: str) -> tuple[bool, Any]:
    node: Any = config
    for part in key.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return False, None
        node = node[part]
    return True, node


def _normal(value: Any) -> Any:
    # JSON turns tuples into lists; (512, 256) and [512, 256] are the same setting.
    if isinstance(value, (list, tuple)):
        return [_normal(v) for v in value]
    return value


def check_compatible(
    config_saved: Mapping[str, Any],
    expected: Mapping[str, Any],
    keys: list[str],
    where: str | Path,
) -> None:
    """Raise ``ValueError`` if the saved config differs from ``expected`` on ``keys``.

    Keys may be dotted (``"vae.latent_dim"``) to reach into sections; the message
    names the last part, e.g. ``checkpoint runs/x/vae was trained with latent_dim=32
    but the config asks for 16``. All mismatches are reported at once.
    """
    problems = []
    for key in keys:
        short = key.rsplit(".", 1)[-1]
        found_exp, want = _lookup(expected, key)
        if not found_exp:
            raise KeyError(f"check_compatible: expected config has no key {key!r}")
        found, saved = _lookup(config_saved, key)
        if not found:
            problems.append(f"does not record {short} (the config asks for {want!r})")
        elif _normal(saved) != _normal(want):
            problems.append(
                f"was trained with {short}={_fmt(saved)} but the config asks for "
                f"{_fmt(want)}"
            )
    if problems:
        raise ValueError(
            f"checkpoint {where} "
            + "; and ".join(problems)
            + "; use the config it was trained with, or retrain it"
        )


def _fmt(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "(" + ", ".join(_fmt(v) for v in value) + ")"
    return str(value)

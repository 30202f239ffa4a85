"""The checkpoint folder's format: its files, its error, and optimizer state as JSON.

A checkpoint is a folder::

    <directory>/
        model.safetensors       the module's state dict (CPU, contiguous tensors)
        optimizer.safetensors   optional: every tensor of the optimizer's state dict
        config.json             config + extra (+ the optimizer's non-tensor structure)

Optimizer state dicts (``{"state": {param_id: {...}}, "param_groups": [...]}``) are
flattened: every tensor goes to ``optimizer.safetensors`` under a path-like key and is
replaced in the JSON tree by a reference; tuples and int-keyed dicts are tagged so that
the round trip gives back exactly what ``optimizer.state_dict()`` returned.

Writing and reading the folder is :mod:`nar_slp.checkpoints`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

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

"""One code path for numpy arrays (the host) and torch tensors (any device): the few calls spelled differently."""
from __future__ import annotations

import numpy as np
import torch


def namespace(array):
    """The library whose functions take `array`: numpy or torch."""
    return torch if isinstance(array, torch.Tensor) else np


def dtype_name(array) -> str:
    """'uint8', 'float32', ... for either kind."""
    return str(array.dtype).removeprefix('torch.')


def cast(array, name: str):
    return array.to(getattr(torch, name)) if isinstance(array, torch.Tensor) else array.astype(name, copy=False)


def as_tensor(value) -> torch.Tensor:
    """A tensor as it is; an array as a CPU tensor sharing its memory (a copy if it is read-only, which torch
    warns about, as ROS message buffers are)."""
    if isinstance(value, torch.Tensor):
        return value
    array = np.asarray(value)
    return torch.from_numpy(array if array.flags.writeable else array.copy())


def like(value, reference):
    """`value` as the kind of `reference`: a numpy array, or a tensor on the reference's device."""
    if isinstance(reference, torch.Tensor):
        return as_tensor(value).to(reference.device)
    return value.cpu().numpy() if isinstance(value, torch.Tensor) else np.asarray(value)

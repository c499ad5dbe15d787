# Copyright 2026 The vision_banana_ros authors
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.

"""Surface normals <-> RGB = (n + 1) / 2.

Normals are unit vectors in the camera optical frame (x right, y down, z forward) pointing toward the camera.
Invalid normals (all-zero or non-finite) encode to mid-grey, whose decoded vector is (near) zero; decoding
renormalises and returns NaN wherever the decoded vector is shorter than `MIN_NORM` (grey, or colours no
normal can produce). 8-bit codes carry at most 0.39 degrees of angular error (half a level on each axis).
"""
from __future__ import annotations

import numpy as np
import torch

from .rgb import unit_rgb, unit_rgb_torch
from ..torch_ops import norm

MIN_NORM = 0.5


def encode_normals(normals: np.ndarray) -> np.ndarray:
    """... x 3 normals (renormalised: a short or long vector keeps its direction) -> float32 RGB in [0, 1];
    invalid (zero or non-finite) -> grey 0.5.
    """
    n = np.asarray(normals, dtype=np.float32)
    if n.shape[-1:] != (3,):
        raise ValueError(f'expected ...x3 normals, got shape {n.shape}')
    with np.errstate(over='ignore'):
        length = np.linalg.norm(np.nan_to_num(n), axis=-1, keepdims=True)
    # zero, non-finite, or a length beyond float32 either way: invalid
    valid = np.isfinite(n).all(axis=-1, keepdims=True) & np.isfinite(length) & (length > 0)
    rgb = (np.where(valid, np.nan_to_num(n), 1.0) / np.where(valid, length, 1.0) + 1.0) * 0.5
    return np.where(valid, rgb, np.float32(0.5)).astype(np.float32)


def encode_normals_uint8(normals: np.ndarray) -> np.ndarray:
    """Unit normals (... x 3) -> 8-bit RGB."""
    return np.rint(encode_normals(normals) * 255.0).astype(np.uint8)


def decode_normals(rgb: np.ndarray) -> np.ndarray:
    """... x 3 RGB (integer levels, or float in [0, 1]) -> float32 unit normals, NaN where invalid."""
    v = unit_rgb(rgb) * 2.0 - 1.0
    length = np.linalg.norm(v, axis=-1, keepdims=True)
    with np.errstate(invalid='ignore', divide='ignore'):
        return np.where(length >= MIN_NORM, v / length, np.nan).astype(np.float32)


def encode_normals_torch(normals: torch.Tensor) -> torch.Tensor:
    """N x 3 x H x W normals (renormalised) -> float32 RGB in [0, 1]; invalid -> grey 0.5."""
    n = normals.float()
    length = norm(torch.nan_to_num(n), dim=1, keepdim=True)
    valid = torch.isfinite(n).all(dim=1, keepdim=True) & torch.isfinite(length) & (length > 0)
    return torch.where(valid, (torch.nan_to_num(n) / torch.where(valid, length, 1.0) + 1.0) * 0.5, 0.5)


def encode_normals_uint8_torch(normals: torch.Tensor) -> torch.Tensor:
    """Unit normals (N x 3 x H x W) -> 8-bit RGB, on their device."""
    return (encode_normals_torch(normals) * 255.0).round_().to(torch.uint8)


def decode_normals_torch(rgb: torch.Tensor) -> torch.Tensor:
    """N x 3 x H x W RGB (integer levels, or float in [0, 1]) -> float32 unit normals, NaN where invalid."""
    v = unit_rgb_torch(rgb) * 2.0 - 1.0
    length = norm(v, dim=1, keepdim=True)
    return torch.where(length >= MIN_NORM, v / length.clamp_min(1e-12), torch.nan)

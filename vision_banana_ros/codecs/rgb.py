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

"""RGB answers as the decoders read them: integer types are 0..255 levels, floats are [0, 1] as they are."""
from __future__ import annotations

import numpy as np
import torch


def unit_rgb(rgb: np.ndarray) -> np.ndarray:
    """... x 3 RGB -> float32 in [0, 1] (NaN stays NaN, for the decoders to call invalid)."""
    rgb = np.asarray(rgb)
    if rgb.shape[-1:] != (3,):
        raise ValueError(f'expected ...x3 RGB, got shape {rgb.shape}')
    if np.issubdtype(rgb.dtype, np.integer):
        return np.clip(rgb, 0, 255).astype(np.float32) / 255.0
    if np.issubdtype(rgb.dtype, np.floating):
        return rgb.astype(np.float32)
    raise TypeError(f'RGB must be integer levels or float in [0, 1], got {rgb.dtype}')


def unit_rgb_torch(rgb: torch.Tensor) -> torch.Tensor:
    """N x 3 x H x W RGB -> float32 in [0, 1] (NaN stays NaN)."""
    if rgb.ndim != 4 or rgb.shape[1] != 3:
        raise ValueError(f'expected N x 3 x H x W RGB, got shape {tuple(rgb.shape)}')
    if rgb.dtype.is_floating_point:
        return rgb.float()
    if rgb.dtype == torch.bool or rgb.dtype.is_complex:
        raise TypeError(f'RGB must be integer levels or float in [0, 1], got {rgb.dtype}')
    return rgb.clamp(0, 255).float() / 255.0

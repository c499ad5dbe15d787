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

"""Metric depth <-> RGB, the Vision Banana way.

Depth d >= 0 (metres) is squashed by the power transform f(d) = 1 - (1 + d/10)^-2 into [0, 1) and then
walked along the path through the RGB cube corners

    black -> red -> yellow -> green -> cyan -> blue -> magenta -> white

(7 unit edges, each changing one channel; 7 x 255 = 1785 steps in 8 bits). This is the corner order of the
reference implementation `hilbertmap` (lambda = -3, c = 10/3 there is the same transform), so colours made by
either decode identically. Decoding projects each colour onto the nearest edge of the path, which makes it
robust to the colour noise of a generator.

Far end: white (f = 1) is depth +inf, which is also what NaN, +inf and negative depths encode to, so sky and
invalid pixels paint white and decode to +inf (REP 118: "too far / no return"). Depth 0 is black.

Resolution of lossless 8-bit codes (half a step, i.e. the worst rounding error), dd/df = 5 (1 + d/10)^3:
    1 m: 1.9 mm    10 m: 11.2 mm    40 m: 175 mm    80 m: 1.02 m
The last code below white is 412 m; depths beyond ~587 m round to white (+inf). Float32 RGB keeps the
relative error of a round trip below 1e-5 up to 80 m and below 1e-3 up to 1 km, except within ~4e-4 of a walk
corner, where float32 cannot tell the two edges apart: there it reaches 3.4e-4 (a tenth of an 8-bit step).
"""
from __future__ import annotations

import numpy as np
import torch

from .rgb import unit_rgb, unit_rgb_torch
from ..torch_ops import on_device

SCALE_M = 10.0
EDGES = 7
STEPS_PER_EDGE = 255
STEPS = EDGES * STEPS_PER_EDGE  # 1785

# Corners of the path and the unit edge leaving each of the first seven.
CORNERS = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0],
                    [0, 1, 1], [0, 0, 1], [1, 0, 1], [1, 1, 1]], dtype=np.float32)
STARTS = CORNERS[:-1]
DIRECTIONS = CORNERS[1:] - CORNERS[:-1]
# Constant terms of the squared distance to each edge (see _edge_scores).
_START_SQ = (STARTS ** 2).sum(1)
_START_DOT_DIR = (STARTS * DIRECTIONS).sum(1)


# ---- the power transform (numpy and torch alike: only ufuncs both provide) ---------------------------------------

def depth_to_unit(depth):
    """f(d) = 1 - (1 + d/10)^-2, written with expm1/log1p so that small depths keep their precision."""
    lib = torch if isinstance(depth, torch.Tensor) else np
    return -lib.expm1(-2.0 * lib.log1p(depth / SCALE_M))


def unit_to_depth(f):
    """Inverse of `depth_to_unit`: d = 10 ((1 - f)^-1/2 - 1); f = 1 gives +inf."""
    lib = torch if isinstance(f, torch.Tensor) else np
    return SCALE_M * lib.expm1(-0.5 * lib.log1p(-f))


def walk_position_to_depth(k, t):
    """Depth at position t in [0, 1] on edge k of the walk. Near the start f = (k + t) / 7 is exact; near the
    far end 1 - f = (7 - k - t) / 7 is, where forming 1 - f from f would lose the far range to cancellation
    in float32. Each half of the walk uses its exact form.
    """
    lib = torch if isinstance(t, torch.Tensor) else np
    f = (k + t) / EDGES
    rest = (EDGES - k - t) / EDGES
    near = SCALE_M * lib.expm1(-0.5 * lib.log1p(-lib.minimum(f, rest)))
    far = SCALE_M * lib.expm1(-0.5 * lib.log(rest))
    return lib.where(f < 0.5, near, far)


# ---- numpy: ... x H x W depth <-> ... x H x W x 3 RGB --------------------------------------------------------------

def _unit_numpy(depth: np.ndarray) -> np.ndarray:
    depth = np.asarray(depth, dtype=np.float32)
    valid = np.isfinite(depth) & (depth >= 0)
    with np.errstate(invalid='ignore'):
        return np.where(valid, depth_to_unit(np.where(valid, depth, 0.0)), 1.0).astype(np.float32)


def encode_depth(depth: np.ndarray) -> np.ndarray:
    """Metres -> float32 RGB in [0, 1] on the cube walk."""
    s = _unit_numpy(depth) * EDGES
    k = np.minimum(s.astype(np.intp), EDGES - 1)
    t = (s - k)[..., None]
    return (STARTS[k] + t * DIRECTIONS[k]).astype(np.float32)


def encode_depth_uint8(depth: np.ndarray) -> np.ndarray:
    """Metres -> uint8 RGB: the nearest of the 1786 codes on the walk."""
    step = np.rint(_unit_numpy(depth) * STEPS).astype(np.intp)
    k = np.minimum(step // STEPS_PER_EDGE, EDGES - 1)
    t = (step - k * STEPS_PER_EDGE)[..., None]
    return (STARTS[k] * 255 + t * DIRECTIONS[k]).astype(np.uint8)


def decode_depth(rgb: np.ndarray) -> np.ndarray:
    """RGB (... x 3, integer levels or float in [0, 1]) -> float32 metres; white decodes to +inf, a non-finite
    colour to NaN (invalid: not black's 0 m, an obstacle at the lens).
    """
    p = unit_rgb(rgb)
    broken = ~np.isfinite(p).all(axis=-1)
    p = np.nan_to_num(p)
    u = p @ DIRECTIONS.T - _START_DOT_DIR        # position along each edge, unclipped
    t = np.clip(u, 0.0, 1.0)
    score = _START_SQ - 2.0 * (p @ STARTS.T) - 2.0 * t * u + t * t
    k = np.argmin(score, axis=-1)
    t_k = np.take_along_axis(t, k[..., None], axis=-1)[..., 0]
    with np.errstate(divide='ignore'):
        depth = walk_position_to_depth(k.astype(np.float32), t_k).astype(np.float32)
    return np.where(broken, np.float32(np.nan), depth)


# ---- torch: N x H x W depth <-> N x 3 x H x W RGB, on the tensors' device ----------------------------------------

_DEVICE_TABLES: dict = {}


def _table(array: np.ndarray, like: torch.Tensor) -> torch.Tensor:
    return on_device(_DEVICE_TABLES, id(array), like.device, lambda: torch.from_numpy(array))


def _unit_torch(depth: torch.Tensor) -> torch.Tensor:
    depth = depth.float()
    valid = torch.isfinite(depth) & (depth >= 0)
    return torch.where(valid, depth_to_unit(torch.where(valid, depth, 0.0)), 1.0)


def encode_depth_torch(depth: torch.Tensor) -> torch.Tensor:
    """N x H x W metres -> N x 3 x H x W float32 RGB in [0, 1]."""
    return _paint_walk(_unit_torch(depth) * EDGES)


def _paint_walk(s: torch.Tensor) -> torch.Tensor:
    """N x H x W positions s = 7 f in [0, 7] -> N x 3 x H x W float32 RGB on the walk."""
    k = s.long().clamp_(max=EDGES - 1)
    t = (s - k).unsqueeze(-1)
    rgb = _table(STARTS, s)[k] + t * _table(DIRECTIONS, s)[k]
    return rgb.permute(0, 3, 1, 2)


def encode_depth_uint8_torch(depth: torch.Tensor) -> torch.Tensor:
    """N x H x W metres -> N x 3 x H x W uint8 RGB."""
    step = (_unit_torch(depth) * STEPS).round_().long()
    k = torch.div(step, STEPS_PER_EDGE, rounding_mode='floor').clamp_(max=EDGES - 1)
    t = (step - k * STEPS_PER_EDGE).unsqueeze(-1).float()
    rgb = _table(STARTS, depth)[k] * 255 + t * _table(DIRECTIONS, depth)[k]
    return rgb.to(torch.uint8).permute(0, 3, 1, 2)


def project_on_walk_torch(rgb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """N x 3 x H x W float RGB in [0, 1] -> (edge index k, position t in [0, 1] on it), both N x H x W float.
    Differentiable in t, so training losses can measure answers along the walk.
    """
    r, g, b = (rgb[:, c, :, :, None] for c in range(3))   # each N x H x W x 1, against the 7 edges
    starts, directions = _table(STARTS, rgb), _table(DIRECTIONS, rgb)
    # Spelled out per channel: products with the 0/±1 corner tables are exact in float32 on every device,
    # where a matmul may run in reduced precision (TF32 on GPUs) and flip the nearest edge.

    def dot(m):
        return r * m[:, 0] + g * m[:, 1] + b * m[:, 2]
    u = dot(directions) - _table(_START_DOT_DIR, rgb)
    t = u.clamp(0.0, 1.0)
    score = _table(_START_SQ, rgb) - 2.0 * dot(starts) - 2.0 * t * u + t * t
    k = score.argmin(dim=-1, keepdim=True)
    return k.squeeze(-1).float(), t.gather(-1, k).squeeze(-1)


def decode_depth_torch(rgb: torch.Tensor) -> torch.Tensor:
    """N x 3 x H x W RGB (integer levels, or float in [0, 1]) -> N x H x W float32 metres; white decodes to +inf,
    a non-finite colour to NaN.
    """
    p = unit_rgb_torch(rgb)
    broken = ~torch.isfinite(p).all(dim=1)
    return walk_position_to_depth(*project_on_walk_torch(torch.nan_to_num(p))).masked_fill_(broken, torch.nan)


def decode_depth_pooled_torch(answers: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """Answers for the same pixels, N x 3 x H x W RGB each -> (N x H x W float32 metres at the mean of their
    transformed depths f, N x 3 x H x W float32 RGB painting that mean); a pixel that is not finite in some answer
    decodes to NaN. The mean is taken along the walk, where two nearby depths may lie far apart in RGB.
    """
    broken = torch.zeros_like(answers[0][:, 0], dtype=torch.bool)
    total = 0.0
    for rgb in answers:
        p = unit_rgb_torch(rgb)
        broken |= ~torch.isfinite(p).all(dim=1)
        k, t = project_on_walk_torch(torch.nan_to_num(p))
        total = total + (k + t)
    s = (total / len(answers)).masked_fill_(broken, EDGES)   # painted white, as NaN depth encodes
    k = s.floor().clamp_(max=EDGES - 1)
    return walk_position_to_depth(k, s - k).masked_fill_(broken, torch.nan), _paint_walk(s)

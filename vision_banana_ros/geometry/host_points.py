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

"""The host's point writer: one compiled pass over the pixels that tests each one and writes its whole point.

Done column by column in numpy, the same cloud costs several passes over the frame and a strided interleave of
the columns (about 3 ms for 640x480 here); this pass writes each kept point once, at about the speed of memory
(0.65 ms). numba compiles it on first use for each combination of present inputs (absent ones are None, so
their branches vanish from the compiled code) and caches it on disk, so later runs start at once.
"""
from __future__ import annotations

import numba
import numpy as np


@numba.njit(inline='always')
def _fill(depth, rx, ry, ray_norm, min_range, max_range, rgb, palette, labels, drop, normals, out, organized):
    height, width = depth.shape
    bits = out.view(np.uint32)
    kept = 0
    for v in range(height):
        for u in range(width):
            z = depth[v, u]
            valid = z > 0 and z < np.inf   # NaN fails both
            if ray_norm is not None:
                # range = z * |ray|, so the range bounds become per-pixel depth bounds.
                valid = valid and min_range / ray_norm[v, u] <= z <= max_range / ray_norm[v, u]
            if labels is not None:
                label = labels[v, u]
                valid = valid and not drop[label]
            if not (valid or organized):
                continue
            i = v * width + u if organized else kept
            if valid:
                out[i, 0] = z * rx[v, u]
                out[i, 1] = z * ry[v, u]
                out[i, 2] = z
                kept += 1
            else:
                out[i, 0] = out[i, 1] = out[i, 2] = np.nan
            slot = 3
            if rgb is not None:
                bits[i, slot] = (np.uint32(rgb[v, u, 0]) << 16) | (np.uint32(rgb[v, u, 1]) << 8) | np.uint32(
                    rgb[v, u, 2])
                slot += 1
            elif palette is not None:
                bits[i, slot] = palette[label]
                slot += 1
            if labels is not None:
                bits[i, slot] = label
                slot += 1
            if normals is not None:
                out[i, slot] = normals[v, u, 0]
                out[i, slot + 1] = normals[v, u, 1]
                out[i, slot + 2] = normals[v, u, 2]
    return kept


@numba.njit(cache=True, nogil=True)
def _fill_kept(depth, rx, ry, ray_norm, min_range, max_range, rgb, palette, labels, drop, normals, out):
    return _fill(depth, rx, ry, ray_norm, min_range, max_range, rgb, palette, labels, drop, normals, out, False)


@numba.njit(cache=True, nogil=True)
def _fill_all(depth, rx, ry, ray_norm, min_range, max_range, rgb, palette, labels, drop, normals, out):
    return _fill(depth, rx, ry, ray_norm, min_range, max_range, rgb, palette, labels, drop, normals, out, True)


def host_points(depth: np.ndarray, rx: np.ndarray, ry: np.ndarray, ray_norm: np.ndarray | None, min_range: float,
                max_range: float, *, rgb: np.ndarray | None, palette: np.ndarray | None, labels: np.ndarray | None,
                drop: tuple[int, ...], normals: np.ndarray | None, organized: bool) -> tuple[np.ndarray, int]:
    """Points (n x F float32; H x W x F when organized, NaN xyz where invalid) with fields x, y, z, then rgb as
    0x00RRGGBB bits (from `rgb` H x W x 3 uint8, else the `palette` colour of the label), label, normal x/y/z,
    each present when its input is; and how many pixels were valid. A pixel is valid when its depth is finite and
    positive, its label not in `drop` and, when `ray_norm` (|ray| per pixel) is given, its range within
    [min_range, max_range].
    """
    height, width = depth.shape
    palette = None if rgb is not None else palette
    fields = 3 + (rgb is not None or palette is not None) + (labels is not None) + 3 * (normals is not None)
    out = np.empty((height * width, fields), np.float32)
    drop_table = np.zeros(256, np.bool_)
    drop_table[list(drop)] = True

    def contiguous(array, dtype):
        return None if array is None else np.ascontiguousarray(array, dtype)
    kept = (_fill_all if organized else _fill_kept)(
        contiguous(depth, np.float32), rx, ry, ray_norm, float(min_range), float(max_range),
        contiguous(rgb, np.uint8), contiguous(palette, np.uint32), contiguous(labels, np.uint8), drop_table,
        contiguous(normals, np.float32), out)
    return (out.reshape(height, width, fields) if organized else out[:kept]), kept

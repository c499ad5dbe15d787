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

"""Resizing between camera and processing resolution, per kind of quantity (on the tensors' device), and the
camera's intrinsics as a backend sees them at the processing resolution.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ..codecs import depth_to_unit, unit_to_depth
from ..geometry.intrinsics import Intrinsics
from ..torch_ops import norm


def resize_images(images: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """N x C x H x W float -> N x C x h x w, (h, w) = size; antialiased when shrinking."""
    if tuple(images.shape[-2:]) == tuple(size):
        return images
    return F.interpolate(images, size=size, mode='bilinear', align_corners=False, antialias=True)


def resize_nearest(values: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """N x C x H x W of any dtype, nearest neighbour: no value is invented at boundaries."""
    if tuple(values.shape[-2:]) == tuple(size):
        return values
    return F.interpolate(values.float(), size=size, mode='nearest-exact').to(values.dtype)


def resize_depth(depth: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """N x H x W metres, resized as `resample_depth` resamples."""
    if tuple(depth.shape[-2:]) == tuple(size):
        return depth
    return resample_depth(depth, lambda x: F.interpolate(x, size=size, mode='bilinear', align_corners=False),
                          lambda x: resize_nearest(x, size))


EDGE_RATIO = 1.1   # neighbouring depths further apart than this are two surfaces, not one to interpolate


def resample_depth(depth: torch.Tensor, bilinear, nearest) -> torch.Tensor:
    """N x h x w metres resampled by `bilinear` (N x C x h x w float -> N x C x H x W) in the codec's f-space, where
    +inf (far) is the finite value 1. Invalid (NaN) pixels take no part: their valid neighbours are averaged among
    themselves (normalised interpolation), and the invalid area is resampled by `nearest` (of any dtype). Where a
    pixel's 3 x 3 neighbours differ by more than EDGE_RATIO (an object's outline against what lies behind it),
    `nearest` too: an interpolated depth there would stand between the two surfaces, a point in the cloud (and an
    obstacle in the grid) where nothing is.
    """
    invalid = torch.isnan(depth)
    weight = (~invalid).float()[:, None]
    f = torch.where(invalid, 0.0, depth_to_unit(depth.clamp(min=0)))[:, None]
    out = unit_to_depth((bilinear(f) / bilinear(weight).clamp(min=1e-6))[:, 0].clamp(max=1.0))
    highest = F.max_pool2d(torch.where(invalid[:, None], -1.0, f), 3, stride=1, padding=1)
    lowest = -F.max_pool2d(torch.where(invalid[:, None], -2.0, -f), 3, stride=1, padding=1)
    edge = unit_to_depth(highest.clamp(0.0, 1.0)) > EDGE_RATIO * unit_to_depth(lowest.clamp(0.0, 1.0))
    out = torch.where(nearest(edge)[:, 0], nearest(depth[:, None])[:, 0], out)
    return out.masked_fill(nearest(invalid[:, None])[:, 0], torch.nan)


def resize_normals(normals: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """N x 3 x h x w unit vectors (NaN invalid), answered for an image resized from `size` = (H, W) to h x w ->
    N x 3 x H x W: interpolated, renormalised; NaN where invalid ones dominate.

    A resize that changes the aspect ratio (a 16:9 camera at a 4:3 processing size) shows the model a scene
    stretched vertically by s = (h / H) / (w / W) relative to horizontally; its normals are those of the stretched
    scene, (n_x, n_y / s, n_z) renormalised, so n_y is multiplied by s on the way back.
    """
    if tuple(normals.shape[-2:]) == tuple(size):
        return normals
    stretch = (normals.shape[-2] / size[0]) / (normals.shape[-1] / size[1])
    if stretch != 1.0:
        normals = normals * normals.new_tensor([1.0, stretch, 1.0]).view(1, 3, 1, 1)
        normals = normals / norm(normals, dim=1, keepdim=True)
    return renormalised(F.interpolate(torch.nan_to_num(normals), size=size, mode='bilinear', align_corners=False))


def renormalised(normals: torch.Tensor) -> torch.Tensor:
    """N x 3 x H x W interpolated unit vectors (invalid ones entered as 0) made unit again; NaN where they came out
    shorter than 0.5 (mostly invalid neighbours).
    """
    length = norm(normals, dim=1, keepdim=True)
    return torch.where(length > 0.5, normals / length.clamp(min=1e-6), torch.nan)


def seen_intrinsics(intrinsics, image_size: tuple[int, int], processing_size: tuple[int, int]):
    """A camera's intrinsics as a model that assumes the camera's pixel aspect sees its image resized from
    `image_size` to `processing_size` (both (H, W)): both focal lengths scaled by the horizontal factor, so that a
    change of aspect ratio shows as a vertically stretched scene, as the model sees it (`resize_normals` undoes
    the stretch of normals on the way back).
    """
    i = intrinsics.scaled_to(image_size[1], image_size[0])
    sx = processing_size[1] / image_size[1]
    # The principal point moves with the pixels (their centres, as the resize samples them).
    resized = i.scaled_to(processing_size[1], processing_size[0])
    return Intrinsics(i.fx * sx, i.fy * sx, resized.cx, resized.cy, processing_size[1], processing_size[0])

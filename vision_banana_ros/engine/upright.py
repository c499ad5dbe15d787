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

"""Turning a rolled camera's image upright for the backend, and its answers back.

Turning a pinhole camera about its optical axis turns its image about the principal point and changes nothing
else: the depth of each point (along the optical axis) and its label stay, and its normal turns with the image.
So a camera mounted rolled (on its side, upside down, on a tilted arm) can be shown to a model as the upright
camera it was taught, and the answers turned back into the camera's pixels, exactly up to resampling. The whole
turned image is fitted into the processing size, centred, and the canvas around it is filled by reflection
(a border a network has not seen is less unlike a picture than black); answers there are dropped.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
import math

import torch
import torch.nn.functional as F

from .resample import renormalised, resample_depth
from ..codecs import encode_normals_uint8_torch
from ..geometry.intrinsics import Intrinsics

# Within this angle of straight up or down a camera has no roll to undo: the image's up would swing with the
# smallest tilt of the mounting.
VERTICAL_DEG = 2.0


def upright_turn(up, min_roll_deg: float) -> float:
    """How far to turn a camera's image (degrees, counter-clockwise as displayed) to bring the ground's `up`
    direction (in the optical frame: x right, y down, z forward) to point up in it; 0 where the camera is rolled
    by less than `min_roll_deg`, or looks within VERTICAL_DEG of straight up or down.
    """
    if math.hypot(up[0], up[1]) < math.sin(math.radians(VERTICAL_DEG)):
        return 0.0
    # to 0.1 degree: a camera's turn then stays the same frame after frame, its sampling grids with it (Turn.fitted)
    turn = round(math.degrees(math.atan2(up[0], -up[1])), 1)
    return turn if abs(turn) >= min_roll_deg else 0.0


@dataclass(frozen=True)
class Turn:
    """The similarity taking pixels of an image (H x W, principal point `centre`) to a canvas of `canvas_size`
    (h, w): turned by `degrees` about the principal point, scaled by `scale`, the principal point landing on
    `canvas_centre`. Pixel centres are at integer coordinates (ROS's convention); grids are for grid_sample with
    align_corners=False. A camera's turn is the same frame after frame, so `fitted` keeps recent ones, each with its
    sampling grids.
    """

    image_size: tuple[int, int]
    canvas_size: tuple[int, int]
    degrees: float
    centre: tuple[float, float]
    canvas_centre: tuple[float, float]
    scale: float
    _grids: dict = field(default_factory=dict, compare=False, repr=False)   # (to_canvas, torch.device) -> grid

    @staticmethod
    @lru_cache(maxsize=8)
    def fitted(image_size: tuple[int, int], canvas_size: tuple[int, int], degrees: float,
               centre: tuple[float, float]) -> Turn:
        """The turn of an image about `centre` whose whole turned image fits the canvas, centred in it."""
        (height, width), (h, w) = image_size, canvas_size
        corners = torch.tensor([[-0.5, -0.5], [width - 0.5, -0.5], [-0.5, height - 0.5], [width - 0.5, height - 0.5]],
                               dtype=torch.float64) - torch.tensor(centre, dtype=torch.float64)
        turned = corners @ _matrix(degrees).T
        low, high = turned.min(0).values, turned.max(0).values
        scale = min(w / float(high[0] - low[0]), h / float(high[1] - low[1]))
        middle = (low + high) / 2 * scale
        canvas_centre = ((w - 1) / 2 - float(middle[0]), (h - 1) / 2 - float(middle[1]))
        return Turn(tuple(image_size), tuple(canvas_size), degrees, tuple(centre), canvas_centre, scale)

    def _grid(self, to_canvas: bool, device) -> torch.Tensor:
        """1 x rows x cols x 2 float32 sampling grid: for each canvas pixel where it lies in the image (to_canvas),
        or for each image pixel where it lies on the canvas.
        """
        key = (to_canvas, torch.device(device))
        if key not in self._grids:
            (height, width), (h, w) = self.image_size, self.canvas_size
            rows, cols = (h, w) if to_canvas else (height, width)
            y, x = torch.meshgrid(torch.arange(rows, dtype=torch.float64), torch.arange(cols, dtype=torch.float64),
                                  indexing='ij')
            m = _matrix(self.degrees)
            if to_canvas:   # image point = centre + M^T (q - canvas_centre) / scale
                offset = torch.stack([x - self.canvas_centre[0], y - self.canvas_centre[1]], -1) / self.scale
                point, origin, dims = offset @ m, self.centre, (width, height)
            else:           # canvas point = canvas_centre + scale M (p - centre)
                offset = torch.stack([x - self.centre[0], y - self.centre[1]], -1) * self.scale
                point, origin, dims = offset @ m.T, self.canvas_centre, (w, h)
            grid = torch.stack([(2 * (point[..., i] + origin[i]) + 1) / dims[i] - 1 for i in (0, 1)], -1)
            self._grids[key] = grid[None].to(device=device, dtype=torch.float32)
        return self._grids[key]

    def image(self, image: torch.Tensor) -> torch.Tensor:
        """1 x C x H x W float32 image -> 1 x C x h x w canvas (antialiased where it shrinks; reflection around
        it).
        """
        height, width = self.image_size
        if self.scale < 1:   # shrink first (normalised coordinates do not depend on the resolution)
            image = F.interpolate(image, size=(max(1, round(height * self.scale)), max(1, round(width * self.scale))),
                                  mode='bilinear', align_corners=False, antialias=True)
        return F.grid_sample(image, self._grid(True, image.device), mode='bilinear', padding_mode='reflection',
                             align_corners=False)

    def intrinsics(self, intrinsics: Intrinsics) -> Intrinsics:
        """The canvas camera: the image's (`intrinsics` of any resolution) turned about its optical axis and scaled
        (square pixels assumed).
        """
        intrinsics = intrinsics.scaled_to(self.image_size[1], self.image_size[0])
        focal = math.sqrt(intrinsics.fx * intrinsics.fy) * self.scale
        return Intrinsics(focal, focal, *self.canvas_centre, self.canvas_size[1], self.canvas_size[0])

    def _back(self, values: torch.Tensor, mode: str) -> torch.Tensor:
        """1 x C x h x w canvas values of any dtype -> 1 x C x H x W float32 (the grid's dtype)."""
        return F.grid_sample(values.float(), self._grid(False, values.device), mode=mode, padding_mode='border',
                             align_corners=False)

    def nearest(self, values: torch.Tensor) -> torch.Tensor:
        """1 x C x h x w of any dtype (ids, masks, answer images) -> 1 x C x H x W of that dtype, nearest: no value
        invented.
        """
        out = self._back(values, 'nearest')
        return out.to(values.dtype) if values.is_floating_point() else out.round().to(values.dtype)

    def smooth(self, values: torch.Tensor) -> torch.Tensor:
        """1 x C x h x w continuous values (confidence) -> 1 x C x H x W of their dtype, bilinear."""
        return self._back(values, 'bilinear').to(values.dtype)

    def depth(self, depth: torch.Tensor) -> torch.Tensor:
        """1 x h x w metres (+inf far, NaN invalid) -> 1 x H x W, as resample.resample_depth resamples."""
        return resample_depth(depth, self.smooth, self.nearest)

    def normals(self, normals: torch.Tensor) -> torch.Tensor:
        """1 x 3 x h x w unit vectors of the canvas camera (NaN invalid) -> 1 x 3 x H x W of the image's camera:
        interpolated, turned back about the optical axis, renormalised; NaN where invalid ones dominate.
        """
        out = self._back(torch.nan_to_num(normals), 'bilinear')
        m = _matrix(self.degrees).to(device=out.device, dtype=out.dtype)
        xy = torch.einsum('ji,njhw->nihw', m, out[:, :2])   # M^T n
        return renormalised(torch.cat([xy, out[:, 2:]], 1)).to(normals.dtype)

    def normals_picture(self, picture: torch.Tensor, normals: torch.Tensor) -> torch.Tensor:
        """The normals answer image in the camera's pixels: its colours paint the canvas camera's normals, so it is
        painted again from the `normals` turned back (`picture` unused).
        """
        return encode_normals_uint8_torch(normals)


def _matrix(degrees: float) -> torch.Tensor:
    """2 x 2: pixel offsets (x right, y down) turned counter-clockwise as displayed."""
    a = math.radians(degrees)
    return torch.tensor([[math.cos(a), math.sin(a)], [-math.sin(a), math.cos(a)]], dtype=torch.float64)

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

"""Point cloud payloads: depth + colour + labels (+ normals) -> the point bytes and field layout of a PointCloud2.

Every field fills one 4-byte slot of a point, in this order (absent fields are left out, later ones move up):

    x, y, z      float32, metres, camera optical frame unless a transform is given
    rgb          float32 whose bits are 0x00RRGGBB, as RViz and PCL read it (alpha 0 keeps the float finite)
    label        uint32 Cityscapes train id (255 unknown): PCL's point types with a label (PointXYZL,
                 PointXYZRGBL) read it only as uint32
    normal_x/y/z float32 unit normal, pointing toward the camera

Points are little-endian (the hosts ROS 2 runs on). The per-pixel work is one compiled pass on the host
(host_points; one thread, so it never waits for a busy core) over the engine's results, which are on the host
already: a cloud built on the device would cost more GPU->host traffic than the depth it comes from (20 bytes a
point against 4 of depth and 1 of label a pixel). The payload's structured array is a view of the points, so no
field is copied again.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
import math

import numpy as np
import torch

from .backprojection import ray_grids, ray_lengths
from .depth_normals import normals_from_depth
from .filters import remove_statistical_outliers, voxel_downsample
from .host_points import host_points
from .intrinsics import Intrinsics
from .transform import RigidTransform
from ..codecs.palette import CITYSCAPES, Palette

# sensor_msgs/PointField datatype constants.
UINT32 = 6
FLOAT32 = 7

SKY_ID = CITYSCAPES.names.index('sky')
COLOR_SOURCES = ('image', 'semantic', 'none')
NORMAL_NAMES = ('normal_x', 'normal_y', 'normal_z')


@dataclass(frozen=True)
class PointFieldSpec:
    """One field of a point, as in sensor_msgs/PointField."""

    name: str
    offset: int
    datatype: int
    count: int = 1


@dataclass(frozen=True)
class CloudOptions:
    """What goes into the cloud.

    stride: keep every stride-th pixel in both directions. min_range/max_range: metres from the optical centre.
    drop_classes: train ids left out (sky by default; applies when labels are given). voxel_size: metres, 0 = off.
    outlier_neighbors: statistical outlier removal over that many neighbours (0 = off) with `outlier_std_ratio`.
    color_source: 'image', 'semantic' (palette colours of the labels) or 'none' (no rgb field).
    organized: keep one point per pixel (height x width, NaN where invalid) instead of the valid points only.
    with_normals: add normal fields, from the given normals or else computed from depth.
    """

    stride: int = 1
    min_range: float = 0.0
    max_range: float = math.inf
    drop_classes: tuple[int, ...] = (SKY_ID,)
    voxel_size: float = 0.0
    outlier_neighbors: int = 0
    outlier_std_ratio: float = 2.0
    color_source: str = 'image'
    organized: bool = False
    with_normals: bool = False

    def __post_init__(self):
        if int(self.stride) != self.stride or self.stride < 1:
            raise ValueError(f'stride must be a positive integer, got {self.stride}')
        object.__setattr__(self, 'stride', int(self.stride))   # 2.0 is 2: slicing and open3d need an int
        if not (0.0 <= self.min_range < self.max_range) or math.isnan(self.max_range):
            raise ValueError(f'need 0 <= min_range < max_range, got min_range={self.min_range}, '
                             f'max_range={self.max_range}')
        object.__setattr__(self, 'drop_classes', tuple(int(c) for c in self.drop_classes))
        if any(not 0 <= c <= 255 for c in self.drop_classes):
            raise ValueError(f'drop_classes must be train ids in 0..255, got {list(self.drop_classes)}')
        if not (self.voxel_size >= 0.0 and math.isfinite(self.voxel_size)):
            raise ValueError(f'voxel_size must be >= 0 metres (0 = off), got {self.voxel_size}')
        if int(self.outlier_neighbors) != self.outlier_neighbors or self.outlier_neighbors < 0:
            raise ValueError(f'outlier_neighbors must be an integer >= 0 (0 = off), got {self.outlier_neighbors}')
        object.__setattr__(self, 'outlier_neighbors', int(self.outlier_neighbors))
        if not self.outlier_std_ratio > 0:
            raise ValueError(f'outlier_std_ratio must be positive, got {self.outlier_std_ratio}')
        if self.color_source not in COLOR_SOURCES:
            raise ValueError(f'color_source must be one of {COLOR_SOURCES}, got {self.color_source!r}')
        if self.organized and (self.voxel_size > 0 or self.outlier_neighbors > 0):
            raise ValueError('an organized cloud keeps one point per pixel: voxel_size and outlier_neighbors '
                             'need organized=False')


@dataclass(frozen=True)
class CloudPayload:
    """Points as a structured array (height x width; height 1 when unorganized) and their field layout."""

    points: np.ndarray
    fields: tuple[PointFieldSpec, ...]
    is_dense: bool

    @property
    def height(self) -> int:
        """Rows of the cloud (1 when unorganized)."""
        return self.points.shape[0]

    @property
    def width(self) -> int:
        """Points per row."""
        return self.points.shape[1]

    @property
    def point_step(self) -> int:
        """Bytes per point."""
        return self.points.dtype.itemsize

    @property
    def row_step(self) -> int:
        """Bytes per row."""
        return self.point_step * self.width


def build_cloud(depth, intrinsics: Intrinsics, *, image=None, labels=None, normals=None,
                options: CloudOptions = CloudOptions(), transform: RigidTransform | None = None,
                palette: Palette = CITYSCAPES) -> CloudPayload:
    """Back-project `depth` and attach colour, labels and normals, filtered as `options` say.

    Inputs are host arrays (numpy, or anything np.asarray takes). depth: H x W float metres (NaN/inf/<= 0
    invalid) or uint16 millimetres (0 invalid). image: H x W x 3 or 3 x H x W, uint8 or float in [0, 1].
    labels: H x W integer train ids. normals: H x W x 3 or 3 x H x W unit vectors in the optical frame.
    Intrinsics of another size are scaled to the depth's. `transform` moves points (and normals) into another
    frame.
    """
    depth = _depth_metres(depth)
    height, width = depth.shape
    labels = None if labels is None else _labels(labels, height, width)
    if options.color_source == 'image' and image is None:
        raise ValueError("color_source 'image' needs an image (pass image=..., or set color_source to "
                         "'semantic' or 'none')")
    if options.color_source == 'semantic' and labels is None:
        raise ValueError("color_source 'semantic' needs labels")
    image = _hw3(image, 'image', height, width) if options.color_source == 'image' else None
    if not options.with_normals:
        normals = None
    elif normals is not None:
        normals = _hw3(normals, 'normals', height, width)

    s = options.stride
    depth, labels, image, normals = (None if a is None else a[::s, ::s] for a in (depth, labels, image, normals))
    intrinsics = intrinsics.scaled_to(width, height).decimated(s)
    if options.with_normals and normals is None:
        # torch wants writable memory; a ROS message's buffer is read-only (then this copies it).
        normals = normals_from_depth(torch.from_numpy(np.require(depth, requirements=['W'])), intrinsics)
        normals = normals.permute(1, 2, 0).numpy()

    names = ['x', 'y', 'z'] + (['rgb'] if options.color_source != 'none' else []) + \
        (['label'] if labels is not None else []) + (list(NORMAL_NAMES) if options.with_normals else [])
    ranged = options.min_range > 0 or options.max_range < math.inf
    array, kept = host_points(
        depth, *ray_grids(intrinsics, depth), ray_lengths(intrinsics, depth) if ranged else None,
        options.min_range, options.max_range, rgb=None if image is None else _uint8_rgb(image),
        palette=_palette_table(palette) if options.color_source == 'semantic' else None, labels=labels,
        drop=options.drop_classes if labels is not None else (), normals=normals, organized=options.organized)
    # The transform and the filters work on torch rows (CPU tensors sharing the array's memory).
    points = torch.from_numpy(array)

    if transform is not None:
        points[..., :3] = transform.apply(points[..., :3])
        if options.with_normals:
            i = names.index('normal_x')
            points[..., i:i + 3] = transform.rotate(points[..., i:i + 3])
    if options.voxel_size > 0:
        points = voxel_downsample(points, names, options.voxel_size)
    if options.outlier_neighbors > 0:
        points = remove_statistical_outliers(points, options.outlier_neighbors, options.outlier_std_ratio)
    fields = point_fields(tuple(names))
    points = points.numpy().view(structured_dtype(fields))[..., 0]
    # is_dense promises no NaN in any field; normals from depth are NaN at borders and beside invalid pixels.
    finite_normals = not options.with_normals or all(np.isfinite(points[n]).all() for n in NORMAL_NAMES)
    if options.organized:
        return CloudPayload(points, fields, kept == points.shape[0] * points.shape[1] and finite_normals)
    return CloudPayload(points[None], fields, finite_normals)


@lru_cache(maxsize=32)
def point_fields(names: tuple[str, ...]) -> tuple[PointFieldSpec, ...]:
    """The layout of points with these fields, one 4-byte slot each."""
    return tuple(PointFieldSpec(name, 4 * i, UINT32 if name == 'label' else FLOAT32) for i, name in enumerate(names))


@lru_cache(maxsize=32)
def structured_dtype(fields: tuple[PointFieldSpec, ...]) -> np.dtype:
    """Numpy dtype of one point with these fields, padding included."""
    formats = {UINT32: '<u4', FLOAT32: '<f4'}
    return np.dtype({'names': [f.name for f in fields], 'formats': [formats[f.datatype] for f in fields],
                     'offsets': [f.offset for f in fields], 'itemsize': 4 * len(fields)})


def _depth_metres(depth) -> np.ndarray:
    depth = np.asarray(depth)
    if depth.ndim != 2:
        raise ValueError(f'depth must be H x W, got shape {depth.shape}')
    if depth.dtype == np.uint16:
        # REP 118 16UC1: millimetres, 0 = no return.
        millimetres = depth.astype(np.float32)
        return np.where(millimetres > 0, millimetres * np.float32(1e-3), np.float32(math.nan))
    if depth.dtype.kind != 'f':
        raise ValueError(f'depth must be float metres or uint16 millimetres, got {depth.dtype}')
    return depth.astype(np.float32, copy=False)


def _labels(labels, height: int, width: int) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.shape != (height, width):
        raise ValueError(f'labels must be H x W = {height} x {width} like the depth, got shape {labels.shape}')
    if labels.dtype == np.uint8:
        return labels
    if labels.dtype.kind not in 'iu':
        raise ValueError(f'labels must be integer train ids, got {labels.dtype}')
    if labels.size and (int(labels.min()) < 0 or int(labels.max()) > 255):
        raise ValueError('labels must be train ids in 0..255')
    return labels.astype(np.uint8)


def _hw3(value, name: str, height: int, width: int) -> np.ndarray:
    """H x W x 3 view of an H x W x 3 array or a 3 x H x W one (channel-first, as tensors hold images)."""
    array = np.asarray(value)
    if array.shape == (3, height, width):
        array = array.transpose(1, 2, 0)
    elif array.shape != (height, width, 3):
        raise ValueError(f'{name} must be H x W x 3 or 3 x H x W with H x W = {height} x {width} like the depth, '
                         f'got shape {array.shape}')
    return array


def _uint8_rgb(image: np.ndarray) -> np.ndarray:
    """H x W x 3 RGB, uint8 or float in [0, 1], as uint8."""
    if image.dtype.kind == 'f':
        return np.round(image * 255.0).clip(0, 255).astype(np.uint8)
    if image.dtype != np.uint8:
        raise ValueError(f'image must be uint8, or float in [0, 1], got {image.dtype}')
    return image


@lru_cache(maxsize=1)
def _palette_table(palette: Palette) -> np.ndarray:
    """256 uint32 0x00RRGGBB: the colour of every label."""
    colors = palette.encode(np.arange(256, dtype=np.uint8)).astype(np.uint32)
    return (colors[:, 0] << 16) | (colors[:, 1] << 8) | colors[:, 2]

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

"""Ground-locked metric scale. A monocular network gets the shape of a scene right more often than its scale; a
robot knows one number it cannot see: how high its camera is above the ground. The pixels labelled as ground
(road, sidewalk, terrain) are back-projected with the predicted depth, a plane is fitted to them (RANSAC, then
least squares on the inliers), and the depth is rescaled so that the camera stands at its known height above that
plane. The plane also gives the camera's pitch and roll to the ground.

Where the camera's mounting is known as well (tf from a frame on the ground to the image frame gives the ground's
up direction in the image frame, not only the height), the plane is not fitted: each ground pixel's ray meets the
known plane at a known depth, and the scale is the median of those depths over the predicted ones. This needs only
the predicted depth's scale to be right on average, not the tilt of its ground, which a network gets wrong where
little ground is seen (a low camera, a camera looking up).

Indoors the floor carries no Cityscapes class, so no pixel is labelled ground. With the mounting known and the
predicted normals at hand, where the labelled ground does not lock, the lock takes the floor as the lowest level
surface: the pixels whose normal lies within `level_floor_deg` of the known up direction, below the camera, no less
far below it than the 90th percentile of them over 1.25 (table tops and shelves, also level, stand higher and are left
out). Their depths, against where their rays meet the known plane, give the scale as labelled ground does.

Everything here works in the optical frame (x right, y down, z forward) and is scale-free until the known height
comes in: residuals are measured relative to each point's range, so a fit does not depend on the depth's units.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
import math

import numpy as np
from transforms3d.quaternions import mat2quat

from .backprojection import ray_grids
from .intrinsics import Intrinsics
from .transform import RigidTransform

GROUND_CLASSES = (0, 1, 9)      # Cityscapes road, sidewalk, terrain
PLANE_ONLY = 'plane only (no camera height: scale_lock off)'
# Without the mounting, how far a fitted ground plane's up (its normal, toward the camera) may point along the
# image's x axis or down the image (+y): for a camera rolled less than 45 deg, at any pitch, the ground's up has
# |x| < sin 45 deg and y <= 0; a wall has |x| near 1 and a ceiling y near 1. Such a plane is a wall or ceiling the
# labels call ground (a bus side read as road), or the camera is rolled that far and its mounting must come from tf.
MAX_FITTED_LEAN = math.sin(math.radians(45.0))
# With the mounting known, the fitted plane (which follows the predicted ground) serves the navigation outputs only
# within this angle of the known one.
MAX_FITTED_TILT_DEG = 25.0
LOCKED, LOCKED_LEVEL = 'locked', 'locked on the lowest level surface'
LEVEL_FLOOR_DEG = 25.0          # how far from up a predicted floor normal may point (the node's level_floor_deg)


@dataclass(frozen=True)
class GroundPlane:
    """A plane below the camera in the optical frame: points p with up . p + height = 0."""

    up: tuple[float, float, float]   # unit normal pointing from the ground toward the camera
    height: float                    # the camera's distance to the plane, in the depth's units
    inliers: float                   # share of the sampled ground points the plane explains
    points: int                      # ground points sampled

    @property
    def pitch_deg(self) -> float:
        """Camera pitch to the plane, positive looking up (a level camera has 0)."""
        return math.degrees(math.asin(max(-1.0, min(1.0, self.up[2]))))

    @property
    def roll_deg(self) -> float:
        """Camera roll about its optical axis to the plane (the world module's convention)."""
        return math.degrees(math.atan2(-self.up[0], -self.up[1]))

    @staticmethod
    def up_of(pitch_deg: float, roll_deg: float) -> tuple[float, float, float]:
        """The `up` of a plane the camera sees at this pitch and roll (pitch_deg and roll_deg inverted)."""
        pitch, roll = math.radians(pitch_deg), math.radians(roll_deg)
        return (-math.cos(pitch) * math.sin(roll), -math.cos(pitch) * math.cos(roll), math.sin(pitch))

    def foot(self) -> np.ndarray:
        """The point of the plane right under the camera."""
        return -self.height * np.asarray(self.up)

    def basis(self) -> np.ndarray:
        """3 x 3 columns forward, left, up in the image frame, as REP 103 lays a body on the ground: forward is
        the optical axis projected onto the plane (the image's top where the camera looks straight down).
        """
        up = np.asarray(self.up, dtype=np.float64)
        forward = np.array([0.0, 0.0, 1.0]) - up[2] * up
        if np.linalg.norm(forward) < 1e-6:
            forward = np.array([0.0, -1.0, 0.0]) - up[1] * up
        forward /= np.linalg.norm(forward)
        return np.stack([forward, np.cross(up, forward), up], 1)

    def quaternion_xyzw(self) -> tuple[float, float, float, float]:
        """The rotation of `basis` (a pose with x forward, y left and z along the plane normal)."""
        w, x, y, z = mat2quat(self.basis())
        return (float(x), float(y), float(z), float(w))


def _plane_through(points: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, float]:
    """Least-squares plane (unit normal n, offset d with n . p + d = 0) through weighted points."""
    centre = (points * weights[:, None]).sum(0) / weights.sum()
    centred = (points - centre) * np.sqrt(weights)[:, None]
    normal = np.linalg.svd(centred, full_matrices=False)[2][2]
    return normal, -float(normal @ centre)


def fit_ground(points: np.ndarray, rng: np.random.Generator, tolerance: float = 0.03,
               iterations: int = 80) -> GroundPlane | None:
    """The plane most of `points` (N x 3, optical frame) lie on, oriented toward the camera; None when fewer than
    3 points or no plane passes below the camera. A point is an inlier when its distance to the plane is within
    `tolerance` of its range (the noise of predicted depth grows with distance).
    """
    if len(points) < 3:
        return None
    ranges = np.linalg.norm(points, axis=1)
    best, best_count = None, 0
    for _ in range(iterations):
        a, b, c = points[rng.choice(len(points), 3, replace=False)]
        normal = np.cross(b - a, c - a)
        length = np.linalg.norm(normal)
        if length < 1e-12:
            continue
        normal /= length
        inliers = np.abs(points @ normal - normal @ a) < tolerance * ranges
        if inliers.sum() > best_count:
            best, best_count = inliers, int(inliers.sum())
    if best is None:
        return None
    normal, d = _plane_through(points[best], 1.0 / ranges[best])
    inliers = np.abs(points @ normal + d) < tolerance * ranges
    if inliers.sum() >= 3:
        normal, d = _plane_through(points[inliers], 1.0 / ranges[inliers])
    if d < 0:            # orient toward the camera: the camera (origin) lies on the plane's positive side
        normal, d = -normal, -d
    if d <= 0:
        return None
    inliers = np.abs(points @ normal + d) < tolerance * ranges
    return GroundPlane(tuple(float(v) for v in normal), float(d), float(inliers.mean()), len(points))


def camera_mounting(to_ground: RigidTransform) -> tuple[float, tuple[float, float, float]]:
    """The camera's height above a frame on the ground (z up, REP 120's base_footprint) and the ground's up
    direction in the image frame, from the transform of image-frame points into that frame (tf2's
    lookup_transform(ground_frame, image_frame)).
    """
    return float(to_ground.translation[2]), tuple(float(v) for v in to_ground.rotation[2])


def level_pixels(normals: np.ndarray, up, level_floor_deg: float) -> np.ndarray:
    """Which `normals` (... x 3, unit, NaN for none) lie within `level_floor_deg` of the unit vector `up`."""
    return np.nan_to_num(normals) @ np.asarray(up, dtype=np.float64) > math.cos(math.radians(level_floor_deg))


def lowest_level(below: np.ndarray, level: np.ndarray, tolerance: float = 1.25) -> np.ndarray:
    """Which points lie on the lowest level surface under the camera, given how far each lies `below` it (along
    the up direction) and which are `level` (`level_pixels`): level, below the camera, and no more than a factor
    `tolerance` less far below it than the 90th percentile of those (so that a few stray points under the floor do
    not set its height, and a table top at half the camera's height is not the floor).
    """
    level = level & (below > 0)
    if not level.any():
        return level
    return level & (below > np.percentile(below[level], 90) / tolerance)


def known_plane(points: np.ndarray, up, tolerance: float = 1.25) -> GroundPlane | None:
    """The plane of normal `up` (toward the camera) under `points` (N x 3, optical frame), at the points' median
    height below the camera: where each point's ray meets the true plane, the depth is the point's times the
    camera height over the point's height, so the median of those ratios is the camera height over this one.
    A point is an inlier when its own ratio is within a factor `tolerance` of the median (the plane is not
    tilted to the points as a fit is, so a predicted ground that bends away still locks where its scale holds);
    None when no point lies below the camera.
    """
    up = np.asarray(up, dtype=np.float64)
    up = up / np.linalg.norm(up)
    below = -(points @ up)
    if not (below > 0).any():
        return None
    height = float(np.median(below[below > 0]))
    inliers = (below > height / tolerance) & (below < height * tolerance)
    return GroundPlane(tuple(float(v) for v in up), height, float(inliers.mean()), len(points))


@dataclass(frozen=True)
class LockState:
    """What the lock did for one frame: the scale applied to its depth (1.0 when refused) and why."""

    scale: float
    locked: bool
    reason: str                          # LOCKED or LOCKED_LEVEL, or why not
    plane: GroundPlane | None = None     # as fitted on the unscaled depth (a refused one too, for diagnostics)
    ground_fraction: float = 0.0
    plane_holds: bool = False            # the plane passed the inlier test: the navigation outputs may stand on it


class GroundLock:
    """One camera's ground lock: per frame, the scale that puts the camera at `camera_height` above the ground
    fitted under it, smoothed over time in log space (`smoothing` 0 = none, toward 1 = slower).
    `level_floor_deg`: with the mounting known, how far from its up direction a predicted normal may point and
    still count as level floor where the labelled ground does not lock (0: labels only).
    """

    def __init__(self, classes=GROUND_CLASSES, min_fraction: float = 0.05, min_inliers: float = 0.6,
                 smoothing: float = 0.8, max_points: int = 4000, seed: int = 0,
                 level_floor_deg: float = LEVEL_FLOOR_DEG):
        self.classes = np.asarray(classes, dtype=np.uint8)
        self.min_fraction, self.min_inliers, self.smoothing = min_fraction, min_inliers, smoothing
        self.max_points = max_points
        self.level_floor_deg = level_floor_deg
        self.rng = np.random.default_rng(seed)
        self.log_scale: float | None = None     # smoothed log scale of the frames locked so far

    def update(self, depth: np.ndarray, labels: np.ndarray, intrinsics: Intrinsics,
               camera_height: float | None, up: tuple[float, float, float] | None = None,
               normals: np.ndarray | None = None) -> LockState:
        """The scale for this frame's `depth` (H x W metres as predicted) given its `labels` (H x W train ids);
        with `camera_height` None only the plane (scale 1, not locked: the navigation outputs without the lock).
        `up`: the ground's unit normal in the image frame where the mounting is known (with `camera_height`): the
        scale then comes from that plane rather than a fit; the state's plane stays the fitted one where one fits.
        `normals` (H x W x 3, as predicted): with `up`, the floor is found by them where the labels do not lock.
        """
        valid = np.isfinite(depth) & (depth > 0)
        rx, ry = ray_grids(intrinsics.scaled_to(depth.shape[1], depth.shape[0]), depth)
        state = self._labelled_lock(depth, labels, valid, rx, ry, camera_height, up)
        if state.locked or normals is None or up is None or camera_height is None or not self.level_floor_deg:
            return state
        level = self._level_lock(depth, valid, normals, rx, ry, camera_height, up)
        return level if level.locked else replace(state, reason=f'{state.reason}; {level.reason}')

    def _labelled_lock(self, depth, labels, valid, rx, ry, camera_height, up) -> LockState:
        """The lock on the pixels labelled as ground (see `update`)."""
        ground = np.isin(labels, self.classes) & valid
        fraction = float(ground.mean())
        if fraction < self.min_fraction:
            return LockState(1.0, False, f'too little ground in view ({fraction:.1%} of the image, needs '
                                         f'{self.min_fraction:.0%})', ground_fraction=fraction)
        # Road, sidewalk and lawn lie a kerb apart: fitted together they tilt the plane by centimetres that are a
        # few per cent of the height. The class seen most is the surface the camera most likely stands on.
        counts = [(int((labels[ground] == c).sum()), c) for c in self.classes]
        most, label = max(counts)
        if most >= self.min_fraction * labels.size:
            ground &= labels == label
        points = self._points(ground, depth, rx, ry)
        fitted = fit_ground(points, self.rng)
        fits = self._holds(fitted)
        if up is not None and camera_height is not None:
            # The known plane gives the scale. The navigation outputs sort points by their height above the plane
            # fitted to the predicted ground, which bends with the prediction (on the demo drive, stage-19
            # weights, free cells against the truth's: IoU 0.79 on the known plane, 0.86 on the fitted one); the
            # known plane serves them where no plane fits.
            scaling = known_plane(points, up)
            if not self._holds(scaling):
                return self._refused(scaling, 'ground is not on the known plane', fraction)
            near = fits and float(np.dot(fitted.up, up)) >= math.cos(math.radians(MAX_FITTED_TILT_DEG))
            plane = fitted if near else scaling
        else:
            if not fits:
                return self._refused(fitted, 'ground is not one plane', fraction)
            if abs(fitted.up[0]) > MAX_FITTED_LEAN or fitted.up[1] > MAX_FITTED_LEAN:
                return LockState(1.0, False, f'the plane fitted to the ground stands to the side of or above the '
                                             f'camera (roll {fitted.roll_deg:.0f} deg): a wall or ceiling labelled '
                                             'ground, or a rolled camera (give its mounting by tf)', fitted, fraction)
            plane = scaling = fitted
        if camera_height is None:
            return LockState(1.0, False, PLANE_ONLY, plane, fraction, plane_holds=True)
        return self._locked(camera_height, scaling, plane, LOCKED, fraction)

    def _level_lock(self, depth, valid, normals, rx, ry, camera_height, up) -> LockState:
        """The lock on the lowest level surface of the predicted normals (`lowest_level`), for where the labelled
        ground does not lock.
        """
        # A regular grid of about four times max_points pixels: the share and the percentile need no more.
        step = max(1, int(math.sqrt(depth.size / (4 * self.max_points))))
        grid = np.s_[::step, ::step]
        valid = valid[grid]
        z = depth[grid][valid].astype(np.float64)
        points = np.stack([rx[grid][valid] * z, ry[grid][valid] * z, z], 1)
        floor = lowest_level(-(points @ np.asarray(up)), level_pixels(normals[grid][valid], up, self.level_floor_deg))
        share = float(floor.sum()) / valid.size
        if share < self.min_fraction:
            return LockState(1.0, False, f'too little level floor in view ({share:.1%} of the image, needs '
                                         f'{self.min_fraction:.0%})', ground_fraction=share)
        points = points[floor]
        if len(points) > self.max_points:
            points = points[self.rng.choice(len(points), self.max_points, replace=False)]
        plane = known_plane(points, up)
        if not self._holds(plane):
            return self._refused(plane, 'level floor is not on the known plane', share)
        return self._locked(camera_height, plane, plane, LOCKED_LEVEL, share)

    def _points(self, mask: np.ndarray, depth: np.ndarray, rx: np.ndarray, ry: np.ndarray) -> np.ndarray:
        """The back-projected points of `mask`'s pixels, at most `max_points` of them drawn at random."""
        v, u = np.nonzero(mask)
        if len(v) > self.max_points:
            keep = self.rng.choice(len(v), self.max_points, replace=False)
            v, u = v[keep], u[keep]
        z = depth[v, u].astype(np.float64)
        return np.stack([rx[v, u] * z, ry[v, u] * z, z], 1)

    def _locked(self, camera_height: float, scaling: GroundPlane, plane: GroundPlane, reason: str,
                fraction: float) -> LockState:
        """Locked: the frame's scale from `scaling`'s height, smoothed with the frames before."""
        log_raw = math.log(camera_height / scaling.height)
        a = self.smoothing
        self.log_scale = log_raw if self.log_scale is None else a * self.log_scale + (1 - a) * log_raw
        return LockState(math.exp(self.log_scale), True, reason, plane, fraction, plane_holds=True)

    def _holds(self, plane: GroundPlane | None) -> bool:
        return plane is not None and plane.inliers >= self.min_inliers

    def _refused(self, plane: GroundPlane | None, what: str, fraction: float) -> LockState:
        share = 0.0 if plane is None else plane.inliers
        return LockState(1.0, False, f'{what} ({share:.0%} of its points fit, needs {self.min_inliers:.0%})', plane,
                         fraction)

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

"""Rigid transforms that move a cloud from the camera's optical frame into another frame.

A transform maps points given in the source frame into the target frame: p_target = R p_source + t, which is
what tf2's lookup_transform(target_frame, source_frame) returns. Quaternions are (x, y, z, w) as in ROS;
transforms3d, which does the maths, orders them (w, x, y, z).
"""
from __future__ import annotations

from dataclasses import dataclass
import math
from typing import Sequence

import numpy as np
import torch
from transforms3d.euler import euler2mat
from transforms3d.quaternions import quat2mat

# tf2 rejects quaternions whose squared length is further than this from 1.
QUATERNION_TOLERANCE = 1e-2


@dataclass(frozen=True, eq=False)
class RigidTransform:
    """p_target = rotation @ p_source + translation."""

    rotation: np.ndarray  # 3 x 3, float64
    translation: np.ndarray  # 3, float64

    @classmethod
    def from_translation_quaternion(cls, translation: Sequence[float], quaternion_xyzw: Sequence[float]
                                    ) -> RigidTransform:
        """The transform of a translation and a unit quaternion (x, y, z, w), as TF gives them."""
        q = _finite_vector(quaternion_xyzw, 4, 'quaternion (x, y, z, w)')
        squared = float(q @ q)
        if abs(squared - 1.0) > QUATERNION_TOLERANCE:
            raise ValueError(f'quaternion (x, y, z, w) {q.tolist()} is not normalised (squared length {squared:.4g})')
        x, y, z, w = q / math.sqrt(squared)
        return cls(quat2mat([w, x, y, z]), _finite_vector(translation, 3, 'translation (x, y, z)'))

    @classmethod
    def from_translation_rpy(cls, translation: Sequence[float], rpy: Sequence[float]) -> RigidTransform:
        """Roll, pitch, yaw in radians about the fixed x, y, z axes (R = Rz(yaw) Ry(pitch) Rx(roll)), as tf2."""
        roll, pitch, yaw = _finite_vector(rpy, 3, 'roll, pitch, yaw')
        return cls(euler2mat(roll, pitch, yaw, 'sxyz'), _finite_vector(translation, 3, 'translation (x, y, z)'))

    def after(self, first: RigidTransform) -> RigidTransform:
        """The transform of applying `first`, then this one (target <- source after source <- first's source)."""
        return RigidTransform(self.rotation @ first.rotation, self.rotation @ first.translation + self.translation)

    def inverse(self) -> RigidTransform:
        """The transform the other way: source <- target."""
        return RigidTransform(self.rotation.T, -self.rotation.T @ self.translation)

    def apply(self, points: torch.Tensor) -> torch.Tensor:
        """... x 3 points -> transformed points (NaN stays NaN)."""
        rotation, translation = self._tensors(points)
        return points @ rotation.T + translation

    def rotate(self, vectors: torch.Tensor) -> torch.Tensor:
        """... x 3 directions (normals) -> rotated directions."""
        rotation, _ = self._tensors(vectors)
        return vectors @ rotation.T

    def _tensors(self, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return (torch.as_tensor(self.rotation, dtype=like.dtype, device=like.device),
                torch.as_tensor(self.translation, dtype=like.dtype, device=like.device))


def _finite_vector(values: Sequence[float], size: int, name: str) -> np.ndarray:
    vector = np.asarray(values, dtype=np.float64).reshape(-1)
    if vector.size != size or not np.isfinite(vector).all():
        raise ValueError(f'{name} must be {size} finite numbers, got {list(np.asarray(values).reshape(-1))}')
    return vector

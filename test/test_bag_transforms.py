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

"""A bag's /tf and /tf_static looked up as tf2 does: chained through the common ancestor, static at any time,
/tf interpolated between its samples and refused outside them.
"""
import math

import numpy as np
import pytest
from transforms3d.euler import euler2quat

from vision_banana_ros.bag import messages
from vision_banana_ros.bag.transforms import BagTransforms
from vision_banana_ros.geometry import RigidTransform

T = messages.TYPESTORE.types


def _tf(*edges):
    """A TFMessage of (parent, child, stamp_s, translation, yaw in radians) transforms."""
    stamped = []
    for parent, child, stamp_s, translation, yaw in edges:
        w, x, y, z = euler2quat(0.0, 0.0, yaw)
        stamped.append(T['geometry_msgs/msg/TransformStamped'](
            header=messages.header(round(stamp_s * 1e9), parent), child_frame_id=child,
            transform=T['geometry_msgs/msg/Transform'](translation=T['geometry_msgs/msg/Vector3'](*translation),
                                                       rotation=T['geometry_msgs/msg/Quaternion'](x, y, z, w))))
    return T['tf2_msgs/msg/TFMessage'](transforms=stamped)


def _yaw(yaw, translation):
    w, x, y, z = euler2quat(0.0, 0.0, yaw)
    return RigidTransform.from_translation_quaternion(translation, (x, y, z, w))


def _same(a: RigidTransform, b: RigidTransform):
    np.testing.assert_allclose(a.rotation, b.rotation, atol=1e-9)
    np.testing.assert_allclose(a.translation, b.translation, atol=1e-9)


@pytest.fixture
def robot():
    """A robot whose odom -> base_footprint moves (two samples) and whose camera is mounted (static)."""
    tf = BagTransforms()
    tf.add(_tf(('odom', 'base_footprint', 10.0, (0.0, 0.0, 0.0), 0.0),
               ('odom', 'base_footprint', 12.0, (2.0, 0.0, 0.0), math.pi / 2)), static=False)
    tf.add(_tf(('base_footprint', 'camera_link', 0.0, (0.3, 0.0, 0.8), 0.0),
               ('/camera_link', 'camera_optical', 0.0, (0.0, 0.0, 0.0), math.pi)), static=True)
    return tf


def test_a_lookup_chains_static_transforms_at_any_time(robot):
    # base_footprint <- camera_optical: the optical frame turned half round, 0.3 m ahead and 0.8 m up.
    for stamp in (0, 10**9, 10**12):
        _same(robot.lookup('base_footprint', 'camera_optical', stamp), _yaw(math.pi, (0.3, 0.0, 0.8)))
    inverse = robot.lookup('/camera_optical', 'base_footprint', 0)
    np.testing.assert_allclose(inverse.rotation @ np.array([0.3, 0.0, 0.8]) + inverse.translation, 0.0, atol=1e-9)


def test_a_moving_transform_is_interpolated_and_refused_outside_its_samples(robot):
    # Half way: 1 m along odom's x, turned a quarter of the way round (slerp of 0 and 90 degrees is 45).
    middle = robot.lookup('odom', 'base_footprint', 11 * 10**9)
    _same(middle, _yaw(math.pi / 4, (1.0, 0.0, 0.0)))
    through = robot.lookup('odom', 'camera_link', 12 * 10**9)    # the camera 0.3 m ahead of a robot facing y
    np.testing.assert_allclose(through.translation, (2.0, 0.3, 0.8), atol=1e-9)
    with pytest.raises(LookupError, match='extrapolation'):
        robot.lookup('odom', 'camera_optical', 13 * 10**9)


def test_frames_that_are_not_connected_are_named(robot):
    assert robot and not BagTransforms()
    with pytest.raises(LookupError, match='map and camera_optical are not connected'):
        robot.lookup('camera_optical', 'map', 0)
    assert robot.frames() == {'odom', 'base_footprint', 'camera_link', 'camera_optical'}

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

"""scale_lock ground in the live node, with the embedded model on a procedural street frame: the depth is
rescaled so that the camera stands at camera_height_m above the fitted ground, <cam>/ground carries the plane,
obstacles and the grid come out, and diagnostics say what the lock did. Its configuration errors name the
parameter.
"""
import numpy as np
import pytest

rclpy = pytest.importorskip('rclpy')
from geometry_msgs.msg import PoseStamped  # noqa: E402, I100 (imported after the skip)
from nav_msgs.msg import OccupancyGrid  # noqa: E402
from rclpy.parameter import Parameter  # noqa: E402
from rclpy.qos import qos_profile_sensor_data  # noqa: E402
from sensor_msgs.msg import Image, PointCloud2  # noqa: E402
from test_ros_hostile import Harness  # noqa: E402

from vision_banana_ros.config import load_config_file  # noqa: E402
from vision_banana_ros.geometry.ground import LOCKED  # noqa: E402
from vision_banana_ros.ros.messages import message_bytes  # noqa: E402
from vision_banana_ros.world import render_frame  # noqa: E402

pytestmark = pytest.mark.ros


def test_the_depth_is_locked_to_the_camera_height_and_the_ground_is_published():
    from vision_banana_ros.ros.node import VisionBananaNode
    frame = render_frame(2, 320, 240)
    height = frame.camera['height_m']
    h = Harness(VisionBananaNode, '', Parameter('scale_lock', value='ground'),
                Parameter('camera_height_m', value=height), Parameter('scale_smoothing', value=0.0),
                Parameter('diagnostics_period', value=0.3))
    try:
        grounds, depths, obstacles, grids = [], [], [], []
        h.client.create_subscription(PoseStamped, 'front/ground', grounds.append, 5)
        h.client.create_subscription(Image, 'front/depth', depths.append, 5)
        h.client.create_subscription(PointCloud2, 'front/obstacles', obstacles.append, 5)
        h.client.create_subscription(OccupancyGrid, 'front/grid', grids.append, 5)
        send = h.frame_sender('front', frame)

        def locked():
            return (grounds and obstacles and grids
                    and any(v.get('ground_lock') == LOCKED for _, v in h.status('front')))
        assert h.spin_until(send, locked), h.status('front')[-1:]
    finally:
        h.close()
    pose = grounds[-1]
    foot = np.array([pose.pose.position.x, pose.pose.position.y, pose.pose.position.z])
    assert pose.header.frame_id == 'front_optical'
    assert np.linalg.norm(foot) == pytest.approx(height, rel=1e-4)    # the camera stands camera_height_m above it
    q = pose.pose.orientation
    up = np.array([2 * (q.x * q.z + q.w * q.y), 2 * (q.y * q.z - q.w * q.x), 1 - 2 * (q.x * q.x + q.y * q.y)])
    assert np.allclose(up, -foot / np.linalg.norm(foot), atol=1e-6)      # z along the normal, toward the camera
    grid = grids[-1]
    assert grid.header.frame_id == 'front_optical' and (grid.info.width, grid.info.height) == (100, 100)
    cells = np.asarray(grid.data, np.int8)
    assert (cells == 0).sum() > 100 and set(np.unique(cells)) <= {-1, 0, 100}     # the road ahead is free
    assert obstacles[-1].header.frame_id == 'front_optical' and obstacles[-1].width > 0
    values = [v for _, v in h.status('front') if v.get('ground_lock') == LOCKED][-1]
    assert float(values['ground_pitch_deg']) == pytest.approx(frame.camera['pitch_deg'], abs=5.0)
    # the published depth is the locked one: the truth's median within 25 % (the model alone is farther off)
    depth = np.frombuffer(bytes(depths[-1].data), np.float32).reshape(240, 320)
    valid = np.isfinite(depth) & np.isfinite(frame.depth) & (frame.labels == 0)
    assert np.median(depth[valid] / frame.depth[valid]) == pytest.approx(1.0, abs=0.25)


@pytest.mark.parametrize('lines, named', [
    ('scale_lock: ground', 'camera_height_m'),             # 0 = from tf, and tf2 is not installed here
    ('ground_classes: []', 'ground_classes'),
    ('ground_classes: [0, 300]', 'ground_classes'),
    ('scale_lock: level', 'scale_lock'),
    ('grid_frame: odom', 'grid_frame'),                    # tf2 moves the grid there; not installed here
    ('obstacle_min_height: 3.0', 'obstacle_min_height'),   # above obstacle_max_height
])
def test_scale_lock_configuration_errors_name_the_parameter(tmp_path, lines, named):
    path = tmp_path / 'params.yaml'
    path.write_text('/**:\n  ros__parameters:\n    ' + lines + '\n')
    with pytest.raises(ValueError, match=named):
        load_config_file(path)


def test_the_lock_asks_for_segmentation_when_only_depth_is_wanted(tmp_path):
    from vision_banana_ros.outputs import tasks_for
    path = tmp_path / 'params.yaml'
    path.write_text('/**:\n  ros__parameters:\n    scale_lock: ground\n    camera_height_m: 1.2\n')
    assert tasks_for(['depth'], load_config_file(path)) == ('segmentation', 'depth')
    assert tasks_for(['depth'], load_config_file(None)) == ('depth',)


def test_the_grid_without_the_lock_fits_the_plane_and_leaves_the_depth_and_status_alone():
    from diagnostic_msgs.msg import DiagnosticStatus

    from vision_banana_ros.ros.node import VisionBananaNode
    frame = render_frame(2, 320, 240)
    h = Harness(VisionBananaNode, '', Parameter('diagnostics_period', value=0.3))
    try:
        grids = []
        h.client.create_subscription(OccupancyGrid, 'front/grid', grids.append, 5)
        image = h.client.create_publisher(Image, 'front/image', qos_profile_sensor_data)

        def send():
            image.publish(Image(header=h.header('front'), width=320, height=240, encoding='rgb8', step=960,
                                data=message_bytes(frame.rgb)))

        def planes_reported():
            return grids and any('ground_pitch_deg' in v for _, v in h.status('front'))
        assert h.spin_until(send, planes_reported)
    finally:
        h.close()
    assert h.node.core.label_info == []          # vision_msgs is not installed here: no label_info topic
    level, values = [s for s in h.status('front') if 'ground_pitch_deg' in s[1]][-1]
    assert level == DiagnosticStatus.OK and float(values['ground_scale']) == 1.0


def test_the_tf_mounting_gives_the_height_and_the_ground_tilt():
    # tf2_ros is not installed here: a buffer holding one transform stands in for it (the node calls
    # lookup_transform(ground_frame, image frame, stamp) and nothing else).
    from geometry_msgs.msg import TransformStamped
    from std_msgs.msg import Header

    from vision_banana_ros.outputs import tf_mounting
    from vision_banana_ros.ros.scale_lock import tf_lookup

    class OneTransform:
        def __init__(self, z, quaternion_xyzw):
            self.transform = TransformStamped()
            self.transform.transform.translation.z = z
            r = self.transform.transform.rotation
            r.x, r.y, r.z, r.w = quaternion_xyzw

        def lookup_transform(self, target, source, stamp):
            if (target, source) != ('base_footprint', 'cam_optical'):
                raise LookupError(f'no transform {target} -> {source}')
            return self.transform

    config = load_config_file(None)
    header = Header(frame_id='cam_optical')
    level = (-0.5, 0.5, -0.5, 0.5)      # REP 103: an optical frame looking along base_footprint's x

    def mounting(buffer, header):
        return tf_mounting(tf_lookup(buffer, header), config.ground_frame, header.frame_id)
    height, up = mounting(OneTransform(0.8, level), header)
    assert height == pytest.approx(0.8) and np.allclose(up, (0.0, -1.0, 0.0))
    assert 'no camera mounting from tf (base_footprint -> other)' in mounting(OneTransform(0.8, level),
                                                                            Header(frame_id='other'))
    assert 'is not above base_footprint' in mounting(OneTransform(-0.1, level), header)


def test_a_refused_lock_is_no_news_once_nobody_listens():
    """The camera warns that its depth is not locked while someone takes the depth; once the last subscriber
    leaves, the frames are not answered and the last frame's refusal must not stay up as a warning.
    """
    from diagnostic_msgs.msg import DiagnosticStatus

    from vision_banana_ros.ros.node import VisionBananaNode
    h = Harness(VisionBananaNode, '', Parameter('scale_lock', value='ground'), Parameter('camera_height_m', value=1.2),
                Parameter('diagnostics_period', value=0.3))
    try:
        image = h.client.create_publisher(Image, 'front/image', qos_profile_sensor_data)

        def send():
            image.publish(h.raw('front', 96, 64))       # noise: no ground to lock to

        def front(level):
            return lambda: any(lv == level and 'not ground-locked' in m for lv, m in h.messages('front')[-1:])
        assert h.spin_until(send, front(DiagnosticStatus.WARN), 30)
        for subscription in [s for s in h.client.subscriptions if s.topic_name == '/front/depth']:
            h.client.destroy_subscription(subscription)
        assert h.spin_until(send, lambda: h.messages('front')[-1][0] == DiagnosticStatus.OK, 30)
    finally:
        h.close()

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

"""`upright` in the live node: a street camera mounted on its side, its roll from the mounting in tf, is shown to
the embedded model upright and its labels come back in its own pixels; turned off at run time, they fall apart.
Without tf2 the parameter is a configuration error that names it.
"""
from types import SimpleNamespace

import numpy as np
import pytest

rclpy = pytest.importorskip('rclpy')
from geometry_msgs.msg import TransformStamped  # noqa: E402, I100 (imported after the skip)
from rclpy.parameter import Parameter  # noqa: E402
from rclpy.qos import qos_profile_sensor_data  # noqa: E402
from sensor_msgs.msg import Image  # noqa: E402
from test_outputs import mounting  # noqa: E402
from test_ros_hostile import Harness  # noqa: E402
from transforms3d.quaternions import mat2quat  # noqa: E402

from vision_banana_ros.config import load_config_file  # noqa: E402
from vision_banana_ros.ros import core  # noqa: E402
from vision_banana_ros.world import render_frame  # noqa: E402

pytestmark = pytest.mark.ros


def _tf2_with(to_ground) -> SimpleNamespace:
    """tf2_ros is not installed here: a module whose Buffer holds one transform (base_footprint <- front_optical)
    stands in for it; the node calls Buffer(), TransformListener(buffer, node) and lookup_transform only.
    """
    class Buffer:
        def lookup_transform(self, target, source, time):
            if (target, source) != ('base_footprint', 'front_optical'):
                raise LookupError(f'no transform {target} -> {source}')
            msg = TransformStamped()
            msg.transform.translation.z = float(to_ground.translation[2])
            w, x, y, z = mat2quat(to_ground.rotation)
            q = msg.transform.rotation
            q.x, q.y, q.z, q.w = float(x), float(y), float(z), float(w)
            return msg

    return SimpleNamespace(Buffer=Buffer, TransformListener=lambda buffer, node: None)


def test_a_camera_on_its_side_is_labelled_upright_by_its_mounting(monkeypatch):
    from vision_banana_ros.ros.node import VisionBananaNode
    frame = render_frame(3, 320, 240, preset='street', roll_deg=90.0, pitch_deg=-5.0)
    monkeypatch.setattr(core, 'tf2_ros', _tf2_with(mounting(frame.camera)))
    h = Harness(VisionBananaNode, '', Parameter('upright', value=True), Parameter('diagnostics_period', value=0.3))
    try:
        labels = []
        h.client.create_subscription(Image, 'front/semantic/labels', labels.append, 5)
        send = h.frame_sender('front', frame)

        def accuracy() -> float:
            predicted = np.frombuffer(bytes(labels[-1].data), np.uint8).reshape(240, 320)
            known = frame.labels != 255
            return float(np.mean(predicted[known] == frame.labels[known]))

        def turned():
            return labels and any(v.get('upright_turn_deg') == '-90.0' for _, v in h.status('front'))
        assert h.spin_until(send, turned), h.status('front')[-1:]
        upright = accuracy()
        h.node.set_parameters([Parameter('upright', value=False)])
        labels.clear()
        h.diagnostics.clear()
        # a frame decoded before the change (turned) may wait in the camera's slot and another in the engine
        assert h.spin_until(send, lambda: len(labels) >= 3 and len(h.status('front')) >= 2)
        as_is = accuracy()
        assert 'upright_turn_deg' not in h.status('front')[-1][1]     # upright off: not reported
    finally:
        h.close()
    print(f'\npixel accuracy turned upright {upright:.3f}, as it is {as_is:.3f}')
    assert upright > 0.8 and as_is < upright - 0.3


def test_a_missing_mounting_leaves_the_frame_as_it_is_and_says_why(monkeypatch):
    from vision_banana_ros.ros.node import VisionBananaNode
    monkeypatch.setattr(core, 'tf2_ros', _tf2_with(mounting(render_frame(3, 64, 48).camera)))
    h = Harness(VisionBananaNode, '', Parameter('upright', value=True), Parameter('diagnostics_period', value=0.3))
    try:
        image = h.client.create_publisher(Image, 'left/image', qos_profile_sensor_data)

        def said():     # and answered all the same
            return h.received[('left', 'depth')] and any(
                v.get('upright_turn_deg') == '0.0' and 'no camera mounting from tf (base_footprint -> left_optical)'
                in v.get('upright_problem', '') for _, v in h.status('left'))
        assert h.spin_until(lambda: image.publish(h.raw('left', 64, 48)), said)
    finally:
        h.close()


def test_upright_without_tf2_names_the_parameter(tmp_path):
    path = tmp_path / 'params.yaml'
    path.write_text('/**:\n  ros__parameters:\n    upright: true\n')
    with pytest.raises(ValueError, match='parameter upright: takes the camera roll from tf'):
        load_config_file(path)

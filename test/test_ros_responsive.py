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

"""The node stays responsive: a camera whose images are slow to decode holds up neither the other cameras nor the
parameter services, a peer with incompatible QoS is named and counted, and the process ends cleanly on a signal
while frames flow.
"""
import os
import signal
import threading
import time

import numpy as np
import pytest

rclpy = pytest.importorskip('rclpy')
from rclpy.parameter import Parameter  # noqa: E402, I100 (imported after the skip)
from rclpy.parameter_client import AsyncParameterClient  # noqa: E402
from rclpy.qos import DurabilityPolicy, qos_profile_sensor_data, QoSProfile, ReliabilityPolicy  # noqa: E402
from sensor_msgs.msg import CameraInfo, Image  # noqa: E402
from test_ros_hostile import CAMERAS, Harness  # noqa: E402
from test_ros_node import image_msg, start_node  # noqa: E402

pytestmark = pytest.mark.ros


def test_a_camera_slow_to_decode_holds_up_neither_the_other_camera_nor_parameters(tiny_weights, monkeypatch):
    from vision_banana_ros.ros import core
    from vision_banana_ros.ros.node import VisionBananaNode
    decoding, release, decoded = threading.Event(), threading.Event(), threading.Event()
    image_to_rgb = core.image_to_rgb

    def slow_for_front(msg, max_pixels):
        if msg.header.frame_id == 'front_optical':
            decoding.set()
            release.wait(10.0)      # a decoder stuck on one camera's frame (bounded, so a failure ends)
            decoded.set()
        return image_to_rgb(msg, max_pixels)
    monkeypatch.setattr(core, 'image_to_rgb', slow_for_front)
    h = Harness(VisionBananaNode, tiny_weights)
    try:
        images = {cam: h.client.create_publisher(Image, f'{cam}/image', qos_profile_sensor_data) for cam in CAMERAS}
        parameters = AsyncParameterClient(h.client, 'vision_banana')
        images['front'].publish(h.raw('front', 96, 64))
        assert h.spin_until(lambda: None, decoding.is_set, 20)
        future = parameters.set_parameters([Parameter('max_wait_ms', value=40.0)])

        def served_while_front_decodes():
            return (not decoded.is_set() and len(h.received[('left', 'depth')]) >= 2 and future.done()
                    and future.result().results[0].successful)
        assert h.spin_until(lambda: images['left'].publish(h.raw('left', 96, 64)), served_while_front_decodes, 8)
        assert h.node.core.config.max_wait_ms == 40.0
        release.set()
        assert h.spin_until(lambda: None, lambda: len(h.received[('front', 'depth')]) >= 1, 30)
    finally:
        release.set()
        h.close()


def test_peers_with_incompatible_qos_are_named_and_counted(tiny_weights):
    from vision_banana_ros.ros.node import VisionBananaNode
    h = Harness(VisionBananaNode, tiny_weights, Parameter('diagnostics_period', value=0.5))
    try:
        # camera_info is subscribed reliable: a best-effort publisher cannot reach it
        best_effort = QoSProfile(depth=1, reliability=ReliabilityPolicy.BEST_EFFORT)
        info = h.client.create_publisher(CameraInfo, 'front/camera_info', best_effort)
        # outputs are volatile: a subscriber asking for transient local gets nothing
        latched = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                             durability=DurabilityPolicy.TRANSIENT_LOCAL)
        h.client.create_subscription(Image, 'left/semantic/color', lambda m: None, latched)
        image = h.client.create_publisher(Image, 'front/image', qos_profile_sensor_data)

        def reported():
            front = [(level, text, v) for (level, v), (_, text) in zip(h.status('front'), h.messages('front'))]
            left = [(level, text, v) for (level, v), (_, text) in zip(h.status('left'), h.messages('left'))]
            return (any('front/camera_info' in text and int(v['qos_incompatible']) >= 1 for _, text, v in front)
                    and any('left/semantic/color' in text and int(v['qos_incompatible']) >= 1 for _, text, v in left)
                    and len(h.received[('front', 'depth')]) >= 1)      # and the camera still works
        assert h.spin_until(lambda: image.publish(h.raw('front', 96, 64)), reported, 30)
        assert info.get_subscription_count() == 0          # really incompatible, not merely unmatched
    finally:
        h.close()


def test_the_qos_event_callbacks_come_from_humbles_rclpy_too(monkeypatch):
    """Humble's rclpy has them in rclpy.qos_event (rclpy.event_handler came with Iron)."""
    import importlib
    import sys
    import types

    import vision_banana_ros.ros.qos as qos
    humble = types.ModuleType('rclpy.qos_event')
    humble.PublisherEventCallbacks, humble.SubscriptionEventCallbacks = type('Pub', (), {}), type('Sub', (), {})
    monkeypatch.setitem(sys.modules, 'rclpy.event_handler', None)      # import raises ImportError
    monkeypatch.setitem(sys.modules, 'rclpy.qos_event', humble)
    try:
        importlib.reload(qos)
        assert (qos.PublisherEventCallbacks, qos.SubscriptionEventCallbacks) == (
            humble.PublisherEventCallbacks, humble.SubscriptionEventCallbacks)
    finally:
        monkeypatch.undo()
        importlib.reload(qos)


def _keep_publishing(publisher, msg, process):
    while process.poll() is None:
        publisher.publish(msg)
        time.sleep(0.01)


@pytest.mark.parametrize('signum', [signal.SIGINT, signal.SIGTERM])
def test_a_signal_while_frames_flow_ends_the_node_cleanly(signum):
    # The embedded network at 1280x960 takes seconds a batch on a CPU: the signal comes while one runs, for
    # longer than deactivation waits; the process must still wait for it and end cleanly.
    process = start_node("''", 'max_wait_ms:=20.0', 'processing_width:=1280', 'processing_height:=960')
    context = rclpy.Context()
    rclpy.init(context=context)
    client = rclpy.create_node('vision_banana_signal_client', context=context)
    executor = rclpy.executors.SingleThreadedExecutor(context=context)
    executor.add_node(client)
    received = []
    client.create_subscription(Image, 'depth', received.append, 5)
    image = client.create_publisher(Image, 'image', qos_profile_sensor_data)
    rng = np.random.default_rng(0)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(received) < 2 and process.poll() is None:
            image.publish(image_msg(client.get_clock().now().to_msg(), 'camera_optical', rng))
            executor.spin_once(timeout_sec=0.1)
        assert len(received) >= 2, process.stdout.read() if process.poll() is not None else 'no depth'
        # Frames keep coming while the signal lands: a batch is in flight and callbacks run as the context dies.
        frame = image_msg(client.get_clock().now().to_msg(), 'camera_optical', rng)
        flowing = threading.Thread(target=_keep_publishing, args=(image, frame, process), daemon=True)
        flowing.start()
        time.sleep(0.5)
        process.send_signal(signum)
        output, _ = process.communicate(timeout=30)
        flowing.join(5)
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
        client.destroy_node()
        rclpy.shutdown(context=context)
    assert process.returncode == 0, output
    assert 'Traceback' not in output and 'Exception' not in output, output


def test_a_batch_outlasting_deactivation_is_not_published_and_its_model_is_freed_after(tiny_weights):
    """Deactivate waits 2 s for the batch in hand; one that runs longer (a first compiled batch, a slow server)
    must neither reach the topics of the node active again meanwhile nor keep its model until the process ends.
    """
    from vision_banana_ros.ros.node import VisionBananaLifecycleNode
    running, release = threading.Event(), threading.Event()
    h = Harness(VisionBananaLifecycleNode, tiny_weights, Parameter('diagnostics_period', value=0.2))
    try:
        h.node.trigger_configure()
        h.node.trigger_activate()
        old = h.node.core.engine
        run, closed = old.runner.run, []
        old.runner.backend.close = lambda: closed.append(True)

        def slow(requests):
            running.set()
            release.wait(10.0)          # bounded, so that a failure ends
            return run(requests)
        old.runner.run = slow
        image = h.client.create_publisher(Image, 'front/image', qos_profile_sensor_data)
        assert h.spin_until(lambda: image.publish(h.raw('front', 96, 64)), running.is_set, 20)
        h.node.trigger_deactivate()     # waits 2 s, then leaves the batch running
        assert h.node.core.engine is None and old.on_result is None
        h.node.trigger_activate()
        before = len(h.received[('front', 'depth')])
        release.set()
        assert h.spin_until(lambda: None, lambda: bool(closed), 10)     # freed on a diagnostics tick
        assert not h.node.core._draining and len(h.received[('front', 'depth')]) == before
    finally:
        release.set()
        h.close()

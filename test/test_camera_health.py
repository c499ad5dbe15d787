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

"""Per-camera health: frames missed before the node saw them (estimated from the gaps between header stamps, as
ROS 2 headers carry no sequence number), a camera gone stale, stamps and the clock going backwards (use_sim_time
with a looping bag), and the cpu_threads parameter that leaves a core to the executor.
"""
import time

import numpy as np
import pytest

PERIOD_NS = 100_000_000     # 10 Hz


def _stamps(indices, jitter=0.0, seed=0):
    rng = np.random.default_rng(seed)
    return [int(i * PERIOD_NS + rng.uniform(-jitter, jitter) * PERIOD_NS) for i in indices]


@pytest.mark.parametrize('jitter', [0.0, 0.1])
def test_missed_frames_are_estimated_from_stamp_gaps(jitter):
    from vision_banana_ros.ros.stamp_gaps import StampGaps
    rng = np.random.default_rng(1)
    lost = set(rng.choice(np.arange(10, 75), 15, replace=False).tolist())   # 15 of 60 frames after the first 10
    gaps = StampGaps()
    for stamp in _stamps([i for i in range(75) if i not in lost], jitter):
        gaps.add(stamp)
    assert gaps.missed == 15
    assert gaps.period_ns == pytest.approx(PERIOD_NS, rel=0.1)
    assert gaps.jumps_back == gaps.interruptions == 0


def test_stamps_going_backwards_count_a_jump_and_no_missed_frames():
    from vision_banana_ros.ros.stamp_gaps import StampGaps
    gaps = StampGaps()
    loop = list(range(50))
    for stamp in _stamps(loop + loop + [i for i in loop if i != 20]):    # a bag played three times, one frame lost
        gaps.add(stamp)
    assert gaps.jumps_back == 2 and gaps.missed == 1
    assert gaps.period_ns == pytest.approx(PERIOD_NS)
    gaps.add(gaps.last_ns)            # the same stamp twice: no gap, nothing missed
    assert gaps.missed == 1 and gaps.duplicates == 1


def test_a_long_pause_is_an_interruption_not_missed_frames():
    from vision_banana_ros.ros.stamp_gaps import StampGaps
    gaps = StampGaps()
    for stamp in _stamps(list(range(20)) + list(range(5000, 5020))):   # paused for ~8 minutes, then on again
        gaps.add(stamp)
    assert gaps.missed == 0 and gaps.interruptions == 1
    gaps = StampGaps()
    for stamp in _stamps([0, 30, 31, 32]):     # no period known yet: nothing can be counted
        gaps.add(stamp)
    assert gaps.missed == 0 and gaps.period_ns is None


def _node_harness(tiny_weights, *params):
    pytest.importorskip('rclpy')
    from rclpy.parameter import Parameter
    from test_ros_hostile import Harness

    from vision_banana_ros.ros.node import VisionBananaNode
    return Harness(VisionBananaNode, tiny_weights, Parameter('diagnostics_period', value=0.3), *params)


def _image(h, cam, index):
    from builtin_interfaces.msg import Time
    message = h.raw(cam, 96, 64)
    message.header.stamp = Time(sec=100 + index // 10, nanosec=(index % 10) * PERIOD_NS)
    return message


@pytest.mark.ros
def test_diagnostics_estimate_missed_frames_and_warn_when_a_camera_goes_stale(tiny_weights):
    from diagnostic_msgs.msg import DiagnosticStatus
    from rclpy.parameter import Parameter
    from rclpy.qos import qos_profile_sensor_data
    from sensor_msgs.msg import Image
    h = _node_harness(tiny_weights, Parameter('stale_timeout', value=1.0))
    try:
        images = {cam: h.client.create_publisher(Image, f'{cam}/image', qos_profile_sensor_data)
                  for cam in ('front', 'left')}
        sent = {'front': 0, 'left': 0}
        index = {'front': 0, 'left': 0}
        skipped = []

        def send(cams=('front', 'left')):
            for cam in cams:
                if cam == 'front' and sent[cam] >= 8 and sent[cam] % 4 == 0:   # every 4th stamp never sent
                    index[cam] += 1
                    skipped.append(index[cam])
                images[cam].publish(_image(h, cam, index[cam]))
                index[cam] += 1
                sent[cam] += 1

        def missed(cam):
            values = [v for _, v in h.status(cam) if 'frames_missed_estimate' in v]
            return int(values[-1]['frames_missed_estimate']) if values else 0
        assert h.spin_until(send, lambda: missed('front') >= 4)
        front, left = (h.node.core.cameras[cam] for cam in ('front', 'left'))
        # the frames sent last are taken in before counting: a skip is seen only once the frame after it arrives
        received, quiet = front.received.total, time.monotonic()
        while time.monotonic() - quiet < 0.5:
            h.executor.spin_once(timeout_sec=0.05)
            if front.received.total != received:
                received, quiet = front.received.total, time.monotonic()
        lost_front = sent['front'] - front.received.total      # lost by the transport, counted as missed too
        assert len(skipped) <= front.gaps.missed <= len(skipped) + lost_front
        assert left.gaps.missed <= sent['left'] - left.received.total
        # front goes quiet, left goes on: front is stale (WARN), left is not
        assert h.spin_until(lambda: send(('left',)), lambda: any(
            level == DiagnosticStatus.WARN and 'stale' in message for level, message in h.messages('front')))
        assert h.messages('left')[-1][0] == DiagnosticStatus.OK
    finally:
        h.close()


@pytest.mark.ros
def test_sim_time_looping_back_and_pausing_keeps_diagnostics_right(tiny_weights):
    from builtin_interfaces.msg import Time
    from diagnostic_msgs.msg import DiagnosticStatus
    from rclpy.parameter import Parameter
    from rclpy.qos import qos_profile_sensor_data
    from rosgraph_msgs.msg import Clock
    from sensor_msgs.msg import Image
    h = _node_harness(tiny_weights, Parameter('use_sim_time', value=True), Parameter('stale_timeout', value=1.0))
    try:
        clock = h.client.create_publisher(Clock, '/clock', 10)
        images = {cam: h.client.create_publisher(Image, f'{cam}/image', qos_profile_sensor_data)
                  for cam in ('front', 'left')}
        state = {'index': 0, 'loops': 0, 'sent': 0}

        def send(cams=('front', 'left')):
            i = state['index']
            clock.publish(Clock(clock=Time(sec=100 + i // 10, nanosec=(i % 10) * PERIOD_NS)))
            for cam in cams:
                images[cam].publish(_image(h, cam, i))
            state['index'], state['sent'] = i + 1, state['sent'] + 1
            if state['index'] == 15:     # the bag loops: clock and stamps go back to its start
                state['index'], state['loops'] = 0, state['loops'] + 1
        front = h.node.core.cameras['front']
        assert h.spin_until(send, lambda: state['loops'] >= 3 and front.published.total >= 20, 120)
        assert front.gaps.jumps_back >= 2
        assert front.gaps.missed <= state['sent'] - front.received.total    # what the transport lost, at most
        assert h.spin_until(lambda: None, lambda: any(int(v.get('stamp_jumps_back', 0)) >= 2
                                                      for _, v in h.status('front')), 20)
        latencies = [float(v[key]) for _, v in h.status('front') for key in ('latency_ms_p50', 'latency_ms_p99')]
        assert all(np.isnan(x) or 0 <= x < 60_000 for x in latencies)
        # The bag pauses: /clock stops; diagnostics still come, and say the silent camera is stale.
        reports = len(h.diagnostics)
        assert h.spin_until(lambda: None, lambda: len(h.diagnostics) >= reports + 3 and any(
            level == DiagnosticStatus.WARN and 'stale' in message for level, message in h.messages('front')), 30)
    finally:
        h.close()


@pytest.mark.ros
def test_cpu_threads_sets_the_inference_threads_and_changes_at_run_time(tiny_weights):
    """Torch's thread count belongs to the thread that runs the ops: what counts is the engine worker's."""
    from rclpy.parameter import Parameter
    from rclpy.qos import qos_profile_sensor_data
    from sensor_msgs.msg import Image
    import torch
    default = torch.get_num_threads()
    h = _node_harness(tiny_weights, Parameter('cpu_threads', value=1))
    seen = []

    def inferred_with(threads):
        seen.clear()
        return h.spin_until(lambda: image.publish(h.raw('front', 96, 64)),
                            lambda: len(seen) >= 2 and seen[-1] == threads, 30) and set(seen) == {threads}

    try:
        image = h.client.create_publisher(Image, 'front/image', qos_profile_sensor_data)
        run = h.node.core.engine.runner.run

        def counting(requests):
            seen.append(torch.get_num_threads())
            return run(requests)
        h.node.core.engine.runner.run = counting
        assert inferred_with(1)
        assert h.node.set_parameters([Parameter('cpu_threads', value=2)])[0].successful
        assert h.node.core.config.cpu_threads == 2 and inferred_with(2)
        assert not h.node.set_parameters([Parameter('cpu_threads', value=-1)])[0].successful
        # 0 restores torch's own count, from a setting that is not it
        other = 1 if default != 1 else 2
        assert h.node.set_parameters([Parameter('cpu_threads', value=other)])[0].successful and inferred_with(other)
        assert h.node.set_parameters([Parameter('cpu_threads', value=0)])[0].successful
        assert inferred_with(default)
    finally:
        h.close()


@pytest.mark.ros
def test_a_batch_size_halved_by_out_of_memory_stays_until_max_batch_is_set(tiny_weights):
    from rclpy.parameter import Parameter
    h = _node_harness(tiny_weights, Parameter('max_batch', value=4))
    try:
        engine = h.node.core.engine
        engine.max_batch = 1                  # what CUDA out of memory leaves (the engine halves it)
        assert h.node.set_parameters([Parameter('overlay_alpha', value=0.5),
                                      Parameter('max_wait_ms', value=8.0)])[0].successful
        assert (engine.max_batch, engine.max_wait) == (1, 0.008)
        assert h.node.set_parameters([Parameter('max_batch', value=3)])[0].successful
        assert engine.max_batch == 3
    finally:
        h.close()


@pytest.mark.ros
def test_clouds_skipped_for_want_of_a_transform_are_counted_and_warned(tiny_weights, monkeypatch):
    """A cloud subscriber with target_frame unknown to tf gets nothing: the camera must not report OK."""
    from diagnostic_msgs.msg import DiagnosticStatus
    from rclpy.parameter import Parameter
    from rclpy.qos import qos_profile_sensor_data
    from sensor_msgs.msg import Image, PointCloud2
    from test_outputs import mounting
    from test_ros_upright import _tf2_with

    from vision_banana_ros.ros import core
    from vision_banana_ros.world import render_frame
    monkeypatch.setattr(core, 'tf2_ros', _tf2_with(mounting(render_frame(3, 64, 48).camera)))   # no odom in it
    h = _node_harness(tiny_weights, Parameter('target_frame', value='odom'))
    try:
        clouds = []
        h.client.create_subscription(PointCloud2, 'front/points', clouds.append, 5)
        image = h.client.create_publisher(Image, 'front/image', qos_profile_sensor_data)

        def warned():
            return h.received[('front', 'depth')] and any(
                level == DiagnosticStatus.WARN and 'clouds skipped: no transform front_optical -> odom' in message
                for level, message in h.messages('front'))
        assert h.spin_until(lambda: image.publish(h.raw('front', 96, 64)), warned, 30)
        assert not clouds and int(h.status('front')[-1][1]['outputs_skipped_no_tf']) >= 1
    finally:
        h.close()


@pytest.mark.ros
def test_a_camera_whose_every_frame_is_refused_and_one_that_sends_none_both_warn(tiny_weights):
    """The two statuses a user looks for first: frames arrive and none is answered; no frame at all."""
    from diagnostic_msgs.msg import DiagnosticStatus
    from rclpy.qos import qos_profile_sensor_data
    from sensor_msgs.msg import Image
    h = _node_harness(tiny_weights)
    try:
        image = h.client.create_publisher(Image, 'front/image', qos_profile_sensor_data)

        def send():
            bayer = h.raw('front', 96, 64)
            bayer.encoding = 'bayer_rggb8'      # not decoded: rejected, counted
            image.publish(bayer)

        def warned():
            front, left = h.messages('front')[-1:], h.messages('left')[-1:]
            return (front and front[0][0] == DiagnosticStatus.WARN and 'images arrive, none processed' in front[0][1]
                    and left and left[0] == (DiagnosticStatus.WARN, 'no images'))
        assert h.spin_until(send, warned, 30), (h.messages('front')[-1:], h.messages('left')[-1:])
    finally:
        h.close()

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

"""In-process: run-time parameter changes and the managed node's transitions."""
import pytest

rclpy = pytest.importorskip('rclpy')
from lifecycle_msgs.msg import State  # noqa: E402, I100 (imported after the rclpy skip)
from rclpy.parameter import Parameter  # noqa: E402

pytestmark = pytest.mark.ros


@pytest.fixture
def context(tiny_weights):
    ctx = rclpy.Context()
    rclpy.init(context=ctx)
    yield ctx, [Parameter('weights', value=str(tiny_weights)), Parameter('device', value='cpu')]
    rclpy.shutdown(context=ctx)


def test_safe_parameters_change_at_run_time_and_bad_values_are_refused(context):
    from vision_banana_ros.ros.node import VisionBananaNode
    ctx, overrides = context
    node = VisionBananaNode(context=ctx, parameter_overrides=overrides)
    try:
        ok = node.set_parameters([Parameter('max_batch', value=2), Parameter('cloud_stride', value=4)])
        assert all(r.successful for r in ok)
        assert node.core.engine.max_batch == 2 and node.core.config.cloud.stride == 4
        refused = {
            'cloud_min_range': node.set_parameters([Parameter('cloud_min_range', value=100.0)])[0],  # > max_range
            'overlay_alpha': node.set_parameters([Parameter('overlay_alpha', value=1.5)])[0],        # out of range
            'device': node.set_parameters([Parameter('device', value='cuda')])[0],                  # read-only
        }
        for name, result in refused.items():
            assert not result.successful and result.reason, name
        assert 'min_range' in refused['cloud_min_range'].reason
        assert node.core.config.cloud.min_range == pytest.approx(0.1) and node.core.engine.max_batch == 2
    finally:
        node.destroy_node()


def test_lifecycle_transitions(context):
    from vision_banana_ros.ros.node import VisionBananaLifecycleNode
    ctx, overrides = context
    node = VisionBananaLifecycleNode(context=ctx, parameter_overrides=overrides)
    try:
        assert node.core.engine is None                           # nothing loaded before configure
        node.trigger_configure()
        assert node._state_machine.current_state[0] == State.PRIMARY_STATE_INACTIVE
        assert node.core.engine is not None and not node.core.cameras[''].subscriptions
        node.trigger_activate()
        assert node._state_machine.current_state[0] == State.PRIMARY_STATE_ACTIVE
        assert len(node.core.cameras[''].subscriptions) == 2      # image + camera_info
        node.trigger_deactivate()
        assert node.core.engine is None and not node.core.cameras[''].subscriptions   # model freed
        node.trigger_activate()                                   # reloads the model
        assert node.core.engine is not None
        node.trigger_deactivate()
        node.trigger_cleanup()
        assert node._state_machine.current_state[0] == State.PRIMARY_STATE_UNCONFIGURED and not node.core.cameras
    finally:
        node.destroy_node()


def test_lifecycle_shutdown_from_active_releases_subscriptions_and_model(context):
    from vision_banana_ros.ros.node import VisionBananaLifecycleNode
    ctx, overrides = context
    node = VisionBananaLifecycleNode(context=ctx, parameter_overrides=overrides)
    try:
        node.trigger_configure()
        node.trigger_activate()
        subscriptions = list(node.subscriptions)
        assert subscriptions
        node.trigger_shutdown()
        assert node._state_machine.current_state[0] == State.PRIMARY_STATE_FINALIZED
        assert node.core.engine is None and node.core.timer is None and not node.core.cameras
        assert not any(s in list(node.subscriptions) for s in subscriptions)
    finally:
        node.destroy_node()


@pytest.mark.parametrize('bad, named', [
    ([Parameter('tasks', value=['flow'])], 'tasks'),
    ([Parameter('cameras', value=['1cam'])], 'cameras'),                      # not a ROS name: refused up front
    ([Parameter('tasks', value=['depth']), Parameter('cloud_color_source', value='semantic')],  # needs segmentation
     'cloud_color_source'),
])
def test_lifecycle_configure_fails_on_bad_parameters(context, bad, named):
    from vision_banana_ros.ros.node import VisionBananaLifecycleNode
    ctx, overrides = context
    node = VisionBananaLifecycleNode(context=ctx, parameter_overrides=overrides + bad)
    try:
        node.trigger_configure()
        assert node._state_machine.current_state[0] == State.PRIMARY_STATE_UNCONFIGURED
        assert node.core.engine is None and not node.core.cameras     # what configure built is undone
        with pytest.raises(ValueError, match=named):                  # and it failed for the bad parameter
            node.core.configure()
        node.core.cleanup()
    finally:
        node.destroy_node()


def test_a_backend_that_cannot_run_the_configuration_is_closed(context, monkeypatch):
    """Configure loads the backend before it knows the tasks will do: a refused one must not keep what it holds
    (a Triton backend's shared memory regions) on every retry.
    """
    from vision_banana_ros.backends.unified import UnifiedBackend
    from vision_banana_ros.ros.node import VisionBananaLifecycleNode
    closed = []
    close = UnifiedBackend.close
    monkeypatch.setattr(UnifiedBackend, 'close', lambda self: closed.append(self) or close(self))
    ctx, overrides = context
    node = VisionBananaLifecycleNode(context=ctx, parameter_overrides=overrides + [
        Parameter('tasks', value=['depth']), Parameter('cloud_color_source', value='semantic')])
    try:
        node.trigger_configure()
        node.trigger_configure()
        assert node._state_machine.current_state[0] == State.PRIMARY_STATE_UNCONFIGURED
        assert len(closed) == 2
    finally:
        node.destroy_node()


def test_lifecycle_activate_failure_is_reported_and_leaves_the_node_inactive(context, tmp_path):
    from vision_banana_ros.ros.node import VisionBananaLifecycleNode
    ctx, overrides = context
    weights = tmp_path / 'w.safetensors'
    weights.write_bytes(open(overrides[0].value, 'rb').read())
    node = VisionBananaLifecycleNode(context=ctx, parameter_overrides=[Parameter('weights', value=str(weights)),
                                                                       overrides[1]])
    try:
        node.trigger_configure()
        node.trigger_activate()
        node.trigger_deactivate()                                 # frees the model
        weights.unlink()                                          # so activation cannot load it again
        node.trigger_activate()
        assert node._state_machine.current_state[0] == State.PRIMARY_STATE_INACTIVE
        assert node.core.engine is None and not node.core.cameras[''].subscriptions and node.core.timer is None
    finally:
        node.destroy_node()


def test_runtime_change_that_needs_a_task_not_running_is_refused(context):
    from vision_banana_ros.ros.node import VisionBananaNode
    ctx, overrides = context
    node = VisionBananaNode(context=ctx, parameter_overrides=overrides + [Parameter('tasks', value=['depth'])])
    try:
        result = node.set_parameters([Parameter('cloud_color_source', value='semantic')])[0]
        assert not result.successful and 'cloud_color_source' in result.reason
        assert node.core.config.cloud.color_source == 'image'
    finally:
        node.destroy_node()


def test_depth_camera_info_keeps_the_input_distortion_unless_rectified():
    from sensor_msgs.msg import CameraInfo
    from std_msgs.msg import Header

    from vision_banana_ros.geometry import Intrinsics
    from vision_banana_ros.outputs import depth_camera_info
    from vision_banana_ros.ros.messages import to_camera_info
    intrinsics = Intrinsics.from_fov(640, 480, 90.0)
    distorted = CameraInfo(distortion_model='rational_polynomial', d=[0.1, -0.2, 0.0, 0.0, 0.01, 0.0, 0.0, 0.0])
    kept = to_camera_info(depth_camera_info(intrinsics, distorted, rectified=False), Header(frame_id='cam'))
    assert kept.distortion_model == 'rational_polynomial' and list(kept.d) == list(distorted.d)
    assert kept.k[0] == pytest.approx(320.0) and kept.header.frame_id == 'cam'
    for info in (depth_camera_info(intrinsics, distorted, rectified=True), depth_camera_info(intrinsics, None, False)):
        msg = to_camera_info(info, Header(frame_id='cam'))
        assert msg.distortion_model == 'plumb_bob' and not any(msg.d)


def test_diagnostics_are_named_after_the_node_as_launched(context):
    """Two nodes launched in their own namespaces must not share status names (the aggregator would merge them)."""
    from vision_banana_ros.ros.node import VisionBananaNode
    ctx, overrides = context
    node = VisionBananaNode(context=ctx, namespace='rear', parameter_overrides=overrides + [
        Parameter('cameras', value=['left'])])
    try:
        diagnostics, camera = node.core.diagnostics, node.core.cameras['left']
        status = diagnostics._camera_status(camera, 2.0)
        assert (status.name, status.hardware_id) == ('rear/vision_banana: camera left', '/rear/left/image')
        assert diagnostics._engine_status(node.core.engine).name == 'rear/vision_banana: engine'
    finally:
        node.destroy_node()


def test_a_misspelt_parameter_is_named_at_start_up(context, capfd):
    """A value for a parameter nobody declared goes nowhere in rclpy: the node says which, and what was meant."""
    from vision_banana_ros.ros.node import VisionBananaNode
    ctx, overrides = context
    node = VisionBananaNode(context=ctx, parameter_overrides=overrides + [
        Parameter('max_bach', value=2), Parameter('qos_overrides./image.subscription.depth', value=3)])
    try:
        assert node.core.engine.max_batch == 4                        # the default: the value went nowhere
    finally:
        node.destroy_node()
    err = capfd.readouterr().err
    assert 'unknown parameter max_bach (did you mean max_batch?): ignored' in err and 'qos_overrides' not in err


def test_a_run_time_change_does_not_read_the_start_up_files_again(context, tmp_path):
    """Weights and palette are read-only: moved or edited after start-up they must neither refuse an unrelated
    change nor change the colours the running backend decodes with.
    """
    import shutil

    from vision_banana_ros.codecs.palette import CITYSCAPES
    from vision_banana_ros.ros.node import VisionBananaNode
    ctx, overrides = context
    weights, palette = tmp_path / 'w.safetensors', tmp_path / 'palette.yaml'
    shutil.copy(overrides[0].value, weights)
    palette.write_text(CITYSCAPES.to_yaml())
    node = VisionBananaNode(context=ctx, parameter_overrides=[Parameter('weights', value=str(weights)), overrides[1],
                                                              Parameter('palette', value=str(palette))])
    try:
        before = node.core.config.palette
        weights.unlink()
        palette.write_text(CITYSCAPES.to_yaml().replace('- 128', '- 127', 1))    # another road colour
        assert node.set_parameters([Parameter('overlay_alpha', value=0.5)])[0].successful
        assert node.core.config.overlay_alpha == 0.5 and node.core.config.palette is before
    finally:
        node.destroy_node()

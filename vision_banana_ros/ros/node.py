"""The ROS 2 node: camera images in; labels, colour masks, depth, normals and clouds out.

A thin shell around the engine. Subscription callbacks convert the message and submit it to the engine, then
return; the engine's worker thread publishes the results. A frame whose outputs nobody subscribes to is not
processed at all, and each frame asks only for the tasks its subscribed outputs need.

`VisionBananaNode` configures and activates itself at start (`ros2 run vision_banana_ros vision_banana_node`);
`VisionBananaLifecycleNode` is managed: configure checks the parameters and loads the model, activate subscribes,
deactivate unsubscribes and frees the model (and GPU memory), cleanup drops the publishers.
"""
from __future__ import annotations

import sys
import time
from collections import deque
from dataclasses import dataclass, field

import numpy as np
import rclpy
import torch
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor, SetParametersResult
from rclpy.exceptions import (NameValidationException, ParameterException,
                               ParameterUninitializedException)
from rclpy.lifecycle import LifecycleNode, TransitionCallbackReturn
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.qos import (DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy, qos_profile_sensor_data)
from rclpy.time import Time
from sensor_msgs.msg import CameraInfo, CompressedImage, Image, PointCloud2

from ..camera_images import compressed_to_rgb, image_to_rgb
from ..config import NodeConfig, build_backend, read_config, runnable_tasks, size_warning
from ..engine import BatchRunner, Engine, FrameRequest
from ..geometry import Intrinsics
from ..outputs import DepthCameraInfo, Output, make_outputs, tasks_for
from ..parameters import PARAMS
from .cloud_msg import to_point_cloud2, transform_from_msg
from .convert import array_to_image

try:  # on a robot tf2 comes from the distro; the PyPI wheels used in CI have none
    import tf2_ros
except ImportError:
    tf2_ros = None

NODE_NAME = 'vision_banana'
WARN_PERIOD_S = 5.0
OUTPUT_TYPES = {'semantic/labels': Image, 'semantic/confidence': Image, 'semantic/color': Image, 'depth': Image,
                'depth/camera_info': CameraInfo, 'normals': Image, 'normals/raw': Image, 'points': PointCloud2}


class _Rate:
    """Events per second over the last few seconds."""

    def __init__(self, window_s: float = 5.0):
        self.window = window_s
        self.times: deque[float] = deque()
        self.total = 0

    def tick(self) -> None:
        self.times.append(time.monotonic())
        self.total += 1

    def hz(self) -> float:
        now = time.monotonic()
        while self.times and self.times[0] < now - self.window:
            self.times.popleft()
        return len(self.times) / self.window


@dataclass
class _Camera:
    name: str
    prefix: str
    publishers: dict = field(default_factory=dict)
    subscriptions: list = field(default_factory=list)
    info: CameraInfo | None = None
    received: _Rate = field(default_factory=_Rate)
    published: _Rate = field(default_factory=_Rate)
    rejected: int = 0
    failed: int = 0                      # outputs not built or not published
    fallback_intrinsics: bool = False    # no usable CameraInfo yet: fallback_hfov_deg in use
    latency_ms: deque = field(default_factory=lambda: deque(maxlen=500))


def _descriptor(param) -> ParameterDescriptor:
    text = param.description + (f' (one of: {", ".join(param.choices)})' if param.choices else '')
    descriptor = ParameterDescriptor(description=text, read_only=not param.dynamic)
    if param.low is not None and isinstance(param.default, int) and not isinstance(param.default, bool):
        descriptor.integer_range = [IntegerRange(from_value=int(param.low), to_value=int(param.high), step=1)]
    elif param.low is not None:
        descriptor.floating_point_range = [FloatingPointRange(from_value=float(param.low), to_value=float(param.high))]
    return descriptor


class VisionBanana:
    """Everything the node does, for either node class (`node` is a Node or a LifecycleNode)."""

    def __init__(self, node: Node):
        self.node = node
        self.log = node.get_logger()
        for param in PARAMS:
            default = Parameter.Type.DOUBLE_ARRAY if param.unset_type == 'double_array' else param.default
            node.declare_parameter(param.name, default, _descriptor(param))
        self.config: NodeConfig | None = None
        self.engine: Engine | None = None
        self.cameras: dict[str, _Camera] = {}
        self.diagnostics = None
        self.timer = None
        self.tf_buffer = self.tf_listener = None
        self._failed_before = 0                   # engine failures counted up to the last diagnostics message
        node.add_on_set_parameters_callback(self._on_set_parameters)

    def _value(self, name: str):
        try:
            return self.node.get_parameter(name).value
        except ParameterUninitializedException:  # declared with a type and no default, not set
            return None

    # ---- lifecycle steps -----------------------------------------------------------------------------------
    def configure(self) -> None:
        """Check parameters, load the model, create publishers. ValueError names the bad parameter or file."""
        self.config = read_config(self._value, tf2_ros is not None)
        self._start_engine()
        for name in self.config.cameras:
            camera = _Camera(name, f'{name}/' if name else '')
            for topic, msg_type in OUTPUT_TYPES.items():
                camera.publishers[topic] = self.node.create_publisher(msg_type, camera.prefix + topic, 5)
            self.cameras[name] = camera
        self.diagnostics = self.node.create_publisher(DiagnosticArray, '/diagnostics', 10)
        self._listen_to_tf(self.config)

    @staticmethod
    def _needs_tf(config: NodeConfig) -> bool:
        return bool(config.target_frame) and config.target_transform is None

    def _listen_to_tf(self, config: NodeConfig) -> None:
        if self._needs_tf(config) and self.tf_buffer is None:
            self.tf_buffer = tf2_ros.Buffer()
            self.tf_listener = tf2_ros.TransformListener(self.tf_buffer, self.node)

    def _start_engine(self) -> None:
        c = self.config
        backend = build_backend(c)
        runner = BatchRunner(backend, runnable_tasks(c, backend), c.precision)
        if warning := size_warning(backend):
            self.log.warning(warning)
        self.engine = Engine(runner, c.max_batch, c.max_wait_ms, on_result=self._publish, on_error=self._on_error)
        self.log.info(f'{backend.name} backend on {backend.device} ({c.precision}), '
                      f'{backend.parameter_count() / 1e6:.1f} M parameters, tasks {list(runner.tasks)}')

    def activate(self) -> None:
        if self.engine is None:  # freed by deactivate
            self._start_engine()
        c = self.config
        image_qos = QoSProfile(depth=c.image_qos_depth, history=HistoryPolicy.KEEP_LAST,
                               reliability=ReliabilityPolicy.BEST_EFFORT if c.image_qos_reliability == 'best_effort'
                               else ReliabilityPolicy.RELIABLE, durability=qos_profile_sensor_data.durability)
        # KEEP_ALL: a small CameraInfo beside big images must not be pushed out of a short queue.
        info_qos = QoSProfile(history=HistoryPolicy.KEEP_ALL,
                              durability=DurabilityPolicy.TRANSIENT_LOCAL
                              if c.camera_info_qos_durability == 'transient_local' else DurabilityPolicy.VOLATILE,
                              reliability=ReliabilityPolicy.RELIABLE if c.camera_info_qos_reliability == 'reliable'
                              else ReliabilityPolicy.BEST_EFFORT)
        for camera in self.cameras.values():
            compressed = c.transport == 'compressed'
            topic = camera.prefix + ('image/compressed' if compressed else 'image')
            camera.subscriptions = [
                self.node.create_subscription(CompressedImage if compressed else Image, topic,
                                              lambda msg, cam=camera, t=topic: self._on_image(cam, t, msg), image_qos),
                self.node.create_subscription(CameraInfo, camera.prefix + 'camera_info',
                                              lambda msg, cam=camera: setattr(cam, 'info', msg), info_qos)]
        self.timer = self.node.create_timer(c.diagnostics_period, self._publish_diagnostics)

    def deactivate(self) -> None:
        for camera in self.cameras.values():
            for subscription in camera.subscriptions:
                self.node.destroy_subscription(subscription)
            camera.subscriptions = []
        if self.timer is not None:
            self.node.destroy_timer(self.timer)
            self.timer = None
        self._stop_engine()

    def _stop_engine(self) -> None:
        if self.engine is not None:
            if not self.engine.close():
                self.log.warning('inference still running after 2 s: the model is freed once that batch ends')
            self.engine = None
            if torch.cuda.is_available():
                torch.cuda.empty_cache()

    def cleanup(self) -> None:
        """Release everything; also from the active state (a lifecycle shutdown), where subscriptions left alive
        would call into destroyed publishers."""
        self.deactivate()
        for camera in self.cameras.values():
            for publisher in camera.publishers.values():
                self.node.destroy_publisher(publisher)
        self.cameras = {}
        if self.diagnostics is not None:
            self.node.destroy_publisher(self.diagnostics)
            self.diagnostics = None
        if self.tf_listener is not None:
            self.tf_listener.unregister()
            self.tf_buffer = self.tf_listener = None

    # ---- frames in ---------------------------------------------------------------------------------------------
    @staticmethod
    def _subscribed(camera: _Camera) -> list[str]:
        return [topic for topic, publisher in camera.publishers.items() if publisher.get_subscription_count() > 0]

    def _on_image(self, camera: _Camera, topic: str, msg) -> None:
        camera.received.tick()
        engine = self.engine
        tasks = tasks_for(self._subscribed(camera), self.config)
        if engine is None or not tasks:
            return
        try:
            rgb = compressed_to_rgb(msg) if isinstance(msg, CompressedImage) else image_to_rgb(msg)
            request = FrameRequest(camera.name, rgb, header=msg.header,
                                   intrinsics=self._intrinsics(camera, rgb.shape[1], rgb.shape[0]), tasks=tasks)
        except Exception as exc:  # ValueError for what we check; a decoder may raise others on corrupt data
            camera.rejected += 1
            self.log.warning(f'{topic}: {exc}; frame skipped', throttle_duration_sec=WARN_PERIOD_S)
            return
        try:
            engine.submit(request)
        except RuntimeError:  # closed between the check and the submit (deactivation)
            pass

    def _intrinsics(self, camera: _Camera, width: int, height: int) -> Intrinsics:
        intrinsics, fallback = Intrinsics.for_image(camera.info, width, height, rectified=self.config.rectified,
                                                    fallback_hfov_deg=self.config.fallback_hfov_deg)
        if fallback and (camera.info is not None or not camera.fallback_intrinsics):
            # Unusable CameraInfo is news on every frame (throttled); a missing one only when it starts.
            self.log.warning(f'{camera.prefix}camera_info: {fallback}; clouds use fallback_hfov_deg = '
                             f'{self.config.fallback_hfov_deg}', throttle_duration_sec=WARN_PERIOD_S)
        camera.fallback_intrinsics = fallback is not None
        return intrinsics

    # ---- results out (engine worker thread) ---------------------------------------------------------------------
    def _publish(self, result) -> None:
        camera = self.cameras.get(result.camera_id)
        if camera is None:
            return
        header, config = result.header, self.config
        topics = self._subscribed(camera)
        transform = None
        if 'points' in topics and self._needs_tf(config):
            try:
                # At the image's time: on a moving robot the latest transform is already off by the inference time.
                # No waiting: this is the engine's thread, and by now tf has usually moved past the stamp.
                transform = transform_from_msg(self.tf_buffer.lookup_transform(
                    config.target_frame, header.frame_id, Time.from_msg(header.stamp)))
            except Exception as exc:  # tf2 raises several exception types for missing or stale frames
                self.log.warning(f'no transform {header.frame_id} -> {config.target_frame} at the image stamp: '
                                 f'{exc}; cloud skipped', throttle_duration_sec=WARN_PERIOD_S)
                topics.remove('points')
        try:
            outputs = make_outputs(result, config, topics, transform, camera.info)
        except Exception as exc:
            camera.failed += 1
            self.log.warning(f'{camera.prefix or "camera"}: outputs not built: {exc}',
                             throttle_duration_sec=WARN_PERIOD_S)
            return
        sent = 0
        for topic, output in outputs.items():
            try:  # publish() can raise under overload; the other topics and the next frame must still go out
                camera.publishers[topic].publish(self._message(output, header))
                sent += 1
            except Exception as exc:
                camera.failed += 1
                self.log.warning(f'{camera.prefix}{topic}: publishing failed: {exc}',
                                 throttle_duration_sec=WARN_PERIOD_S)
        if not sent:
            return
        camera.published.tick()
        stamp = Time.from_msg(header.stamp, clock_type=self.node.get_clock().clock_type)
        camera.latency_ms.append((self.node.get_clock().now() - stamp).nanoseconds / 1e6)

    @staticmethod
    def _message(output: Output, header):
        if output.kind == 'image':
            return array_to_image(output.payload, header)
        if output.kind == 'camera_info':
            return _camera_info(output.payload, header)
        cloud_header = type(header)(stamp=header.stamp, frame_id=output.frame_id or header.frame_id)
        return to_point_cloud2(output.payload, cloud_header)

    def _on_error(self, requests, exc) -> None:
        self.log.error(f'inference failed for {len(requests)} frame(s): {exc!r}', throttle_duration_sec=WARN_PERIOD_S)

    # ---- parameters and diagnostics -----------------------------------------------------------------------------
    def _on_set_parameters(self, params) -> SetParametersResult:
        if self.config is None:
            return SetParametersResult(successful=True)
        updates = {p.name: p.value for p in params}
        current = lambda name: updates[name] if name in updates else self._value(name)
        try:
            config = read_config(current, tf2_ros is not None)
            if self.engine is not None:
                runnable_tasks(config, self.engine.runner.backend)
        except ValueError as exc:
            return SetParametersResult(successful=False, reason=str(exc))
        self._listen_to_tf(config)
        self.config = config
        if self.engine is not None:
            self.engine.max_batch, self.engine.max_wait = config.max_batch, config.max_wait_ms / 1e3
        return SetParametersResult(successful=True)

    def _publish_diagnostics(self) -> None:
        engine = self.engine
        if engine is None or self.diagnostics is None:
            return
        stats = engine.stats.snapshot()
        counts = stats['counts']
        runner = engine.runner
        msg = DiagnosticArray()
        msg.header.stamp = self.node.get_clock().now().to_msg()
        batches = stats['batch_sizes']
        mean_batch = sum(k * v for k, v in batches.items()) / max(1, sum(batches.values()))
        engine_values = {'backend': runner.backend.name, 'device': str(runner.device), 'precision': runner.precision,
                         'batches': counts.get('batches', 0), 'batch_size_mean': f'{mean_batch:.2f}',
                         'frames_dropped_stale': counts.get('dropped', 0), 'frames_failed': counts.get('failed', 0),
                         'publish_errors': counts.get('callback_errors', 0),
                         **{f'{stage}_ms_p50': f'{p50:.1f}' for stage, (p50, _) in stats['ms_p50_p99'].items()},
                         **runner.backend.diagnostics()}
        # WARN while inference fails, not forever after one failure
        failed = counts.get('failed', 0) > self._failed_before
        self._failed_before = counts.get('failed', 0)
        msg.status.append(_status(f'{NODE_NAME}: engine', DiagnosticStatus.WARN if failed else DiagnosticStatus.OK,
                                  'inference failures' if failed else 'ok', str(runner.device), engine_values))
        for camera in self.cameras.values():
            latency = np.array(camera.latency_ms) if camera.latency_ms else np.array([np.nan])
            values = {'input_hz': f'{camera.received.hz():.2f}', 'output_hz': f'{camera.published.hz():.2f}',
                      'latency_ms_p50': f'{np.percentile(latency, 50):.1f}',
                      'latency_ms_p99': f'{np.percentile(latency, 99):.1f}',
                      'frames_received': camera.received.total, 'frames_published': camera.published.total,
                      'frames_rejected': camera.rejected, 'outputs_failed': camera.failed,
                      'intrinsics': 'fallback_hfov_deg' if camera.fallback_intrinsics else 'camera_info'}
            level, message = DiagnosticStatus.OK, 'ok'
            if camera.received.hz() == 0:
                level, message = DiagnosticStatus.WARN, 'no images'
            elif camera.rejected and camera.published.hz() == 0:
                level, message = DiagnosticStatus.WARN, f'images arrive, none processed: {camera.rejected} rejected'
            elif camera.rejected:
                message = f'{camera.rejected} bad frames rejected so far'
            msg.status.append(_status(f'{NODE_NAME}: camera {camera.name or "(default)"}', level, message,
                                      camera.prefix + 'image', values))
        try:
            self.diagnostics.publish(msg)
        except Exception as exc:
            self.log.warning(f'diagnostics not published: {exc}', throttle_duration_sec=WARN_PERIOD_S)


def _status(name, level, message, hardware_id, values) -> DiagnosticStatus:
    return DiagnosticStatus(level=level, name=name, message=message, hardware_id=hardware_id,
                            values=[KeyValue(key=k, value=str(v)) for k, v in values.items()])


def _camera_info(info: DepthCameraInfo, header) -> CameraInfo:
    i = info.intrinsics
    return CameraInfo(header=header, width=i.width, height=i.height, distortion_model=info.distortion_model,
                      d=list(info.d), k=i.k, r=[1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0], p=i.p)


class VisionBananaNode(Node):
    """Configures and activates itself: for `ros2 run`."""

    def __init__(self, **kwargs):
        super().__init__(NODE_NAME, **kwargs)
        self.core = VisionBanana(self)
        self.core.configure()
        self.core.activate()

    def destroy_node(self):
        if hasattr(self, 'core'):  # not when declaring a parameter failed (rclpy still destroys the node at exit)
            self.core.deactivate()
        return super().destroy_node()


class VisionBananaLifecycleNode(LifecycleNode):
    """Managed: configure loads the model, activate subscribes, deactivate frees the model and GPU."""

    def __init__(self, **kwargs):
        super().__init__(NODE_NAME, **kwargs)
        self.core = VisionBanana(self)

    # rclpy turns an exception in a transition into ERROR without logging it, and ERROR skips cleanup: say why
    # here and undo what the transition had built.
    def on_configure(self, state) -> TransitionCallbackReturn:
        try:
            self.core.configure()
        except Exception as exc:
            self.get_logger().error(f'configure failed: {exc}')
            self.core.cleanup()
            return TransitionCallbackReturn.FAILURE
        return TransitionCallbackReturn.SUCCESS

    def on_activate(self, state) -> TransitionCallbackReturn:
        try:
            self.core.activate()
        except Exception as exc:  # e.g. the model no longer loads, or the GPU is out of memory
            self.get_logger().error(f'activate failed: {exc}')
            self.core.deactivate()
            return TransitionCallbackReturn.FAILURE
        return super().on_activate(state)

    def on_deactivate(self, state) -> TransitionCallbackReturn:
        self.core.deactivate()
        return super().on_deactivate(state)

    def on_cleanup(self, state) -> TransitionCallbackReturn:
        self.core.cleanup()
        return TransitionCallbackReturn.SUCCESS

    def on_shutdown(self, state) -> TransitionCallbackReturn:
        self.core.cleanup()
        return TransitionCallbackReturn.SUCCESS


def _spin(make_node) -> int:
    rclpy.init(args=sys.argv)
    try:
        node = make_node()
    except (ValueError, ParameterException, NameValidationException) as exc:
        # bad configuration (a parameter out of range or of the wrong type, a file, a name): one clear line
        print(f'[{NODE_NAME}] configuration error: {exc}', file=sys.stderr)
        rclpy.try_shutdown()
        return 2
    try:
        rclpy.spin(node)
    except (KeyboardInterrupt, rclpy.executors.ExternalShutdownException):
        pass
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
    return 0


def main() -> int:
    return _spin(VisionBananaNode)


def lifecycle_main() -> int:
    return _spin(VisionBananaLifecycleNode)

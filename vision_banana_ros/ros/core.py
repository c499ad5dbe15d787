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

"""What both node classes do, on either a Node or a LifecycleNode: declare the parameters, load the engine, publish
and subscribe per camera, and answer run-time parameter changes.

Subscription callbacks hand each image to its camera's decode thread and return; that thread converts it and
submits it to the engine, whose worker thread publishes the results. A frame whose outputs nobody subscribes to is
not processed at all, and each frame asks only for the tasks its subscribed outputs need.
"""
from __future__ import annotations

from functools import partial
import threading

from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor, SetParametersResult
from rclpy.clock import Clock, ClockType
from rclpy.exceptions import ParameterUninitializedException
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.time import Time
from sensor_msgs.msg import CameraInfo, CompressedImage, Image
import torch

from .camera import Camera
from .decoding import CameraDecoder
from .diagnostics import DiagnosticsPublisher, WARN_PERIOD_S
from .label_info import publish_label_info
from .messages import output_message, OUTPUT_TYPES, transform_from_msg
from .qos import camera_info_qos, image_qos, publisher_events, subscription_events
from .scale_lock import lock_camera_depth
from ..camera_images import compressed_to_rgb, image_to_rgb
from ..config import (
    build_backend,
    NO_TF2,
    NodeConfig,
    read_config,
    runnable_tasks,
    startup_warnings,
    unknown_parameters,
)
from ..engine import BatchRunner, Engine, FrameRequest
from ..geometry import Intrinsics
from ..outputs import CLOUD_TOPICS, make_outputs, tasks_for, upright_turn_as_configured
from ..parameters import PARAMS

try:  # on a robot tf2 comes from the distro; the PyPI wheels used in CI have none
    import tf2_ros
except ImportError:
    tf2_ros = None

NODE_NAME = 'vision_banana'
TORCH_DEFAULT_THREADS = torch.get_num_threads()   # what cpu_threads = 0 restores


def _descriptor(param) -> ParameterDescriptor:
    text = param.description + (f' (one of: {", ".join(param.choices)})' if param.choices else '')
    descriptor = ParameterDescriptor(description=text, read_only=not param.dynamic)
    if param.low is not None and isinstance(param.default, int) and not isinstance(param.default, bool):
        descriptor.integer_range = [IntegerRange(from_value=int(param.low), to_value=int(param.high), step=1)]
    elif param.low is not None:
        descriptor.floating_point_range = [FloatingPointRange(from_value=float(param.low), to_value=float(param.high))]
    return descriptor


class NodeCore:
    """Everything the node does, for either node class (`node` is a Node or a LifecycleNode)."""

    def __init__(self, node: Node):
        self.node = node
        self.log = node.get_logger()
        for param in PARAMS:
            default = Parameter.Type.DOUBLE_ARRAY if param.unset_type == 'double_array' else param.default
            node.declare_parameter(param.name, default, _descriptor(param))
        self.config: NodeConfig | None = None
        self.engine: Engine | None = None
        self.cameras: dict[str, Camera] = {}
        self.diagnostics: DiagnosticsPublisher | None = None
        self.label_info: list = []
        self._draining: list[Engine] = []     # closed engines whose last batch was still running
        self.timer = None
        self.tf_buffer = self.tf_listener = None
        # Results are published only while active: the engine's worker checks under this lock, and deactivate
        # clears it first, so a batch still in flight at deactivate or shutdown publishes nothing.
        self._publish_lock = threading.Lock()
        self._publishing = False
        node.add_on_set_parameters_callback(self._on_set_parameters)

    def _value(self, name: str):
        try:
            return self.node.get_parameter(name).value
        except ParameterUninitializedException:  # declared with a type and no default, not set
            return None

    # ---- lifecycle steps -----------------------------------------------------------------------------------
    def configure(self) -> None:
        """Check parameters, load the model, create publishers. ValueError names the bad parameter or file."""
        self.config = read_config(self._value, None if tf2_ros else NO_TF2)
        # rclpy drops values given for parameters nobody declares: a misspelt one would pass unnoticed. Warned, not
        # refused: a parameter file shared by several nodes (`/**:`) holds theirs too.
        if unknown := unknown_parameters(getattr(self.node, '_parameter_overrides', {})):
            self.log.warning(f'{unknown}: ignored')
        self._start_engine()
        # A LifecycleNode's publishers are lifecycle publishers, off while the node is inactive.
        create = getattr(self.node, 'create_lifecycle_publisher', self.node.create_publisher)
        for name in self.config.cameras:
            camera = Camera(name, f'{name}/' if name else '')
            for topic, msg_type in OUTPUT_TYPES.items():
                camera.publishers[topic] = create(msg_type, camera.prefix + topic, 5,
                                                  event_callbacks=publisher_events(camera, camera.prefix + topic,
                                                                                   self.log))
            self.cameras[name] = camera
        self.label_info = publish_label_info(self.node, [c.prefix for c in self.cameras.values()],
                                             self.config.palette)
        # named after the node as launched (namespace, renamed), so that two of them do not share status names
        self.diagnostics = DiagnosticsPublisher(self.node, self.node.get_fully_qualified_name().lstrip('/'))
        self._listen_to_tf(self.config)

    def _listen_to_tf(self, config: NodeConfig) -> None:
        if config.needs_tf and self.tf_buffer is None:
            self.tf_buffer = tf2_ros.Buffer()
            self.tf_listener = tf2_ros.TransformListener(self.tf_buffer, self.node)

    def _start_engine(self) -> None:
        c = self.config
        backend = build_backend(c)
        try:
            runner = BatchRunner(backend, runnable_tasks(c, backend), c.precision)
        except Exception:   # a backend that cannot run the configured tasks still holds memory (and shared memory)
            backend.close()
            raise
        for warning in startup_warnings(c, backend):
            self.log.warning(warning)
        self.engine = Engine(runner, c.max_batch, c.max_wait_ms, on_result=self._publish, on_error=self._on_error,
                             cpu_threads=c.cpu_threads or TORCH_DEFAULT_THREADS)
        self.log.info(f'{backend.name} backend on {backend.device} ({c.precision}), '
                      f'{backend.parameter_count() / 1e6:.1f} M parameters, tasks {list(runner.tasks)}')

    def activate(self) -> None:
        """Start the engine if needed, then the publishers and subscriptions of every camera."""
        self._free_drained()
        if self.engine is None:  # freed by deactivate
            self._start_engine()
        c = self.config
        images, infos = image_qos(c), camera_info_qos(c)
        compressed = c.transport == 'compressed'
        for camera in self.cameras.values():
            topic = camera.prefix + ('image/compressed' if compressed else 'image')
            camera.decoder = CameraDecoder(camera.name, partial(self._decode, camera, topic))
            camera.subscriptions = [
                self.node.create_subscription(CompressedImage if compressed else Image, topic,
                                              self._image_callback(camera, topic), images,
                                              event_callbacks=subscription_events(camera, topic, self.log)),
                self.node.create_subscription(CameraInfo, camera.prefix + 'camera_info',
                                              self._camera_info_callback(camera), infos,
                                              event_callbacks=subscription_events(
                                                  camera, camera.prefix + 'camera_info', self.log))]
        # On the steady clock: under use_sim_time a paused bag stops ROS time, and a stale camera must still be told
        self.timer = self.node.create_timer(c.diagnostics_period, self._publish_diagnostics,
                                            clock=Clock(clock_type=ClockType.STEADY_TIME))
        with self._publish_lock:
            self._publishing = True

    def _image_callback(self, camera: Camera, topic: str):
        def on_image(msg) -> None:
            self._on_image(camera, topic, msg)
        return on_image

    def _camera_info_callback(self, camera: Camera):
        def on_camera_info(msg: CameraInfo) -> None:
            camera.info = msg       # a refused one is kept, so that its camera falls back until a good one comes
            try:
                Intrinsics.from_camera_info(msg, self.config.rectified)
            except ValueError as exc:
                camera.info_refused += 1
                self.log.warning(f'{camera.prefix}camera_info refused: {exc}; clouds use fallback_hfov_deg',
                                 throttle_duration_sec=WARN_PERIOD_S)
        return on_camera_info

    def deactivate(self) -> None:
        """Stop taking frames and publishing results (also those of a batch in flight); the engine is freed."""
        with self._publish_lock:
            self._publishing = False
        for camera in self.cameras.values():
            for subscription in camera.subscriptions:
                self.node.destroy_subscription(subscription)
            camera.subscriptions = []
            if camera.decoder is not None:
                if not camera.decoder.close():
                    self.log.warning(f'{camera.prefix}image: still decoding after 2 s; its frame is dropped')
                camera.decoder = None
        if self.timer is not None:
            self.node.destroy_timer(self.timer)
            self.timer = None
        self._stop_engine()

    def _stop_engine(self) -> None:
        if self.engine is not None:
            if self.engine.close():
                self.engine.runner.backend.close()
            else:
                self.log.warning('inference still running after 2 s: the model is freed once that batch ends')
                # its last batch is not published (the node may be active again with another engine by then)
                self.engine.on_result = self.engine.on_error = None
                self._draining.append(self.engine)
            self.engine = None
            if torch.cuda.is_available():
                torch.cuda.empty_cache()

    def finish_inference(self) -> None:
        """Before the process exits: wait for batches still running in closed engines (a thread killed inside
        torch aborts the process).
        """
        self._free_drained(None)

    def _free_drained(self, timeout: float | None = 0.0) -> None:
        """Free the models of closed engines whose last batch has ended (waiting up to `timeout` s each; None: as
        long as it takes).
        """
        for engine in list(self._draining):
            if engine.wait(timeout):
                engine.runner.backend.close()
                self._draining.remove(engine)

    def cleanup(self) -> None:
        """Release everything; also from the active state (a lifecycle shutdown), where subscriptions left alive
        would call into destroyed publishers.
        """
        self.deactivate()
        destroy = getattr(self.node, 'destroy_lifecycle_publisher', self.node.destroy_publisher)
        for camera in self.cameras.values():
            for publisher in camera.publishers.values():
                destroy(publisher)
        self.cameras = {}
        for publisher in self.label_info:
            self.node.destroy_publisher(publisher)
        self.label_info = []
        if self.diagnostics is not None:
            self.diagnostics.destroy()
            self.diagnostics = None
        if self.tf_listener is not None:
            self.tf_listener.unregister()
            self.tf_buffer = self.tf_listener = None

    # ---- frames in ---------------------------------------------------------------------------------------------
    def _on_image(self, camera: Camera, topic: str, msg) -> None:
        camera.received.tick()
        camera.gaps.add(msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec)
        tasks = tasks_for(camera.subscribed(), self.config)
        if not tasks:
            camera.ground = None    # nobody listens: the last frame's ground lock is no news any more
        if self.engine is None or not tasks or camera.decoder is None:
            return
        if not msg.header.frame_id:
            # outputs copy the header: without a frame no tf, RViz or costmap could place them
            camera.rejected += 1
            self.log.warning(f"{topic}: empty header.frame_id (set the camera driver's frame); frame skipped",
                             throttle_duration_sec=WARN_PERIOD_S)
            return
        camera.decoder.put((msg, tasks))

    def _decode(self, camera: Camera, topic: str, item) -> None:
        """On the camera's decode thread: convert the image and submit it to the engine."""
        msg, tasks = item
        engine = self.engine
        if engine is None:
            return
        try:
            limit = self.config.max_input_pixels   # checked on the header, before anything is decoded
            rgb = (compressed_to_rgb(msg, limit) if isinstance(msg, CompressedImage) else image_to_rgb(msg, limit))
            request = FrameRequest(camera.name, rgb, header=msg.header,
                                   intrinsics=self._intrinsics(camera, rgb.shape[1], rgb.shape[0]), tasks=tasks,
                                   turn_deg=self._upright_turn(camera, msg.header.frame_id))
        except Exception as exc:  # ValueError for what we check; a decoder may raise others on corrupt data
            camera.rejected += 1
            self.log.warning(f'{topic}: {exc}; frame skipped', throttle_duration_sec=WARN_PERIOD_S)
            return
        try:
            engine.submit(request)
        except RuntimeError:  # closed between the check and the submit (deactivation)
            pass

    def _upright_turn(self, camera: Camera, frame_id: str) -> float:
        """upright: the turn for this camera's image from its latest mounting in tf (a roll changes slowly against a
        frame's period, and a decoded frame should not wait for tf); 0, warned, where tf has none.
        """
        if not self.config.upright:
            camera.upright_turn, camera.upright_problem = None, ''
            return 0.0

        def latest(target, source):
            return transform_from_msg(self.tf_buffer.lookup_transform(target, source, Time()))

        turn = upright_turn_as_configured(self.config, latest, frame_id)
        camera.upright_problem = turn if isinstance(turn, str) else ''
        camera.upright_turn = 0.0 if camera.upright_problem else turn
        if camera.upright_problem:
            self.log.warning(f'{camera.prefix}upright: {turn}; frame answered as it is',
                             throttle_duration_sec=WARN_PERIOD_S)
        return camera.upright_turn

    def _intrinsics(self, camera: Camera, width: int, height: int) -> Intrinsics:
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
        if camera is None or not self._publishing:
            return
        header, config = result.header, self.config
        topics = camera.subscribed()
        transform = None
        clouds = [t for t in CLOUD_TOPICS if t in topics]
        if clouds and config.clouds_need_tf:
            transform = self._lookup(camera, config.target_frame, header, 'clouds')
            if transform is None:
                topics = [t for t in topics if t not in clouds]
        grid_transform = None
        if 'grid' in topics and config.grid_frame:
            grid_transform = self._lookup(camera, config.grid_frame, header, 'grid')
            if grid_transform is None:
                topics = [t for t in topics if t != 'grid']
        try:
            ground = lock_camera_depth(camera, result, config, topics, self.tf_buffer)
            # a refused CameraInfo describes neither the intrinsics nor the depth image's distortion
            info = None if camera.fallback_intrinsics else camera.info
            outputs = make_outputs(result, config, topics, transform, info, ground, grid_transform)
        except Exception as exc:
            camera.failed += 1
            self.log.warning(f'{camera.prefix or "camera"}: outputs not built: {exc}',
                             throttle_duration_sec=WARN_PERIOD_S)
            return
        sent = 0
        with self._publish_lock:
            for topic, output in outputs.items():
                if not self._publishing:  # deactivated while the outputs were built
                    return
                try:  # publish() can raise under overload; the other topics and the next frame must still go out
                    camera.publishers[topic].publish(output_message(output, header))
                    sent += 1
                except Exception as exc:
                    camera.failed += 1
                    self.log.warning(f'{camera.prefix}{topic}: publishing failed: {exc}',
                                     throttle_duration_sec=WARN_PERIOD_S)
        if not sent:
            return
        camera.published.tick()
        stamp = Time.from_msg(header.stamp, clock_type=self.node.get_clock().clock_type)
        latency = (self.node.get_clock().now() - stamp).nanoseconds / 1e6
        if latency >= 0:      # not when the clock went back (a looping bag under use_sim_time) since the stamp
            camera.latency_ms.append(latency)

    def _lookup(self, camera: Camera, target: str, header, what: str):
        """`target` <- the image frame at the image stamp from tf2 (a RigidTransform), or None, warned and counted
        for the camera's diagnostics.
        """
        try:
            # At the image's time: on a moving robot the latest transform is already off by the inference time.
            # No waiting: this is the engine's thread, and by now tf has usually moved past the stamp.
            return transform_from_msg(self.tf_buffer.lookup_transform(target, header.frame_id,
                                                                      Time.from_msg(header.stamp)))
        except Exception as exc:  # tf2 raises several exception types for missing or stale frames
            camera.skipped_no_tf += 1
            camera.skip_problem = f'{what} skipped: no transform {header.frame_id} -> {target} at the image stamp'
            self.log.warning(f'{camera.skip_problem}: {exc}', throttle_duration_sec=WARN_PERIOD_S)
            return None

    def _on_error(self, requests, exc) -> None:
        for request in requests:  # one frame each: the engine retries a failed batch down to single frames
            camera = self.cameras.get(request.camera_id)
            if camera is not None:
                camera.inference_failed += 1
            self.log.error(f'{camera.prefix if camera else ""}image: inference failed: {exc!r}',
                           throttle_duration_sec=WARN_PERIOD_S)

    # ---- parameters and diagnostics -----------------------------------------------------------------------------
    def _on_set_parameters(self, params) -> SetParametersResult:
        if self.config is None:
            return SetParametersResult(successful=True)
        updates = {p.name: p.value for p in params}

        def current(name: str):
            return updates[name] if name in updates else self._value(name)

        try:
            config = read_config(current, None if tf2_ros else NO_TF2, running=self.config)
            if self.engine is not None:
                runnable_tasks(config, self.engine.runner.backend)
        except ValueError as exc:
            return SetParametersResult(successful=False, reason=str(exc))
        self._listen_to_tf(config)
        self.config = config
        if self.engine is not None:
            self.engine.cpu_threads = config.cpu_threads or TORCH_DEFAULT_THREADS
            self.engine.max_wait = config.max_wait_ms / 1e3
            if 'max_batch' in updates:     # else a batch size halved by out of memory stays halved
                self.engine.max_batch = config.max_batch
        return SetParametersResult(successful=True)

    def _publish_diagnostics(self) -> None:
        self._free_drained()
        engine = self.engine
        if engine is not None and self.diagnostics is not None:
            self.diagnostics.publish(engine, list(self.cameras.values()), self.config.stale_timeout)

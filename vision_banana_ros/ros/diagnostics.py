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

"""/diagnostics: one status for the engine (backend, batching, stage times, failures) and one per camera (rates,
latency, rejected frames, intrinsics source).
"""
from __future__ import annotations

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
import numpy as np

from .camera import Camera
from ..engine import Engine
from ..geometry.ground import PLANE_ONLY

WARN_PERIOD_S = 5.0   # shortest time between repeats of one warning in the log


def _status(name, level, message, hardware_id, values) -> DiagnosticStatus:
    return DiagnosticStatus(level=level, name=name, message=message, hardware_id=hardware_id,
                            values=[KeyValue(key=k, value=str(v)) for k, v in values.items()])


class DiagnosticsPublisher:
    """Publishes the node's DiagnosticArray on /diagnostics; statuses are named after `node_name`."""

    def __init__(self, node, node_name: str):
        self.node = node
        self.node_name = node_name
        self.publisher = node.create_publisher(DiagnosticArray, '/diagnostics', 10)
        self._failed_before = 0                   # engine failures counted up to the last message
        self._out_of_memory_before = 0
        self._camera_before: dict[str, tuple[int, int, int]] = {}   # camera -> (failed, published, QoS) then

    def destroy(self) -> None:
        """Destroy the diagnostics publisher."""
        self.node.destroy_publisher(self.publisher)

    def publish(self, engine: Engine, cameras: list[Camera], stale_timeout: float = 2.0) -> None:
        """Publish the engine's and each camera's status as one DiagnosticArray; a camera that sent images but
        none for `stale_timeout` seconds is stale (WARN).
        """
        msg = DiagnosticArray()
        msg.header.stamp = self.node.get_clock().now().to_msg()
        msg.status.append(self._engine_status(engine))
        msg.status.extend(self._camera_status(camera, stale_timeout) for camera in cameras)
        try:
            self.publisher.publish(msg)
        except Exception as exc:
            self.node.get_logger().warning(f'diagnostics not published: {exc}', throttle_duration_sec=WARN_PERIOD_S)

    def _engine_status(self, engine: Engine) -> DiagnosticStatus:
        stats = engine.stats.snapshot()
        counts = stats['counts']
        runner = engine.runner
        batches = stats['batch_sizes']
        mean_batch = sum(k * v for k, v in batches.items()) / max(1, sum(batches.values()))
        values = {'backend': runner.backend.name, 'device': str(runner.device), 'precision': runner.precision,
                  'batches': counts.get('batches', 0), 'batch_size_mean': f'{mean_batch:.2f}',
                  'frames_dropped_stale': counts.get('dropped', 0), 'frames_failed': counts.get('failed', 0),
                  'publish_errors': counts.get('callback_errors', 0),
                  **{f'{stage}_ms_p50': f'{p50:.1f}' for stage, (p50, _) in stats['ms_p50_p99'].items()},
                  **runner.backend.diagnostics()}
        values.update(out_of_memory=counts.get('out_of_memory', 0), split_batches=counts.get('split_batches', 0),
                      max_batch_now=engine.max_batch)
        # WARN while inference fails or memory runs out, not forever after one failure
        failed = counts.get('failed', 0) > self._failed_before
        out_of_memory = counts.get('out_of_memory', 0) > self._out_of_memory_before
        self._failed_before, self._out_of_memory_before = counts.get('failed', 0), counts.get('out_of_memory', 0)
        level, message = DiagnosticStatus.OK, 'ok'
        if out_of_memory:
            level, message = DiagnosticStatus.WARN, f'out of memory: cache emptied, batch halved to {engine.max_batch}'
        elif failed:
            level, message = DiagnosticStatus.WARN, 'inference failures'
        return _status(f'{self.node_name}: engine', level, message, str(runner.device), values)

    def _camera_status(self, camera: Camera, stale_timeout: float) -> DiagnosticStatus:
        latency = np.array(camera.latency_ms) if camera.latency_ms else np.array([np.nan])
        values = {'input_hz': f'{camera.received.hz():.2f}', 'output_hz': f'{camera.published.hz():.2f}',
                  'latency_ms_p50': f'{np.percentile(latency, 50):.1f}',
                  'latency_ms_p99': f'{np.percentile(latency, 99):.1f}',
                  'frames_received': camera.received.total, 'frames_published': camera.published.total,
                  'frames_rejected': camera.rejected, 'frames_failed': camera.inference_failed,
                  'frames_dropped_undecoded': camera.decoder.replaced if camera.decoder else 0,
                  'outputs_failed': camera.failed, 'outputs_skipped_no_tf': camera.skipped_no_tf,
                  'camera_info_refused': camera.info_refused,
                  'qos_incompatible': camera.qos_incompatible,
                  'intrinsics': 'fallback_hfov_deg' if camera.fallback_intrinsics else 'camera_info'}
        gaps, silent = camera.gaps, camera.received.silent_for()
        values.update(frames_missed_estimate=gaps.missed,
                      period_ms_estimate='nan' if gaps.period_ns is None else f'{gaps.period_ns / 1e6:.1f}',
                      stamp_jumps_back=gaps.jumps_back, stream_interruptions=gaps.interruptions,
                      seconds_since_last_image='nan' if silent is None else f'{silent:.1f}')
        if camera.upright_turn is not None:     # upright on
            values['upright_turn_deg'] = f'{camera.upright_turn:.1f}'
            if camera.upright_problem:
                values['upright_problem'] = camera.upright_problem
        ground = camera.ground
        if ground is not None:      # the ground plane, for scale_lock ground or the navigation outputs
            plane = ground.plane
            values.update(ground_lock=ground.reason, ground_scale=f'{ground.scale:.3f}',
                          ground_fraction=f'{ground.ground_fraction:.3f}',
                          ground_height_predicted_m='nan' if plane is None else f'{plane.height:.3f}',
                          ground_pitch_deg='nan' if plane is None else f'{plane.pitch_deg:.1f}',
                          ground_roll_deg='nan' if plane is None else f'{plane.roll_deg:.1f}')
        before = self._camera_before.get(camera.name, (0, 0, 0, 0, 0))
        now = (camera.inference_failed, camera.published.total, camera.qos_incompatible, camera.failed,
               camera.skipped_no_tf)
        failed_now, published_now, qos_now, outputs_failed_now, skipped_now = (a - b for a, b in zip(now, before))
        self._camera_before[camera.name] = now
        level, message = DiagnosticStatus.OK, 'ok'
        if failed_now and not published_now:
            level, message = DiagnosticStatus.ERROR, f'all frames failed inference ({failed_now} since the last report)'
        elif failed_now:
            level, message = DiagnosticStatus.WARN, f'{failed_now} frames failed inference since the last report'
        elif outputs_failed_now:
            level, message = DiagnosticStatus.WARN, (f'{outputs_failed_now} outputs not built or not published since '
                                                     'the last report')
        elif skipped_now:
            level, message = DiagnosticStatus.WARN, f'{camera.skip_problem} ({skipped_now} since the last report)'
        elif qos_now:
            level, message = DiagnosticStatus.WARN, camera.qos_problem
        elif silent is None:
            level, message = DiagnosticStatus.WARN, 'no images'
        elif silent > stale_timeout:
            level, message = DiagnosticStatus.WARN, f'stale: no image for {silent:.1f} s'
        elif ground is not None and not ground.locked and ground.reason != PLANE_ONLY:
            level, message = DiagnosticStatus.WARN, f'depth not ground-locked: {ground.reason}'
        elif camera.rejected and camera.published.hz() == 0:
            level, message = DiagnosticStatus.WARN, f'images arrive, none processed: {camera.rejected} rejected'
        elif camera.rejected:
            message = f'{camera.rejected} bad frames rejected so far'
        elif camera.qos_incompatible:
            message = f'{camera.qos_problem} (so far {camera.qos_incompatible})'
        return _status(f'{self.node_name}: camera {camera.name or "(default)"}', level, message,
                       self.node.resolve_topic_name(camera.prefix + 'image'), values)

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

"""The node's QoS: the input profiles its parameters set, and what happens when a peer's QoS cannot match ours (a
throttled warning naming the topic and the policy, counted in the camera's diagnostics).
"""
from __future__ import annotations

from functools import partial

try:
    from rclpy.event_handler import PublisherEventCallbacks, SubscriptionEventCallbacks
except ImportError:     # Humble's rclpy (event_handler came with Iron)
    from rclpy.qos_event import PublisherEventCallbacks, SubscriptionEventCallbacks
from rclpy.qos import (
    DurabilityPolicy,
    HistoryPolicy,
    qos_policy_name_from_kind,
    qos_profile_sensor_data,
    QoSProfile,
    ReliabilityPolicy,
)

from .camera import Camera
from .diagnostics import WARN_PERIOD_S
from ..config import NodeConfig


def image_qos(config: NodeConfig) -> QoSProfile:
    """The image subscriptions' profile (SensorDataQoS by default)."""
    reliability = (ReliabilityPolicy.BEST_EFFORT if config.image_qos_reliability == 'best_effort'
                   else ReliabilityPolicy.RELIABLE)
    return QoSProfile(depth=config.image_qos_depth, history=HistoryPolicy.KEEP_LAST, reliability=reliability,
                      durability=qos_profile_sensor_data.durability)


def camera_info_qos(config: NodeConfig) -> QoSProfile:
    """The camera_info subscriptions' profile."""
    # KEEP_ALL: a small CameraInfo beside big images must not be pushed out of a short queue.
    return QoSProfile(history=HistoryPolicy.KEEP_ALL,
                      durability=DurabilityPolicy.TRANSIENT_LOCAL
                      if config.camera_info_qos_durability == 'transient_local' else DurabilityPolicy.VOLATILE,
                      reliability=ReliabilityPolicy.RELIABLE if config.camera_info_qos_reliability == 'reliable'
                      else ReliabilityPolicy.BEST_EFFORT)


def _incompatible(camera: Camera, topic: str, peer: str, log, event) -> None:
    # rclpy's default only logs; a robot's operator looks at diagnostics, so count it there too
    policy = qos_policy_name_from_kind(event.last_policy_kind)
    camera.qos_incompatible += 1
    camera.qos_problem = f'incompatible QoS on {topic}: a {peer} with another {policy}'
    hint = ('image_qos_* or camera_info_qos_* parameters' if peer == 'publisher'
            else "the subscriber's QoS (outputs are published reliable, volatile, depth 5)")
    log.warning(f'{camera.qos_problem}; no messages flow between them (change {hint})',
                throttle_duration_sec=WARN_PERIOD_S)


def subscription_events(camera: Camera, topic: str, log) -> SubscriptionEventCallbacks:
    """Event callbacks of one of the camera's subscriptions: publishers with incompatible QoS are reported."""
    return SubscriptionEventCallbacks(incompatible_qos=partial(_incompatible, camera, topic, 'publisher', log))


def publisher_events(camera: Camera, topic: str, log) -> PublisherEventCallbacks:
    """Event callbacks of one of the camera's publishers: subscribers with incompatible QoS are reported."""
    return PublisherEventCallbacks(incompatible_qos=partial(_incompatible, camera, topic, 'subscriber', log))

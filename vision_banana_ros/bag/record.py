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

"""`vision_banana bag record OUT TOPICS... [--duration S]`: record topics with rclpy into a rosbag2 (mcap or sqlite3),
as `ros2 bag record`. Messages are stored as received (serialized CDR) with the receive time as bag timestamp.

Each topic is subscribed with the QoS its publishers offer (best effort unless all are reliable, transient-local
when all are, so that camera drivers and latched /tf_static are recorded), and the offered profiles are stored
with the topic for `bag play`. Ctrl-C ends a recording cleanly: the bag is closed and indexed.
"""
from __future__ import annotations

from pathlib import Path
import time

import rclpy
from rclpy.executors import ExternalShutdownException
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from rosbags.interfaces import Qos, QosDurability, QosHistory, QosLiveliness, QosReliability, QosTime

from . import messages
from .io import open_writer
from .play import message_class

DISCOVERY_TIMEOUT_S = 10.0


def _subscription_qos(offered: list) -> QoSProfile:
    """What `ros2 bag record` asks for: the strongest QoS that every publisher offers."""
    reliable = bool(offered) and all(q.reliability == ReliabilityPolicy.RELIABLE for q in offered)
    latched = bool(offered) and all(q.durability == DurabilityPolicy.TRANSIENT_LOCAL for q in offered)
    return QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE if reliable else ReliabilityPolicy.BEST_EFFORT,
                      durability=DurabilityPolicy.TRANSIENT_LOCAL if latched else DurabilityPolicy.VOLATILE)


def _bag_qos(q) -> Qos:
    """An rclpy QoS profile as rosbags stores it (the policies share the rmw enum values)."""
    def time_of(d):
        return QosTime(*divmod(d.nanoseconds, 10**9))
    return Qos(QosHistory(int(q.history)), q.depth, QosReliability(int(q.reliability)),
               QosDurability(int(q.durability)), time_of(q.deadline), time_of(q.lifespan),
               QosLiveliness(int(q.liveliness)), time_of(q.liveliness_lease_duration),
               q.avoid_ros_namespace_conventions)


def _unseen(topics, connections, skipped) -> list[str]:
    return [t for t in topics if t not in connections and t not in skipped]


def record(dst: str | Path, topics: list[str], storage: str = 'mcap', duration: float | None = None) -> int:
    """Record `topics` into a new bag at `dst` until interrupted or `duration` seconds; return 0."""
    writer = open_writer(Path(dst), storage)
    rclpy.init()
    node = rclpy.create_node('vision_banana_bag_recorder')
    topics = [node.resolve_topic_name(t) for t in topics]    # as typed (`camera/image_raw`) or absolute
    started = time.monotonic()
    try:
        with writer:
            connections, skipped, subscriptions = {}, set(), []

            def subscribe_new():
                for name, types in node.get_topic_names_and_types():
                    if name not in topics or name in connections or name in skipped:
                        continue
                    offered = [info.qos_profile for info in node.get_publishers_info_by_topic(name)]
                    try:
                        msg_class = message_class(types[0])
                        connection = writer.add_connection(name, types[0], typestore=messages.TYPESTORE,
                                                           offered_qos_profiles=[_bag_qos(q) for q in offered])
                    except Exception as exc:  # a type this machine does not know
                        node.get_logger().warning(f'{name} ({types[0]}) not recorded: {exc}')
                        skipped.add(name)
                        continue
                    connections[name] = connection
                    subscriptions.append(node.create_subscription(
                        msg_class, name, lambda raw, c=connection: writer.write(c, time.time_ns(), raw),
                        _subscription_qos(offered), raw=True))
                    node.get_logger().info(f"Subscribed to topic '{name}'")

            # As rosbag2 says it: scripts wait for this line before they start their publishers.
            node.get_logger().info('Listening for topics...')
            # Interrupts are caught inside `with writer`: leaving it by an exception would abort the bag unwritten.
            try:
                while rclpy.ok() and (duration is None or time.monotonic() - started < duration):
                    if len(connections) + len(skipped) < len(topics):
                        subscribe_new()
                        if time.monotonic() - started > DISCOVERY_TIMEOUT_S and duration is None:
                            node.get_logger().warning(f'not seen yet: {_unseen(topics, connections, skipped)}',
                                                      throttle_duration_sec=10.0)
                    rclpy.spin_once(node, timeout_sec=0.05)
            except (KeyboardInterrupt, ExternalShutdownException):
                pass
            if unseen := _unseen(topics, connections, skipped):
                node.get_logger().warning(f'never seen, not in the bag: {unseen}')
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
    return 0

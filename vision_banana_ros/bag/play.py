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

"""`vision_banana bag play IN [--rate R] [--clock] [--loop]`: publish a rosbag2 with rclpy, as `ros2 bag play`.

Messages go out as the bag stores them (serialized CDR, no decoding), on publishers of their own types, at the
bag's pace scaled by `rate`; `--clock` also publishes /clock from the bag timestamps for nodes with use_sim_time.
At the end the player waits for its subscribers to acknowledge the last messages (ACKNOWLEDGE_TIMEOUT_S).
"""
from __future__ import annotations

import importlib
from pathlib import Path
import time

import rclpy
from rclpy.duration import Duration
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from rosbags.interfaces import QosDurability
from rosgraph_msgs.msg import Clock

from .io import open_reader

# How long the player waits at the end for its subscribers to acknowledge the last messages: a node destroyed right
# after publishing drops what is still in flight (a recorder missed a bag's last message that way).
ACKNOWLEDGE_TIMEOUT_S = 2.0


def message_class(msgtype: str):
    """The rclpy message class of a type name such as sensor_msgs/msg/Image."""
    package, kind, name = msgtype.split('/')
    try:
        return getattr(importlib.import_module(f'{package}.{kind}'), name)
    except (ImportError, AttributeError):
        raise ValueError(f'message type {msgtype} is not installed here') from None


def _publisher_qos(connection) -> QoSProfile:
    """Reliable (it serves best-effort subscribers too); transient-local where the recording's publishers were
    latched, and always for /tf_static, so that late joiners such as tf2's static listener get it.
    """
    offered = connection.ext.offered_qos_profiles
    latched = connection.topic == '/tf_static' or (
        bool(offered) and all(q.durability == QosDurability.TRANSIENT_LOCAL for q in offered))
    return QoSProfile(depth=100 if latched else 10, reliability=ReliabilityPolicy.RELIABLE,
                      durability=DurabilityPolicy.TRANSIENT_LOCAL if latched else DurabilityPolicy.VOLATILE)


def play(src: str | Path, rate: float = 1.0, clock: bool = False, loop: bool = False, delay: float = 1.0) -> int:
    """`delay` seconds pass between creating the publishers and the first message, as with `ros2 bag play
    --delay`, so that subscribers are discovered before anything is sent.
    """
    if rate <= 0:
        raise ValueError(f'rate must be positive, got {rate}')
    rclpy.init()
    node = rclpy.create_node('vision_banana_bag_player')
    reader = open_reader(Path(src))
    try:
        publishers = {}
        for c in reader.connections:
            try:
                publishers[c.id] = node.create_publisher(message_class(c.msgtype), c.topic, _publisher_qos(c))
            except ValueError as exc:
                node.get_logger().warning(f'{c.topic} not played: {exc}')
        clock_pub = node.create_publisher(Clock, '/clock', 10) if clock else None
        playable = [c for c in reader.connections if c.id in publishers]
        if not playable:    # (the reader takes no connections as all of them)
            raise ValueError(f'bag {src} has no topic of a message type installed here')
        time.sleep(delay)
        while True:
            start_wall, start_bag = time.monotonic(), None
            for connection, timestamp, raw in reader.messages(playable):
                start_bag = timestamp if start_bag is None else start_bag
                delay = (timestamp - start_bag) / 1e9 / rate - (time.monotonic() - start_wall)
                if delay > 0:
                    time.sleep(delay)
                if clock_pub is not None:
                    clock_msg = Clock()
                    clock_msg.clock.sec, clock_msg.clock.nanosec = divmod(timestamp, 10**9)
                    clock_pub.publish(clock_msg)
                try:
                    publishers[connection.id].publish(bytes(raw))
                except Exception as exc:  # a full or closed transport must not stop playback
                    node.get_logger().warning(f'{connection.topic}: {exc}', throttle_duration_sec=5.0)
            if not loop or not rclpy.ok(context=node.context):
                break
        deadline = time.monotonic() + ACKNOWLEDGE_TIMEOUT_S
        for connection in playable:
            left = Duration(seconds=max(0.0, deadline - time.monotonic()))
            if not publishers[connection.id].wait_for_all_acked(left):
                node.get_logger().warning(f'{connection.topic}: not every subscriber acknowledged the last messages '
                                          f'within {ACKNOWLEDGE_TIMEOUT_S:g} s')
    except KeyboardInterrupt:
        pass
    finally:
        reader.close()
        node.destroy_node()
        rclpy.try_shutdown()
    return 0

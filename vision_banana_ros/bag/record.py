"""`vision_banana bag record OUT TOPICS... [--duration S]`: record topics with rclpy into a rosbag2 (mcap or sqlite3),
as `ros2 bag record`. Messages are stored as received (serialized CDR) with the receive time as bag timestamp."""
from __future__ import annotations

import time
from pathlib import Path

import rclpy
from rclpy.qos import QoSProfile, ReliabilityPolicy

from . import messages
from .play import message_class
from .io import open_writer

DISCOVERY_TIMEOUT_S = 10.0


def record(dst: str | Path, topics: list[str], storage: str = 'mcap', duration: float | None = None) -> int:
    writer = open_writer(Path(dst), storage)
    rclpy.init()
    node = rclpy.create_node('vision_banana_bag_recorder')
    started = time.monotonic()
    try:
        with writer:
            connections = {}
            subscriptions = []

            def subscribe_new():
                for name, types in node.get_topic_names_and_types():
                    if name in topics and name not in connections:
                        msgtype = types[0]
                        connections[name] = writer.add_connection(name, msgtype, typestore=messages.TYPESTORE)
                        subscriptions.append(node.create_subscription(
                            message_class(msgtype), name,
                            lambda raw, c=connections[name]: writer.write(c, time.time_ns(), raw),
                            QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE), raw=True))

            while rclpy.ok() and (duration is None or time.monotonic() - started < duration):
                if len(connections) < len(topics):
                    subscribe_new()
                    if not connections and time.monotonic() - started > DISCOVERY_TIMEOUT_S and duration is None:
                        node.get_logger().warning(f'none of {topics} seen yet', throttle_duration_sec=10.0)
                rclpy.spin_once(node, timeout_sec=0.05)
    except KeyboardInterrupt:
        pass
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
    return 0

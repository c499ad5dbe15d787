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

"""<cam>/semantic/label_info (vision_msgs/LabelInfo): the palette's class ids and names, latched, for consumers
that map ids to names themselves (Nav2's semantic_segmentation_layer). vision_msgs comes from a ROS distro; where
it is missing (the PyPI wheels the tests use) the topic is left out with one log line, so this path is untested
here.
"""
from __future__ import annotations

from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy

try:
    from vision_msgs.msg import LabelInfo, VisionClass
except ImportError:
    LabelInfo = VisionClass = None

TOPIC = 'semantic/label_info'


def publish_label_info(node, prefixes, palette) -> list:
    """Create one latched publisher per camera prefix and publish the palette's classes on it; returns the
    publishers (none without vision_msgs).
    """
    if LabelInfo is None:
        node.get_logger().info(f'vision_msgs is not installed: <cam>/{TOPIC} is not published')
        return []
    latched = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL)
    msg = LabelInfo(class_map=[VisionClass(class_id=i, class_name=name) for i, name in zip(palette.ids, palette.names)],
                    threshold=0.0)
    msg.header.stamp = node.get_clock().now().to_msg()
    publishers = []
    for prefix in prefixes:
        publisher = node.create_publisher(LabelInfo, prefix + TOPIC, latched)
        publisher.publish(msg)
        publishers.append(publisher)
    return publishers

"""Between ROS messages and the geometry core: PointCloud2 out, tf2 transforms in."""
from __future__ import annotations

import array

import numpy as np
from geometry_msgs.msg import Transform, TransformStamped
from sensor_msgs.msg import PointCloud2, PointField
from std_msgs.msg import Header

from ..geometry.cloud import CloudPayload
from ..geometry.transform import RigidTransform

# Generated setters keep an array('B') as it is while they check fields (always on Humble, opt-in since Jazzy)
# and copy it otherwise; checking the few other fields costs microseconds, a copy of the points milliseconds.
_KEEP_DATA = {'check_fields': True} if '_check_fields' in PointCloud2.__slots__ else {}


def to_point_cloud2(payload: CloudPayload, header: Header) -> PointCloud2:
    """The payload as a PointCloud2 stamped with `header` (whose frame_id must be the payload's frame)."""
    msg = PointCloud2(
        header=header, height=payload.height, width=payload.width, is_bigendian=False,
        fields=[PointField(name=f.name, offset=f.offset, datatype=f.datatype, count=f.count) for f in payload.fields],
        point_step=payload.point_step, row_step=payload.row_step, is_dense=payload.is_dense, **_KEEP_DATA)
    # An ndarray would be converted element by element; frombytes is the one copy of the points into the message.
    data = array.array('B')
    data.frombytes(payload.points.reshape(-1).view(np.uint8))
    msg.data = data
    return msg


def transform_from_msg(msg: Transform | TransformStamped) -> RigidTransform:
    """A tf2 transform (e.g. from lookup_transform(target_frame, camera_frame)) as a RigidTransform."""
    transform = msg.transform if isinstance(msg, TransformStamped) else msg
    t, q = transform.translation, transform.rotation
    return RigidTransform.from_translation_quaternion((t.x, t.y, t.z), (q.x, q.y, q.z, q.w))

"""Messages as rosbags writes them (its typestore), built from the same payloads the node publishes."""
from __future__ import annotations

import numpy as np
from rosbags.typesys import Stores, get_typestore

from ..geometry import CloudPayload, Intrinsics
from ..outputs import image_encoding

TYPESTORE = get_typestore(Stores.ROS2_KILTED)
T = TYPESTORE.types
IMAGE = 'sensor_msgs/msg/Image'
COMPRESSED_IMAGE = 'sensor_msgs/msg/CompressedImage'
CAMERA_INFO = 'sensor_msgs/msg/CameraInfo'
POINT_CLOUD2 = 'sensor_msgs/msg/PointCloud2'
TF = 'tf2_msgs/msg/TFMessage'


def header(stamp_ns: int, frame_id: str):
    return T['std_msgs/msg/Header'](stamp=T['builtin_interfaces/msg/Time'](sec=int(stamp_ns // 10**9),
                                                                            nanosec=int(stamp_ns % 10**9)),
                                    frame_id=frame_id)


def stamp_ns(msg_header) -> int:
    return int(msg_header.stamp.sec) * 10**9 + int(msg_header.stamp.nanosec)


def with_frame(msg_header, frame_id: str | None):
    return msg_header if frame_id is None else T['std_msgs/msg/Header'](stamp=msg_header.stamp, frame_id=frame_id)


def image(values: np.ndarray, msg_header):
    encoding, step = image_encoding(values)
    height, width = values.shape[:2]
    return T[IMAGE](header=msg_header, height=height, width=width, encoding=encoding, is_bigendian=0, step=step,
                    data=np.ascontiguousarray(values).reshape(-1).view(np.uint8))


def camera_info(intrinsics: Intrinsics, msg_header, distortion_model: str = 'plumb_bob',
                d: tuple[float, ...] = (0.0,) * 5):
    i = intrinsics
    roi = T['sensor_msgs/msg/RegionOfInterest'](x_offset=0, y_offset=0, height=0, width=0, do_rectify=False)
    return T[CAMERA_INFO](
        header=msg_header, height=i.height, width=i.width, distortion_model=distortion_model,
        d=np.array(d, np.float64),
        k=np.array(i.k, np.float64), r=np.eye(3).reshape(-1), p=np.array(i.p, np.float64), binning_x=0,
        binning_y=0, roi=roi)


def point_cloud2(payload: CloudPayload, msg_header):
    fields = [T['sensor_msgs/msg/PointField'](name=f.name, offset=f.offset, datatype=f.datatype, count=f.count)
              for f in payload.fields]
    return T[POINT_CLOUD2](header=msg_header, height=payload.height, width=payload.width, fields=fields,
                           is_bigendian=False, point_step=payload.point_step, row_step=payload.row_step,
                           data=payload.points.reshape(-1).view(np.uint8), is_dense=payload.is_dense)


def output_message(output, msg_header):
    """An `outputs.Output` as a (msgtype, message) pair."""
    if output.kind == 'image':
        return IMAGE, image(output.payload, msg_header)
    if output.kind == 'camera_info':
        info = output.payload
        return CAMERA_INFO, camera_info(info.intrinsics, msg_header, info.distortion_model, info.d)
    return POINT_CLOUD2, point_cloud2(output.payload, with_frame(msg_header, output.frame_id))


def serialize(message, msgtype: str) -> bytes:
    return bytes(TYPESTORE.serialize_cdr(message, msgtype))

"""numpy results -> sensor_msgs/Image (mono8, rgb8, 32FC1, 32FC3) with the input's header, without cv_bridge.
Camera images come in through `vision_banana_ros.camera_images`, which works on these messages too."""
from __future__ import annotations

import array

import numpy as np
from sensor_msgs.msg import Image

from ..outputs import image_encoding


# Generated setters keep an array('B') as it is while they check fields (always on Humble, opt-in since Jazzy)
# and copy it otherwise; checking the few other fields costs microseconds, a copy of the pixels milliseconds.
KEEP_DATA = {'check_fields': True} if '_check_fields' in Image.__slots__ else {}


def message_bytes(values: np.ndarray) -> array.array:
    """The one copy of an array into a message's uint8[] field (assigning an ndarray converts element-wise)."""
    data = array.array('B')
    data.frombytes(np.ascontiguousarray(values).reshape(-1).view(np.uint8))
    return data


def array_to_image(values: np.ndarray, header) -> Image:
    """uint8 H x W (mono8) or H x W x 3 (rgb8), float32 H x W (32FC1) or H x W x 3 (32FC3) -> Image."""
    encoding, step = image_encoding(values)
    height, width = values.shape[:2]
    msg = Image(header=header, height=height, width=width, encoding=encoding, is_bigendian=False, step=step,
                **KEEP_DATA)
    msg.data = message_bytes(values)
    return msg

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

"""Decode throughput of the codecs (megapixels/s), numpy and torch, on the CPU and on CUDA where present.

vision_banana bench --codecs [--sizes 640x480,1024x1024]
"""
from __future__ import annotations

import json
import time

import numpy as np
import torch

from ..codecs import (
    CITYSCAPES,
    decode_depth,
    decode_depth_torch,
    decode_normals,
    decode_normals_torch,
    encode_depth_uint8,
    encode_normals_uint8,
)


def _best_seconds(fn, sync=lambda: None, repeats: int = 7) -> float:
    fn()
    sync()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def _inputs(width: int, height: int):
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    depth = 1.0 + 60.0 * xx / width + yy / height
    normals = rng.normal(size=(height, width, 3)).astype(np.float32)
    normals /= np.linalg.norm(normals, axis=-1, keepdims=True)
    labels = rng.integers(0, 19, (height, width)).astype(np.uint8)

    def noise(rgb):
        return np.clip(rgb.astype(np.int16) + rng.integers(-6, 7, rgb.shape), 0, 255).astype(np.uint8)
    return {'palette': noise(CITYSCAPES.encode(labels)), 'depth': noise(encode_depth_uint8(depth)),
            'normals': noise(encode_normals_uint8(normals))}


def main(sizes: list[tuple[int, int]]) -> int:
    """`bench --codecs`: time the codecs at each size on each device and print the table."""
    devices = ['cpu'] + (['cuda'] if torch.cuda.is_available() else [])
    rows = []
    for width, height in sizes:
        size = f'{width}x{height}'
        megapixels = width * height / 1e6
        rgb = _inputs(width, height)
        numpy_fns = {'palette': CITYSCAPES.decode, 'depth': decode_depth, 'normals': decode_normals}
        torch_fns = {'palette': CITYSCAPES.decode_torch, 'depth': decode_depth_torch, 'normals': decode_normals_torch}
        for codec, image in rgb.items():
            seconds = _best_seconds(lambda: numpy_fns[codec](image))
            rows.append({'codec': codec, 'size': size, 'impl': 'numpy', 'device': 'cpu',
                         'mpix_per_s': megapixels / seconds, 'ms': seconds * 1e3})
            for device in devices:
                tensor = torch.from_numpy(image).permute(2, 0, 1)[None].contiguous().to(device)
                sync = torch.cuda.synchronize if device == 'cuda' else (lambda: None)
                seconds = _best_seconds(lambda: torch_fns[codec](tensor), sync)
                rows.append({'codec': codec, 'size': size, 'impl': 'torch', 'device': device,
                             'mpix_per_s': megapixels / seconds, 'ms': seconds * 1e3})
    gpu = f' ({torch.cuda.get_device_name()})' if torch.cuda.is_available() else ''
    print('decode throughput, median of 7, uint8 input with colour noise; '
          f'torch threads={torch.get_num_threads()}{gpu}')
    print(f'{"codec":8} {"size":>10} {"impl":6} {"device":6} {"ms":>9} {"Mpix/s":>9}')
    for r in rows:
        print(f'{r["codec"]:8} {r["size"]:>10} {r["impl"]:6} {r["device"]:6} {r["ms"]:9.2f} {r["mpix_per_s"]:9.1f}')
    print(json.dumps({'codec_decode': rows}))
    return 0

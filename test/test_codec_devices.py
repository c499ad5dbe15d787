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

"""The torch codecs on every device present (CUDA where a GPU is lent; always the CPU)."""
import numpy as np
import pytest
import torch

from vision_banana_ros.codecs import (
    CITYSCAPES,
    decode_depth,
    decode_depth_torch,
    decode_normals,
    decode_normals_torch,
    encode_depth,
    encode_depth_torch,
    encode_depth_uint8,
    encode_normals_torch,
    encode_normals_uint8,
)

DEVICES = ['cpu'] + (['cuda'] if torch.cuda.is_available() else [])


@pytest.mark.parametrize('device', DEVICES)
def test_torch_codecs_on_device_match_numpy(device):
    rng = np.random.default_rng(0)
    depth = rng.uniform(0.05, 120.0, (8, 48, 64)).astype(np.float32)
    normals = rng.normal(size=(8, 48, 64, 3)).astype(np.float32)
    normals /= np.linalg.norm(normals, axis=-1, keepdims=True)
    labels = rng.integers(0, 19, (8, 48, 64)).astype(np.uint8)

    def noisy(rgb):
        return np.clip(rgb.astype(np.int16) + rng.integers(-5, 6, rgb.shape), 0, 255).astype(np.uint8)

    def to_device(rgb):
        return torch.from_numpy(rgb).permute(0, 3, 1, 2).to(device)

    depth_rgb = noisy(encode_depth_uint8(depth))
    out = decode_depth_torch(to_device(depth_rgb))
    assert out.device.type == device
    ours, reference = out.cpu().numpy(), decode_depth(depth_rgb)
    differ = ~np.isclose(ours, reference, rtol=1e-5)
    # A noisy colour can be equally near two edges of the walk; devices may then round to either one. Those
    # ties must be rare and truly ties: both answers re-encode to colours equally far from the input.
    assert differ.mean() < 1e-3
    rgb = depth_rgb[differ].astype(np.float32) / 255.0

    def gap(d):
        return np.linalg.norm(encode_depth(d) - rgb, axis=-1)
    np.testing.assert_allclose(gap(ours[differ]), gap(reference[differ]), atol=1e-4)

    normal_rgb = noisy(encode_normals_uint8(normals))
    np.testing.assert_allclose(decode_normals_torch(to_device(normal_rgb)).permute(0, 2, 3, 1).cpu().numpy(),
                               decode_normals(normal_rgb), atol=1e-5)

    palette_rgb = noisy(CITYSCAPES.encode(labels))
    got, _ = CITYSCAPES.decode_torch(to_device(palette_rgb))
    np.testing.assert_array_equal(got.cpu().numpy(), CITYSCAPES.decode(palette_rgb)[0])

    d = torch.from_numpy(depth).to(device)
    torch.testing.assert_close(decode_depth_torch(encode_depth_torch(d)), d, rtol=1e-5, atol=1e-6)
    n = torch.from_numpy(normals).permute(0, 3, 1, 2).to(device)
    torch.testing.assert_close(decode_normals_torch(encode_normals_torch(n)), n, rtol=0, atol=1e-5)

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

"""The normals codec: unit vectors <-> RGB, float and 8-bit, numpy and torch."""
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
import numpy as np
import torch

from vision_banana_ros.codecs import (
    decode_normals,
    decode_normals_torch,
    encode_normals,
    encode_normals_torch,
    encode_normals_uint8,
    encode_normals_uint8_torch,
)


def unit_vectors(n, seed):
    v = np.random.default_rng(seed).normal(size=(n, 3))
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


def angle_deg(a, b):
    return np.degrees(np.arccos(np.clip((a * b).sum(-1), -1.0, 1.0)))


@given(st.integers(0, 2**31 - 1))
def test_uint8_round_trip_within_half_a_degree(seed):
    n = unit_vectors(2000, seed)
    out = decode_normals(encode_normals_uint8(n))
    assert angle_deg(out, n).max() <= 0.5


def test_float_round_trip_and_convention():
    n = unit_vectors(500, 3)
    np.testing.assert_allclose(decode_normals(encode_normals(n)), n, atol=1e-6)
    # A wall facing the camera (optical frame: z forward) has n = (0, 0, -1) -> RGB (0.5, 0.5, 0).
    np.testing.assert_allclose(encode_normals(np.array([0, 0, -1], np.float32)), [0.5, 0.5, 0.0])
    np.testing.assert_array_equal(encode_normals_uint8(np.array([1, 0, 0], np.float32)), [255, 128, 128])


def test_invalid_normals_encode_grey_and_decode_nan():
    n = np.array([[0, 0, 0], [np.nan, 0, 1], [np.inf, 0, 0]], np.float32)
    rgb = encode_normals(n)
    np.testing.assert_array_equal(rgb, np.full((3, 3), 0.5, np.float32))
    assert np.isnan(decode_normals(rgb)).all()
    assert np.isnan(decode_normals(encode_normals_uint8(n))).all()


def test_short_and_long_vectors_keep_their_direction():
    n = unit_vectors(200, 7)
    scaled = n * np.random.default_rng(8).uniform(0.2, 3.0, (200, 1)).astype(np.float32)
    np.testing.assert_allclose(decode_normals(encode_normals(scaled)), n, atol=1e-5)
    torch.testing.assert_close(decode_normals_torch(encode_normals_torch(torch.from_numpy(scaled.T[None, :, :, None]))),
                               torch.from_numpy(n.T[None, :, :, None].copy()), atol=1e-5, rtol=0)


def test_decode_renormalises_noisy_colours():
    n = unit_vectors(1000, 4)
    noisy = np.clip(encode_normals(n) + np.random.default_rng(5).normal(0, 0.01, n.shape), 0, 1)
    out = decode_normals(noisy.astype(np.float32))
    np.testing.assert_allclose(np.linalg.norm(out, axis=-1), 1.0, atol=1e-5)
    assert np.median(angle_deg(out, n)) < 2.0


def test_batch_and_non_contiguous():
    n = unit_vectors(8 * 6 * 10, 6).reshape(8, 6, 10, 3)
    strided = n[:, ::2, ::-1]
    np.testing.assert_array_equal(encode_normals_uint8(strided), encode_normals_uint8(strided.copy()))


@given(hnp.arrays(np.float32, (2, 3, 4, 5), elements=st.floats(-1, 1, width=32)))
def test_torch_twin_agrees_with_numpy(v):
    v[0, :, 0, 0] = 0.0  # an invalid normal
    n_np = np.moveaxis(v, 1, -1)
    t = torch.from_numpy(v)
    np.testing.assert_allclose(np.moveaxis(encode_normals_torch(t).numpy(), 1, -1), encode_normals(n_np), atol=1e-7)
    rgb8 = encode_normals_uint8(n_np)
    np.testing.assert_array_equal(np.moveaxis(encode_normals_uint8_torch(t).numpy(), 1, -1), rgb8)
    out = np.moveaxis(decode_normals_torch(torch.from_numpy(np.moveaxis(rgb8, -1, 1).copy())).numpy(), 1, -1)
    np.testing.assert_allclose(out, decode_normals(rgb8), atol=1e-6, equal_nan=True)

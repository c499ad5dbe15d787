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

"""The depth codec: metres <-> RGB along the Hilbert walk, float and 8-bit, numpy and torch."""
import hilbertmap
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
import numpy as np
import pytest
import torch

from vision_banana_ros.codecs import (
    decode_depth,
    decode_depth_pooled_torch,
    decode_depth_torch,
    DEPTH_STEPS,
    depth_to_unit,
    encode_depth,
    encode_depth_torch,
    encode_depth_uint8,
    encode_depth_uint8_torch,
    unit_to_depth,
)
from vision_banana_ros.codecs import depth as depth_codec
from vision_banana_ros.codecs.depth import project_on_walk_torch

depths = st.floats(min_value=0.0, max_value=1e4, allow_nan=False, width=32)


def uint8_half_step(d):
    """Worst rounding error of an 8-bit code at depth d: half a step of f, through dd/df = 5 (1 + d/10)^3."""
    return 0.5 / DEPTH_STEPS * 5.0 * (1.0 + d / 10.0) ** 3


def test_transform_matches_definition_and_inverts():
    d = np.array([0.0, 1e-3, 0.05, 1.0, 10.0, 80.0, 1e4])
    f = depth_to_unit(d)
    np.testing.assert_allclose(f, 1.0 - (1.0 + d / 10.0) ** -2, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(unit_to_depth(f), d, rtol=1e-9)
    assert unit_to_depth(np.float64(1.0)) == np.inf


def test_corners_of_the_walk():
    # f = k/7 lands exactly on the k-th corner: black red yellow green cyan blue magenta white.
    corners = [[0, 0, 0], [255, 0, 0], [255, 255, 0], [0, 255, 0], [0, 255, 255], [0, 0, 255], [255, 0, 255]]
    d = unit_to_depth(np.arange(7) / 7.0).astype(np.float32)
    np.testing.assert_array_equal(encode_depth_uint8(d), corners)
    np.testing.assert_array_equal(encode_depth_uint8(np.float32(np.inf)), [255, 255, 255])


@given(hnp.arrays(np.float64, st.integers(1, 64), elements=st.floats(0.0, 1e3, allow_nan=False)))
def test_agrees_with_hilbertmap_oracle(d):
    ours = encode_depth(d)
    np.testing.assert_allclose(ours, hilbertmap.depth_to_rgb(d), atol=2e-6)
    np.testing.assert_allclose(decode_depth(ours), hilbertmap.rgb_to_depth(ours.astype(np.float64)),
                               rtol=1e-4, atol=1e-6)


@given(st.floats(min_value=0.05, max_value=80.0))
def test_float_rgb_round_trip_within_0p1_percent(d):
    d = np.float32(d)
    out = decode_depth(encode_depth(d))
    assert abs(out - d) <= 1e-5 * d


@given(st.floats(min_value=80.0, max_value=1000.0))
def test_float_rgb_far_range(d):
    d = np.float32(d)
    assert abs(decode_depth(encode_depth(d)) - d) <= 1e-3 * d


@given(st.floats(min_value=0.0, max_value=412.0))
def test_uint8_round_trip_within_half_a_step(d):
    d = np.float32(d)
    out = decode_depth(encode_depth_uint8(d))
    # Within the rounding cell of the nearest code: f(d) +- half a step.
    f = depth_to_unit(np.float64(d))
    lower, upper = unit_to_depth(np.array([max(f - 0.5 / DEPTH_STEPS, 0.0), f + 0.5 / DEPTH_STEPS]))
    assert lower * (1 - 1e-5) <= out <= upper * (1 + 1e-5)


def test_uint8_saturates_to_inf_beyond_the_last_code():
    assert np.isfinite(decode_depth(encode_depth_uint8(np.float32(580.0))))
    assert np.isposinf(decode_depth(encode_depth_uint8(np.float32(600.0))))


def test_documented_uint8_resolution():
    # The module docstring quotes these numbers; keep them honest.
    for d, quoted in ((1.0, 0.0019), (10.0, 0.0112), (40.0, 0.175), (80.0, 1.02)):
        assert uint8_half_step(d) == pytest.approx(quoted, rel=0.02)


def test_invalid_and_extreme_values():
    d = np.array([0.0, 1e-3, 1e4, np.inf, np.nan, -1.0, -np.inf], np.float32)
    rgb8 = encode_depth_uint8(d)
    np.testing.assert_array_equal(rgb8[0], [0, 0, 0])
    np.testing.assert_array_equal(rgb8[3:], np.full((4, 3), 255))
    out = decode_depth(encode_depth(d))
    assert out[0] == 0.0 and abs(out[1] - 1e-3) < 1e-8
    assert np.isposinf(out[3:]).all()
    # A broken colour is invalid (NaN, REP 118), not black's 0 m: an obstacle at the lens.
    assert np.isnan(decode_depth(np.full(3, np.nan, np.float32)))
    assert torch.isnan(decode_depth_torch(torch.full((1, 3, 1, 1), torch.nan))).all()
    # Integer colours of any width are 0..255 levels, as uint8 ones.
    np.testing.assert_array_equal(decode_depth(rgb8.astype(np.int64)), decode_depth(rgb8))
    torch.testing.assert_close(decode_depth_torch(torch.from_numpy(rgb8.T[None, :, :, None].astype(np.int64))),
                               decode_depth_torch(torch.from_numpy(rgb8.T[None, :, :, None].copy())))


@settings(max_examples=50)
@given(st.floats(0.3, 60.0), st.floats(0.0, 0.02), st.integers(0, 2**31 - 1))
def test_decode_is_robust_to_colour_noise(d, sigma, seed):
    rng = np.random.default_rng(seed)
    rgb = encode_depth(np.full(256, d, np.float32))
    noisy = np.clip(rgb + rng.normal(0, sigma, rgb.shape).astype(np.float32), 0, 1)
    out = decode_depth(noisy)
    # Noise of sigma per channel moves f by about sigma/7 along the walk.
    f_err = np.abs(depth_to_unit(out.astype(np.float64)) - depth_to_unit(d))
    assert np.median(f_err) <= sigma / 7 * 1.5 + 1e-6


def test_batch_and_non_contiguous_inputs():
    rng = np.random.default_rng(0)
    d = rng.uniform(0, 100, (8, 24, 32)).astype(np.float32)
    strided = d[:, ::2, ::-1]
    assert not strided.flags.c_contiguous
    np.testing.assert_array_equal(encode_depth_uint8(strided), encode_depth_uint8(strided.copy()))
    rgb = encode_depth(d)[:, ::2, ::-1]
    assert not rgb.flags.c_contiguous
    np.testing.assert_allclose(decode_depth(rgb), strided, rtol=1e-4)


def test_decode_rejects_wrong_shape():
    with pytest.raises(ValueError, match='x3 RGB'):
        decode_depth(np.zeros((4, 4), np.uint8))
    with pytest.raises(ValueError, match='N x 3 x H x W'):
        decode_depth_torch(torch.zeros(4, 4, 3))


@settings(max_examples=25)
@given(hnp.arrays(np.float32, (8, 5, 7), elements=st.one_of(depths, st.just(np.float32(np.nan)),
                                                            st.just(np.float32(np.inf)))))
def test_torch_twin_agrees_with_numpy(d):
    t = torch.from_numpy(d)
    np.testing.assert_allclose(encode_depth_torch(t).permute(0, 2, 3, 1).numpy(), encode_depth(d), atol=1e-6)
    np.testing.assert_array_equal(encode_depth_uint8_torch(t).permute(0, 2, 3, 1).numpy(), encode_depth_uint8(d))
    rgb8 = encode_depth_uint8(d)
    from_torch = decode_depth_torch(torch.from_numpy(rgb8).permute(0, 3, 1, 2)).numpy()
    np.testing.assert_allclose(from_torch, decode_depth(rgb8), rtol=1e-6)
    noisy = np.random.default_rng(0).random((2, 6, 5, 3), dtype=np.float32)
    np.testing.assert_allclose(decode_depth_torch(torch.from_numpy(noisy).permute(0, 3, 1, 2)).numpy(),
                               decode_depth(noisy), rtol=1e-5)


@settings(max_examples=25)
@given(hnp.arrays(np.float32, (2, 4, 5), elements=st.one_of(depths, st.just(np.float32(np.inf)))))
def test_pooled_decode_means_the_transform(d):
    a, b = torch.from_numpy(d[:1]), torch.from_numpy(d[1:])
    noisy = torch.from_numpy(np.random.default_rng(1).random((1, 3, 4, 5), dtype=np.float32))
    same, painted = decode_depth_pooled_torch([noisy, noisy])
    torch.testing.assert_close(same, decode_depth_torch(noisy), rtol=1e-5, atol=0)
    torch.testing.assert_close(painted, encode_depth_torch(same), rtol=0, atol=1e-5)
    pooled, painted = decode_depth_pooled_torch([encode_depth_torch(a), encode_depth_torch(b)])
    f = (depth_to_unit(a) + depth_to_unit(b)) / 2
    torch.testing.assert_close(depth_to_unit(pooled), f, rtol=0, atol=1e-6)
    assert (pooled == torch.inf).equal((a == torch.inf) & (b == torch.inf))
    torch.testing.assert_close(painted, encode_depth_torch(unit_to_depth(f)), rtol=0, atol=1e-5)


def test_pooled_decode_of_a_broken_answer_is_invalid_painted_white():
    good = encode_depth_torch(torch.full((1, 2, 2), 5.0))
    broken = good.clone()
    broken[0, 1, 0, 1] = torch.nan
    depth, painted = decode_depth_pooled_torch([good, broken])
    assert depth.isnan().sum() == 1 and depth[0, 0, 1].isnan()
    assert painted[0, :, 0, 1].tolist() == [1.0, 1.0, 1.0]
    torch.testing.assert_close(depth[0, 1], torch.full((2,), 5.0))


def test_tables_first_made_in_inference_mode_serve_training():
    # The engine decodes under inference_mode before any training step may run in the same process.
    depth_codec._DEVICE_TABLES.clear()
    rgb = torch.rand(1, 3, 4, 4)
    with torch.inference_mode():
        decode_depth_torch(rgb)
    rgb.requires_grad_(True)
    k, t = project_on_walk_torch(rgb)
    t.sum().backward()
    assert rgb.grad is not None

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

"""The segmentation palette: class ids <-> colours, nearest-colour decoding, the YAML template."""
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
import numpy as np
import pytest
import torch

from vision_banana_ros.codecs import CITYSCAPES, IGNORE_ID, load_palette, Palette
from vision_banana_ros.codecs.palette import LIKELIHOOD_SIGMA

CONFIG = Path(__file__).resolve().parents[1] / 'config' / 'palettes'
labels_arrays = hnp.arrays(np.uint8, hnp.array_shapes(min_dims=2, max_dims=3, max_side=12),
                           elements=st.sampled_from(list(range(19)) + [IGNORE_ID]))


def test_cityscapes_official_colours():
    assert len(CITYSCAPES.ids) == 19
    assert CITYSCAPES.colors[0] == (128, 64, 128) and CITYSCAPES.names[0] == 'road'
    assert CITYSCAPES.colors[10] == (70, 130, 180) and CITYSCAPES.names[10] == 'sky'
    assert CITYSCAPES.colors[13] == (0, 0, 142) and CITYSCAPES.names[13] == 'car'
    np.testing.assert_array_equal(CITYSCAPES.encode(np.array([IGNORE_ID], np.uint8)), [[0, 0, 0]])


@given(labels_arrays)
def test_round_trip_is_exact(labels):
    decoded, confidence = CITYSCAPES.decode(CITYSCAPES.encode(labels))
    np.testing.assert_array_equal(decoded, labels)
    assert (confidence == 1).all() and decoded.dtype == np.uint8


def test_unknown_ids_paint_as_ignore():
    labels = np.array([[19, 100, 254]], np.uint8)
    decoded, _ = CITYSCAPES.decode(CITYSCAPES.encode(labels))
    assert (decoded == IGNORE_ID).all()
    with pytest.raises(TypeError):
        CITYSCAPES.encode(np.zeros((2, 2), np.float32))
    ignore = np.array(CITYSCAPES.ignore_color, np.uint8)
    np.testing.assert_array_equal(CITYSCAPES.encode(np.array([-1, -100, 300])), np.tile(ignore, (3, 1)))
    painted = CITYSCAPES.encode_torch(torch.tensor([[[-1, -100, 300, 0]]]))
    np.testing.assert_array_equal(painted[0, :, 0, :3].T.numpy(), np.tile(ignore, (3, 1)))  # not road


def test_broken_and_wide_integer_colours():
    road = np.array(CITYSCAPES.encode(np.array([0])), np.int64)
    labels, confidence = CITYSCAPES.decode(np.array([[np.nan, 0.5, 0.5]], np.float32))
    assert labels[0] == IGNORE_ID and confidence[0] == 0.0
    assert CITYSCAPES.decode(road)[0][0] == 0                               # int64 levels, as uint8 ones
    labels, confidence = CITYSCAPES.decode_torch(torch.tensor([[[[np.nan]], [[0.5]], [[0.5]]]]))
    assert int(labels) == IGNORE_ID and float(confidence) == 0.0
    assert int(CITYSCAPES.decode_torch(torch.from_numpy(road).view(1, 3, 1, 1))[0]) == 0


@given(labels_arrays, st.integers(0, 2**31 - 1))
def test_noisy_colours_decode_to_the_nearest_entry(labels, seed):
    rng = np.random.default_rng(seed)
    rgb = CITYSCAPES.encode(labels).astype(np.int16)
    # Noise well inside the decision radius must never change the class.
    noise = rng.integers(-4, 5, rgb.shape)
    decoded, confidence = CITYSCAPES.decode(np.clip(rgb + noise, 0, 255).astype(np.uint8))
    np.testing.assert_array_equal(decoded, labels)
    # bus and train, 20 levels apart, are the closest pair: 7 levels of noise leave a margin of (13-7)/(13+7)
    assert (confidence >= 0.3 - 1e-6).all()
    assert (CITYSCAPES.decode(CITYSCAPES.encode(labels))[1] == 1.0).all()     # exact colours: certain


def test_decoding_is_the_nearest_colour_with_its_margin():
    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, (20000, 3)).astype(np.uint8)
    decoded, confidence = CITYSCAPES.decode(rgb)
    d_all = np.linalg.norm(rgb[:, None].astype(np.float64) - CITYSCAPES.entry_colors[None].astype(np.float64), axis=-1)
    d_sorted = np.sort(d_all, axis=1)
    clear = d_sorted[:, 1] - d_sorted[:, 0] > 1e-3                       # ties may go either way
    np.testing.assert_array_equal(decoded[clear], CITYSCAPES.entry_ids[d_all.argmin(axis=1)][clear])
    margin = (d_sorted[:, 1] - d_sorted[:, 0]) / (d_sorted[:, 1] + d_sorted[:, 0])
    np.testing.assert_allclose(confidence, margin, atol=1e-4)
    bus, train = (np.array(CITYSCAPES.colors[CITYSCAPES.names.index(n)], np.float64) for n in ('bus', 'train'))
    assert CITYSCAPES.decode(np.rint((bus + train) / 2).astype(np.uint8))[1] < 0.1     # halfway: unsure


def test_float_input_and_batches():
    labels = np.random.default_rng(2).integers(0, 19, (8, 6, 10)).astype(np.uint8)
    rgb = CITYSCAPES.encode(labels).astype(np.float32) / 255.0
    np.testing.assert_array_equal(CITYSCAPES.decode(rgb)[0], labels)
    np.testing.assert_array_equal(CITYSCAPES.decode(rgb[:, ::-1, ::2])[0], labels[:, ::-1, ::2])


def test_yaml_template_is_the_default_and_round_trips(tmp_path):
    assert load_palette(CONFIG / 'cityscapes.yaml') == CITYSCAPES
    assert load_palette(None) is CITYSCAPES and load_palette('cityscapes') is CITYSCAPES
    path = tmp_path / 'p.yaml'
    path.write_text(CITYSCAPES.to_yaml())
    assert Palette.from_yaml(path) == CITYSCAPES


def test_custom_palette(tmp_path):
    path = tmp_path / 'mine.yaml'
    path.write_text('classes:\n- {id: 3, name: floor, color: [10, 200, 10]}\n'
                    '- {id: 7, name: obstacle, color: [250, 10, 10]}\nignore_color: [255, 255, 255]\n')
    palette = Palette.from_yaml(path)
    labels = np.array([[3, 7, 0]], np.uint8)
    rgb = palette.encode(labels)
    np.testing.assert_array_equal(rgb, [[[10, 200, 10], [250, 10, 10], [255, 255, 255]]])
    np.testing.assert_array_equal(palette.decode(rgb)[0], [[3, 7, IGNORE_ID]])


@pytest.mark.parametrize('text, message', [
    ('classes: [{id: 1, name: a, color: [1, 2, 3]}, {id: 1, name: b, color: [9, 9, 9]}]', 'unique'),
    ('classes: [{id: 1, name: a, color: [1, 2, 300]}]', 'RGB triple'),
    ('classes: [{id: 1, name: a, color: [0, 0, 0]}]', 'distinct'),
    ('classes: [{id: 1, name: a}]', 'color'),
    ('not: a palette', 'classes'),
])
def test_bad_palette_files_name_the_file(tmp_path, text, message):
    path = tmp_path / 'bad.yaml'
    path.write_text(text)
    with pytest.raises(ValueError, match=message) as info:
        Palette.from_yaml(path)
    assert str(path) in str(info.value)


def test_missing_palette_file_names_the_file(tmp_path):
    with pytest.raises(ValueError, match='nope.yaml'):
        load_palette(tmp_path / 'nope.yaml')


@given(hnp.arrays(np.uint8, (3, 5, 7), elements=st.sampled_from(list(range(19)) + [IGNORE_ID])),
       st.integers(0, 2**31 - 1))
def test_torch_twin_agrees_with_numpy(labels, seed):
    rgb = CITYSCAPES.encode(labels)
    np.testing.assert_array_equal(CITYSCAPES.encode_torch(torch.from_numpy(labels)).permute(0, 2, 3, 1).numpy(), rgb)
    noisy = np.clip(rgb.astype(np.int16) + np.random.default_rng(seed).integers(-40, 41, rgb.shape), 0, 255)
    noisy = noisy.astype(np.uint8)
    labels_np, conf_np = CITYSCAPES.decode(noisy)
    labels_t, conf_t = CITYSCAPES.decode_torch(torch.from_numpy(noisy).permute(0, 3, 1, 2))
    np.testing.assert_array_equal(labels_t.numpy(), labels_np)
    np.testing.assert_allclose(conf_t.numpy(), conf_np, atol=1e-5)
    labels_f, _ = CITYSCAPES.decode_torch(torch.from_numpy(noisy).permute(0, 3, 1, 2).float() / 255.0)
    np.testing.assert_array_equal(labels_f.numpy(), labels_np)


def test_logits_are_the_colour_likelihood_up_to_a_constant_per_pixel():
    rgb = torch.rand(2, 3, 4, 5)
    colors = torch.tensor(CITYSCAPES.colors, dtype=torch.float32)
    d2 = ((rgb.permute(0, 2, 3, 1)[..., None, :] * 255.0 - colors) ** 2).sum(-1).permute(0, 3, 1, 2)
    expected = torch.softmax(-d2 / (2.0 * LIKELIHOOD_SIGMA ** 2), dim=1)
    torch.testing.assert_close(torch.softmax(CITYSCAPES.logits_torch(rgb), dim=1), expected, rtol=0, atol=1e-5)


def test_pooled_decoding_weighs_how_sure_each_answer_is():
    road, sidewalk = (np.array(CITYSCAPES.colors[i], np.float32) / 255.0 for i in (0, 1))

    def as_image(c):
        return torch.from_numpy(np.asarray(c, np.float32)).view(1, 3, 1, 1)
    sure_road, unsure_sidewalk = as_image(road), as_image(0.49 * road + 0.51 * sidewalk)
    labels, confidence = CITYSCAPES.decode_pooled_torch([sure_road, unsure_sidewalk])
    assert labels.item() == 0 and 0.5 < confidence.item() <= 1.0
    # alone, each answer decodes to its nearest colour, with that class's probability as confidence
    labels, confidence = CITYSCAPES.decode_pooled_torch([unsure_sidewalk])
    assert labels.item() == 1 and 0.5 < confidence.item() < 0.65
    labels, confidence = CITYSCAPES.decode_pooled_torch([as_image([np.nan, 0, 0]), sure_road])
    assert (labels.item(), confidence.item()) == (IGNORE_ID, 0.0)


@given(labels=hnp.arrays(np.uint8, (2, 6, 7), elements=st.sampled_from(list(range(19)))),
       seed=st.integers(0, 2**16))
def test_pooling_copies_of_one_answer_is_decoding_it(labels, seed):
    noisy = CITYSCAPES.encode(labels).astype(np.float32) + np.random.default_rng(seed).normal(0, 20, (2, 6, 7, 3))
    rgb = torch.from_numpy(np.clip(noisy, 0, 255).round() / 255.0).permute(0, 3, 1, 2).float()
    pooled, _ = CITYSCAPES.decode_pooled_torch([rgb, rgb])
    nearest, margin = CITYSCAPES.decode_torch(rgb)
    # pooling weighs the classes only, not the ignore colour; near-ties may go either way
    clear = (nearest.numpy() != IGNORE_ID) & (margin.numpy() > 1e-3)
    np.testing.assert_array_equal(pooled.numpy()[clear], nearest.numpy()[clear])

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

"""Training augmentation: each camera effect keeps the ground truth consistent with the pixels it makes."""
import numpy as np
import torch

from vision_banana_ros.model import augment


def _batch(n=4, h=48, w=64):
    """Blocks of labels; rgb encodes the label (red) and the column (green); depth and normals follow the label."""
    labels = torch.zeros(n, h, w, dtype=torch.uint8)
    for i in range(n):
        labels[i, :, w // 3:] = 1 + i
        labels[i, h // 2:, 2 * w // 3:] = 9
    columns = torch.arange(w, dtype=torch.float32).expand(n, h, w) / w
    rgb = torch.stack([labels.float() / 10, columns, torch.full((n, h, w), 0.5)], 1)
    normals = torch.nn.functional.normalize(torch.stack([labels.float(), torch.ones(n, h, w), -torch.ones(n, h, w)], 1),
                                            dim=1)
    return {'rgb': rgb, 'segmentation': labels, 'depth': 1.0 + labels.float(), 'normals': normals,
            'focal': torch.full((n,), 0.7)}


def _generator(seed=0):
    generator = torch.Generator()
    generator.manual_seed(seed)
    return generator


def test_zoom_enlarges_pixels_and_focal_length_together():
    batch = _batch()
    out = augment.zoom(batch, _generator(), share=1.0)
    scale = out['focal'] / batch['focal']
    assert (scale >= 1.0).all() and (scale <= 1.6).all() and (scale > 1.01).any()
    # the green channel is the column / width: its slope across the image shrinks by the enlargement
    slope = (out['rgb'][:, 1, :, 40] - out['rgb'][:, 1, :, 20]).mean(1) / 20
    np.testing.assert_allclose(slope, 1 / 64 / scale, rtol=0.02)
    # labels, depth and normals move with the pixels: where the label block is uniform, red still says the label
    label = out['segmentation'].float()
    uniform = torch.nn.functional.max_pool2d(label[:, None], 3, 1, 1)[:, 0] == -torch.nn.functional.max_pool2d(
        -label[:, None], 3, 1, 1)[:, 0]
    assert uniform.float().mean() > 0.8
    torch.testing.assert_close(out['rgb'][:, 0][uniform], label[uniform] / 10)
    torch.testing.assert_close(out['depth'], 1.0 + label)
    torch.testing.assert_close(out['normals'][:, 0] / out['normals'][:, 1], label)


def test_zoom_keeps_the_optical_centre_near_the_windows_centre():
    """The network reads a pixel's viewing ray from where it lies in the frame: the frame's centre (its principal
    point) lands within 5 % of the zoomed frame's width of the new centre, not anywhere a window may lie.
    """
    offsets = []
    for seed in range(8):
        batch = _batch(n=16)
        out = augment.zoom(batch, _generator(seed), share=1.0)
        scale = out['focal'] / batch['focal']
        # the green channel is the input column / width, linear across the output: find where the input's centre went
        row = out['rgb'][:, 1, 24]
        slope = (row[:, 44] - row[:, 20]) / 24
        centre = 20 + ((63 / 2) / 64 - row[:, 20]) / slope
        offsets.append(((centre - 63 / 2) / 64)[scale > 1.05])
    offsets = torch.cat(offsets).abs()
    assert offsets.max() <= augment.PRINCIPAL_SHIFT + 0.005 and offsets.max() > 0.02


def test_frames_left_unzoomed_are_unchanged():
    batch = _batch()
    out = augment.zoom(batch, _generator(), share=0.0)
    torch.testing.assert_close(out['rgb'], batch['rgb'])
    assert torch.equal(out['segmentation'], batch['segmentation']) and torch.equal(out['focal'], batch['focal'])


def test_photometric_changes_pixels_only_within_range_and_makes_grey_frames():
    rgb = torch.rand(64, 3, 24, 32, generator=_generator(1))
    out = augment.photometric(rgb, _generator(2))
    assert out.shape == rgb.shape and out.min() >= 0 and out.max() <= 1
    grey = (out[:, 0] - out[:, 1]).abs().amax(dim=(1, 2)) < 0.02
    assert 1 <= int(grey.sum()) <= 20            # about 10 % of the frames, as a mono8 camera
    assert not torch.allclose(out, rgb, atol=0.05)


def test_jpeg_round_trip_stays_close():
    image = torch.linspace(0, 1, 3 * 32 * 32).reshape(3, 32, 32)
    assert (augment._jpeg(image, 90) - image).abs().mean() < 0.03


def test_cut_outs_make_the_ground_truth_under_them_unknown():
    batch = _batch(8)
    out = augment.cut_out(batch, _generator(4), share=1.0)
    changed = (out['rgb'] != batch['rgb']).any(1)
    assert changed.any()
    unknown = out['segmentation'] == augment.IGNORE
    assert torch.equal(unknown, torch.isnan(out['depth']))
    assert torch.equal(unknown, (out['normals'] == 0).all(1))
    assert (changed & ~unknown).sum() == 0               # no changed pixel keeps a label
    assert (~changed & unknown).float().mean() < 0.01    # a random patch may equal the pixel it covers: rarely

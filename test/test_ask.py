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

"""`vision_banana ask`: instructions in words answered by the engine."""
import json
import struct
import zlib

import numpy as np
from PIL import Image
import pytest
from tiny_model import TINY
import torch

from vision_banana_ros.ask import ask
from vision_banana_ros.backends.unified import UnifiedBackend
from vision_banana_ros.cli import main
from vision_banana_ros.engine import BatchRunner, FrameRequest
from vision_banana_ros.model.canonical import CANONICAL_FOCAL, CANONICAL_HFOV_DEG
from vision_banana_ros.model.network import VisionBananaNet
from vision_banana_ros.model.weights import save_network


@pytest.fixture
def image_file(tmp_path):
    rgb = np.random.default_rng(3).integers(0, 256, (48, 64, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(tmp_path / 'street.png')
    return tmp_path / 'street.png', rgb


def test_paraphrased_instructions_give_the_engine_answers(tmp_path, tiny_weights, image_file):
    path, rgb = image_file
    written = ask(path, ['estimate the metric depth', 'label every pixel with its class'], tmp_path / 'out',
                  UnifiedBackend(str(tiny_weights), mirror_average=False))
    assert set(written) == {'depth', 'segmentation'}
    # the answer as the network painted it, not averaged with the mirror image's
    expected = BatchRunner(UnifiedBackend(str(tiny_weights), mirror_average=False), ('segmentation', 'depth')).run(
        [FrameRequest('x', rgb)])[0]
    painted = np.asarray(Image.open(written['depth']['answer']))
    assert painted.shape == (48, 64, 3)
    np.testing.assert_array_equal(painted, expected.encodings['depth'])
    np.testing.assert_allclose(np.load(written['depth']['decoded']), expected.depth)
    np.testing.assert_array_equal(np.asarray(Image.open(written['segmentation']['decoded'])), expected.labels)


def test_cli_prints_what_it_wrote_and_names_a_bad_instruction(tmp_path, tiny_weights, image_file, capsys):
    path, _ = image_file
    weights = ['--weights', str(tiny_weights)]
    # --device auto (the node's default) resolves to a real device here too
    assert main(['ask', str(path), 'paint surface normals', '--out', str(tmp_path), '--device', 'auto', *weights]) == 0
    normals = np.load(json.loads(capsys.readouterr().out)['normals']['decoded'])
    assert normals.shape == (48, 64, 3) and normals.dtype == np.float32
    assert main(['ask', str(path), 'make me a sandwich', *weights]) == 2
    assert 'does not name one task' in capsys.readouterr().err
    assert main(['ask', str(tmp_path / 'missing.png'), 'paint metric depth', *weights]) == 2
    assert 'cannot read image' in capsys.readouterr().err
    # two ways to ask for one task: one answer would silently stand for both
    assert main(['ask', str(path), 'paint metric depth', 'estimate the metric depth', *weights]) == 2
    assert 'ask for the same task (depth)' in capsys.readouterr().err
    # a picture claiming 200 megapixels (a PNG header is enough): PIL refuses to decode it, as one line
    huge = tmp_path / 'huge.png'
    header = struct.pack('>IIBBBBB', 20000, 10000, 8, 2, 0, 0, 0)
    huge.write_bytes(b'\x89PNG\r\n\x1a\n' + struct.pack('>I', 13) + b'IHDR' + header
                     + struct.pack('>I', zlib.crc32(b'IHDR' + header)))
    assert main(['ask', str(huge), 'paint metric depth', *weights]) == 2
    assert 'cannot read image' in capsys.readouterr().err


def test_a_photo_stored_sideways_is_answered_upright(tmp_path, tiny_weights, image_file):
    _, rgb = image_file
    exif = Image.Exif()
    exif[0x0112] = 6                                    # EXIF orientation: rotate 90 degrees clockwise to view
    Image.fromarray(rgb).save(tmp_path / 'phone.jpg', exif=exif)
    written = ask(tmp_path / 'phone.jpg', ['paint metric depth'], tmp_path / 'out', UnifiedBackend(str(tiny_weights)))
    assert np.load(written['depth']['decoded']).shape == (64, 48)


def test_the_lens_field_of_view_gives_metres_of_that_camera(tmp_path, image_file, capsys):
    path, _ = image_file
    torch.manual_seed(3)
    network = VisionBananaNet(TINY)
    network.canonical_focal = CANONICAL_FOCAL
    save_network(network, tmp_path / 'canonical.safetensors')
    weights = ['--weights', str(tmp_path / 'canonical.safetensors')]

    def depth(*lens):
        out = tmp_path / '_'.join(('out',) + lens)
        assert main(['ask', str(path), 'paint metric depth', '--out', str(out), *lens, *weights]) == 0
        return np.load(json.loads(capsys.readouterr().out)['depth']['decoded'])

    unknown, canonical, wide = depth(), depth('--hfov-deg', str(CANONICAL_HFOV_DEG)), depth('--hfov-deg', '100')
    finite = np.isfinite(wide)
    assert finite.mean() > 0.5
    # a wider lens sees the same picture of a closer scene: depth scales with the focal length
    ratio = np.tan(np.radians(CANONICAL_HFOV_DEG / 2)) / np.tan(np.radians(50))
    np.testing.assert_allclose(wide[finite], canonical[finite] * ratio, rtol=1e-4)
    np.testing.assert_allclose(canonical, unknown, rtol=1e-4)      # no lens given: the canonical camera's
    with pytest.raises(SystemExit):      # refused as an argument, before the model loads
        main(['ask', str(path), 'paint metric depth', '--hfov-deg', '180', *weights])
    assert '--hfov-deg: must be below 180 degrees' in capsys.readouterr().err

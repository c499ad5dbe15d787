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

"""The world's dataset format: write, read back, and the CLI that writes it."""
import json

import numpy as np
from PIL import Image
import pytest

from vision_banana_ros.cli import main
from vision_banana_ros.model.weights import read_metadata
from vision_banana_ros.world import frame_seed, iter_samples, load_sample, read_dataset, render_frame, write_dataset
from vision_banana_ros.world.dataset import parse_size


def test_round_trip(tmp_path):
    names = write_dataset(tmp_path, 3, seed=5, size=(64, 48), progress=False)
    assert names == ['000000', '000001', '000002'] == read_dataset(tmp_path)
    for i, name in enumerate(names):
        want = render_frame(frame_seed(5, i), 64, 48)
        got = load_sample(tmp_path, name)
        for part in ('rgb', 'labels', 'depth', 'normals'):
            np.testing.assert_array_equal(getattr(got, part), getattr(want, part), err_msg=part)
        assert got.intrinsics == pytest.approx(want.intrinsics) and got.seed == frame_seed(5, i)
        assert got.camera == pytest.approx(want.camera) and got.scene == want.scene == 'street'
    assert Image.open(tmp_path / 'rgb' / '000000.png').mode == 'RGB'
    assert Image.open(tmp_path / 'labels' / '000000.png').mode == 'L'
    depth, normals = np.load(tmp_path / 'depth' / '000000.npy'), np.load(tmp_path / 'normals' / '000000.npy')
    assert depth.dtype == normals.dtype == np.float32 and depth.shape == (48, 64) and normals.shape == (48, 64, 3)
    assert set(json.loads((tmp_path / 'intrinsics' / '000000.json').read_text())) == {'fx', 'fy', 'cx', 'cy'}
    assert [f.seed for f in iter_samples(tmp_path)] == [frame_seed(5, i) for i in range(3)]


def test_optional_parts_may_be_missing(tmp_path):
    write_dataset(tmp_path, 1, seed=0, size=(32, 24), progress=False)
    for part in ('depth/000000.npy', 'normals/000000.npy', 'intrinsics/000000.json', 'camera/000000.json'):
        (tmp_path / part).unlink()
    f = load_sample(tmp_path, '000000')
    assert f.intrinsics is None and f.camera == {} and not np.isfinite(f.depth).any() and not f.normals.any()


@pytest.mark.parametrize('part, content, named', [
    ('depth/000000.npy', np.full((24, 32), 2500, np.uint16), 'uint16 values; the format holds float metres'),
    ('normals/000000.npy', np.full((24, 32, 3), 128, np.uint8), 'the format holds float unit vectors'),
    ('normals/000000.npy', np.full((24, 32, 3), 0.5, np.float32), 'normals must be unit vectors'),
    ('intrinsics/000000.json', {'fx': 30.0, 'fy': 30.0, 'cx': 15.5}, 'intrinsics must be finite numbers'),
    ('intrinsics/000000.json', {'fx': -30.0, 'fy': 30.0, 'cx': 15.5, 'cy': 11.5}, 'fx, fy \\(> 0\\)'),
    ('camera/000000.json', {'pitch_deg': '-10'}, 'pitch_deg, roll_deg'),
])
def test_a_users_frame_in_another_form_is_refused_naming_its_file(tmp_path, part, content, named):
    """A user's own frames in the format: millimetres in a uint16 depth file, 8-bit codec normals or a camera given
    as text would be scored as if they were metres, unit vectors and numbers.
    """
    write_dataset(tmp_path, 1, seed=0, size=(32, 24), progress=False)
    path = tmp_path / part
    if path.suffix == '.npy':
        np.save(path, content)
    else:
        path.write_text(json.dumps(content))
    with pytest.raises(ValueError, match=named) as refused:
        load_sample(tmp_path, '000000')
    assert str(path) in str(refused.value)


def test_rendering_into_a_folder_with_frames_is_refused(tmp_path):
    write_dataset(tmp_path, 2, seed=7, size=(32, 24), progress=False)
    with pytest.raises(ValueError, match='already holds 2 frames'):
        write_dataset(tmp_path, 1, seed=8, size=(32, 24), progress=False)
    assert [f.seed for f in iter_samples(tmp_path)] == [frame_seed(7, i) for i in range(2)]


def test_frame_seeds_differ_between_datasets():
    a = {frame_seed(1, i) for i in range(1000)}
    b = {frame_seed(2, i) for i in range(1000)}
    assert len(a) == len(b) == 1000 and not a & b
    assert frame_seed(1, 7) == frame_seed(1, 7)


def test_sizes(tmp_path):
    assert parse_size('320x240') == (320, 240) and parse_size((64, 48)) == (64, 48)
    assert parse_size('random') == 'random'
    with pytest.raises(ValueError, match='WxH'):
        parse_size('big')
    write_dataset(tmp_path, 3, seed=3, size='random', progress=False)
    shapes = {load_sample(tmp_path, n).rgb.shape for n in read_dataset(tmp_path)}
    assert len(shapes) > 1


def test_cli_world_render(tmp_path, capsys):
    out = tmp_path / 'set'
    assert main(['world', 'render', '--out', str(out), '--count', '2', '--seed', '4', '--size', '40x30']) == 0
    assert read_dataset(out) == ['000000', '000001']
    assert load_sample(out, '000001').rgb.shape == (30, 40, 3)
    assert main(['world', 'render', '--out', str(out), '--count', '1', '--size', '40by30']) == 2
    assert 'WxH' in capsys.readouterr().err


def test_training_reads_a_rendered_set_and_names_a_wrong_size(tmp_path, capsys):
    data = tmp_path / 'set'
    assert main(['world', 'render', '--out', str(data), '--count', '2', '--seed', '4', '--size', '64x32']) == 0
    assert main(['train', '--data', str(data), '--size', '64x64', '--steps', '1', '--out', str(tmp_path / 'a')]) == 2
    assert 'frames must be 64x64 (--size), found 64x32' in capsys.readouterr().err
    assert main(['train', '--data', str(tmp_path / 'absent'), '--size', '64x32', '--crop', '96x32', '--steps', '1',
                 '--out', str(tmp_path / 'a')]) == 2     # refused before any frame is read
    assert '--crop 96x32 does not fit in the 64x32 frames' in capsys.readouterr().err
    assert main(['train', '--data', str(data), '--size', '64x32', '--steps', '1', '--batch', '2',
                 '--out', str(tmp_path / 'b')]) == 0
    assert (tmp_path / 'b' / 'weights.safetensors').exists()
    assert main(['train', '--data', str(data), '--size', '64x32', '--steps', '2', '--batch', '2', '--precision',
                 'bf16', '--out', str(tmp_path / 'c')]) == 0
    summary = json.loads(read_metadata(tmp_path / 'c' / 'weights.safetensors')['vision_banana.training'])
    assert summary['steps'] == 2 and np.isfinite(summary['final_loss'])
    with pytest.raises(SystemExit):      # fp16 would need loss scaling
        main(['train', '--data', str(data), '--size', '64x32', '--steps', '1', '--precision', 'fp16',
              '--out', str(tmp_path / 'd')])
    assert "invalid choice: 'fp16'" in capsys.readouterr().err


def test_a_training_set_listed_twice_is_loaded_once_and_drawn_twice_as_often(tmp_path):
    from argparse import Namespace

    from vision_banana_ros.model.experiment import load_training_set
    first, second = tmp_path / 'first', tmp_path / 'second'
    for folder, seed in ((first, 4), (second, 5)):
        assert main(['world', 'render', '--out', str(folder), '--count', '2', '--seed', str(seed),
                     '--size', '32x24']) == 0
    args = Namespace(size=(32, 24), render=None, data=f'{first},{second},{first}/')   # one folder, two spellings
    data = load_training_set(args)
    assert len(data) == 4 and data.draws.tolist() == [2.0, 2.0, 1.0, 1.0]
    assert np.array_equal(data.rgb[2].numpy(), load_sample(second, '000000').rgb)
    assert load_training_set(Namespace(size=(32, 24), render=None, data=f'{first},{second}')).draws is None


def test_not_a_dataset(tmp_path):
    with pytest.raises(ValueError, match='rgb'):
        read_dataset(tmp_path)

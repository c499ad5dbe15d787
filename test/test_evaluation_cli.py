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

"""`vision_banana eval` end to end on a small rendered set: strict JSON, partial sets, single-task weights."""
import json
import shutil

import numpy as np
from PIL import Image
import pytest
from tiny_model import TINY

from vision_banana_ros.cli import main
from vision_banana_ros.model.network import NetworkConfig, VisionBananaNet
from vision_banana_ros.model.weights import save_network
from vision_banana_ros.world import load_sample, write_dataset


def _refuse_nan(token):
    raise AssertionError(f'{token} is not JSON')


@pytest.fixture(scope='module')
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp('heldout')
    write_dataset(root, 2, seed=11, size=(48, 36), progress=False)
    return root


def _eval(capsys, *args):
    assert main(['eval', '--json', '--size', '64x64', *map(str, args)]) == 0
    return json.loads(capsys.readouterr().out, parse_constant=_refuse_nan)


def test_eval_json_has_every_metric(dataset, tiny_weights, capsys):
    result = _eval(capsys, '--data', dataset, '--weights', tiny_weights, '--batch', 3)
    assert result['frames'] == 2
    for key in ('miou', 'delta1', 'delta2', 'abs_rel', 'rmse', 'normals_mean_deg', 'normals_median_deg'):
        assert isinstance(result[key], float), key
    assert 'sky' in result['per_class_iou'] and 0.0 <= result['miou'] <= 1.0


def test_results_do_not_depend_on_the_batch_size(dataset, tiny_weights, capsys):
    """IoU accumulates over the set and depth/normal metrics average over frames, whatever the batches."""
    one_by_one = _eval(capsys, '--data', dataset, '--weights', tiny_weights, '--batch', 1)
    together = _eval(capsys, '--data', dataset, '--weights', tiny_weights, '--batch', 2)
    assert one_by_one['frames'] == together['frames'] == 2
    for key in ('miou', 'delta1', 'abs_rel', 'rmse', 'normals_mean_deg', 'normals_within_30'):
        assert one_by_one[key] == pytest.approx(together[key], rel=1e-3), key


def test_single_answers_are_scored_on_request(dataset, tiny_weights, capsys):
    averaged = _eval(capsys, '--data', dataset, '--weights', tiny_weights)
    single = _eval(capsys, '--data', dataset, '--weights', tiny_weights, '--no-mirror-average')
    assert single['abs_rel'] != pytest.approx(averaged['abs_rel'], rel=1e-3)


def test_what_cannot_be_measured_is_null(dataset, tiny_weights, tmp_path, capsys):
    partial = tmp_path / 'no_depth_no_normals'
    shutil.copytree(dataset, partial)
    shutil.rmtree(partial / 'depth')
    shutil.rmtree(partial / 'normals')
    result = _eval(capsys, '--data', partial, '--weights', tiny_weights)
    assert result['delta1'] is None and result['normals_mean_deg'] is None and result['miou'] is not None

    depth_only = tmp_path / 'depth.safetensors'
    save_network(VisionBananaNet(NetworkConfig(**{**TINY.to_dict(), 'tasks': ('depth',)})), depth_only)
    result = _eval(capsys, '--data', dataset, '--weights', depth_only)
    assert result['miou'] is None and result['normals_mean_deg'] is None and isinstance(result['delta1'], float)


def test_no_samples_and_bad_arguments_are_named(tmp_path, tiny_weights, capsys):
    (tmp_path / 'rgb').mkdir()
    assert main(['eval', '--data', str(tmp_path), '--weights', str(tiny_weights)]) == 2
    assert 'no samples' in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(['eval', '--data', str(tmp_path), '--batch', '0'])
    assert 'at least 1' in capsys.readouterr().err


def test_labels_as_written_by_other_tools(dataset, tmp_path):
    copy = tmp_path / 'set'
    shutil.copytree(dataset, copy)
    labels = np.asarray(Image.open(copy / 'labels' / '000000.png'))
    Image.fromarray(np.dstack([labels, np.full_like(labels, 255)]), mode='LA').save(copy / 'labels' / '000000.png')
    np.testing.assert_array_equal(load_sample(copy, '000000').labels, labels)     # grey + alpha: the grey
    Image.fromarray(labels.astype(np.uint16) + 256).save(copy / 'labels' / '000000.png')
    with pytest.raises(ValueError, match='above 255'):
        load_sample(copy, '000000')
    (copy / 'intrinsics' / '000001.json').write_text('{"fx": ')
    with pytest.raises(ValueError, match='000001.json'):
        load_sample(copy, '000001')

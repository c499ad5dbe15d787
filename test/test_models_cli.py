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

"""Hub checkpoints: the table (`models list`), `models pull` and offline resolution of hub ids in
the node's configuration, `bag process`, `eval` and `ask`, all through huggingface_hub's real code
against a cache this test builds in the library's own layout
(models--org--name/snapshots/<revision>/..., refs/main) with tiny saved models. There is no
network: HF_HUB_OFFLINE is set, and what `pull` would download is already in the cache.
"""

import json
import re

import numpy as np
from PIL import Image
import pytest
from tiny_experts import go_offline, hub_cache

from vision_banana_ros.backends.checkpoints import BY_ID, CHECKPOINTS, PAIRINGS, resolve
from vision_banana_ros.backends.expert_families import FAMILIES
from vision_banana_ros.cli import main
from vision_banana_ros.config import build_backend, load_config_file
from vision_banana_ros.world import write_dataset

REVISION = '0123456789abcdef0123456789abcdef01234567'
SEGMENTATION, DEPTH = 'tiny-org/segformer-cityscapes', 'tiny-org/depth-anything-metric'


@pytest.fixture(scope='module')
def cache(tmp_path_factory):
    return hub_cache(
        tmp_path_factory.mktemp('hub'),
        {SEGMENTATION: 'segformer', DEPTH: 'depth_anything'},
        REVISION,
    )


@pytest.fixture(autouse=True)
def offline(monkeypatch, cache):
    go_offline(monkeypatch, cache)


def test_the_table_lists_every_family_and_marks_licences(capsys):
    assert main(['models', 'list']) == 0
    printed = capsys.readouterr().out
    for checkpoint in CHECKPOINTS:
        assert checkpoint.hub_id in printed and checkpoint.family in FAMILIES
        assert checkpoint.commercial in ('yes', 'no', 'unclear')
    assert {c.family for c in CHECKPOINTS} == set(FAMILIES)
    assert all(name in BY_ID for pair in PAIRINGS.values() for name in pair if name)
    assert all(BY_ID[name].commercial == 'yes' for name in PAIRINGS['commercial'] if name)
    assert BY_ID['nvidia/segformer-b0-finetuned-cityscapes-1024-1024'].commercial == 'no'


def test_a_pulled_id_resolves_offline_to_its_snapshot(cache):
    snapshot = cache / f'models--{SEGMENTATION.replace("/", "--")}' / 'snapshots' / REVISION
    assert resolve(SEGMENTATION) == snapshot
    assert resolve(SEGMENTATION, cache) == snapshot
    assert resolve(str(snapshot)) == snapshot  # a directory is taken as it is


def test_pull_goes_through_the_download_code_and_finds_the_cached_snapshot(cache, capsys):
    assert main(['models', 'pull', SEGMENTATION, DEPTH, '--cache', str(cache)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(': ')[0] for line in lines] == [SEGMENTATION, DEPTH]
    assert all(line.endswith(REVISION) for line in lines)


def test_a_repository_without_safetensors_weights_is_said_so_not_sent_back_to_pull(tmp_path, monkeypatch, capsys):
    """A hub repository with pickled weights only gives a snapshot of its configuration: pulling it fails by name,
    and resolving it does not send the user to pull it again.
    """
    pickled = 'tiny-org/pickled-only'
    bare = hub_cache(tmp_path / 'hub', {pickled: 'segformer'}, REVISION)
    for weights in bare.rglob('*.safetensors'):
        weights.unlink()
    go_offline(monkeypatch, bare)
    assert main(['models', 'pull', pickled, '--cache', str(bare)]) == 2
    assert f'{pickled} has no safetensors weights on the hub' in capsys.readouterr().err
    with pytest.raises(ValueError, match='has no safetensors weights') as error:
        resolve(pickled)
    assert 'models pull' not in str(error.value)


def test_an_id_not_pulled_is_one_error_naming_the_pull_command(tmp_path):
    path = tmp_path / 'params.yaml'
    path.write_text(
        '/**:\n  ros__parameters:\n    backend: experts\n    depth_model: tiny-org/not-pulled\n'
    )
    with pytest.raises(
        ValueError,
        match=re.escape(
            'parameter depth_model: tiny-org/not-pulled is not in the ' 'Hugging Face cache'
        ),
    ) as error:
        load_config_file(path)
    assert '`vision_banana models pull tiny-org/not-pulled`' in str(error.value)


def test_the_node_configuration_takes_hub_ids(tmp_path):
    path = tmp_path / 'params.yaml'
    path.write_text(
        f'/**:\n  ros__parameters:\n    backend: experts\n    device: cpu\n'
        f'    segmentation_model: {SEGMENTATION}\n    depth_model: {DEPTH}\n'
    )
    backend = build_backend(load_config_file(path))
    assert (
        backend.tasks == ('segmentation', 'depth', 'normals') and backend.processing_size is None
    )


def test_eval_and_ask_take_hub_ids(tmp_path, cache, capsys):
    write_dataset(tmp_path / 'data', 2, seed=11, size=(48, 36), progress=False)
    experts = [
        '--backend',
        'experts',
        '--segmentation-model',
        SEGMENTATION,
        '--depth-model',
        DEPTH,
        '--cache',
        str(cache),
    ]
    assert main(['eval', '--data', str(tmp_path / 'data'), '--json', *experts]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result['frames'] == 2 and 0.0 <= result['miou'] <= 1.0 and result['delta1'] >= 0.0
    Image.fromarray(np.zeros((30, 40, 3), np.uint8)).save(tmp_path / 'a.png')
    assert (
        main(
            [
                'ask',
                str(tmp_path / 'a.png'),
                'paint metric depth',
                '--out',
                str(tmp_path),
                *experts,
            ]
        )
        == 0
    )
    assert np.load(json.loads(capsys.readouterr().out)['depth']['decoded']).shape == (30, 40)
    assert (
        main(
            [
                'eval',
                '--data',
                str(tmp_path / 'data'),
                '--backend',
                'experts',
                '--depth-model',
                'tiny-org/not-pulled',
            ]
        )
        == 2
    )
    assert 'vision_banana models pull tiny-org/not-pulled' in capsys.readouterr().err

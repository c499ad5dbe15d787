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

"""tools/average_weights.py: every floating tensor is the weighted mean of the two files' and the step counts are
the first's, the result loads and keeps the first file's metadata with a training record naming both files (name,
SHA-256, own training record), and files that cannot be averaged (other networks, focal lengths or trained sizes,
distilled students, a share outside 0..1) are refused by name.
"""
from dataclasses import replace
import hashlib
import json
from pathlib import Path
import subprocess
import sys

import pytest
from safetensors import safe_open
from tiny_model import save_tiny, TINY
import torch

from vision_banana_ros.model.network import VisionBananaNet
from vision_banana_ros.model.teachers import DISTILLATION_KEY
from vision_banana_ros.model.weights import load_network, read_metadata, save_network, TRAINED_SIZE_KEY, TRAINING_KEY

TOOL = Path(__file__).resolve().parents[1] / 'tools' / 'average_weights.py'


def run_tool(*args):
    return subprocess.run([sys.executable, TOOL, *map(str, args)], capture_output=True, text=True)


def saved(path, seed, config=TINY, focal=0.7, steps=0, **metadata):
    """A freshly drawn network saved at 64x48 with its batch norms' step counts at `steps`."""
    torch.manual_seed(seed)
    network = VisionBananaNet(config)
    network.canonical_focal = focal
    for name, buffer in network.named_buffers():
        if name.endswith('num_batches_tracked'):
            buffer.fill_(steps)
    save_network(network, path, trained_size=(48, 64), extra_metadata=metadata)
    return path


def test_average_is_the_weighted_mean_of_every_tensor(tmp_path):
    a = saved(tmp_path / 'a.safetensors', 1, steps=7, origin='first', **{TRAINING_KEY: '{"steps": 7}'})
    b = saved(tmp_path / 'b.safetensors', 2, origin='second')
    first, second = load_network(a).state_dict(), load_network(b).state_dict()
    done = run_tool(a, b, '--share', '0.25', '--out', tmp_path / 'avg.safetensors', '--half')
    assert done.returncode == 0, done.stderr

    averaged = load_network(tmp_path / 'avg.safetensors').state_dict()
    floating = [name for name, tensor in first.items() if tensor.is_floating_point()]
    counts = [name for name in first if name.endswith('num_batches_tracked')]
    assert counts and all(first[name] == 7 and second[name] == 0 for name in counts)
    assert any(not torch.equal(first[name], second[name]) for name in floating)
    for name, tensor in averaged.items():
        expected = (0.75 * first[name] + 0.25 * second[name]).half().float() if name in floating else first[name]
        torch.testing.assert_close(tensor, expected, msg=name)
    with safe_open(str(tmp_path / 'avg.safetensors'), framework='pt') as handle:
        assert handle.get_tensor(floating[0]).dtype == torch.float16
    metadata = read_metadata(tmp_path / 'avg.safetensors')
    assert metadata['origin'] == 'first' and metadata[TRAINED_SIZE_KEY] == '[48, 64]'
    digest = {path: hashlib.sha256(path.read_bytes()).hexdigest() for path in (a, b)}
    assert json.loads(metadata[TRAINING_KEY]) == {
        'average_of': [{'file': 'a.safetensors', 'sha256': digest[a], 'training': {'steps': 7}},
                       {'file': 'b.safetensors', 'sha256': digest[b], 'training': None}],
        'share_of_second': 0.25}


@pytest.mark.parametrize('other, args, message', [
    ({'config': replace(TINY, encoder_blocks=(0, 1, 1, 1, 2))}, (), 'are different networks'),
    ({'focal': 0.8}, (), 'have different canonical focal lengths'),
    ({DISTILLATION_KEY: '{}'}, (), 'is a distilled student'),
    ({}, ('--share', '1.5'), 'the share of B must lie in [0, 1], got 1.5'),
])
def test_files_that_cannot_be_averaged_are_refused_by_name(tmp_path, other, args, message):
    a = saved(tmp_path / 'a.safetensors', 1)
    b = saved(tmp_path / 'b.safetensors', 2, **other)
    refused = run_tool(a, b, *args, '--out', tmp_path / 'avg.safetensors')
    assert refused.returncode != 0 and message in refused.stderr and 'Traceback' not in refused.stderr
    assert not (tmp_path / 'avg.safetensors').exists()


def test_files_trained_at_different_sizes_are_refused(tmp_path):
    a = saved(tmp_path / 'a.safetensors', 1)
    b = save_tiny(tmp_path / 'b.safetensors')           # no trained size, no canonical focal length
    refused = run_tool(a, b, '--out', tmp_path / 'avg.safetensors')
    assert refused.returncode != 0 and 'were trained at different sizes' in refused.stderr

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

"""tools/average_weights.py: every floating tensor is the weighted mean of the two files', the result loads and
keeps the first file's metadata, and files of different networks are refused by name.
"""
from dataclasses import replace
import json
from pathlib import Path
import subprocess
import sys

from safetensors import safe_open
from tiny_model import save_tiny, TINY
import torch

from vision_banana_ros.model.network import VisionBananaNet
from vision_banana_ros.model.weights import load_network, read_metadata, save_network, TRAINED_SIZE_KEY

TOOL = Path(__file__).resolve().parents[1] / 'tools' / 'average_weights.py'


def run_tool(*args):
    return subprocess.run([sys.executable, TOOL, *map(str, args)], capture_output=True, text=True)


def test_average_is_the_weighted_mean_of_every_tensor(tmp_path):
    a, b = tmp_path / 'a.safetensors', save_tiny(tmp_path / 'b.safetensors', seed=0)
    torch.manual_seed(1)
    save_network(VisionBananaNet(TINY), a, trained_size=(48, 64))      # another draw, with a trained size
    first, second = load_network(a).state_dict(), load_network(b).state_dict()
    done = run_tool(a, b, '--share', '0.25', '--out', tmp_path / 'avg.safetensors', '--half')
    assert done.returncode == 0, done.stderr

    averaged = load_network(tmp_path / 'avg.safetensors').state_dict()
    floating = [name for name, tensor in first.items() if tensor.is_floating_point()]
    assert any(not torch.equal(first[name], second[name]) for name in floating)
    for name, tensor in averaged.items():
        expected = 0.75 * first[name] + 0.25 * second[name] if name in floating else first[name]
        torch.testing.assert_close(tensor, expected.half().float() if name in floating else expected, msg=name)
    with safe_open(str(tmp_path / 'avg.safetensors'), framework='pt') as handle:
        assert handle.get_tensor(floating[0]).dtype == torch.float16
    metadata = read_metadata(tmp_path / 'avg.safetensors')
    assert metadata[TRAINED_SIZE_KEY] == '[48, 64]'          # the first file's metadata
    assert json.loads(metadata['vision_banana.training']) == {'average_of': ['a.safetensors', 'b.safetensors'],
                                                              'share_of_second': 0.25}


def test_different_networks_and_shares_outside_0_1_are_refused(tmp_path):
    a = save_tiny(tmp_path / 'a.safetensors')
    deeper = tmp_path / 'deeper.safetensors'
    save_network(VisionBananaNet(replace(TINY, encoder_blocks=(0, 1, 1, 1, 2))), deeper)
    refused = run_tool(a, deeper, '--out', tmp_path / 'avg.safetensors')
    assert refused.returncode != 0 and 'are different networks' in refused.stderr
    refused = run_tool(a, a, '--share', '1.5', '--out', tmp_path / 'avg.safetensors')
    assert refused.returncode != 0 and '--share must lie in [0, 1]' in refused.stderr
    assert not (tmp_path / 'avg.safetensors').exists()

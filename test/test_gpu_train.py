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

"""tools/pack_training_set.py and tools/gpu_train.py, run on the CPU: a pack of rendered frames fine-tunes given
weights, deepened as --encoder-blocks asks.
"""
import importlib.util
import json
from pathlib import Path
import subprocess
import sys

import numpy as np
from tiny_model import save_tiny

from vision_banana_ros.cli import main
from vision_banana_ros.model.weights import load_network
from vision_banana_ros.world.dataset import iter_samples

TOOLS = Path(__file__).resolve().parent.parent / 'tools'


def test_gpu_train_fine_tunes_packed_frames_with_added_encoder_blocks(tmp_path):
    assert main(['world', 'render', '--out', str(tmp_path / 'set'), '--count', '4', '--size', '64x64']) == 0
    subprocess.run([sys.executable, TOOLS / 'pack_training_set.py', tmp_path / 'set', tmp_path / 'set.zip'], check=True)
    start = save_tiny(tmp_path / 'start.safetensors')
    # the pack listed twice: held once, drawn twice as often
    run = subprocess.run([sys.executable, TOOLS / 'gpu_train.py', tmp_path / 'out', tmp_path / 'set.zip',
                          tmp_path / 'set.zip', '--models', 'unified', '--seconds', '2', '--device', 'cpu', '--batch',
                          '2', '--workers', '1', '--init', start, '--encoder-blocks', '0,1,2,2,2', '--checkpoint-every',
                          '2', '--seed', '3'], capture_output=True, text=True, check=True)
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert report['frames'] == 4 and report['device'] == 'cpu', report
    assert report[str(tmp_path / 'out' / 'unified')]['weighted']
    network = load_network(tmp_path / 'out' / 'unified' / 'weights.safetensors')
    assert network.config.encoder_blocks == (0, 1, 2, 2, 2)
    assert network.config.encoder_widths == load_network(start).config.encoder_widths
    # a run cut off by the machine's time limit would leave these: weights the node loads
    assert load_network(tmp_path / 'out' / 'unified' / 'checkpoint' / 'weights.safetensors').config == network.config
    # what cannot work is refused before the packs load
    refused = subprocess.run([sys.executable, TOOLS / 'gpu_train.py', tmp_path / 'x', tmp_path / 'set.zip', '--models',
                              'experts', '--seconds', '2', '--device', 'cpu', '--init', start],
                             capture_output=True, text=True)
    assert refused.returncode == 2 and '--init is unified weights' in refused.stderr


def test_a_pack_keeps_each_frames_intrinsics_and_unknown_depth(tmp_path):
    """Camera-aware depth is taught from each frame's focal length: a pack without them would teach every frame
    as the canonical camera. Unknown depth (a stereo hole) stays unknown: the codec's white would teach it as far.
    """
    assert main(['world', 'render', '--out', str(tmp_path / 'set'), '--count', '2', '--size', '64x48', '--preset',
                 'wide']) == 0
    depth_file = tmp_path / 'set' / 'depth' / '000000.npy'
    depth = np.load(depth_file)
    depth[:, :20] = np.nan
    np.save(depth_file, depth)
    subprocess.run([sys.executable, TOOLS / 'pack_training_set.py', tmp_path / 'set', tmp_path / 'set.zip'], check=True)
    spec = importlib.util.spec_from_file_location('gpu_train', TOOLS / 'gpu_train.py')
    gpu_train = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gpu_train)
    for i, frame in enumerate(iter_samples(tmp_path / 'set')):
        packed = gpu_train.read_frame((str(tmp_path / 'set.zip'), f'{i:05d}'))
        assert frame.intrinsics and packed.intrinsics == frame.intrinsics
        assert np.array_equal(np.isnan(packed.depth), np.isnan(frame.depth))
        assert np.array_equal(np.isposinf(packed.depth), np.isposinf(frame.depth))

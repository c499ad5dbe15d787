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

"""tools/recipe_data.py on a small share of every set: the frames are the recipe's (preset, seed, camera ranges),
*_UP sets hold only upright cameras, a complete set is kept on a re-run and a half-rendered one rendered again, and
the printed training line runs.
"""
import json
from pathlib import Path
import shlex
import subprocess
import sys

import numpy as np

from vision_banana_ros.cli import main
from vision_banana_ros.world import render_frame
from vision_banana_ros.world.dataset import frame_seed, load_sample, read_dataset
from vision_banana_ros.world.presets import camera_pose

TOOL = Path(__file__).resolve().parents[1] / 'tools' / 'recipe_data.py'
sys.path.insert(0, str(TOOL.parent))
from recipe_data import SETS  # noqa: E402

SCALE = 0.002      # of every set's frames


def run_tool(out: Path) -> str:
    return subprocess.run([sys.executable, TOOL, out, '--scale', str(SCALE), '--workers', '1'], check=True,
                          capture_output=True, text=True).stdout


def test_recipe_sets_are_rendered_filtered_kept_and_trained_on(tmp_path):
    out = tmp_path / 'data'
    printed = run_tool(out)
    turned = 0
    for name, (preset, seed, count, camera, upright) in SETS.items():
        names = read_dataset(out / name)
        rendered = max(1, round(count * SCALE))
        cameras = [json.loads((out / name / 'camera' / f'{n}.json').read_text()) for n in names]
        if upright:
            assert all(camera_pose(c) == 'upright' for c in cameras), name
            turned += rendered - len(names)
        else:
            assert names == [f'{i:06d}' for i in range(rendered)], name
        for key, (low, high) in camera.items():
            assert all(low <= c[key] <= high for c in cameras), name
        index = int(names[-1])
        expected = render_frame(frame_seed(seed, index), 320, 240, preset=preset, **camera)
        np.testing.assert_array_equal(load_sample(out / name, names[-1]).rgb, expected.rgb, err_msg=name)
    assert turned > 0      # the wide preset turns a quarter of its cameras freely: some frames were dropped

    (out / 'ST' / '.complete').unlink()
    (out / 'ST' / 'rgb' / '000000.png').unlink()
    again = run_tool(out)
    assert 'ST: complete' not in again and 'W20_UP: complete, kept' in again
    assert read_dataset(out / 'ST') == ['000000', '000001']

    line = printed.strip().splitlines()[-1]
    assert line == again.strip().splitlines()[-1]
    words = shlex.split(line)
    assert words[:2] == ['vision_banana', 'train']
    words[words.index('--minutes'):words.index('--minutes') + 2] = ['--steps', '1']
    words[words.index('--out') + 1] = str(tmp_path / 'stage')
    assert main(words[1:] + ['--batch', '2']) == 0
    assert (tmp_path / 'stage' / 'weights.safetensors').is_file()

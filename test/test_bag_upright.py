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

"""`bag process` with `upright`: street cameras mounted rolled (on their side, upside down) are turned upright by
their mounting in the bag's /tf, and their labels and depth come back in their own pixels, better than as they are.
"""
import numpy as np
from test_bag import read
from test_bag_scale_lock import mounted_bag

from vision_banana_ros.bag.process import process_bag
from vision_banana_ros.bag.sample import WORLD_FRAME
from vision_banana_ros.evaluation.metrics import DepthMetrics, SegmentationMetrics
from vision_banana_ros.world import render_frame


def test_bag_process_turns_rolled_cameras_upright_by_the_bags_tf(tmp_path):
    frames = [render_frame(seed, 320, 240, preset='street', roll_deg=roll, pitch_deg=-5.0)
              for seed, roll in ((7, 90.0), (8, 180.0), (9, -120.0))]
    mounted_bag(tmp_path / 'rolled', frames)
    config = tmp_path / 'upright.yaml'
    config.write_text(f'/**:\n  ros__parameters:\n    device: cpu\n    upright: true\n'
                      f'    ground_frame: {WORLD_FRAME}\n')
    summary = process_bag(tmp_path / 'rolled', tmp_path / 'upright', config_file=config, progress=False)
    plain = process_bag(tmp_path / 'rolled', tmp_path / 'plain', progress=False)
    assert summary['turned_upright'] == 3 and plain['turned_upright'] == 0
    scores = {}
    for name in ('upright', 'plain'):
        out = read(tmp_path / name)
        seg, depth = SegmentationMetrics(), DepthMetrics()
        for (_, labels), (_, metres), frame in zip(out['/camera/semantic/labels'], out['/camera/depth'], frames):
            seg.update(np.frombuffer(bytes(labels.data), np.uint8).reshape(240, 320), frame.labels)
            depth.update(np.frombuffer(bytes(metres.data), np.float32).reshape(240, 320), frame.depth)
        scores[name] = (seg.pixel_accuracy(), depth.summary()['delta1_median_scaled'])
    print(f'\npixel accuracy / median-scaled delta1: as they are {scores["plain"][0]:.3f} / {scores["plain"][1]:.3f}, '
          f'turned upright {scores["upright"][0]:.3f} / {scores["upright"][1]:.3f}')
    assert scores['upright'][0] > scores['plain'][0] + 0.3 and scores['upright'][1] > scores['plain'][1]


def test_a_frame_whose_mounting_the_bag_lacks_is_answered_as_it_is_and_said(tmp_path, capsys):
    mounted_bag(tmp_path / 'rolled', [render_frame(7, 64, 48, preset='street', roll_deg=90.0)])
    config = tmp_path / 'elsewhere.yaml'
    config.write_text('/**:\n  ros__parameters:\n    device: cpu\n    upright: true\n    ground_frame: nowhere\n')
    summary = process_bag(tmp_path / 'rolled', tmp_path / 'out', config_file=config, progress=False)
    assert summary['frames'] == 1 and summary['turned_upright'] == 0
    assert 'not turned upright: no camera mounting in the tf' in capsys.readouterr().err

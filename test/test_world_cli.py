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

"""The world commands docs/world.md shows, taken from the page and run through the CLI with smaller counts and
sizes.
"""
import json

import numpy as np
import pytest
from test_docs import shown_commands
from test_docs_commands import small

from vision_banana_ros.cli import main, WORLD_PRESETS
from vision_banana_ros.evaluation import sweep
from vision_banana_ros.evaluation.sweep import TABLES
from vision_banana_ros.world import frame_seed, load_sample, read_dataset, render_frame
from vision_banana_ros.world.dataset import frame_size
from vision_banana_ros.world.presets import PRESETS

SMALL_FRAMES = ('--size', '64x48')


def page_line(start: str, changes: dict[str, str], extra: tuple[str, ...] = (), page: str = 'docs/world.md'
              ) -> list[str]:
    """The arguments of the one command of `page` that starts with `start`, made small (test_docs_commands.small)."""
    lines = [line for shown_on, line in shown_commands('vision_banana') if shown_on == page
             and line.startswith(start)]
    assert len(lines) == 1, (start, lines)
    return small(lines[0], changes, extra)


def test_every_command_of_the_world_page_is_run():
    starts = ('vision_banana world render --out HOLDOUT ', 'vision_banana world render --out INDOOR ',
              'vision_banana world render --out REACH ', 'vision_banana world render --out LOW ',
              'vision_banana world render --out DIR ', 'vision_banana sweep ')
    lines = [line for page, line in shown_commands('vision_banana') if page == 'docs/world.md']
    assert len(lines) == len(starts) and all(line.startswith(starts) for line in lines), lines


def test_world_render_holdout_preset(tmp_path):
    assert main(page_line('vision_banana world render --out HOLDOUT ', {'--out': str(tmp_path / 'h'), '--count': '2'},
                          SMALL_FRAMES)) == 0
    assert read_dataset(tmp_path / 'h') == ['000000', '000001']
    expected = render_frame(frame_seed(30, 1), 64, 48, preset='holdout')
    assert np.array_equal(load_sample(tmp_path / 'h', '000001').rgb, expected.rgb)


def test_world_render_random_sizes_in_processes_as_in_one(tmp_path):
    out = tmp_path / 'd'
    assert main(page_line('vision_banana world render --out DIR ', {'--out': str(out), '--count': '3'})) == 0
    for index, name in enumerate(read_dataset(out)):
        seed = frame_seed(7, index)
        width, height = frame_size('random', seed)
        assert np.array_equal(load_sample(out, name).rgb, render_frame(seed, width, height).rgb), name


def test_world_render_indoor_preset(tmp_path):
    assert WORLD_PRESETS == tuple(PRESETS)      # what --preset offers is every preset the world has
    assert main(page_line('vision_banana world render --out INDOOR ', {'--out': str(tmp_path / 'i'), '--count': '2'},
                          SMALL_FRAMES)) == 0
    for name in read_dataset(tmp_path / 'i'):
        frame = load_sample(tmp_path / 'i', name)
        assert frame.scene in ('room', 'corridor', 'warehouse') and np.isfinite(frame.depth).all()


def test_world_render_reach_preset(tmp_path):
    assert main(page_line('vision_banana world render --out REACH ', {'--out': str(tmp_path / 'r'), '--count': '2'},
                          SMALL_FRAMES)) == 0
    for name in read_dataset(tmp_path / 'r'):
        frame = load_sample(tmp_path / 'r', name)
        assert frame.scene in ('room', 'corridor', 'warehouse') and frame.camera['height_m'] <= 1.5


def test_sweep_prints_a_table_per_field_of_view_and_json_per_cell(tiny_weights, capsys):
    args = page_line('vision_banana sweep ', {'--heights': '0.3,3', '--frames': '1'},
                     ('--weights', str(tiny_weights), '--frame-size', '64x48'))
    assert main(args) == 0
    text = capsys.readouterr().out
    assert text.count('horizontal field of view') == 2 and 'worst cell' in text
    assert main(args + ['--json']) == 0
    cells = json.loads(capsys.readouterr().out)
    assert {(c['height_m'], c['pitch_deg'], c['fov_deg']) for c in cells} == {
        (h, p, f) for h in (0.3, 3.0) for p in (-30.0, -15.0, 0.0, 10.0) for f in (60.0, 100.0)}
    assert all(0.0 <= c['delta1'] <= 1.0 for c in cells)


def test_sweep_with_the_ground_lock_adds_locked_mounted_and_oracle_tables(tiny_weights, capsys):
    # docs/navigation.md's command over fewer cells
    args = page_line('vision_banana sweep --ground-lock --fovs', {'--frames': '4'},
                     ('--weights', str(tiny_weights), '--heights', '1', '--pitches=-15,0', '--frame-size', '64x48'),
                     'docs/navigation.md')
    assert main(args) == 0
    text = capsys.readouterr().out
    for title in TABLES.values():
        assert f'{title}, horizontal field of view 70 deg' in text
    assert main(args + ['--json']) == 0
    cells = json.loads(capsys.readouterr().out)
    assert all(0 <= c['frames_locked'] <= 4 and 0.0 <= c['delta1_locked'] <= 1.0
               and 0 <= c['frames_locked_mounting'] <= 4 and 0.0 <= c['delta1_locked_mounting'] <= 1.0
               and 0.0 <= c['delta1_median_scaled'] <= 1.0 for c in cells)
    # the cells' heights as asked, though a frame's camera may stand on a kerb (its lock's height is above it)
    assert sorted((c['height_m'], c['pitch_deg']) for c in cells) == [(1.0, -15.0), (1.0, 0.0)]


def test_sweep_indoors_locks_to_the_mounting_with_and_without_the_level_floor(tiny_weights, capsys, monkeypatch):
    # docs/navigation.md's indoor command over one cell, as the node locks by default and on labels only
    args = page_line('vision_banana sweep --ground-lock --preset indoor', {'--frames': '2'},
                     ('--weights', str(tiny_weights), '--heights', '1', '--pitches=-60', '--frame-size', '64x48',
                      '--json'), 'docs/navigation.md')
    mounted = []        # (level_floor_deg, normals given) of each lock to the mounting

    class Recording(sweep.GroundLock):
        def update(self, depth, labels, intrinsics, camera_height, up=None, normals=None):
            if up is not None:
                mounted.append((self.level_floor_deg, normals is not None))
            return super().update(depth, labels, intrinsics, camera_height, up, normals)

    monkeypatch.setattr(sweep, 'GroundLock', Recording)
    cells = {}
    for level in ('25', '0'):
        assert main(args + ['--level-floor-deg', level]) == 0
        [cells[level]] = json.loads(capsys.readouterr().out)
    assert mounted == [(25.0, True)] * 2 + [(0.0, False)] * 2      # the normals run only for the level floor
    # the same frames and answers: only the lock to the mounting may differ
    for key in ('delta1', 'delta1_locked', 'frames_locked', 'delta1_median_scaled'):
        assert cells['25'][key] == cells['0'][key], key


def test_camera_ranges_move_the_camera_and_nothing_else(tmp_path, capsys):
    # the street preset's own range is no change at all: the draw is mapped onto the same range
    assert np.array_equal(render_frame(5, 64, 48, height_m=(1.0, 2.5)).rgb, render_frame(5, 64, 48).rgb)
    for preset in ('street', 'wide'):
        for i in range(6):
            seed = frame_seed(41, i)
            default, low = render_frame(seed, 64, 48, preset=preset), render_frame(seed, 64, 48, preset=preset,
                                                                                  height_m=(0.2, 0.5))
            assert 0.2 <= low.camera['height_m'] <= 0.5, (preset, i, low.camera)
            assert low.camera['fov_deg'] == default.camera['fov_deg'], (preset, i)
    out = tmp_path / 'low'
    assert main(page_line('vision_banana world render --out LOW ', {'--out': str(out), '--count': '3'},
                          SMALL_FRAMES)) == 0
    for name in read_dataset(out):
        camera = load_sample(out, name).camera
        assert 0.2 <= camera['height_m'] <= 0.5 and -20 <= camera['pitch_deg'] <= 5 and camera['fov_deg'] == 90
    for bad, says in (('height=1', 'NAME one of'), ('height_m=0.5:0.2', 'LOW <= HIGH'),
                      ('fov_deg=200', 'within 1..170'), ('pitch_deg=down', 'expected a number')):
        with pytest.raises(SystemExit, match='2'):
            main(['world', 'render', '--out', str(tmp_path / 'x'), '--count', '1', '--camera', bad])
        assert says in capsys.readouterr().err, bad

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

"""docs/experts.md and the README's robot section work as written: every `vision_banana` command in
them runs, against a Hugging Face cache built here with tiny models under the real hub ids of the
fast pairing (so `models pull` finds them offline); the `ros2 launch` lines, which cannot run here
(no launch_ros), name launch arguments that exist and a config file that loads as the node reads
it. The table and the pairing config files agree with the code's checkpoint table.
"""

from pathlib import Path
import re
import shlex

import pytest
from tiny_experts import go_offline, hub_cache
import yaml

from vision_banana_ros.backends.checkpoints import CHECKPOINTS, PAIRINGS
from vision_banana_ros.bag.sample import make_sample
from vision_banana_ros.cli import main
from vision_banana_ros.config import build_backend, load_config_file
from vision_banana_ros.world import write_dataset

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / 'docs' / 'experts.md').read_text()
_README = (ROOT / 'README.md').read_text()
ROBOT_SECTION = re.search(r'### On a real robot\n(.*?)\n#', _README, flags=re.S).group(1)
REVISION = 'fedcba9876543210fedcba9876543210fedcba98'


def commands(text: str, program: str) -> list[str]:
    blocks = re.findall(r'```bash\n(.*?)```', text, flags=re.S)
    return [
        line.split('  #')[0].strip()
        for block in blocks
        for line in block.splitlines()
        if line.startswith(program + ' ')
    ]


@pytest.fixture(scope='module')
def cache(tmp_path_factory):
    return hub_cache(
        tmp_path_factory.mktemp('hub'),
        dict(zip(PAIRINGS['fast'], ('segformer', 'depth_anything'))),
        REVISION,
    )


@pytest.fixture(autouse=True)
def offline(monkeypatch, cache):
    go_offline(monkeypatch, cache)


def test_every_vision_banana_command_runs(tmp_path, monkeypatch, capsys):
    found = commands(DOC, 'vision_banana') + commands(ROBOT_SECTION, 'vision_banana')
    assert {c.split()[1] for c in found} >= {'models', 'bag', 'eval'}
    make_sample(tmp_path / 'my_bag', frames=2, size=(64, 48), progress=False)
    write_dataset(tmp_path / 'my_frames', 2, seed=11, size=(48, 36), progress=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / 'config').symlink_to(ROOT / 'config')
    for command in found:
        assert main(shlex.split(command)[1:]) == 0, command
        assert capsys.readouterr().out, command


def test_the_launch_lines_name_real_arguments_and_a_loadable_config():
    launch = (ROOT / 'launch' / 'vision_banana.launch.py').read_text()
    lines = commands(DOC, 'ros2') + commands(ROBOT_SECTION, 'ros2')
    assert lines
    for line in lines:
        prefix = line.replace(
            '$(ros2 pkg prefix vision_banana_ros)', '/ws/install/vision_banana_ros'
        )
        arguments = dict(part.split(':=', 1) for part in shlex.split(prefix)[4:])
        assert all(f"DeclareLaunchArgument('{name}'" in launch for name in arguments), line
        if 'config' not in arguments:  # backend:=experts segmentation_model:=ID depth_model:=ID
            assert arguments['backend'] == 'experts', line
            hub_ids = {c.hub_id for c in CHECKPOINTS}
            assert {arguments['segmentation_model'], arguments['depth_model']} <= hub_ids, line
            continue
        config = (
            ROOT / 'config' / Path(arguments['config']).name
        )  # installed to share/<package>/config
        backend = build_backend(load_config_file(config))
        assert backend.name == 'experts' and backend.processing_size is None


def test_the_pairing_config_files_and_the_table_match_the_code():
    for name, (segmentation, depth) in PAIRINGS.items():
        parameters = yaml.safe_load((ROOT / 'config' / f'experts_{name}.yaml').read_text())['/**'][
            'ros__parameters'
        ]
        assert parameters['backend'] == 'experts'
        assert (
            parameters.get('segmentation_model') == segmentation
            and parameters['depth_model'] == depth
        )
    rows = {
        line.split('|')[1].strip(' `'): [cell.strip() for cell in line.split('|')[2:-1]]
        for line in DOC.splitlines()
        if line.startswith('| `') and '/' in line.split('|')[1]
    }
    assert set(rows) == {c.hub_id for c in CHECKPOINTS}
    for checkpoint in CHECKPOINTS:
        task, licence, commercial, parameters, _ = rows[checkpoint.hub_id]
        assert (task, commercial, float(parameters)) == (
            checkpoint.task,
            checkpoint.commercial,
            checkpoint.parameters_m,
        )
        assert licence in checkpoint.licence

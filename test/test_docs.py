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

"""The README and docs/ as a user reads them: the README short, with the two commands first; docs/node.md lists
every parameter (its table written from parameters.py) and topic; every command shown in a ```bash block names
things that exist: `vision_banana` commands parse with the real command line, launch lines evaluate the launch file
with their arguments, `ros2 run` lines name real executables, parameter files and parameters.
"""
from pathlib import Path
import re
import shlex
import subprocess
import sys

import pytest
from test_launch_files import console_scripts, run_launch_file

from vision_banana_ros import cli
from vision_banana_ros.parameters import BY_NAME, PARAMS

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / 'README.md').read_text()
NODE_DOC = (ROOT / 'docs' / 'node.md').read_text()
PAGES = {path.relative_to(ROOT).as_posix(): path.read_text()
         for path in [ROOT / 'README.md', *sorted((ROOT / 'docs').glob('*.md'))]}


def shown_commands(program: str) -> list[tuple[str, str]]:
    """(page, command) for every line of a ```bash block in README.md and docs/ that starts with `program`."""
    found = []
    for page, text in PAGES.items():
        for block in re.findall(r'```bash\n(.*?)```', text, flags=re.S):
            for line in block.replace('\\\n', ' ').splitlines():
                line = re.split(r'\s+#', line)[0].strip()
                if line.startswith(program + ' '):
                    found.append((page, line))
    return found


def _requirement_installs(lines) -> set[tuple[str, bool]]:
    """(requirements file, --no-deps) for every `-r .../requirements/X` of the lines."""
    return {(name, '--no-deps' in line) for line in lines for name in re.findall(r'-r \S*?(requirements/\S+)', line)}


def test_shown_requirement_installs_are_the_ones_make_runs():
    makefile = (ROOT / 'Makefile').read_text().splitlines()
    made = _requirement_installs(line for line in makefile if '$(PIP)' in line)
    shown = _requirement_installs(line for _, line in shown_commands('pip'))
    assert ('requirements/serve.txt', True) in shown and ('requirements/torch.txt', False) in shown, shown
    assert shown <= made, shown - made


def test_readme_is_short_and_starts_with_the_two_commands():
    first_screen = '\n'.join(README.splitlines()[:15])
    assert 'make demo' in first_screen and 'make test' in first_screen
    assert len(README.splitlines()) <= 200


def test_no_words_about_how_the_project_was_made():
    for page, text in PAGES.items():
        for words in ('lent GPU', 'this session', 'this machine'):
            assert words not in text, (page, words)


def test_node_doc_parameter_table_is_up_to_date():
    result = subprocess.run([sys.executable, str(ROOT / 'tools' / 'node_docs.py'), '--check'], capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stderr


def test_every_parameter_is_listed_with_its_default():
    rows = {line.split('|')[1].strip(' `'): line for line in NODE_DOC.splitlines() if line.startswith('| `')}
    for param in PARAMS:
        assert param.name in rows, param.name
        if isinstance(param.default, (int, float)) and not isinstance(param.default, bool):
            assert f'`{param.default}`' in rows[param.name], param.name


def test_every_topic_is_listed():
    for topic in ('semantic/labels', 'semantic/confidence', 'semantic/color', 'depth', 'depth/camera_info',
                  'normals', 'normals/raw', 'points', 'image', 'image/compressed', 'camera_info', '/diagnostics'):
        assert f'`<cam>/{topic}`' in NODE_DOC or f'`{topic}`' in NODE_DOC, topic
        assert f'`{topic}`' in README, topic


def test_every_vision_banana_command_parses(monkeypatch):
    """Runs each command's parsing (names, types, sizes) without its work; the commands themselves run in
    test_experts_docs.py, test_world_cli.py and the tests of each command.
    """
    parsed = []
    for name in [n for n in dir(cli) if n.startswith('_') and callable(getattr(cli, n))]:
        if name in ('_demo', '_bench', '_train', '_ask', '_models', '_eval', '_sweep', '_export', '_world', '_bag',
                    '_distill', '_serve'):
            monkeypatch.setattr(cli, name, lambda args: parsed.append(args) or 0)
    monkeypatch.setattr(cli, 'device_name', str)   # `--device cuda` is shown for GPU machines; this one may have none
    commands = shown_commands('vision_banana') + [
        (page, line.split(' ', 3)[3]) for page, line in shown_commands('ros2') if line.startswith(
            'ros2 run vision_banana_ros vision_banana ')]
    assert len(commands) >= 20
    for page, command in commands:
        assert cli.main(shlex.split(command)[1:]) == 0, (page, command)
    assert len(parsed) == len(commands)


@pytest.mark.parametrize('page, line', shown_commands('ros2'))
def test_ros2_commands_name_real_files_arguments_and_parameters(page, line, monkeypatch):
    words = shlex.split(line.replace('$(ros2 pkg prefix vision_banana_ros)', '/ws/install/vision_banana_ros'))
    assert words[2] == 'vision_banana_ros', line
    if words[1] == 'launch':
        arguments = dict(word.split(':=', 1) for word in words[4:])
        assert run_launch_file(words[3], arguments, monkeypatch), line
        if 'config' in arguments:   # installed from config/ to share/vision_banana_ros/config
            assert (ROOT / 'config' / Path(arguments['config']).name).is_file(), line
    else:
        assert words[1] == 'run' and words[3] in console_scripts(), line
        if '--ros-args' in words:
            ros_args = words[words.index('--ros-args') + 1:]
            for flag, value in zip(ros_args[::2], ros_args[1::2]):
                assert flag in ('--params-file', '-p'), line
                if flag == '--params-file':     # installed from config/ to share/vision_banana_ros/config
                    assert value.startswith('/ws/install/vision_banana_ros/share/vision_banana_ros/config/'), line
                    assert (ROOT / 'config' / Path(value).name).is_file(), line
                else:
                    assert value.split(':=')[0] in BY_NAME, line


def test_the_readme_colcon_build_is_the_one_the_build_test_runs():
    shown = [line for _, line in shown_commands('python') if ' colcon ' in line]
    assert shown == ['python -m colcon build --packages-select vision_banana_ros']
    assert "[sys.executable, '-m', 'colcon', 'build', '--packages-select', PACKAGE]" in (
        ROOT / 'test' / 'test_colcon_build.py').read_text()

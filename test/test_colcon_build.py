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

"""The robot install path: `python -m colcon build` in a workspace, as README "Install on a robot" says, then the
installed layout ROS expects (`ros2 run` looks in lib/<package>, `ros2 launch` and the config paths in
share/<package>) and an installed executable that runs from the install space with the embedded weights.
"""
import os
from pathlib import Path
import shutil
import subprocess
import sys

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = 'vision_banana_ros'
# What a checkout holds that the build reads: setup.py, its data files and the package.
SOURCES = ('package.xml', 'setup.py', 'setup.cfg', 'resource', PACKAGE, 'launch', 'config', 'rviz', 'LICENSE')


@pytest.fixture(scope='module')
def install(tmp_path_factory):
    pytest.importorskip('colcon_core', reason='colcon-common-extensions (requirements/test.txt) is not installed')
    workspace = tmp_path_factory.mktemp('ros2_ws')
    source = workspace / 'src' / PACKAGE
    source.mkdir(parents=True)
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns('__pycache__'))
        else:
            shutil.copy(ROOT / name, source / name)
    result = subprocess.run([sys.executable, '-m', 'colcon', 'build', '--packages-select', PACKAGE],
                            cwd=workspace, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return workspace / 'install'


def test_executables_in_lib_package_run_with_this_python(install):
    lib = install / PACKAGE / 'lib' / PACKAGE
    assert {p.name for p in lib.iterdir()} >= {'vision_banana', 'vision_banana_node', 'vision_banana_lifecycle_node'}
    for executable in lib.iterdir():
        assert os.access(executable, os.X_OK), executable
        # built with the venv's python -m colcon: the scripts run in the venv, where torch was installed
        assert executable.read_text().splitlines()[0] == f'#!{sys.executable}', executable


def test_launch_config_rviz_installed_in_share(install):
    share = install / PACKAGE / 'share' / PACKAGE
    assert (share / 'package.xml').is_file()
    for folder, pattern in (('launch', '*.launch.py'), ('config', '*.yaml'), ('rviz', '*.rviz'),
                            ('config/palettes', '*.yaml')):
        assert {p.name for p in (share / folder).glob(pattern)} == {p.name for p in (ROOT / folder).glob(pattern)}
    assert (install / PACKAGE / 'share' / 'ament_index' / 'resource_index' / 'packages' / PACKAGE).is_file()


def test_installed_package_holds_the_weights_and_runs_from_the_install_space(install, tmp_path):
    site = next((install / PACKAGE / 'lib').glob('python3*/site-packages')) / PACKAGE
    weights = site / 'weights' / 'vision_banana_default.safetensors'
    assert weights.stat().st_size == (ROOT / PACKAGE / 'weights' / weights.name).stat().st_size
    assert (site / 'model' / 'instructions.yaml').is_file()
    # `source setup.bash`, then the installed code (not this checkout) finds its weights and answers
    from PIL import Image
    Image.fromarray(np.full((48, 64, 3), 120, np.uint8)).save(tmp_path / 'street.png')
    script = ('source install/setup.bash && python -c "import vision_banana_ros.model.weights as w, '
              'vision_banana_ros as v; print(v.__file__); print(w.DEFAULT_WEIGHTS)" && '
              f'install/{PACKAGE}/lib/{PACKAGE}/vision_banana ask {tmp_path}/street.png "paint metric depth" '
              f'--out {tmp_path}/answers > /dev/null')
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    env['PATH'] = f'{Path(sys.executable).parent}:{env["PATH"]}'
    result = subprocess.run(['bash', '-c', script], cwd=install.parent, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    module, default_weights = result.stdout.split()
    assert module.startswith(str(install)) and Path(default_weights) == weights
    assert np.load(tmp_path / 'answers' / 'street_depth.npy').shape == (48, 64)

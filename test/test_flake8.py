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

"""ament_flake8, as ROS packages run it (colcon test), at the project's line length: setup.cfg's [flake8] section.

ament_flake8 passes its own configuration file (max-line-length 99) to flake8 with --config, which makes flake8
ignore setup.cfg; this test passes setup.cfg instead, which repeats ament's settings at 120 columns. Skipped where
ament_flake8 is not installed (this repository's venv has no ROS); test_lint.py runs ruff with the same rules.
"""
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.flake8
@pytest.mark.linter
def test_flake8(monkeypatch):
    ament_flake8 = pytest.importorskip('ament_flake8.main', reason='ament_flake8 (ROS) is not installed')
    monkeypatch.chdir(ROOT)
    rc, errors = ament_flake8.main_with_errors(argv=['--config', str(ROOT / 'setup.cfg')])
    assert rc == 0, 'Found %d code style errors / warnings:\n' % len(errors) + '\n'.join(errors)

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

"""ament_copyright, as ROS packages run it (colcon test): every source file has a copyright and licence header.

The header (test_license_header.py holds it) is ament_copyright's apache2 form. Skipped where ament_copyright is
not installed (this repository's venv has no ROS); test_license_header.py checks the header here.
"""
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.copyright
@pytest.mark.linter
def test_copyright(monkeypatch):
    ament_copyright = pytest.importorskip('ament_copyright.main', reason='ament_copyright (ROS) is not installed')
    monkeypatch.chdir(ROOT)
    rc = ament_copyright.main(argv=['.', 'test'])
    assert rc == 0, 'Found errors'

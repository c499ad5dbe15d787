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

"""ament_pep257, as ROS packages run it (colcon test), with the docstring rules of ruff.toml.

ament's own convention expects a multi-line summary on the docstring's second line (D213); this package follows
PEP 257 (summary on the first line), so the pep257 convention is used with the ignores ruff.toml gives reasons for.
Skipped where ament_pep257 is not installed (this repository's venv has no ROS); test_lint.py runs ruff.
"""
from pathlib import Path
import tomllib

import pytest

ROOT = Path(__file__).resolve().parents[1]
# pydocstyle misreads the project's prose where ruff does not: a wrapped summary's first line as the whole summary
# (D400), "diagnostics (none ...)" in the diagnostics method as its signature (D402), "IoU" as uncapitalised (D403).
PYDOCSTYLE_ONLY = ['D400', 'D402', 'D403']


def ignored(files: str | None = None) -> list[str]:
    """The D rules ruff.toml ignores everywhere, or also in the files of a per-file-ignores pattern."""
    lint = tomllib.loads((ROOT / 'ruff.toml').read_text())['lint']
    codes = lint['ignore'] + (lint['per-file-ignores'][files] if files else [])
    return sorted(c for c in codes if c.startswith('D')) + PYDOCSTYLE_ONLY


@pytest.mark.linter
@pytest.mark.pep257
def test_pep257(monkeypatch):
    ament_pep257 = pytest.importorskip('ament_pep257.main', reason='ament_pep257 (ROS) is not installed')
    monkeypatch.chdir(ROOT)
    package = ament_pep257.main(argv=['.', '--exclude', 'test', '--convention', 'pep257', '--add-ignore', *ignored()])
    tests = ament_pep257.main(argv=['test', '--convention', 'pep257', '--add-ignore', *ignored('test/test_*.py')])
    assert (package, tests) == (0, 0), 'Found code style errors / warnings'


def test_ignores_are_the_lint_gates():
    assert ignored() == ['D105', 'D107', 'D205', 'D401', *PYDOCSTYLE_ONLY]
    assert 'D103' in ignored('test/test_*.py')

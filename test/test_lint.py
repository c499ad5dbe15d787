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

"""The lint gate: ruff (pycodestyle, pyflakes, pydocstyle, import order; ruff.toml) finds nothing."""
import json
from pathlib import Path
import subprocess
import sys

ROOT = Path(__file__).resolve().parents[1]
CHECKED = ('vision_banana_ros', 'test', 'tools', 'launch', 'setup.py')


def ruff(*args: str, source: str | None = None) -> subprocess.CompletedProcess:
    """Run the ruff of this Python environment in the repository root (on `source` from stdin when given)."""
    return subprocess.run([sys.executable, '-m', 'ruff', 'check', '--no-cache', *args], cwd=ROOT, input=source,
                          capture_output=True, text=True, timeout=120)


def test_ruff_finds_nothing():
    result = ruff('--output-format', 'concise', *CHECKED)
    assert result.returncode == 0, f'ruff check found problems:\n{result.stdout}{result.stderr}'


def test_ruff_reads_the_project_configuration():
    # The gate fails on findings: a test module that breaks configured rules is reported, rule by rule.
    source = ('import os\nsquare = lambda x: x * x\nlabel = "double quotes"\n'
              + 'x = 1  ' + '#' * 120 + '\n' + 'y = 2  ' + '#' * 100 + '\n')
    result = ruff('--output-format', 'json', '--stdin-filename', 'test/probe.py', '-', source=source)
    assert result.returncode == 1, result.stderr
    findings = [(finding['code'], finding['location']['row']) for finding in json.loads(result.stdout)]
    assert {'F401', 'E731', 'Q000', 'D100'} <= {code for code, _ in findings}, findings
    assert [row for code, row in findings if code == 'E501'] == [4], findings  # 127 columns, not 107: 120 is the limit

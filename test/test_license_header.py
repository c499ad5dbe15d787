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

"""Every Python file of the package, its tests, tools and launch files starts with the Apache-2.0 header of LICENSE.

The header is the form ament_copyright recognises (its apache2 template), so test_copyright.py passes where ament
is installed.
"""
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ('vision_banana_ros', 'test', 'tools', 'launch')

HEADER = """\
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
"""


def python_files():
    """Every .py file the header applies to, relative to the repository root."""
    files = [ROOT / 'setup.py']
    for folder in FOLDERS:
        files += sorted(p for p in (ROOT / folder).rglob('*.py') if '__pycache__' not in p.parts)
    return files


def test_license_is_apache_2():
    text = (ROOT / 'LICENSE').read_text()
    assert 'Apache License' in text and 'Version 2.0, January 2004' in text
    assert '<license>Apache-2.0</license>' in (ROOT / 'package.xml').read_text()


def test_contributions_are_under_the_licence():
    # ament_copyright wants a CONTRIBUTING.md that states it (section 5 of the licence, quoted).
    text = ' '.join((ROOT / 'CONTRIBUTING.md').read_text().split())
    assert 'will be under the Apache 2 License, as dictated by that' in text
    assert '5. Submission of Contributions.' in text and ' '.join(
        (ROOT / 'LICENSE').read_text().split()).count(text.split('~~~')[1].strip()) == 1


def test_every_python_file_starts_with_the_header():
    files = python_files()
    assert len(files) > 80
    missing = [str(p.relative_to(ROOT)) for p in files if not p.read_text().startswith(HEADER)]
    assert not missing, 'files without the licence header (see HEADER in this test):\n' + '\n'.join(missing)

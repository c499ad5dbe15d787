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

"""Write the parameter table of docs/node.md from vision_banana_ros/parameters.py.

python tools/node_docs.py           # rewrite the table in docs/node.md
python tools/node_docs.py --check   # exit 1 if docs/node.md is not up to date (test/test_docs.py runs this)
"""
import json
from pathlib import Path
import sys

from vision_banana_ros.parameters import Param, PARAMS

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / 'docs' / 'node.md'
BEGIN = '<!-- parameter table: written by tools/node_docs.py from vision_banana_ros/parameters.py -->'
END = '<!-- end of parameter table -->'
HEADER = ('| parameter | type | default | range / choices | run-time change | meaning |\n'
          '|---|---|---|---|---|---|')


def _type(param: Param) -> str:
    if param.default is None:
        return {'double_array': 'double[]', 'integer_array': 'int[]', 'string_array': 'string[]'}[param.unset_type]
    value = param.default
    if isinstance(value, list):
        return {int: 'int[]', float: 'double[]', str: 'string[]'}[type(value[0])]
    return {bool: 'bool', int: 'int', float: 'double', str: 'string'}[type(value)]


def _range(param: Param) -> str:
    if param.choices:
        return ', '.join(param.choices)
    if param.low is None:
        return ''
    return f'{param.low} … {param.high}'


def _row(param: Param) -> str:
    default = 'not set' if param.default is None else json.dumps(param.default, ensure_ascii=False)
    cells = (f'`{param.name}`', _type(param), f'`{default}`', _range(param), 'yes' if param.dynamic else 'no',
             param.description.replace('|', '\\|'))
    return '| ' + ' | '.join(cells) + ' |'


def table() -> str:
    """The parameter table's markdown block, between its markers."""
    return '\n'.join([BEGIN, HEADER, *map(_row, PARAMS), END])


def updated(text: str) -> str:
    """`text` (docs/node.md) with its parameter table replaced by the current one."""
    start, stop = text.index(BEGIN), text.index(END) + len(END)
    return text[:start] + table() + text[stop:]


def main(argv: list) -> int:
    """Rewrite docs/node.md, or with --check fail when it is out of date."""
    text = DOC.read_text()
    if '--check' in argv:
        if updated(text) != text:
            print(f'{DOC.relative_to(ROOT)} is out of date: run python tools/node_docs.py', file=sys.stderr)
            return 1
        return 0
    DOC.write_text(updated(text))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))

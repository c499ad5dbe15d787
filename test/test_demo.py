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

"""`vision_banana demo` replaces only its own earlier output."""
from vision_banana_ros.cli import main
from vision_banana_ros.demo import DEMO_MARKER, run_demo


def test_demo_refuses_a_folder_that_is_not_its_output(tmp_path, capsys):
    keep = tmp_path / 'thesis.tex'
    keep.write_text('months of work')
    assert main(['demo', '--out', str(tmp_path)]) == 2
    assert 'not an earlier demo output' in capsys.readouterr().err and keep.read_text() == 'months of work'


def test_demo_refuses_a_folder_that_merely_holds_a_summary(tmp_path, capsys):
    (tmp_path / 'summary.json').write_text('{}')    # someone else's
    assert main(['demo', '--out', str(tmp_path)]) == 2
    assert (tmp_path / 'summary.json').read_text() == '{}'


def test_demo_replaces_its_own_interrupted_output(tmp_path):
    (tmp_path / DEMO_MARKER).write_text('')
    (tmp_path / 'sample_bag').mkdir()               # what a run stopped during the sample bag leaves
    run_demo(tmp_path, frames=2, size=(96, 72))
    assert (tmp_path / 'summary.json').is_file() and (tmp_path / DEMO_MARKER).is_file()


def test_an_interrupted_demo_says_so_and_exits_130(tmp_path, monkeypatch, capsys):
    """A signal during the bag processing leaves no result bag: the demo stops there, not on a missing bag."""
    from vision_banana_ros import demo

    def stopped(src, dst):       # what process_bag returns when SIGINT comes before the first output
        return {'input': str(src), 'output': None, 'partial': False, 'interrupted': 'SIGINT', 'frames': 0}
    monkeypatch.setattr(demo, 'process_bag', stopped)
    assert main(['demo', '--out', str(tmp_path / 'out')]) == 130
    assert 'vision_banana demo: interrupted by SIGINT' in capsys.readouterr().err

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

"""The commands of docs/model.md, docs/bags.md, docs/benchmarks.md and docs/geometry.md run as written, at small
sizes: each test takes the line from the page, changes only the sizes (frame counts, minutes, repeats) and points
the model at tiny weights where the line leaves it to the default, runs it and checks what it wrote or printed.
docs/geometry.md's Python example is executed. A command that needs a CUDA GPU is only parsed (test_docs.py).
"""
import json
from pathlib import Path
import re
import shlex
import subprocess
import sys

import numpy as np
import pytest
from rosbags.highlevel import AnyReader
from test_docs import shown_commands
from tiny_experts import go_offline, hub_cache

from vision_banana_ros.backends.checkpoints import PAIRINGS
from vision_banana_ros.cli import main
from vision_banana_ros.model.weights import load_network

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
RUN_PAGES = ('docs/model.md', 'docs/bags.md', 'docs/benchmarks.md', 'docs/geometry.md')
# Engine bench sizes: a small camera image, one timed run a row, on the CPU.
FAST_BENCH = ('--camera', '64x48', '--repeats', '1', '--device', 'cpu')
# Shown for machines with a CUDA GPU; test_docs.py parses it.
PARSE_ONLY = {'vision_banana bench --device cuda --batches 1,2,4,8 --repeats 10'}
# The lines of those pages the tests below run: (page, the whole line, or the words it starts with and a space).
RUN = {
    'ask': ('docs/model.md', 'vision_banana ask '),
    'render': ('docs/model.md', 'vision_banana world render --out DIR '),
    'train': ('docs/model.md', 'vision_banana train '),
    'train_deeper': ('docs/model.md', 'vision_banana train --data DIR --out DEEPER '),
    'render_heldout': ('docs/model.md', 'vision_banana world render --out HELDOUT '),
    'eval': ('docs/model.md', 'vision_banana eval '),
    'eval_bag': ('docs/model.md', 'vision_banana eval --bag '),
    'render_rolled': ('docs/model.md', 'vision_banana world render --out ROLLED '),
    'eval_upright': ('docs/model.md', 'vision_banana eval --data ROLLED '),
    'export': ('docs/model.md', 'vision_banana export '),
    'export_triton': ('docs/model.md', 'vision_banana export --format triton '),
    'make_sample': ('docs/bags.md', 'vision_banana bag make-sample '),
    'process': ('docs/bags.md', 'vision_banana bag process '),
    'play': ('docs/bags.md', 'vision_banana bag play '),
    'record': ('docs/bags.md', 'vision_banana bag record '),
    'bench': ('docs/benchmarks.md', 'vision_banana bench'),
    'bench_batches': ('docs/benchmarks.md', 'vision_banana bench --batches '),
    'bench_codecs': ('docs/benchmarks.md', 'vision_banana bench --codecs'),
    'bench_cloud': ('docs/geometry.md', 'vision_banana bench --cloud'),
    'bench_soak': ('docs/benchmarks.md', 'vision_banana bench --soak '),
}


def shown(key: str) -> str:
    """The one line of its page that RUN[key] names (the longest start that fits wins)."""
    page, start = RUN[key]
    lines = [line for p, line in shown_commands('vision_banana') if p == page and _owner(p, line) == key]
    assert len(lines) == 1, (key, lines)
    return lines[0]


def _owner(page: str, line: str) -> str | None:
    fits = [(len(start), key) for key, (p, start) in RUN.items()
            if p == page and (line == start or start.endswith(' ') and line.startswith(start))]
    return max(fits)[1] if fits else None


def small(line: str, sizes: dict[str, str] | None = None, extra: tuple[str, ...] = ()) -> list[str]:
    """The line's arguments with the options in `sizes` given the new values (each must be in the line) and
    `extra` appended.
    """
    words = shlex.split(line)[1:]
    for option, value in (sizes or {}).items():
        assert option in words, (line, option)
        words[words.index(option) + 1] = value
    return words + list(extra)


def run(words: list[str], capsys) -> str:
    """Run `vision_banana <words>` in this process; return what it printed."""
    assert main(words) == 0, words
    return capsys.readouterr().out


def last_json(out: str) -> dict:
    """The JSON object printed last."""
    return json.loads(out.strip().splitlines()[-1])


def test_every_command_of_these_pages_is_run_or_needs_a_gpu():
    lines = [(page, line) for page, line in shown_commands('vision_banana') if page in RUN_PAGES]
    assert len(lines) >= 15
    for page, line in lines:
        assert line in PARSE_ONLY or _owner(page, line), (page, line)
    for key in RUN:
        shown(key)


def test_geometry_python_example_runs(tmp_path, monkeypatch):
    text = (ROOT / 'docs' / 'geometry.md').read_text()
    blocks = re.findall(r'```python\n(.*?)```', text, flags=re.S)
    assert len(blocks) == 1
    monkeypatch.chdir(tmp_path)
    names = {}
    exec(compile(blocks[0], 'docs/geometry.md', 'exec'), names)
    msg, fields = names['msg'], names['fields']
    # Stride 2 over 640x480, every depth valid and no sky: 320 x 240 points of x, y, z, rgb, label.
    assert (msg.height, msg.width, msg.point_step, msg.is_dense) == (1, 320 * 240, 20, True)
    assert [f.name for f in msg.fields] == ['x', 'y', 'z', 'rgb', 'label']
    assert msg.header.frame_id == 'camera_optical_frame'
    assert bytes(msg.data) == fields['data'].tobytes() and fields['width'] == msg.width
    z = np.frombuffer(bytes(msg.data), np.float32).reshape(-1, 5)[:, 2]
    assert np.allclose(z, 5.0)
    import open3d as o3d
    assert len(o3d.io.read_point_cloud(str(tmp_path / 'frame.ply')).points) == 320 * 240


def test_bench_cloud_prints_every_implementation(capsys):
    result = last_json(run(small(shown('bench_cloud')), capsys))
    assert set(result) == {'cloud_ms', 'organized_ms', 'numpy_ms', 'open3d_ms', 'per_point_ms', 'points'}
    assert result['points'] == 199089
    assert all(result[k] > 0 for k in result)


def test_bench_codecs_prints_a_row_per_codec(capsys):
    rows = last_json(run(small(shown('bench_codecs'), extra=('--sizes', '64x48')), capsys))['codec_decode']
    assert {r['codec'] for r in rows} >= {'palette', 'depth', 'normals'}
    assert all(r['size'] == '64x48' and r['ms'] > 0 for r in rows)


@pytest.mark.slow
def test_the_default_bench_measures_the_unified_model_and_the_experts(tiny_weights, tmp_path, monkeypatch, capsys):
    # Tiny models under the fast pairing's hub ids, found offline.
    go_offline(monkeypatch, hub_cache(tmp_path / 'hub', dict(zip(PAIRINGS['fast'], ('segformer', 'depth_anything'))),
                                      'fedcba9876543210fedcba9876543210fedcba98'))
    extra = FAST_BENCH + ('--weights', str(tiny_weights), '--batches', '1', '--precisions', 'fp32')
    rows = last_json(run(small(shown('bench'), extra=extra), capsys))['engine']
    backends = {r['backend'] for r in rows}
    assert 'unified' in backends and any(b.startswith('experts') for b in backends), backends
    assert all(r['fps'] > 0 for r in rows)


def test_bench_batches_without_experts(tiny_weights, capsys):
    rows = last_json(run(small(shown('bench_batches'), {'--batches': '1,2'},
                               extra=FAST_BENCH + ('--weights', str(tiny_weights))), capsys))['engine']
    assert {r['batch'] for r in rows} == {1, 2} and all(r['precision'] == 'fp32' for r in rows)
    assert not any(r['backend'].startswith('experts') for r in rows) and all(r['fps'] > 0 for r in rows)


@pytest.mark.ros
def test_bench_soak_runs_the_node_under_overload_and_counts_everything(tiny_weights, capsys):
    pytest.importorskip('rclpy')
    words = small(shown('bench_soak'), {'--minutes': '0.1', '--interval': '2'},
                  extra=('--camera', '96x64', '--device', 'cpu', '--weights', str(tiny_weights), '--rate', '10'))
    result = last_json(run(words, capsys))
    assert len(result['intervals']) == 3
    assert result['frames_in'] > result['poison_sent'] >= 1 and result['frames_out'] >= 1, result
    assert result['frames_out'] <= result['frames_in'] - result['poison_sent']    # one depth image a good frame
    assert 1 <= result['rejected'] <= result['poison_sent']          # poison the transport delivered, no more
    assert result['failed'] == 0 and result['parameter_changes'] >= 5
    assert result['parameter_changes_refused'] == result['parameter_changes'] // 5    # the out-of-range ones
    assert result['camera_info_refused'] >= 1 and result['rss_start_mb'] > 0 and result['rss_end_mb'] > 0
    assert result['rss_first_interval_mb'] == result['intervals'][0]['rss_mb']
    assert all(row['in'] <= result['frames_in'] for row in result['intervals'])


@pytest.mark.slow
def test_model_page_commands_run_in_order(tmp_path, monkeypatch, capsys):
    """Render, train, render a held-out set, evaluate, export, ask: each step on what the one before wrote."""
    monkeypatch.chdir(tmp_path)
    out = run(small(shown('render'), {'--count': '3'}), capsys)
    assert len(list((tmp_path / 'DIR' / 'rgb').iterdir())) == 3, out
    report = last_json(run(small(shown('train'), {'--minutes': '0.02'}, extra=('--batch', '2')), capsys))
    weights = tmp_path / 'OUT' / 'weights.safetensors'
    assert weights.is_file() and report['OUT']['parameters'] > 0, report
    deeper = last_json(run(small(shown('train_deeper'), {'--minutes': '0.02'}, extra=('--batch', '2')), capsys))
    assert deeper['DEEPER']['parameters'] > report['OUT']['parameters'], deeper
    assert load_network(tmp_path / 'DEEPER' / 'weights.safetensors').config.encoder_blocks == (0, 1, 3, 5, 5)
    run(small(shown('render_heldout'), {'--count': '2'}), capsys)
    assert len(list((tmp_path / 'HELDOUT' / 'rgb').iterdir())) == 2
    metrics = last_json(run(small(shown('eval'), extra=('--weights', str(weights))), capsys))
    assert metrics['frames'] == 2 and all(isinstance(metrics[k], float) for k in ('miou', 'delta1', 'abs_rel'))
    exported = last_json(run(small(shown('export'), extra=('--weights', str(weights))), capsys))
    assert (tmp_path / 'model.onnx').is_file() and exported, exported
    street = next((tmp_path / 'HELDOUT' / 'rgb').iterdir())
    (tmp_path / 'street.png').write_bytes(street.read_bytes())
    written = last_json(run(small(shown('ask'), extra=('--weights', str(weights))), capsys))
    assert set(written) == {'depth', 'segmentation'}
    for task in written.values():
        assert all(Path(task[k]).parent == Path('answers') and Path(task[k]).is_file() for k in ('answer', 'decoded'))


def test_rolled_cameras_are_rendered_and_scored_turned_upright(tiny_weights, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    run(small(shown('render_rolled'), {'--count': '2', '--size': '64x48'}), capsys)
    metrics = last_json(run(small(shown('eval_upright'), extra=('--weights', str(tiny_weights))), capsys))
    assert metrics['frames'] == 2 and metrics['by_pose']['turned']['frames'] == 2   # rolled beyond the taught 12 deg


def test_bag_make_sample_and_process(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / 'config').symlink_to(ROOT / 'config')
    run(small(shown('make_sample'), extra=('--frames', '3', '--size', '64x48')), capsys)
    summary = last_json(run(small(shown('process')), capsys))
    assert summary['frames'] == 3 and summary['rejected'] == 0
    with AnyReader([tmp_path / 'my_bag_out']) as reader:
        topics = {c.topic: c.msgcount for c in reader.connections}
    assert topics.get('/camera/points') == 3 and topics.get('/camera/depth') == 3, topics


def test_export_a_triton_repository(tiny_weights, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    report = last_json(run(small(shown('export_triton'), extra=('--weights', str(tiny_weights), '--size', '64x48')),
                           capsys))
    assert report['model'] == 'vision_banana' and report['size'] == '64x48'
    assert (tmp_path / 'model_repository' / 'vision_banana' / 'config.pbtxt').is_file()
    assert (tmp_path / 'model_repository' / 'vision_banana' / '1' / 'model.onnx').is_file()


def test_eval_on_a_bag_with_ground_truth(tiny_weights, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    run(small(shown('make_sample'), extra=('--frames', '2', '--size', '64x48')), capsys)
    metrics = last_json(run(small(shown('eval_bag'), extra=('--weights', str(tiny_weights))), capsys))
    assert metrics['frames'] == 2 and all(isinstance(metrics[k], float) for k in ('miou', 'delta1', 'abs_rel'))


@pytest.mark.ros
def test_bag_play_is_heard_by_bag_record(tmp_path):
    """`bag record` (its duration shortened) records what `bag play --clock` publishes from a sample bag."""
    sample = small(shown('make_sample'), extra=('--frames', '5', '--size', '64x48'))
    sample[sample.index('my_bag')] = str(tmp_path / 'my_bag')
    assert main(sample) == 0
    record = small(shown('record'), {'--duration': '20'})
    record[record.index('my_recording')] = str(tmp_path / 'my_recording')
    recorder = subprocess.Popen([str(BIN / 'vision_banana'), *record], stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
    try:
        # The player's --delay covers discovery (the recorder finding the player's topics and subscribing: over 4 s
        # on a loaded CI once), not the recorder's start-up (seconds of imports).
        assert any('Listening for topics' in line for line in recorder.stderr), 'the recorder never listened'
        play = small(shown('play'))
        play[play.index('my_bag')] = str(tmp_path / 'my_bag')
        subprocess.run([str(BIN / 'vision_banana'), *play, '--delay', '8'], check=True, timeout=60,
                       capture_output=True)
        assert recorder.wait(timeout=60) == 0, recorder.stderr.read()
    finally:
        recorder.kill()
    with AnyReader([tmp_path / 'my_recording']) as reader:
        topics = {c.topic: c.msgcount for c in reader.connections}
    assert topics.get('/camera/camera_info') == 5, topics

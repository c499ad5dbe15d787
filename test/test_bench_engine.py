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

"""`vision_banana bench` (engine): every backend row, with its ratio against 'unified' from the same run."""
import json

import pytest

from vision_banana_ros.cli import main


def test_engine_bench_compares_weights_in_one_run(tiny_weights, tmp_path, capsys):
    from tiny_model import save_tiny
    other = save_tiny(tmp_path / 'other.safetensors', seed=1)
    assert main(['bench', '--weights', str(tiny_weights), '--compare-weights', str(other), '--no-experts',
                 '--device', 'cpu', '--batches', '1,2', '--precisions', 'fp32', '--repeats', '1',
                 '--camera', '64x48']) == 0
    printed = capsys.readouterr().out.splitlines()
    rows = json.loads(printed[-1])['engine']
    assert 'p99 of 1 runs is about their slowest' in printed[0]      # a percentile of few runs is said to be so
    assert {(r['backend'], r['batch']) for r in rows} == {
        (name, batch) for name in ('unified', 'unified-single', 'unified-upright', 'unified-compared')
        for batch in (1, 2)}
    # each ratio is against the embedded network's rate at the same precision and batch, measured in this run
    baseline = {(r['precision'], r['batch']): r['fps'] for r in rows if r['backend'] == 'unified'}
    for row in rows:
        assert row['fps'] > 0 and row['p50_ms'] > 0
        assert row['vs_unified'] == pytest.approx(row['fps'] / baseline[row['precision'], row['batch']])

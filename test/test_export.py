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

"""ONNX export of the unified network."""
import json

from vision_banana_ros.cli import main
from vision_banana_ros.model.export import TOLERANCE


def test_onnx_export_matches_torch_with_a_dynamic_batch(tmp_path, capsys, tiny_weights):
    out = tmp_path / 'model.onnx'
    args = ['export', '--format', 'onnx', '--weights', str(tiny_weights), '--size', '96x64', '--out', str(out)]
    assert main(args) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out.stat().st_size > 0 and report['max_abs_error'] <= TOLERANCE

import json

from vision_banana_ros.cli import main
from vision_banana_ros.model.export import TOLERANCE


def test_onnx_export_matches_torch_with_a_dynamic_batch(tmp_path, capsys, tiny_weights):
    out = tmp_path / 'model.onnx'
    args = ['export', '--format', 'onnx', '--weights', str(tiny_weights), '--size', '96x64', '--out', str(out)]
    assert main(args) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out.stat().st_size > 0 and report['max_abs_error'] <= TOLERANCE

import json

from vision_banana_ros.cli import main
from vision_banana_ros.model.export import TOLERANCE
from vision_banana_ros.model.network import NetworkConfig, VisionBananaNet
from vision_banana_ros.model.weights import save_network


def test_onnx_export_matches_torch_with_a_dynamic_batch(tmp_path, capsys):
    weights = tmp_path / 'w.safetensors'
    save_network(VisionBananaNet(NetworkConfig(encoder_widths=(8, 8, 8, 16, 16), decoder_widths=(8, 8, 8, 8),
                                               task_dim=4)), weights)
    out = tmp_path / 'model.onnx'
    assert main(['export', '--format', 'onnx', '--weights', str(weights), '--size', '96x64', '--out', str(out)]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out.stat().st_size > 0 and report['max_abs_error'] <= TOLERANCE

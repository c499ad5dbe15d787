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

import pytest

from vision_banana_ros.cli import main
from vision_banana_ros.model.export import TOLERANCE


def test_onnx_export_matches_torch_with_a_dynamic_batch(tmp_path, capsys, tiny_weights):
    out = tmp_path / 'model.onnx'
    args = ['export', '--format', 'onnx', '--weights', str(tiny_weights), '--size', '96x64', '--out', str(out)]
    assert main(args) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out.stat().st_size > 0 and report['max_abs_error'] <= TOLERANCE


def test_the_onnx_file_says_what_decoding_its_depth_needs(tmp_path, capsys):
    """Painted depth is for the canonical focal length: the file carries it, in widths of the exported images, as a
    served model's parameters do.
    """
    import onnx
    from tiny_model import TINY

    from vision_banana_ros.model.canonical import CANONICAL_FOCAL as CANONICAL_FOCAL_WIDTHS
    from vision_banana_ros.model.canonical import canonical_focal_at
    from vision_banana_ros.model.network import VisionBananaNet
    from vision_banana_ros.model.served import CANONICAL_FOCAL, IDENTITY, identity, TASKS
    from vision_banana_ros.model.weights import save_network
    network = VisionBananaNet(TINY)
    network.canonical_focal = CANONICAL_FOCAL_WIDTHS     # a camera-aware network (70 degrees)
    weights = tmp_path / 'aware.safetensors'
    save_network(network, weights, trained_size=(240, 320))
    out = tmp_path / 'model.onnx'
    assert main(['export', '--format', 'onnx', '--weights', str(weights), '--size', '96x64', '--out', str(out)]) == 0
    props = {p.key: p.value for p in onnx.load(str(out)).metadata_props}
    expected = canonical_focal_at(CANONICAL_FOCAL_WIDTHS, 320, 96)
    assert json.loads(props[CANONICAL_FOCAL]) == pytest.approx(expected)
    assert props[IDENTITY] == identity(weights) and props[TASKS] == ','.join(TINY.tasks)
    # without --size, the size the weights were trained at (as the node runs them), not a fixed 320x240
    save_network(network, weights, trained_size=(48, 64))
    assert main(['export', '--format', 'onnx', '--weights', str(weights), '--out', str(out)]) == 0
    images = onnx.load(str(out)).graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_value for d in images[2:]] == [48, 64]


def test_triton_repository_is_a_valid_model_config_with_the_identity(tmp_path, capsys, tiny_weights):
    """`export --format triton`: config.pbtxt parses with Triton's own schema, batches dynamically, names the
    weights it serves; the graph answers every task for images alone, as the network does.
    """
    from google.protobuf import text_format
    import numpy as np
    import onnxruntime
    import torch
    from tritonclient.grpc import model_config_pb2

    from vision_banana_ros.model.served import identity
    from vision_banana_ros.model.weights import load_network
    repo = tmp_path / 'repo'
    assert main(['export', '--format', 'triton', '--weights', str(tiny_weights), '--size', '96x64', '--out',
                 str(repo), '--max-batch', '4', '--tensorrt']) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    config = text_format.Parse((repo / 'vision_banana' / 'config.pbtxt').read_text(), model_config_pb2.ModelConfig())
    assert (config.name, config.backend, config.max_batch_size) == ('vision_banana', 'onnxruntime', 4)
    assert list(config.input[0].dims) == [3, 64, 96] and list(config.output[0].dims) == [3, 3, 64, 96]
    assert list(config.dynamic_batching.preferred_batch_size) == [2, 4]
    params = {k: v.string_value for k, v in config.parameters.items()}
    assert params['vision_banana.identity'] == identity(tiny_weights) == report['identity'] != identity(None)
    assert params['vision_banana.tasks'] == 'segmentation,depth,normals'
    assert config.optimization.execution_accelerators.gpu_execution_accelerator[0].name == 'tensorrt'
    session = onnxruntime.InferenceSession(str(repo / 'vision_banana' / '1' / 'model.onnx'))
    images = torch.rand(3, 3, 64, 96)
    with torch.inference_mode():
        expected = load_network(tiny_weights)(images, torch.arange(3)).numpy()
    np.testing.assert_allclose(session.run(['answers'], {'images': images.numpy()})[0], expected, atol=TOLERANCE)


def test_served_experts_paint_unknown_depth_as_unknown_not_far():
    import torch

    from vision_banana_ros.backends.base import DenseOutputs
    from vision_banana_ros.codecs import CITYSCAPES, decode_depth_torch, decode_normals_torch
    from vision_banana_ros.model.served import paint
    out = DenseOutputs()
    out.depth = torch.tensor([[[2.5, float('nan'), float('inf'), 40.0]]])
    out.normals = torch.tensor([[[[0.0, float('nan'), 0.0, 0.6]], [[0.0, float('nan'), -1.0, 0.0]],
                                 [[1.0, float('nan'), 0.0, 0.8]]]])
    out.labels = torch.tensor([[[0, 1, 10, 13]]])
    out.encodings['segmentation'] = CITYSCAPES.encode_torch(out.labels)
    painted = paint(out, ('segmentation', 'depth', 'normals'))
    assert painted.shape == (1, 3, 3, 1, 4)
    assert torch.equal(CITYSCAPES.decode_torch((painted[:, 0] * 255).round().to(torch.uint8))[0], out.labels)
    depth = decode_depth_torch(painted[:, 1])
    assert torch.isnan(depth[0, 0, 1]) and torch.isposinf(depth[0, 0, 2])      # unknown stays unknown, far stays far
    assert torch.allclose(depth[0, 0, [0, 3]], torch.tensor([2.5, 40.0]), rtol=1e-3)
    assert torch.allclose(decode_normals_torch(painted[:, 2]), out.normals, atol=1e-6, equal_nan=True)

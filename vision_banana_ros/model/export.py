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

"""`vision_banana export --format onnx`: the unified network as ONNX with a dynamic batch, checked by onnxruntime.

The graph takes `images` N x 3 x H x W float in [0, 1] (H, W fixed to the processing size) and `task_ids` (T,)
int64, and returns `answers` N x T x 3 x H x W in [0, 1]; the codecs decode them as for the torch model. This is
the path TensorRT (trtexec --onnx) and Triton users take. The file's metadata carry what decoding needs beside the
graph, as a served model's parameters do: `vision_banana.canonical_focal` (painted depth is for that focal length, in
widths of the exported images: multiply by fx / (it x width)), `vision_banana.tasks`, `vision_banana.identity`.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from .weights import load_network

TOLERANCE = 1e-4  # max |onnxruntime - torch| on the RGB answers, in [0, 1] units


def export_onnx(weights: str | Path | None, out: str | Path, height: int, width: int, opset: int = 17) -> dict:
    """Export the weights to ONNX at `out`, checked against torch by onnxruntime; return a summary."""
    network = load_network(weights).eval()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    images = torch.rand(2, 3, height, width)
    task_ids = torch.arange(len(network.config.tasks))
    torch.onnx.export(network, (images, task_ids), str(out), input_names=['images', 'task_ids'],
                      output_names=['answers'], opset_version=opset, dynamo=False,
                      dynamic_axes={'images': {0: 'batch'}, 'task_ids': {0: 'tasks'},
                                    'answers': {0: 'batch', 1: 'tasks'}})
    import onnx

    from .served import parameters
    model = onnx.load(str(out))
    onnx.helper.set_model_props(model, parameters(network, weights, width))
    onnx.save(model, str(out))
    return {'path': str(out), 'max_abs_error': validate_onnx(network, out, height, width)}


def validate_onnx(network, path: str | Path, height: int, width: int, all_tasks: bool = False) -> float:
    """Largest difference between onnxruntime and torch over batches 1 and 3; ValueError above TOLERANCE.
    `all_tasks`: the graph takes only the images and answers every task (the served model).
    """
    import onnxruntime
    session = onnxruntime.InferenceSession(str(path), providers=['CPUExecutionProvider'])
    worst = 0.0
    for batch in (1, 3):
        images = torch.rand(batch, 3, height, width)
        task_ids = torch.arange(len(network.config.tasks))
        with torch.inference_mode():
            expected = network(images, task_ids).numpy()
        feed = {'images': images.numpy()} if all_tasks else {'images': images.numpy(), 'task_ids': task_ids.numpy()}
        got = session.run(['answers'], feed)[0]
        worst = max(worst, float(np.abs(got - expected).max()))
    if worst > TOLERANCE:
        raise ValueError(f'{path}: onnxruntime differs from torch by {worst:.2e} (> {TOLERANCE:.0e})')
    return worst

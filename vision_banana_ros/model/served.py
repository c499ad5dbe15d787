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

"""The unified network as a served model (Triton Inference Server): its contract, its identity and its repository.

A served model takes `images` (batch x 3 x H x W, float32 in [0, 1], H x W the processing size) and returns
`answers` (batch x T x 3 x H x W, float32 in [0, 1]): every task's painted RGB answer, so that requests of any node
batch together, and each node decodes them with its own codecs (`backends.painted`). Its config carries parameters
the client checks before it decodes a single answer:

- `vision_banana.identity`: SHA-256 of the weights file's bytes and the palette, so a node never decodes another
  model's answers (or another palette's colours);
- `vision_banana.tasks`: the task of each answer, in order; `vision_banana.canonical_focal`: the canonical focal
  length the depth is painted for, in widths of the served images ("none": metres as seen).

`vision_banana export --format triton --out REPO` writes a repository for a stock `tritonserver` (onnxruntime
backend): REPO/<name>/config.pbtxt with dynamic batching and REPO/<name>/<version>/model.onnx, optionally with a
TensorRT optimisation block for GPU servers.

`vision_banana serve` also serves the experts backend under the same contract (`ExpertAnswers`: their labels,
metric depth and normals painted with the codecs), with a second input `intrinsics` (batch x 4: fx, fy, cx, cy at
the served size, NaN where unknown), because metric depth of some experts and normals from depth need each frame's
camera; `vision_banana.backend` says which backend answers ('unified' or 'experts').
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import torch

from .canonical import canonical_focal_at
from .weights import DEFAULT_WEIGHTS, load_network, trained_size
from ..codecs import CITYSCAPES, Palette

IDENTITY, TASKS, CANONICAL_FOCAL = 'vision_banana.identity', 'vision_banana.tasks', 'vision_banana.canonical_focal'
BACKEND = 'vision_banana.backend'
INPUT, OUTPUT, INTRINSICS = 'images', 'answers', 'intrinsics'


def _digest(files: list[Path], palette: Palette) -> str:
    digest = hashlib.sha256()
    for path in files:
        with open(path, 'rb') as handle:
            for block in iter(lambda: handle.read(1 << 20), b''):
                digest.update(block)
    digest.update(palette.to_yaml().encode())
    return digest.hexdigest()


def identity(weights: str | Path | None = None, palette: Palette = CITYSCAPES) -> str:
    """SHA-256 (hex) of the weights file (the embedded one for None) and the palette."""
    return _digest([Path(weights) if weights else DEFAULT_WEIGHTS], palette)


def experts_identity(segmentation: str | None, depth: str | None, palette: Palette = CITYSCAPES) -> str:
    """SHA-256 (hex) of the expert checkpoints' weights and configuration files (hub ids pulled before, or
    directories; None for a task left out) and the palette.
    """
    from ..backends.checkpoints import resolve
    files = []
    for name in (segmentation, depth):
        folder = resolve(name) if name else None
        files += sorted(folder.glob('*.safetensors')) + sorted(folder.glob('*.json')) if folder else []
    return _digest(files, palette)


def parameters(network, weights: str | Path | None, width: int, palette: Palette = CITYSCAPES) -> dict[str, str]:
    """The served model's config parameters for `network` loaded from `weights`, served `width` pixels wide (the
    canonical focal length is given in widths of the served images, which are the size a client processes at).
    """
    focal, trained = network.canonical_focal, trained_size(weights)
    if focal is not None and trained:
        focal = canonical_focal_at(focal, trained[1], width)
    return {IDENTITY: identity(weights, palette), TASKS: ','.join(network.config.tasks),
            CANONICAL_FOCAL: 'none' if focal is None else json.dumps(float(focal)), BACKEND: 'unified'}


class AllTasks(torch.nn.Module):
    """The network answering every task it knows for a batch of images: the served model's one input."""

    def __init__(self, network):
        super().__init__()
        self.network = network
        self.register_buffer('task_ids', torch.arange(len(network.config.tasks)), persistent=False)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Images N x 3 x H x W -> answers N x T x 3 x H x W."""
        return self.network(images, self.task_ids)


class ExpertAnswers:
    """The experts backend answering as the unified network does: labels, metric depth and normals painted with
    the codecs (RGB in [0, 1]), for a batch of images and their cameras.
    """

    def __init__(self, backend):
        self.backend = backend

    @torch.inference_mode()
    def __call__(self, images: torch.Tensor, cameras: torch.Tensor) -> torch.Tensor:
        """Images N x 3 x H x W, cameras N x 4 (fx, fy, cx, cy; NaN unknown) -> answers N x T x 3 x H x W. A camera
        that is no camera (a focal length <= 0) is taken as unknown: the batch holds other nodes' frames too.
        """
        from ..geometry import Intrinsics

        def camera(row: list[float]):
            try:
                return Intrinsics(*row, width, height)
            except ValueError:
                return None
        height, width = images.shape[-2:]
        intrinsics = [camera(row.tolist()) if bool(torch.isfinite(row).all()) else None
                      for row in cameras.float().cpu()]
        tasks = self.backend.tasks
        return paint(self.backend.decode(self.backend.forward(images, tasks), tasks, intrinsics), tasks)


def paint(out, tasks: tuple[str, ...]) -> torch.Tensor:
    """Decoded answers (DenseOutputs) painted again as the network paints them, N x T x 3 x H x W: labels exactly
    as decode painted them, depth and normals unrounded. Unknown depth (NaN) is painted NaN, which the depth decode
    returns as NaN: the walk's far end would make it +inf, free space to an obstacle layer (REP 118).
    """
    from ..codecs import encode_depth_torch, encode_normals_torch

    def depth() -> torch.Tensor:
        return encode_depth_torch(out.depth).masked_fill(torch.isnan(out.depth)[:, None], float('nan'))
    painted = {'segmentation': lambda: out.encodings['segmentation'].float() / 255.0, 'depth': depth,
               'normals': lambda: encode_normals_torch(out.normals)}   # a NaN normal paints grey, decoded NaN
    return torch.stack([painted[task]() for task in tasks], dim=1)


def model_config(name: str, tasks: int, height: int, width: int, params: dict[str, str], max_batch: int = 8,
                 queue_delay_us: int = 2000, tensorrt: bool = False, backend: str = 'onnxruntime',
                 device: str | None = None, intrinsics: bool = False) -> str:
    """config.pbtxt of the served network (checked by Triton's own protobuf schema): for onnxruntime (a stock
    server) or python (`serving`); `device` ('cpu', 'cuda[:N]') pins its one instance, else Triton chooses;
    `intrinsics` adds that input (the experts).
    """
    from google.protobuf import text_format
    from tritonclient.grpc import model_config_pb2 as pb
    config = pb.ModelConfig(name=name, backend=backend, max_batch_size=max_batch)
    if device == 'cpu':
        config.instance_group.add(kind=pb.ModelInstanceGroup.KIND_CPU, count=1)
    elif device:
        config.instance_group.add(kind=pb.ModelInstanceGroup.KIND_GPU, count=1,
                                  gpus=[int(device.partition(':')[2] or 0)])
    config.input.add(name=INPUT, data_type=pb.TYPE_FP32, dims=[3, height, width])
    if intrinsics:
        config.input.add(name=INTRINSICS, data_type=pb.TYPE_FP32, dims=[4])
    config.output.add(name=OUTPUT, data_type=pb.TYPE_FP32, dims=[tasks, 3, height, width])
    config.dynamic_batching.preferred_batch_size.extend(sorted({max(1, max_batch // 2), max_batch}))
    config.dynamic_batching.max_queue_delay_microseconds = queue_delay_us
    for key, value in params.items():
        config.parameters[key].string_value = value
    if tensorrt:   # GPU servers: onnxruntime hands the graph to TensorRT in FP16 (built on first load)
        accelerator = config.optimization.execution_accelerators.gpu_execution_accelerator.add(name='tensorrt')
        accelerator.parameters['precision_mode'] = 'FP16'
        accelerator.parameters['max_workspace_size_bytes'] = str(1 << 30)
    return text_format.MessageToString(config)


def export_repository(weights: str | Path | None, repository: str | Path, height: int, width: int,
                      name: str = 'vision_banana', version: int = 1, max_batch: int = 8,
                      tensorrt: bool = False) -> dict:
    """Write a Triton model repository serving the weights at height x width; return a summary."""
    import warnings

    from .export import validate_onnx
    network = load_network(weights).eval()
    folder = Path(repository) / name
    (folder / str(version)).mkdir(parents=True, exist_ok=True)
    onnx_path = folder / str(version) / 'model.onnx'
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')   # tracer chatter about the fixed input size
        torch.onnx.export(AllTasks(network).eval(), (torch.rand(2, 3, height, width),), str(onnx_path),
                          input_names=[INPUT], output_names=[OUTPUT], opset_version=17, dynamo=False,
                          dynamic_axes={INPUT: {0: 'batch'}, OUTPUT: {0: 'batch'}})
    error = validate_onnx(network, onnx_path, height, width, all_tasks=True)
    params = parameters(network, weights, width)
    (folder / 'config.pbtxt').write_text(model_config(name, len(network.config.tasks), height, width, params,
                                                      max_batch, tensorrt=tensorrt))
    return {'repository': str(repository), 'model': name, 'version': version, 'size': f'{width}x{height}',
            'tasks': list(network.config.tasks), 'identity': params[IDENTITY], 'max_abs_error': error}

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

"""The unified backend: our instruction-conditioned network, its RGB answers decoded by the codecs on the device.

Given several weight files (e.g. the single-task experts trained as a baseline), each task goes to the first
network that answers it. Images are processed at the size the weights were trained at unless told otherwise.

With `mirror_average` each image is answered twice in the same batch, as it is and mirrored left-right, and the two
answers are averaged in a space where averaging means something: class probabilities from the painted colours,
depth along the power transform (two points of the Hilbert walk can lie far apart in RGB), normal vectors as painted
(x mirrored back). The encodings are then the averaged answer painted again.

Weights that paint depth for a canonical camera (`model.canonical`) have each image's depth scaled by its camera's
focal length (from the intrinsics the engine passes: CameraInfo, else the node's fallback_hfov_deg); an image
without intrinsics is taken to have the canonical 70 deg field of view. The depth encoding then paints the metres.
"""
from __future__ import annotations

from pathlib import Path

import torch

from .base import Backend, DenseOutputs
from ..codecs import (
    CITYSCAPES,
    decode_depth_pooled_torch,
    decode_depth_torch,
    decode_normals_torch,
    encode_depth_uint8_torch,
    Palette,
)
from ..model.canonical import focal_of
from ..model.weights import load_network, trained_size

DEFAULT_PROCESSING_SIZE = (240, 320)  # (height, width) for weights that do not record their trained size


class UnifiedBackend(Backend):
    """The unified network (one or more weights files, each answering its tasks) as a backend."""

    name = 'unified'

    def __init__(self, weights: str | Path | torch.nn.Module | list | None = None, device: str | torch.device = 'cpu',
                 processing_size: tuple[int, int] | None = None, palette: Palette = CITYSCAPES,
                 compile: bool = False, mirror_average: bool = True):  # noqa: A002 (the `compile` node parameter)
        self.device = torch.device(device)
        paths = weights if isinstance(weights, (list, tuple)) else [weights]
        # A network object serves as it is (a student being trained), on the backend's device.
        self.networks = [path.to(self.device).eval() if isinstance(path, torch.nn.Module)
                         else load_network(path, self.device) for path in paths]
        paths = [path for path in paths if not isinstance(path, torch.nn.Module)]
        if compile:  # torch.compile in place: the first batch of each new shape pays the compilation
            for network in self.networks:
                network.compile(dynamic=True)
        self.tasks = tuple(dict.fromkeys(t for n in self.networks for t in n.config.tasks))
        sizes = {trained_size(path) for path in paths} - {None}
        self.trained_size = sizes.pop() if len(sizes) == 1 else None   # networks trained at different sizes: none
        self.processing_size = tuple(processing_size or self.trained_size or DEFAULT_PROCESSING_SIZE)
        self.palette = palette
        self.mirror_average = mirror_average
        depth = [n for n in self.networks if 'depth' in n.config.tasks]
        self.canonical_focal = depth[0].canonical_focal if depth else None

    def models(self) -> list[torch.nn.Module]:
        """The loaded unified networks."""
        return list(self.networks)

    def _routes(self, tasks: tuple[str, ...]) -> list[tuple[object, tuple[str, ...]]]:
        routes, left = [], list(tasks)
        for network in self.networks:
            mine = tuple(t for t in left if t in network.config.tasks)
            if mine:
                routes.append((network, mine))
                left = [t for t in left if t not in mine]
        if left:
            raise ValueError(f'no loaded network answers {left}')
        return routes

    @torch.inference_mode()
    def forward(self, images: torch.Tensor, tasks: tuple[str, ...]) -> dict[str, torch.Tensor]:
        """Paint the answer images of `tasks` for a batch (averaged with the mirror image when asked)."""
        if self.mirror_average:
            images = torch.cat([images, images.flip(-1)])
        answers = {}
        for network, mine in self._routes(tasks):
            rgb = network(images, network.task_ids(mine).to(self.device))
            answers.update({task: rgb[:, i] for i, task in enumerate(mine)})
        return answers

    @torch.inference_mode()
    def class_probabilities(self, raw: dict[str, torch.Tensor]) -> torch.Tensor:
        """The painted segmentation's class probabilities (averaged with the mirror image's, as `decode` does)."""
        rgb = raw['segmentation'].float()
        if self.mirror_average:
            rgb, mirrored = rgb.chunk(2)
            return self.palette.probabilities_torch([rgb, mirrored.flip(-1)])[0]
        return self.palette.probabilities_torch([rgb])[0]

    def _focal_scale(self, intrinsics, count: int, device: torch.device) -> torch.Tensor:
        """Per image, metres over canonical depth: its focal length over the canonical one (1 where unknown)."""
        cameras = intrinsics or [None] * count
        focal = [self.canonical_focal if c is None else focal_of(c.fx, c.width) for c in cameras]
        return torch.tensor(focal, device=device)[:, None, None] / self.canonical_focal

    @torch.inference_mode()
    def decode(self, raw: dict[str, torch.Tensor], tasks: tuple[str, ...], intrinsics=None) -> DenseOutputs:
        # The network paints normals from the image alone: intrinsics are not needed for them.
        """Decode the painted answers into labels, depth and normals."""
        out = DenseOutputs()
        for task in tasks:
            rgb, mirrored = raw[task].float(), None
            if self.mirror_average:
                rgb, mirrored = rgb.chunk(2)
                mirrored = mirrored.flip(-1)
            if task == 'segmentation':
                if mirrored is None:
                    out.encodings[task] = (rgb * 255.0).round_().to(torch.uint8)
                    out.labels, out.confidence = self.palette.decode_torch(out.encodings[task])
                else:
                    out.labels, out.confidence = self.palette.decode_pooled_torch([rgb, mirrored])
                    out.encodings[task] = self.palette.encode_torch(out.labels)
            elif task == 'depth':
                if mirrored is None:
                    out.depth = decode_depth_torch(rgb)
                else:
                    out.depth, rgb = decode_depth_pooled_torch([rgb, mirrored])
                if self.canonical_focal is None:
                    out.encodings[task] = (rgb * 255.0).round_().to(torch.uint8)
                else:
                    out.depth = out.depth * self._focal_scale(intrinsics, len(out.depth), out.depth.device)
                    out.encodings[task] = encode_depth_uint8_torch(out.depth)
            elif task == 'normals':
                if mirrored is not None:   # mirroring the image negates x, painted as 2r - 1
                    rgb = (rgb + torch.cat([1.0 - mirrored[:, :1], mirrored[:, 1:]], dim=1)) / 2.0
                out.normals = decode_normals_torch(rgb)
                out.encodings[task] = (rgb * 255.0).round_().to(torch.uint8)
        return out

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
network that answers it. Images are processed with as many pixels as the weights were trained at, in each camera's
aspect ratio (`matched_size`), unless a processing size is given.

With `mirror_average` each image is answered twice in the same batch, as it is and mirrored left-right, and the two
answers are averaged; weights that paint depth for a canonical camera have it scaled by each image's focal length
(`painted`).
"""
from __future__ import annotations

import functools
import math
from pathlib import Path

import torch

from .base import Backend
from .painted import PaintedAnswers
from ..codecs import CITYSCAPES, Palette
from ..model.weights import load_network, trained_size

DEFAULT_PROCESSING_SIZE = (240, 320)  # (height, width) for weights that do not record their trained size


class UnifiedBackend(PaintedAnswers, Backend):
    """The unified network (one or more weights files, each answering its tasks) as a backend."""

    name = 'unified'

    def __init__(self, weights: str | Path | torch.nn.Module | list | None = None, device: str | torch.device = 'cpu',
                 processing_size: tuple[int, int] | None = None, palette: Palette = CITYSCAPES,
                 compile: bool = False, mirror_average: bool = True):  # noqa: A002 (the `compile` node parameter)
        self.device = torch.device(device)
        sources = weights if isinstance(weights, (list, tuple)) else [weights]
        # A network object serves as it is (a student being trained), on the backend's device.
        self.networks = [source.to(self.device).eval() if isinstance(source, torch.nn.Module)
                         else load_network(source, self.device) for source in sources]
        if compile:  # torch.compile in place: the first batch of each new shape pays the compilation
            for network in self.networks:
                network.compile(dynamic=True)
        self.tasks = tuple(dict.fromkeys(t for n in self.networks for t in n.config.tasks))
        sizes = [None if isinstance(source, torch.nn.Module) else trained_size(source) for source in sources]
        known = set(sizes) - {None}
        self.trained_size = known.pop() if len(known) == 1 else None   # networks trained at different sizes: none
        self.processing_size = tuple(processing_size or self.trained_size or DEFAULT_PROCESSING_SIZE)
        # Without a size given, each camera's frames go in at its own aspect ratio (about as many pixels).
        self.aspect_matched = processing_size is None
        self.stride = max(network.stride for network in self.networks)
        self.palette = palette
        self.mirror_average = mirror_average
        # Depth comes from the first network that answers it (`_routes`), read at its own trained width.
        depth, depth_size = next(((n, s) for n, s in zip(self.networks, sizes) if 'depth' in n.config.tasks),
                                 (None, None))
        self.canonical_focal = depth.canonical_focal if depth else None
        self.canonical_width = depth_size[1] if depth_size else None

    def size_for(self, image_size: tuple[int, int]) -> tuple[int, int]:
        """`processing_size` where it was given; else that many pixels in the frame's aspect ratio (`matched_size`)."""
        if not self.aspect_matched:
            return self.processing_size
        return matched_size(self.processing_size, image_size, self.stride)

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
    def forward(self, images: torch.Tensor, tasks: tuple[str, ...], intrinsics=None) -> dict[str, torch.Tensor]:
        """Paint the answer images of `tasks` for a batch (averaged with the mirror image when asked)."""
        if self.mirror_average:
            images = torch.cat([images, images.flip(-1)])
        answers = {}
        for network, mine in self._routes(tasks):
            rgb = network(images, network.task_ids(mine).to(self.device))
            answers.update({task: rgb[:, i] for i, task in enumerate(mine)})
        return answers


@functools.lru_cache(maxsize=64)
def matched_size(size: tuple[int, int], image_size: tuple[int, int], stride: int) -> tuple[int, int]:
    """(H, W) with about the pixels of `size` (H, W) in the aspect ratio of `image_size`: `size` itself for an image
    of its aspect ratio (within 2 %), else the multiple of `stride` on both sides whose aspect ratio and pixel count
    are nearest (in log units, the aspect ratio's error counted twice: a sum alone ties along a row). A frame
    squashed to another aspect ratio shows the network a scene stretched one way, whose metres it misjudges: 16:9
    frames of the street preset at 320x240 scored delta1 0.57, at 384x224 0.79 (docs/model.md).
    """
    height, width = size
    aspect = image_size[1] / image_size[0]
    if abs(math.log(aspect * height / width)) < 0.02:
        return tuple(size)
    area = height * width
    sides = range(stride, 4 * max(size) + 1, stride)
    candidates = [(h, w) for h in sides for w in sides if 0.8 * area <= h * w <= 1.25 * area]
    return min(candidates, key=lambda s: 2 * abs(math.log(s[1] / s[0] / aspect)) + abs(math.log(s[0] * s[1] / area)))

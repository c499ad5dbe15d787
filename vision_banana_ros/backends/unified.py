"""The unified backend: our instruction-conditioned network, its RGB answers decoded by the codecs on the device.

Given several weight files (e.g. the single-task experts trained as a baseline), each task goes to the first
network that answers it. Images are processed at the size the weights were trained at unless told otherwise.
"""
from __future__ import annotations

from pathlib import Path

import torch

from ..codecs import CITYSCAPES, Palette, decode_depth_torch, decode_normals_torch
from ..model.weights import load_network, trained_size
from .base import Backend, DenseOutputs

DEFAULT_PROCESSING_SIZE = (240, 320)  # (height, width) for weights that do not record their trained size


class UnifiedBackend(Backend):
    name = 'unified'

    def __init__(self, weights: str | Path | list[str | Path] | None = None, device: str | torch.device = 'cpu',
                 processing_size: tuple[int, int] | None = None, palette: Palette = CITYSCAPES,
                 compile: bool = False):
        self.device = torch.device(device)
        paths = weights if isinstance(weights, (list, tuple)) else [weights]
        self.networks = [load_network(path, self.device) for path in paths]
        if compile:  # torch.compile in place: the first batch of each new shape pays the compilation
            for network in self.networks:
                network.compile(dynamic=True)
        self.tasks = tuple(dict.fromkeys(t for n in self.networks for t in n.config.tasks))
        sizes = {trained_size(path) for path in paths} - {None}
        self.trained_size = sizes.pop() if len(sizes) == 1 else None   # networks trained at different sizes: none
        self.processing_size = tuple(processing_size or self.trained_size or DEFAULT_PROCESSING_SIZE)
        self.palette = palette

    def models(self) -> list[torch.nn.Module]:
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
        answers = {}
        for network, mine in self._routes(tasks):
            rgb = network(images, network.task_ids(mine).to(self.device))
            answers.update({task: rgb[:, i] for i, task in enumerate(mine)})
        return answers

    @torch.inference_mode()
    def decode(self, raw: dict[str, torch.Tensor], tasks: tuple[str, ...], intrinsics=None) -> DenseOutputs:
        # The network paints normals from the image alone: intrinsics are not needed.
        out = DenseOutputs()
        for task in tasks:
            rgb = raw[task].float()
            out.encodings[task] = (rgb * 255.0).round_().to(torch.uint8)
            if task == 'segmentation':
                out.labels, out.confidence = self.palette.decode_torch(out.encodings[task])
            elif task == 'depth':
                out.depth = decode_depth_torch(rgb)
            elif task == 'normals':
                out.normals = decode_normals_torch(rgb)
        return out

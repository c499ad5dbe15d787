"""The unified backend: our instruction-conditioned network, its RGB answers decoded by the codecs on the device."""
from __future__ import annotations

from pathlib import Path

import torch

from ..codecs import CITYSCAPES, Palette, decode_depth_torch, decode_normals_torch
from ..model.weights import load_network
from .base import Backend, DenseOutputs
from .resample import resize_depth, resize_images, resize_labels, resize_normals

DEFAULT_PROCESSING_SIZE = (192, 256)  # (height, width) the default weights were trained at


class UnifiedBackend(Backend):
    name = 'unified'

    def __init__(self, weights: str | Path | None = None, device: str | torch.device = 'cpu',
                 processing_size: tuple[int, int] = DEFAULT_PROCESSING_SIZE, palette: Palette = CITYSCAPES):
        self.device = torch.device(device)
        self.network = load_network(weights, self.device)
        self.processing_size = tuple(processing_size)
        self.palette = palette

    @torch.inference_mode()
    def infer(self, images: torch.Tensor, tasks: tuple[str, ...]) -> DenseOutputs:
        size = tuple(images.shape[-2:])
        answers = self.network(resize_images(images, self.processing_size), self.network.task_ids(tasks))
        out = DenseOutputs()
        for i, task in enumerate(tasks):
            rgb = answers[:, i]
            out.encodings[task] = (resize_images(rgb, size) * 255.0).round_().to(torch.uint8)
            if task == 'segmentation':
                labels, distance = self.palette.decode_torch(rgb)
                out.labels = resize_labels(labels, size)
                out.confidence = resize_images(self.palette.confidence(distance)[:, None], size)[:, 0]
            elif task == 'depth':
                out.depth = resize_depth(decode_depth_torch(rgb), size)
            elif task == 'normals':
                out.normals = resize_normals(decode_normals_torch(rgb), size)
        return out

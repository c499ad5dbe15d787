"""The interface every backend implements, and the decoded outputs it returns."""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import torch

TASKS = ('segmentation', 'depth', 'normals')


@dataclass
class DenseOutputs:
    """Decoded answers for a batch, on the backend's device, at the input resolution. A task not asked for is None.

    labels N x H x W uint8 (train ids, 255 unknown); confidence N x H x W float32 in [0, 1];
    depth N x H x W float32 metres (+inf far/sky, NaN invalid); normals N x 3 x H x W float32 unit vectors in the
    optical frame (NaN invalid); encodings: task -> N x 3 x H x W uint8 RGB answer (for display)."""

    labels: torch.Tensor | None = None
    confidence: torch.Tensor | None = None
    depth: torch.Tensor | None = None
    normals: torch.Tensor | None = None
    encodings: dict[str, torch.Tensor] = field(default_factory=dict)


class Backend(ABC):
    name: str = ''
    device: torch.device

    @abstractmethod
    def infer(self, images: torch.Tensor, tasks: tuple[str, ...]) -> DenseOutputs:
        """images N x 3 x H x W float in [0, 1] on `self.device` -> decoded answers at H x W."""

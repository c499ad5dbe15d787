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

"""The interface every backend implements, and the decoded outputs it returns.

A backend sees a batch already resized to the size `size_for` gives its frames (its `processing_size`, or where that
is None each frame's own; the unified network's depends on the camera's aspect ratio) and on its device: frames that
go to different sizes go in different forwards. The engine does the upload, the resizing both ways and the download,
so that every backend gets batching, timing and precision for free.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import torch

from ..model.network import parameter_count


@dataclass
class DenseOutputs:
    """Decoded answers for a batch on the backend's device. A task not asked for is None.

    labels N x H x W uint8 (train ids, 255 unknown); confidence N x H x W float32 in [0, 1];
    depth N x H x W float32 metres (+inf far/sky, NaN invalid); normals N x 3 x H x W float32 unit vectors in the
    optical frame (NaN invalid); encodings: task -> N x 3 x H x W uint8 RGB answer (for display).
    """

    labels: torch.Tensor | None = None
    confidence: torch.Tensor | None = None
    depth: torch.Tensor | None = None
    normals: torch.Tensor | None = None
    encodings: dict[str, torch.Tensor] = field(default_factory=dict)


class Backend(ABC):
    """One way of answering the tasks (unified network, expert models): forward and decode a batch on a device."""

    name: str = ''
    device: torch.device
    processing_size: tuple[int, int] | None  # (height, width) the engine resizes to; None: each frame's own
    tasks: tuple[str, ...]             # what this backend can answer
    trained_size: tuple[int, int] | None = None  # (height, width) its weights learned at, where they say

    def size_for(self, image_size: tuple[int, int]) -> tuple[int, int]:
        """(H, W) the engine resizes a frame of `image_size` (H, W) to: `processing_size`, else the frame's own."""
        return tuple(self.processing_size or image_size)

    @abstractmethod
    def forward(self, images: torch.Tensor, tasks: tuple[str, ...], intrinsics: list | None = None):
        """Images N x 3 x H x W float in [0, 1] at the batch's processing size on `device` -> raw answers.
        `intrinsics` as for `decode`: only a backend whose forward needs the cameras (a served experts model) uses
        them there.
        """

    @abstractmethod
    def decode(self, raw, tasks: tuple[str, ...], intrinsics: list | None = None) -> DenseOutputs:
        """Raw answers -> decoded outputs at the batch's processing size, still on the device. `intrinsics`: per
        image, the camera as the backend sees it at the processing size (`engine.resample.seen_intrinsics`), or None
        where unknown.
        """

    def class_probabilities(self, raw) -> torch.Tensor:
        """Raw answers with segmentation -> N x K x H x W class probabilities over the palette's K classes (in
        palette order), at the batch's processing size: what a student learns from (`distill`).
        """
        raise ValueError(f'the {self.name} backend gives no class probabilities')

    @abstractmethod
    def models(self) -> list[torch.nn.Module]:
        """The networks this backend runs."""

    def close(self) -> None:
        """Free what the backend holds outside this process (nothing by default)."""

    def diagnostics(self) -> dict[str, str]:
        """Backend-specific values for the node's diagnostics (none by default)."""
        return {}

    def parameter_count(self) -> int:
        """Number of parameters of all the networks this backend runs."""
        return sum(parameter_count(model) for model in self.models())

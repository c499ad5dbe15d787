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

"""The unified network: one encoder pass per image, one task-conditioned decoder pass per (image, task).

The decoder is shared by all tasks and told which one to answer by FiLM (a learned scale and shift per channel
from the task embedding), so the three tasks of a frame cost one encoder forward plus one decoder forward over a
batch of N x T feature maps. Every answer is an RGB image in [0, 1] that the codecs decode. No camera intrinsics
go in: metric depth comes from what the image shows.

Work that does not depend on the task runs once per image, not once per (image, task): the first decoder stage up
to its FiLM, and in every stage the encoder skip's share of the merge convolution (a convolution over
[upsampled, skip] channels is the sum of one over each part). With three tasks that is about a quarter of the
decoder's arithmetic.

The decoder stops at half resolution; a 1x1 convolution there predicts 2x2 sub-pixels per output pixel (pixel
shuffle), which keeps full-resolution work to a reshape.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import torch
from torch import nn
import torch.nn.functional as F

from .instructions import TASKS


@dataclass(frozen=True)
class NetworkConfig:
    """The shape of the unified network; stored in every weights file."""

    encoder_widths: tuple[int, ...] = (24, 48, 96, 160, 256)   # at 1/2, 1/4, 1/8, 1/16, 1/32
    encoder_blocks: tuple[int, ...] = (0, 1, 2, 2, 2)
    decoder_widths: tuple[int, ...] = (128, 80, 48, 24)         # at 1/16, 1/8, 1/4, 1/2
    tasks: tuple[str, ...] = TASKS
    task_dim: int = 64

    def __post_init__(self):
        if (len(self.encoder_widths) != len(self.encoder_blocks)
                or len(self.decoder_widths) != len(self.encoder_widths) - 1):
            raise ValueError('network config: need one block count per encoder stage and one decoder width per skip')
        if not self.tasks or any(t not in TASKS for t in self.tasks):
            raise ValueError(f'network config: tasks must be a non-empty subset of {TASKS}, got {self.tasks}')

    @property
    def stride(self) -> int:
        """Input sides that are multiples of this need no padding."""
        return 2 ** len(self.encoder_widths)

    def to_dict(self) -> dict:
        """The configuration as plain values (weights file metadata)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> 'NetworkConfig':
        """The configuration from `to_dict` values (lists back to tuples)."""
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})


def _conv_bn(cin: int, cout: int, stride: int = 1, kernel: int = 3) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, kernel, stride, kernel // 2, bias=False), nn.BatchNorm2d(cout))


class _Residual(nn.Module):

    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(_conv_bn(channels, channels), nn.ReLU(inplace=True), _conv_bn(channels, channels))

    def forward(self, x):
        return F.relu(x + self.body(x))


class _DecoderStage(nn.Module):
    """Upsample, merge the encoder skip, convolve, then let the task scale and shift the channels."""

    def __init__(self, cin: int, cskip: int, cout: int, task_dim: int):
        super().__init__()
        self.merge = _conv_bn(cin + cskip, cout)
        self.refine = _conv_bn(cout, cout)
        self.film = nn.Linear(task_dim, 2 * cout)
        nn.init.zeros_(self.film.weight)
        nn.init.zeros_(self.film.bias)

    def forward(self, x, skip, task):
        """x: N or N*T maps (image-major), skip: N maps, task: N*T embeddings -> N*T maps."""
        n, t = skip.shape[0], task.shape[0] // skip.shape[0]
        x = F.interpolate(x, size=skip.shape[-2:], mode='bilinear', align_corners=False)
        conv, norm = self.merge
        from_x, from_skip = conv.weight.split([x.shape[1], skip.shape[1]], dim=1)
        merged = (F.conv2d(x, from_x, padding=conv.padding).unflatten(0, (n, -1))
                  + F.conv2d(skip, from_skip, padding=conv.padding)[:, None])
        x = self.refine(F.relu(norm(merged.flatten(0, 1))))
        if x.shape[0] != n * t:
            x = x.repeat_interleave(t, dim=0)
        scale, shift = self.film(task)[:, :, None, None].chunk(2, dim=1)
        return F.relu(x * (1 + scale) + shift)


class VisionBananaNet(nn.Module):
    """images N x 3 x H x W in [0, 1], task ids (T,) -> answers N x T x 3 x H x W in [0, 1].

    Any H x W works: `forward` pads to a multiple of `stride` (32) by replicating the border and crops the
    answers.
    """

    MEAN = (0.45, 0.45, 0.45)
    STD = (0.25, 0.25, 0.25)

    def __init__(self, config: NetworkConfig = NetworkConfig()):
        super().__init__()
        self.config = config
        # Focal length (image widths) of the camera whose depth the network paints; None: metres as seen
        # (model.canonical). Saved in the weights' metadata.
        self.canonical_focal: float | None = None
        widths = config.encoder_widths
        stages, cin = [], 3
        for width, blocks in zip(widths, config.encoder_blocks):
            stages.append(nn.Sequential(_conv_bn(cin, width, stride=2), nn.ReLU(inplace=True),
                                        *[_Residual(width) for _ in range(blocks)]))
            cin = width
        self.encoder = nn.ModuleList(stages)
        self.context = nn.Linear(widths[-1], widths[-1])
        self.task_embedding = nn.Embedding(len(config.tasks), config.task_dim)
        decoder, cin = [], widths[-1]
        for skip, width in zip(reversed(widths[:-1]), config.decoder_widths):
            decoder.append(_DecoderStage(cin, skip, width, config.task_dim))
            cin = width
        self.decoder = nn.ModuleList(decoder)
        self.head = nn.Conv2d(cin, 3 * 4, 1)
        self.register_buffer('mean', torch.tensor(self.MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer('std', torch.tensor(self.STD).view(1, 3, 1, 1), persistent=False)

    def encode(self, images: torch.Tensor) -> list[torch.Tensor]:
        """Encoder features of images whose H and W are multiples of 32."""
        x = (images - self.mean) / self.std
        features = []
        for stage in self.encoder:
            x = stage(x)
            features.append(x)
        # Global context (scene scale, horizon) reaches every position of the coarsest map.
        context = self.context(features[-1].mean(dim=(2, 3)))
        features[-1] = F.relu(features[-1] + context[:, :, None, None])
        return features

    def decode(self, features: list[torch.Tensor], task_ids: torch.Tensor) -> torch.Tensor:
        """Answer images (N x T x 3 x H x W) of every image for every task in `task_ids`."""
        n, t = features[0].shape[0], task_ids.numel()
        # Every image meets every task (batch index = image * T + task) from the first FiLM on.
        task = self.task_embedding(task_ids.to(features[0].device)).repeat(n, 1)
        x = features[-1]
        for stage, skip in zip(self.decoder, reversed(features[:-1])):
            x = stage(x, skip, task)
        # The sigmoid runs in float32: in bfloat16 its output has steps of 2^-8 above 0.5, one 8-bit code, which
        # would quantise the far end of the depth walk in the losses.
        rgb = torch.sigmoid(F.pixel_shuffle(self.head(x), 2).float())
        return rgb.view(n, t, 3, *rgb.shape[-2:])

    @property
    def stride(self) -> int:
        """Input sides that are multiples of this need no padding."""
        return self.config.stride

    def forward(self, images: torch.Tensor, task_ids: torch.Tensor) -> torch.Tensor:
        """Answer images (N x T x 3 x H x W) of images of any size (padded to the stride and cropped back)."""
        height, width = images.shape[-2:]
        pad_h, pad_w = -height % self.stride, -width % self.stride
        if pad_h or pad_w:
            images = F.pad(images, (0, pad_w, 0, pad_h), mode='replicate')
        return self.decode(self.encode(images), task_ids)[..., :height, :width]

    def task_ids(self, tasks) -> torch.Tensor:
        """Indices of task names in this network's task list."""
        try:
            return torch.tensor([self.config.tasks.index(t) for t in tasks], dtype=torch.long)
        except ValueError:
            raise ValueError(f'this network answers {self.config.tasks}, not {list(tasks)}') from None


def deepened(network: VisionBananaNet, encoder_blocks: tuple[int, ...]) -> VisionBananaNet:
    """A copy of `network` with residual blocks appended to its encoder stages up to `encoder_blocks`, answering
    exactly as it did: each new block's last batch norm scales by zero, so the block passes its (already
    rectified) input through until training grows it. Depth added in the coarse stages costs little time and lets
    a trained network gain capacity without starting again.
    """
    before = network.config.encoder_blocks
    if len(encoder_blocks) != len(before) or any(new < old for new, old in zip(encoder_blocks, before)):
        raise ValueError(f'encoder blocks {list(encoder_blocks)}: blocks can only be added to those of the network, '
                         f'{list(before)}, one count per encoder stage')
    grown = VisionBananaNet(replace(network.config, encoder_blocks=tuple(encoder_blocks)))
    grown.canonical_focal = network.canonical_focal
    grown.load_state_dict(network.state_dict(), strict=False)   # the new blocks' tensors are the only ones missing
    for stage, old in zip(grown.encoder, before):
        for block in list(stage)[2 + old:]:   # after the stage's strided convolution and its ReLU
            nn.init.zeros_(block.body[-1][1].weight)
    return grown.to(next(network.parameters()).device).train(network.training)


def parameter_count(module: nn.Module) -> int:
    """Number of parameters of a module."""
    return sum(p.numel() for p in module.parameters())

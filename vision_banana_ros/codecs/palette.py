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

"""Segmentation palette: class id <-> RGB, and nearest-colour decoding of noisy generator output.

Decoding measures every pixel's distance to every entry colour (the ignore colour included, 20 for Cityscapes:
a few multiply-adds per pixel) and takes the nearest. Its confidence is the margin between the nearest entry and
the runner-up, (d2 - d1) / (d2 + d1): 1 on an entry's exact colour, 0 halfway between two entries.

Several answers for the same pixels (an image's and its mirror image's) are pooled as probabilities: each answer's
softmax over the class colours of -d^2 / (2 sigma^2), the logits the network is trained with, averaged.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import yaml

from .rgb import unit_rgb, unit_rgb_torch
from ..torch_ops import on_device

IGNORE_ID = 255
LIKELIHOOD_SIGMA = 24.0  # colour scale (0..255 units) of the palette logits -d^2 / (2 sigma^2)

# Cityscapes train ids 0..18 with their official colours (cityscapesScripts labels.py).
CITYSCAPES_CLASSES = (
    ('road', (128, 64, 128)),
    ('sidewalk', (244, 35, 232)),
    ('building', (70, 70, 70)),
    ('wall', (102, 102, 156)),
    ('fence', (190, 153, 153)),
    ('pole', (153, 153, 153)),
    ('traffic light', (250, 170, 30)),
    ('traffic sign', (220, 220, 0)),
    ('vegetation', (107, 142, 35)),
    ('terrain', (152, 251, 152)),
    ('sky', (70, 130, 180)),
    ('person', (220, 20, 60)),
    ('rider', (255, 0, 0)),
    ('car', (0, 0, 142)),
    ('truck', (0, 0, 70)),
    ('bus', (0, 60, 100)),
    ('train', (0, 80, 100)),
    ('motorcycle', (0, 0, 230)),
    ('bicycle', (119, 11, 32)),
)


@dataclass(frozen=True)
class Palette:
    """Class ids, names and colours; the ignore id always maps to `ignore_color`."""

    ids: tuple[int, ...]
    names: tuple[str, ...]
    colors: tuple[tuple[int, int, int], ...]
    ignore_color: tuple[int, int, int] = (0, 0, 0)
    _tables: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self):
        if not (len(self.ids) == len(self.names) == len(self.colors)) or not self.ids:
            raise ValueError('palette needs the same non-zero number of ids, names and colors')
        if len(set(self.ids)) != len(self.ids):
            raise ValueError(f'palette ids must be unique, got {list(self.ids)}')
        if any(not 0 <= i < IGNORE_ID for i in self.ids):
            raise ValueError(f'palette ids must lie in 0..{IGNORE_ID - 1} ({IGNORE_ID} is reserved for ignore)')
        all_colors = list(self.colors) + [self.ignore_color]
        for c in all_colors:
            if len(c) != 3 or any(not 0 <= v <= 255 for v in c):
                raise ValueError(f'palette colour {c} is not an RGB triple in 0..255')
        if len(set(map(tuple, all_colors))) != len(all_colors):
            raise ValueError('palette colours (ignore colour included) must be distinct')
        self._tables.update(_build_tables(self))

    # ---- tables -------------------------------------------------------------------------------------------
    @property
    def entry_ids(self) -> np.ndarray:
        """Class id of each palette entry; the last entry is the ignore id."""
        return self._tables['entry_ids']

    @property
    def entry_colors(self) -> np.ndarray:
        """(K+1)x3 uint8 colours of the entries, ignore colour last."""
        return self._tables['entry_colors']

    # ---- numpy ---------------------------------------------------------------------------------------------
    def encode(self, labels: np.ndarray) -> np.ndarray:
        """Labels (...xHxW, integer ids) -> ...xHxWx3 uint8 colours; ids not in the palette paint as ignore."""
        labels = np.asarray(labels)
        if not np.issubdtype(labels.dtype, np.integer):
            raise TypeError(f'labels must be an integer array, got {labels.dtype}')
        lut = self._tables['encode_lut']
        # -1, -100 and the like are "ignore" elsewhere too; clipping them would paint road.
        return lut[np.where((labels < 0) | (labels > 255), IGNORE_ID, labels).astype(np.intp)]

    def decode(self, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """...xHxWx3 colours (integer levels, or float in [0, 1]) -> (uint8 labels of the nearest entry, float32
        confidence in [0, 1]); a non-finite colour decodes to ignore with confidence 0.
        """
        p = unit_rgb(rgb)
        shape = p.shape[:-1]
        broken = ~np.isfinite(p).all(axis=-1)
        x = np.rint(np.clip(np.nan_to_num(p), 0.0, 1.0) * 255.0).reshape(-1, 3)
        colors = self.entry_colors.astype(np.float32)
        d2 = (colors * colors).sum(1) - 2.0 * (x @ colors.T)      # as decode_torch: |x|^2 added after
        entry = d2.argmin(axis=1)
        rows = np.arange(len(x))
        nearest = d2[rows, entry]
        d2[rows, entry] = np.inf
        xx = (x * x).sum(1)
        confidence = _margin(np.maximum(nearest + xx, 0.0), np.maximum(d2.min(axis=1) + xx, 0.0)).reshape(shape)
        return (np.where(broken, np.uint8(IGNORE_ID), self.entry_ids[entry].reshape(shape)),
                np.where(broken, np.float32(0.0), confidence).astype(np.float32))

    # ---- torch (N x 3 x H x W, on any device) -----------------------------------------------------------------
    def encode_torch(self, labels: torch.Tensor) -> torch.Tensor:
        """Labels N x H x W (integer) -> N x 3 x H x W uint8 colours on the same device."""
        lut = self.device_table('encode_lut', labels.device)
        labels = labels.long()
        return lut[labels.masked_fill((labels < 0) | (labels > 255), IGNORE_ID)].permute(0, 3, 1, 2)

    def decode_torch(self, rgb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """N x 3 x H x W colours (integer levels, or float in [0, 1]) -> (N x H x W uint8 labels, float32
        confidence), as `decode`.
        """
        n, _, h, w = rgb.shape
        p = unit_rgb_torch(rgb)
        broken = ~torch.isfinite(p).all(dim=1)
        x = (torch.nan_to_num(p).clamp_(0.0, 1.0) * 255.0).round_().permute(0, 2, 3, 1).reshape(-1, 3)
        colors = self.device_table('entry_colors', rgb.device).float()
        # |c|^2 - 2 x.c per pixel and entry (one matrix product; exact in float32 for 8-bit levels), |x|^2 after
        d2 = torch.addmm((colors * colors).sum(1), x, colors.T, alpha=-2.0)
        xx = (x * x).sum(1)
        nearest, entry = d2.min(dim=1)
        second = d2.scatter_(1, entry[:, None], torch.inf).amin(dim=1)
        labels = self.device_table('entry_ids', rgb.device)[entry].view(n, h, w)
        confidence = _margin((nearest + xx).clamp(min=0.0), (second + xx).clamp(min=0.0)).view(n, h, w)
        return labels.masked_fill(broken, IGNORE_ID), confidence.masked_fill(broken, 0.0)

    def logits_torch(self, rgb: torch.Tensor) -> torch.Tensor:
        """N x 3 x H x W float RGB in [0, 1] -> N x K x H x W logits over the K class colours (not the ignore
        colour), -d^2 / (2 LIKELIHOOD_SIGMA^2) with d in 0..255 units, less each pixel's |rgb|^2 term, which is the
        same for every class and so changes no softmax; differentiable, for training losses too.
        """
        n, _, h, w = rgb.shape
        return self._pixel_logits(rgb.permute(0, 2, 3, 1).reshape(-1, 3)).view(n, h, w, -1).permute(0, 3, 1, 2)

    def probabilities_torch(self, answers: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """Answers for the same pixels, N x 3 x H x W float in [0, 1] each -> (N x K x H x W mean class
        probabilities over the K class colours, N x H x W bool: pixels not finite in some answer).
        """
        n, _, h, w = answers[0].shape
        broken = torch.zeros_like(answers[0][:, 0], dtype=torch.bool)
        total = 0.0
        for rgb in answers:
            p = unit_rgb_torch(rgb)
            broken |= ~torch.isfinite(p).all(dim=1)
            x = torch.nan_to_num(p).clamp_(0.0, 1.0).permute(0, 2, 3, 1).reshape(-1, 3)
            total = total + torch.softmax(self._pixel_logits(x), dim=1)   # pixels x classes: a contiguous softmax
        return (total / len(answers)).view(n, h, w, -1).permute(0, 3, 1, 2), broken

    def decode_pooled_torch(self, answers: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """Answers for the same pixels, N x 3 x H x W float in [0, 1] each -> (N x H x W uint8 labels of the
        class with the highest mean probability, float32 confidence: that probability); a pixel that is not
        finite in some answer decodes to ignore with confidence 0.
        """
        probabilities, broken = self.probabilities_torch(answers)
        confidence, entry = probabilities.max(dim=1)
        labels = self.device_table('entry_ids', entry.device)[entry]
        return labels.masked_fill(broken, IGNORE_ID), confidence.masked_fill(broken, 0.0)

    def _pixel_logits(self, x: torch.Tensor) -> torch.Tensor:
        """P x 3 RGB in [0, 1] -> P x K logits (2 x.c - |c|^2) / (2 sigma^2), in 0..255 units: one matrix product."""
        colors = self.device_table('entry_colors', x.device)[:-1].float() / 255.0
        scale = (255.0 / LIKELIHOOD_SIGMA) ** 2 / 2.0
        return torch.addmm((colors * colors).sum(1), x, colors.T, alpha=2.0 * scale, beta=-scale)

    def device_table(self, name: str, device: torch.device) -> torch.Tensor:
        """One of the palette's tables ('entry_colors', 'entry_ids', 'entry_of_id', 'encode_lut') as a tensor on
        `device`, copied there once.
        """
        return on_device(self._tables, name, device, lambda: torch.from_numpy(np.ascontiguousarray(self._tables[name])))

    # ---- YAML ----------------------------------------------------------------------------------------------
    @classmethod
    def from_yaml(cls, path: str | Path) -> 'Palette':
        """Load a palette file: `classes: [{id, name, color: [r, g, b]}, ...]`, optional `ignore_color`."""
        path = Path(path)
        try:
            data = yaml.safe_load(path.read_text())
            classes = data['classes']
            return cls(
                ids=tuple(int(c['id']) for c in classes),
                names=tuple(str(c['name']) for c in classes),
                colors=tuple(tuple(int(v) for v in c['color']) for c in classes),
                ignore_color=tuple(int(v) for v in data.get('ignore_color', (0, 0, 0))),
            )
        except (OSError, yaml.YAMLError, KeyError, TypeError, ValueError) as exc:
            raise ValueError(f'invalid palette file {path}: {exc}') from exc

    def to_yaml(self) -> str:
        """The palette as the YAML that `load_palette` reads."""
        classes = [{'id': i, 'name': n, 'color': list(c)} for i, n, c in zip(self.ids, self.names, self.colors)]
        return yaml.safe_dump({'classes': classes, 'ignore_color': list(self.ignore_color)},
                              sort_keys=False, default_flow_style=None)


def _margin(nearest_d2, second_d2):
    """(d2 - d1) / (d2 + d1) from the squared distances to the nearest and the runner-up entry (numpy or torch)."""
    d1, d2 = nearest_d2 ** 0.5, second_d2 ** 0.5
    return (d2 - d1) / (d2 + d1)


def _build_tables(palette: Palette) -> dict:
    entry_colors = np.array(list(palette.colors) + [palette.ignore_color], dtype=np.uint8)
    entry_ids = np.array(list(palette.ids) + [IGNORE_ID], dtype=np.uint8)

    encode_lut = np.tile(np.array(palette.ignore_color, np.uint8), (256, 1))
    encode_lut[entry_ids[:-1]] = entry_colors[:-1]

    entry_of_id = np.full(256, -100, np.int64)   # train id -> palette entry (-100, cross-entropy's ignore)
    entry_of_id[entry_ids[:-1]] = np.arange(len(palette.ids))
    return {'entry_colors': entry_colors, 'entry_ids': entry_ids, 'entry_of_id': entry_of_id,
            'encode_lut': encode_lut}


def cityscapes_palette() -> Palette:
    """The 19 Cityscapes training classes with their official colours."""
    names, colors = zip(*CITYSCAPES_CLASSES)
    return Palette(ids=tuple(range(len(names))), names=names, colors=colors)


CITYSCAPES = cityscapes_palette()


def load_palette(source: str | Path | None) -> Palette:
    """`None` or 'cityscapes' -> the default palette; anything else is a path to a palette YAML."""
    if source is None or str(source) == 'cityscapes':
        return CITYSCAPES
    return Palette.from_yaml(source)

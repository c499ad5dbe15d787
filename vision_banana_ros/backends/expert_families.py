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

"""What each supported model family's own image processor and `post_process_*` do, redone in torch
on the device so that a batch never leaves it. Read from transformers 5.24.0
(models/<family>/image_processing_*.py); test/test_expert_families.py holds every family to the
library's processor as the oracle.

A family's processor settings come from the checkpoint's preprocessor_config.json, read by
transformers' own PIL processor class, so that legacy keys (`"size": 1024`, `max_size`) and class
defaults mean what they mean there. Depth Pro has only a torchvision processor, which cannot be
built without torchvision: its settings are read from the JSON with that class's defaults (size
1536 x 1536, bilinear, mean and std 0.5).
"""

from __future__ import annotations

from dataclasses import dataclass
import json
import math
from pathlib import Path

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class Family:
    """A model family: its task, the transformers auto class that loads it and the processor it is
    paired with.
    """

    task: str
    auto_class: str
    processor: str


FAMILIES = {
    'segformer': Family(
        'segmentation', 'AutoModelForSemanticSegmentation', 'SegformerImageProcessorPil'
    ),
    'mask2former': Family(
        'segmentation', 'AutoModelForUniversalSegmentation', 'Mask2FormerImageProcessorPil'
    ),
    'depth_anything': Family('depth', 'AutoModelForDepthEstimation', 'DPTImageProcessorPil'),
    'zoedepth': Family('depth', 'AutoModelForDepthEstimation', 'ZoeDepthImageProcessorPil'),
    'glpn': Family('depth', 'AutoModelForDepthEstimation', 'GLPNImageProcessorPil'),
    'depth_pro': Family('depth', 'AutoModelForDepthEstimation', 'DepthProImageProcessor'),
}

# Families transformers has but whose answers this backend cannot reproduce faithfully: refused,
# never guessed.
REFUSED = {
    'oneformer': 'OneFormer needs its task text ("the task is semantic") tokenised by its CLIP '
    'tokenizer, which this backend does not run yet',
    'dpt': 'DPT checkpoints predict relative inverse depth (no scale)',
}

_MODES = {2: 'bilinear', 3: 'bicubic'}  # PIL resampling codes the supported processors use
DEPTH_PRO_DEFAULTS = {
    'size': {'height': 1536, 'width': 1536},
    'resample': 2,
    'image_mean': [0.5] * 3,
    'image_std': [0.5] * 3,
    'do_normalize': True,
}


def family_of(config, path: str, task: str) -> str:
    """The family of a loaded checkpoint's config; ValueError naming the checkpoint when
    unsupported.
    """
    kind = config.model_type
    if kind in REFUSED:
        raise ValueError(f'checkpoint {path!r} ({kind}): {REFUSED[kind]}')
    if kind not in FAMILIES or FAMILIES[kind].task != task:
        supported = [name for name, family in FAMILIES.items() if family.task == task]
        raise ValueError(
            f'checkpoint {path!r} is a {kind} model; {task} supports {", ".join(supported)}'
        )
    return kind


@dataclass(frozen=True)
class Preprocessing:
    """The settings of a checkpoint's processor that decide its pixel_values.

    size: {'height', 'width'} or {'shortest_edge', 'longest_edge'} as the processor holds it (None:
    GLPN, which keeps the image size); multiple: DPT's and ZoeDepth's ensure_multiple_of (rounded),
    GLPN's size_divisor (floored), Mask2Former's size_divisor (ceiled).
    """

    family: str
    size: dict | None
    mode: str
    mean: tuple[float, float, float] | None
    std: tuple[float, float, float] | None
    keep_aspect_ratio: bool = False
    multiple: float = 1
    pad: bool = False

    @classmethod
    def read(cls, family: str, path: str | Path) -> 'Preprocessing':
        """The preprocessing of `family` as the checkpoint's preprocessor_config.json sets it; ValueError
        without one (a processor's class defaults are not the checkpoint's: another size and normalisation).
        """
        config = Path(path) / 'preprocessor_config.json'
        if not config.is_file():
            raise ValueError(f'checkpoint {path} has no preprocessor_config.json: the {family} model cannot be '
                             'fed as it was trained (copy the file from the checkpoint it came from)')
        if family == 'depth_pro':
            data = {**DEPTH_PRO_DEFAULTS, **json.loads(config.read_text())}
            size = (
                data['size']
                if isinstance(data['size'], dict)
                else {'height': data['size'], 'width': data['size']}
            )
            normalise = data['do_normalize']
            return cls(
                family,
                size,
                _MODES[data['resample']],
                tuple(data['image_mean']) if normalise else None,
                tuple(data['image_std']) if normalise else None,
            )
        import transformers

        processor_class = getattr(transformers, FAMILIES[family].processor)
        p = processor_class.from_pretrained(str(path))
        size = None
        if family != 'glpn':
            size = {k: v for k, v in dict(p.size).items() if v is not None}
        multiple = getattr(
            p,
            {'glpn': 'size_divisor', 'mask2former': 'size_divisor'}.get(
                family, 'ensure_multiple_of'
            ),
            1,
        )
        normalise = bool(p.do_normalize) and p.image_mean is not None
        return cls(
            family,
            size,
            _MODES[int(p.resample)],
            tuple(_three(p.image_mean)) if normalise else None,
            tuple(_three(p.image_std)) if normalise else None,
            keep_aspect_ratio=bool(getattr(p, 'keep_aspect_ratio', False)),
            multiple=multiple,
            pad=bool(getattr(p, 'do_pad', False)) and family == 'zoedepth',
        )

    def zoe_padding(self, height: int, width: int) -> tuple[int, int]:
        """ZoeDepth's reflection padding of an image of this size (and what its post-processing
        cuts off).
        """
        return (
            (int(math.sqrt(height / 2) * 3), int(math.sqrt(width / 2) * 3)) if self.pad else (0, 0)
        )

    def input_size(
        self, height: int, width: int, override: tuple[int, int] | None = None
    ) -> tuple[int, int]:
        """(H, W) of the pixel_values the processor makes from an image of this size; with
        `override`, that size
        instead of the processor's own, only made a size the family's network takes.
        """
        if self.family == 'zoedepth':
            ph, pw = self.zoe_padding(height, width)
            height, width = height + 2 * ph, width + 2 * pw
        if override is not None and self.family != 'depth_pro':   # Depth Pro's patch encoder needs its own size
            h, w = override
            if self.family in ('depth_anything', 'zoedepth'):
                return _multiple_of(h, self.multiple), _multiple_of(w, self.multiple)
            if self.family == 'glpn':
                return _floor(max(h, self.multiple), self.multiple), _floor(
                    max(w, self.multiple), self.multiple
                )
            if self.family == 'mask2former':
                return _ceil(h, self.multiple), _ceil(w, self.multiple)
            return h, w
        if self.family == 'glpn':
            return _floor(height, self.multiple), _floor(width, self.multiple)
        if 'shortest_edge' in self.size:
            h, w = _shortest_edge(
                height, width, self.size['shortest_edge'], self.size.get('longest_edge')
            )
            return _ceil(h, self.multiple), _ceil(w, self.multiple)
        if self.family == 'mask2former':    # its processor rounds a fixed size up to the divisor, as shortest_edge
            return _ceil(self.size['height'], self.multiple), _ceil(self.size['width'], self.multiple)
        sh, sw = self.size['height'] / height, self.size['width'] / width
        if self.keep_aspect_ratio:  # the scale nearer to 1 for both sides
            sh = sw = sw if abs(1 - sw) < abs(1 - sh) else sh
        return _multiple_of(sh * height, self.multiple), _multiple_of(sw * width, self.multiple)

    def pixel_values(self, images: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        """N x 3 x H x W in [0, 1] -> the network's input at `size` (from `input_size`)."""
        if (
            self.family == 'depth_pro'
        ):  # normalises first, then a torchvision resize without antialiasing
            return F.interpolate(
                self._normalise(images), size=size, mode=self.mode, align_corners=False
            )
        if self.family == 'zoedepth':  # reflection pad, then torch's resize with corners aligned
            ph, pw = self.zoe_padding(*images.shape[-2:])
            x = F.pad(images, (pw, pw, ph, ph), mode='reflect') if ph or pw else images
            return self._normalise(F.interpolate(x, size=size, mode=self.mode, align_corners=True))
        # PIL resizes the 8-bit image with antialiasing (torch's antialias follows PIL's kernels)
        # in two passes, rows first, each rounded to 8 bits
        x = images
        for pass_size in ((x.shape[-2], size[1]), size):
            if tuple(x.shape[-2:]) != tuple(pass_size):
                x = F.interpolate(
                    x, size=pass_size, mode=self.mode, align_corners=False, antialias=True
                )
                x = x.mul(255.0).round_().clamp_(0.0, 255.0).div_(255.0)
        return self._normalise(x)

    def _normalise(self, x: torch.Tensor) -> torch.Tensor:
        if self.mean is None:
            return x
        mean = torch.tensor(self.mean, device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
        std = torch.tensor(self.std, device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
        return (x - mean) / std


def _three(value) -> list[float]:
    return list(value) if isinstance(value, (list, tuple)) else [value] * 3


def _multiple_of(value: float, multiple: float) -> int:
    """DPT's and ZoeDepth's constrain_to_multiple_of (ZoeDepth's class default multiple is 1/32,
    then truncated).
    """
    return int(round(value / multiple) * multiple)


def _ceil(value: int, multiple: float) -> int:
    return int(math.ceil(value / multiple) * multiple)


def _floor(value: int, multiple: float) -> int:
    return int(value // multiple * multiple)


def _shortest_edge(height: int, width: int, size: int, max_size: int | None) -> tuple[int, int]:
    """transformers.image_transforms.get_size_with_aspect_ratio."""
    raw = None
    if max_size is not None:
        small, large = float(min(height, width)), float(max(height, width))
        if large / small * size > max_size:
            raw = max_size * small / large
            size = int(round(raw))
    if (height <= width and height == size) or (width <= height and width == size):
        return height, width
    if width < height:
        return int((raw or size) * height / width), size
    return size, int((raw or size) * width / height)


def semantic_scores(family: str, outputs, size: tuple[int, int]) -> torch.Tensor:
    """Class scores N x C x H x W at `size` as post_process_semantic_segmentation computes them
    before its
    arg-max: SegFormer's logits resized; Mask2Former's query masks at 384 x 384 weighted by their
    class probabilities (no-object left out), then resized.
    """
    logits = outputs.masks_queries_logits if family == 'mask2former' else outputs.logits
    # in float32 under the engine's fp16/bf16 autocast too, which would run the einsum in half precision
    with torch.autocast(logits.device.type, enabled=False):
        if family == 'mask2former':
            masks = F.interpolate(logits.float(), size=(384, 384), mode='bilinear', align_corners=False)
            classes = outputs.class_queries_logits.float().softmax(dim=-1)[..., :-1]
            scores = torch.einsum('bqc, bqhw -> bchw', classes, masks.sigmoid())
        else:
            scores = logits.float()
        return F.interpolate(scores, size=size, mode='bilinear', align_corners=False)


def semantic_confidence(family: str, scores: torch.Tensor) -> torch.Tensor:
    """The winning class's share: its softmax probability for logits, its part of the summed
    mask-weighted
    probabilities for Mask2Former (whose scores are already probabilities, not logits).
    """
    if family == 'mask2former':
        return scores.max(dim=1).values / scores.sum(dim=1).clamp(min=1e-12)
    return scores.softmax(dim=1).max(dim=1).values


def metric_depth(
    pre: Preprocessing, outputs, size: tuple[int, int], focal_px: list[float | None] | None = None
) -> torch.Tensor:
    """Metres N x H x W at `size` (the size the processor was given) as
    post_process_depth_estimation gives them.

    Depth Pro's predicted_depth is inverse depth in canonical units: times width / focal length (in
    pixels at `size`), resized, inverted. The focal length is `focal_px[i]` where given (the
    camera's, known), else the one from the predicted field of view.
    """
    depth = outputs.predicted_depth.float()[:, None]
    if pre.family == 'depth_pro':
        focal = [None] * len(depth) if focal_px is None else focal_px
        fov = outputs.field_of_view
        scale = []
        for i, known in enumerate(focal):
            if known is None:
                if fov is None:
                    raise ValueError(
                        'Depth Pro without its field-of-view head needs the focal length: '
                        'give the camera intrinsics'
                    )
                known = 0.5 * size[1] / torch.tan(0.5 * torch.deg2rad(fov[i].float()))
            scale.append(torch.as_tensor(size[1] / known, dtype=depth.dtype, device=depth.device))
        depth = depth * torch.stack(scale).view(-1, 1, 1, 1)
        depth = F.interpolate(depth, size=size, mode=pre.mode, align_corners=False)
        return 1.0 / depth[:, 0].clamp(min=1e-4, max=1e4)
    if (
        pre.family == 'zoedepth'
    ):  # to the padded source size, padding cut off, then to the target size
        ph, pw = pre.zoe_padding(*size)
        depth = F.interpolate(
            depth, size=(size[0] + 2 * ph, size[1] + 2 * pw), mode='bicubic', align_corners=False
        )
        depth = depth[..., ph:depth.shape[-2] - ph, pw:depth.shape[-1] - pw]
        return depth[:, 0]
    return F.interpolate(depth, size=size, mode='bicubic', align_corners=False)[:, 0]

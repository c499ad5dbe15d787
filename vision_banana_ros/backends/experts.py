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

"""The experts backend: one public model per task, loaded with Hugging Face `transformers` from a
checkpoint directory or a hub id pulled before (`checkpoints.resolve`, offline), safetensors
weights in float32.

- segmentation: a Cityscapes-trained SegFormer (`AutoModelForSemanticSegmentation`) or Mask2Former
  semantic (`AutoModelForUniversalSegmentation`) checkpoint, its classes matched to the palette by
  name (`id2label`; generic LABEL_k names are taken in train-id order).
- depth: a metric `AutoModelForDepthEstimation` checkpoint (Depth Anything V2 metric, ZoeDepth,
  GLPN, Depth Pro); relative-depth ones (disparity, no scale) are refused.
- normals: derived from the predicted depth with each frame's intrinsics (from its CameraInfo, as
  the engine passes them), else with `hfov_deg`; they need the depth checkpoint.

Each model sees what its own processor would make of the frame and its answers are post-processed
as its `post_process_*` does (`expert_families`). By default each batch is handed over at its
frames' own size and every model resizes it by its processor's rule; `processing_size` instead
makes that the models' input size (rounded to what each network takes), for speed. The RGB
encodings for display are made with the unified model's codecs.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
import re

import torch

from .base import Backend, DenseOutputs
from .checkpoints import resolve
from .expert_families import (
    FAMILIES,
    family_of,
    metric_depth,
    Preprocessing,
    semantic_confidence,
    semantic_scores,
)
from ..codecs import CITYSCAPES, encode_depth_uint8_torch, encode_normals_uint8_torch, Palette
from ..geometry.depth_normals import normals_from_depth
from ..geometry.intrinsics import Intrinsics


def _load(
    name: str, task: str, device: torch.device, cache_dir
) -> tuple[torch.nn.Module, Preprocessing]:
    import transformers

    path = resolve(name, cache_dir)
    try:
        config = transformers.AutoConfig.from_pretrained(path)
    except (OSError, ValueError) as exc:
        raise ValueError(
            f'cannot load {task} checkpoint {name!r}: {str(exc).splitlines()[0]}'
        ) from None
    family = family_of(config, name, task)
    if family == 'depth_anything' and getattr(config, 'depth_estimation_type', None) != 'metric':
        raise ValueError(
            f'depth checkpoint {name!r} (depth_anything) predicts relative depth (no scale): '
            'give a metric one (depth_estimation_type "metric", e.g. Depth-Anything-V2-Metric-*)'
        )
    loader = getattr(transformers, FAMILIES[family].auto_class)
    try:
        # float32 whatever the file stores (precision is the engine's autocast); never unpickled
        # weights
        model = loader.from_pretrained(path, dtype=torch.float32, use_safetensors=True)
    except (OSError, ValueError) as exc:
        raise ValueError(
            f'cannot load {task} checkpoint {name!r}: {str(exc).splitlines()[0]}'
        ) from None
    return model.to(device).eval(), Preprocessing.read(family, path)


def _palette_order(config, palette: Palette, path: str) -> list[int]:
    """Palette entry of each of the checkpoint's classes, matched by name."""
    names = [str(config.id2label[i]) for i in range(config.num_labels)]
    if len(names) != len(palette.ids):
        raise ValueError(
            f'segmentation checkpoint {path!r} has {len(names)} classes; the palette has '
            f'{len(palette.ids)}'
        )
    if all(
        re.fullmatch(r'LABEL_\d+', name) for name in names
    ):  # saved without names: train-id order
        return list(range(len(names)))

    def simple(name):
        return re.sub(r'[\s_-]+', ' ', name.strip().lower())
    entry = {simple(name): i for i, name in enumerate(palette.names)}
    unknown = [name for name in names if simple(name) not in entry]
    if unknown or len({simple(n) for n in names}) != len(names):
        raise ValueError(
            f'segmentation checkpoint {path!r}: classes {unknown or names} do not match the '
            f'palette ({", ".join(palette.names)})'
        )
    return [entry[simple(name)] for name in names]


class ExpertsBackend(Backend):
    """A segmentation and/or a metric depth checkpoint run as their own processors would run
    them.
    """

    name = 'experts'

    def __init__(
        self,
        segmentation: str | None = None,
        depth: str | None = None,
        device: str | torch.device = 'cpu',
        processing_size: tuple[int, int] | None = None,
        hfov_deg: float = 90.0,
        palette: Palette = CITYSCAPES,
        cache_dir: str | Path | None = None,
    ):
        if not segmentation and not depth:
            raise ValueError(
                'experts backend: give at least one checkpoint (segmentation_model or depth_model)'
            )
        self.device = torch.device(device)
        self.processing_size = tuple(processing_size) if processing_size else None
        self.palette = palette
        self.hfov_deg = hfov_deg
        self.segmentation = self.depth = None
        self.focal_sources: Counter = (
            Counter()
        )  # Depth Pro: where each frame's focal length came from
        if segmentation:
            self.segmentation, self.segmentation_pre = _load(
                segmentation, 'segmentation', self.device, cache_dir
            )
            order = _palette_order(self.segmentation.config, palette, segmentation)
            # class_probabilities: the checkpoint's class for each palette entry (the inverse of `order`)
            self.palette_order = torch.as_tensor(sorted(range(len(order)), key=order.__getitem__),
                                                 device=self.device)
            self.class_ids = torch.as_tensor(
                [palette.ids[i] for i in order], dtype=torch.uint8, device=self.device
            )
        if depth:
            self.depth, self.depth_pre = _load(depth, 'depth', self.device, cache_dir)
        self.tasks = tuple(
            t
            for t, ok in (
                ('segmentation', self.segmentation),
                ('depth', self.depth),
                ('normals', self.depth),
            )
            if ok is not None
        )

    def models(self) -> list[torch.nn.Module]:
        """The loaded expert networks (segmentation and/or depth)."""
        return [m for m in (self.segmentation, self.depth) if m is not None]

    def diagnostics(self) -> dict[str, str]:
        """Depth Pro's focal length per frame of the last batch, for the node's diagnostics."""
        if self.depth is None or self.depth_pre.family != 'depth_pro':
            return {}
        return {
            'depth_pro_focal_length': ', '.join(
                f'{k}: {v}' for k, v in sorted(self.focal_sources.items())
            )
            or 'no frame yet'
        }

    def _input(self, pre: Preprocessing, images: torch.Tensor) -> torch.Tensor:
        return pre.pixel_values(images, pre.input_size(*images.shape[-2:], self.processing_size))

    @torch.inference_mode()
    def forward(self, images: torch.Tensor, tasks: tuple[str, ...], intrinsics=None) -> dict:
        """Run the experts for `tasks` on a batch; raw scores and depth at the batch's size."""
        raw, size = {'size': tuple(images.shape[-2:])}, tuple(images.shape[-2:])
        if 'segmentation' in tasks:
            outputs = self.segmentation(pixel_values=self._input(self.segmentation_pre, images))
            raw['segmentation'] = semantic_scores(self.segmentation_pre.family, outputs, size)
        if 'depth' in tasks or 'normals' in tasks:
            raw['depth'] = self.depth(pixel_values=self._input(self.depth_pre, images))
        return raw

    @torch.inference_mode()
    def class_probabilities(self, raw: dict) -> torch.Tensor:
        """The segmentation checkpoint's class probabilities, reordered into the palette's order."""
        scores = raw['segmentation']
        if self.segmentation_pre.family == 'mask2former':   # mask-weighted probabilities already
            probabilities = scores / scores.sum(dim=1, keepdim=True).clamp(min=1e-12)
        else:
            probabilities = scores.softmax(dim=1)
        return probabilities[:, self.palette_order]

    def _focal_lengths(self, cameras: list, width: int) -> list[float | None] | None:
        """Depth Pro: each frame's known focal length in pixels (None: the predicted field of
        view's), counted.
        """
        if self.depth_pre.family != 'depth_pro':
            return None
        has_fov = getattr(self.depth.config, 'use_fov_model', False)
        fallback = Intrinsics.from_fov(width, width, self.hfov_deg).fx
        focal = []
        for camera in cameras:
            # the node always gives a camera: its CameraInfo's, else its fallback_hfov_deg's
            source = (
                'given_camera'
                if camera is not None
                else 'predicted_fov' if has_fov else 'fallback_hfov'
            )
            self.focal_sources[source] += 1
            focal.append(camera.fx if camera is not None else None if has_fov else fallback)
        return focal

    @torch.inference_mode()
    def decode(self, raw: dict, tasks: tuple[str, ...], intrinsics=None) -> DenseOutputs:
        """Labels, confidence and metric depth from the raw expert outputs."""
        out, size = DenseOutputs(), raw['size']
        if 'segmentation' in tasks:
            family = self.segmentation_pre.family
            out.labels = self.class_ids[raw['segmentation'].argmax(dim=1)]
            out.confidence = semantic_confidence(family, raw['segmentation'])
            out.encodings['segmentation'] = self.palette.encode_torch(out.labels)
        if 'depth' in tasks or 'normals' in tasks:
            cameras = intrinsics or [None] * len(raw['depth'].predicted_depth)
            metres = metric_depth(
                self.depth_pre, raw['depth'], size, self._focal_lengths(cameras, size[1])
            )
            depth = torch.where(metres > 0, metres, torch.nan)
            if 'depth' in tasks:
                out.depth = depth
                out.encodings['depth'] = encode_depth_uint8_torch(depth)
            if 'normals' in tasks:
                fallback = Intrinsics.from_fov(size[1], size[0], self.hfov_deg)
                out.normals = torch.cat(
                    [
                        normals_from_depth(d[None], camera or fallback)
                        for d, camera in zip(depth, cameras)
                    ]
                )
                out.encodings['normals'] = encode_normals_uint8_torch(out.normals)
        return out

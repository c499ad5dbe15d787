"""The experts backend: one open model per task, loaded with Hugging Face `transformers` from local checkpoint
directories (safetensors weights, in float32).

- segmentation: any `AutoModelForSemanticSegmentation` checkpoint trained on the 19 Cityscapes classes
  (SegFormer, ...), its classes matched to the palette by name (`id2label`; generic LABEL_k names are taken in
  train-id order); logits are upsampled, arg-maxed, and the softmax maximum is the confidence.
- depth: a metric `AutoModelForDepthEstimation` checkpoint (Depth Anything V2 metric, ZoeDepth, GLPN, Depth
  Pro); relative-depth ones (disparity, no scale) are refused. Its input is resized to a multiple of the patch
  size.
- normals: derived from the predicted depth with each frame's intrinsics (from its CameraInfo, as the engine
  passes them), else with `hfov_deg`; they need the depth checkpoint.

Normalisation constants come from the checkpoint's preprocessor_config.json when it has one, else ImageNet's.
The RGB encodings for display are made with the same codecs as the unified model's answers.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import torch
import torch.nn.functional as F

from ..codecs import (CITYSCAPES, Palette, encode_depth_uint8_torch, encode_normals_uint8_torch)
from ..geometry.depth_normals import normals_from_depth
from ..geometry.intrinsics import Intrinsics
from .base import Backend, DenseOutputs

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
METRIC_DEPTH_MODELS = ('zoedepth', 'glpn', 'depth_pro')  # model types whose output is metres by design


def _normalisation(path: str, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    config = Path(path) / 'preprocessor_config.json'
    data = json.loads(config.read_text()) if config.is_file() else {}
    if data.get('do_normalize', True) is False:
        return torch.zeros(1, 3, 1, 1, device=device), torch.ones(1, 3, 1, 1, device=device)
    three = lambda v: torch.tensor(v if isinstance(v, (list, tuple)) else [v] * 3, device=device).view(1, 3, 1, 1)
    return three(data.get('image_mean', IMAGENET_MEAN)), three(data.get('image_std', IMAGENET_STD))


def _load(kind: str, path: str, device: torch.device):
    import transformers
    loader = getattr(transformers, kind)
    try:
        # float32 whatever the file stores (precision is the engine's autocast); never unpickled weights
        model = loader.from_pretrained(path, dtype=torch.float32, use_safetensors=True)
    except (OSError, ValueError) as exc:
        raise ValueError(f'cannot load {kind} checkpoint {path!r}: {str(exc).splitlines()[0]}') from None
    return model.to(device).eval()


def _is_metric(config) -> bool:
    kind = getattr(config, 'depth_estimation_type', None)
    return kind == 'metric' if kind is not None else config.model_type in METRIC_DEPTH_MODELS


def _palette_order(config, palette: Palette, path: str) -> list[int]:
    """Palette entry of each of the checkpoint's classes, matched by name."""
    names = [str(config.id2label[i]) for i in range(config.num_labels)]
    if len(names) != len(palette.ids):
        raise ValueError(f'segmentation checkpoint {path!r} has {len(names)} classes; the palette has '
                         f'{len(palette.ids)}')
    if all(re.fullmatch(r'LABEL_\d+', name) for name in names):   # saved without names: train-id order
        return list(range(len(names)))
    simple = lambda name: re.sub(r'[\s_-]+', ' ', name.strip().lower())
    entry = {simple(name): i for i, name in enumerate(palette.names)}
    unknown = [name for name in names if simple(name) not in entry]
    if unknown or len({simple(n) for n in names}) != len(names):
        raise ValueError(f'segmentation checkpoint {path!r}: classes {unknown or names} do not match the palette '
                         f'({", ".join(palette.names)})')
    return [entry[simple(name)] for name in names]


class ExpertsBackend(Backend):
    name = 'experts'

    def __init__(self, segmentation: str | None = None, depth: str | None = None, device: str | torch.device = 'cpu',
                 processing_size: tuple[int, int] = (384, 512), hfov_deg: float = 90.0,
                 palette: Palette = CITYSCAPES):
        if not segmentation and not depth:
            raise ValueError('experts backend: give at least one checkpoint (segmentation_model or depth_model)')
        self.device = torch.device(device)
        self.processing_size = tuple(processing_size)
        self.palette = palette
        self.intrinsics = Intrinsics.from_fov(self.processing_size[1], self.processing_size[0], hfov_deg)
        self.segmentation = self.depth = None
        if segmentation:
            self.segmentation = _load('AutoModelForSemanticSegmentation', segmentation, self.device)
            order = _palette_order(self.segmentation.config, palette, segmentation)
            self.class_ids = torch.as_tensor([palette.ids[i] for i in order], dtype=torch.uint8, device=self.device)
            self.segmentation_norm = _normalisation(segmentation, self.device)
        if depth:
            self.depth = _load('AutoModelForDepthEstimation', depth, self.device)
            if not _is_metric(self.depth.config):
                raise ValueError(f'depth checkpoint {depth!r} ({self.depth.config.model_type}) predicts relative depth '
                                 '(no scale): give a metric one (depth_estimation_type "metric", or one of '
                                 f'{", ".join(METRIC_DEPTH_MODELS)})')
            self.depth_norm = _normalisation(depth, self.device)
            config = self.depth.config
            patch = getattr(getattr(config, 'backbone_config', None), 'patch_size', None) or getattr(
                config, 'patch_size', None)
            self.depth_multiple = int(patch or 1)
        self.tasks = tuple(t for t, ok in (('segmentation', self.segmentation), ('depth', self.depth),
                                           ('normals', self.depth)) if ok is not None)

    def models(self) -> list[torch.nn.Module]:
        return [m for m in (self.segmentation, self.depth) if m is not None]

    @torch.inference_mode()
    def forward(self, images: torch.Tensor, tasks: tuple[str, ...]) -> dict[str, torch.Tensor]:
        raw, size = {}, images.shape[-2:]
        if 'segmentation' in tasks:
            mean, std = self.segmentation_norm
            logits = self.segmentation(pixel_values=(images - mean) / std).logits
            raw['segmentation'] = F.interpolate(logits.float(), size=size, mode='bilinear', align_corners=False)
        if 'depth' in tasks or 'normals' in tasks:
            mean, std = self.depth_norm
            m = self.depth_multiple
            inner = (max(m, round(size[0] / m) * m), max(m, round(size[1] / m) * m))
            x = F.interpolate((images - mean) / std, size=inner, mode='bilinear', align_corners=False)
            depth = self.depth(pixel_values=x).predicted_depth.float()
            raw['depth'] = F.interpolate(depth[:, None], size=size, mode='bilinear', align_corners=False)[:, 0]
        return raw

    @torch.inference_mode()
    def decode(self, raw: dict[str, torch.Tensor], tasks: tuple[str, ...], intrinsics=None) -> DenseOutputs:
        out = DenseOutputs()
        if 'segmentation' in tasks:
            probability, index = raw['segmentation'].softmax(dim=1).max(dim=1)
            out.labels, out.confidence = self.class_ids[index], probability
            out.encodings['segmentation'] = self.palette.encode_torch(out.labels)
        if 'depth' in tasks or 'normals' in tasks:
            depth = torch.where(raw['depth'] > 0, raw['depth'], torch.nan)
            if 'depth' in tasks:
                out.depth = depth
                out.encodings['depth'] = encode_depth_uint8_torch(depth)
            if 'normals' in tasks:
                cameras = intrinsics or [None] * len(depth)
                out.normals = torch.cat([normals_from_depth(d[None], camera or self.intrinsics)
                                         for d, camera in zip(depth, cameras)])
                out.encodings['normals'] = encode_normals_uint8_torch(out.normals)
        return out

"""The experts backend: one open model per task, loaded with Hugging Face `transformers` from local checkpoint
directories (or hub ids on a machine with internet).

- segmentation: any `AutoModelForSemanticSegmentation` checkpoint trained on the 19 Cityscapes train ids
  (SegFormer, ...); logits are upsampled, arg-maxed, and the softmax maximum is the confidence.
- depth: any metric `AutoModelForDepthEstimation` checkpoint (Depth Anything V2 metric, ...); its input is resized
  to a multiple of the backbone's patch size.
- normals: derived from the predicted depth with intrinsics from `hfov_deg` (there is no camera model inside a
  backend: the engine's images are already resized), so they need the depth checkpoint.

Normalisation constants come from the checkpoint's preprocessor_config.json when it has one, else ImageNet's.
The RGB encodings for display are made with the same codecs as the unified model's answers.
"""
from __future__ import annotations

import json
from pathlib import Path

import torch
import torch.nn.functional as F

from ..codecs import (CITYSCAPES, Palette, encode_depth_uint8_torch, encode_normals_uint8_torch)
from ..geometry.depth_normals import normals_from_depth
from ..geometry.intrinsics import Intrinsics
from .base import Backend, DenseOutputs

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def _normalisation(path: str, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    config = Path(path) / 'preprocessor_config.json'
    data = json.loads(config.read_text()) if config.is_file() else {}
    mean = torch.tensor(data.get('image_mean', IMAGENET_MEAN), device=device).view(1, 3, 1, 1)
    std = torch.tensor(data.get('image_std', IMAGENET_STD), device=device).view(1, 3, 1, 1)
    return mean, std


def _load(kind: str, path: str, device: torch.device):
    import transformers
    loader = getattr(transformers, kind)
    try:
        model = loader.from_pretrained(path)
    except (OSError, ValueError) as exc:
        raise ValueError(f'cannot load {kind} checkpoint {path!r}: {str(exc).splitlines()[0]}') from None
    return model.to(device).eval()


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
            if self.segmentation.config.num_labels != len(palette.ids):
                raise ValueError(f'segmentation checkpoint {segmentation!r} has {self.segmentation.config.num_labels} '
                                 f'classes; the palette has {len(palette.ids)}')
            self.segmentation_norm = _normalisation(segmentation, self.device)
        if depth:
            self.depth = _load('AutoModelForDepthEstimation', depth, self.device)
            self.depth_norm = _normalisation(depth, self.device)
            backbone = getattr(self.depth.config, 'backbone_config', None)
            self.depth_multiple = int(getattr(backbone, 'patch_size', 1) or 1)
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
    def decode(self, raw: dict[str, torch.Tensor], tasks: tuple[str, ...]) -> DenseOutputs:
        out = DenseOutputs()
        if 'segmentation' in tasks:
            probability, index = raw['segmentation'].softmax(dim=1).max(dim=1)
            ids = torch.as_tensor(self.palette.ids, dtype=torch.uint8, device=self.device)
            out.labels, out.confidence = ids[index], probability
            out.encodings['segmentation'] = self.palette.encode_torch(out.labels)
        if 'depth' in tasks or 'normals' in tasks:
            depth = torch.where(raw['depth'] > 0, raw['depth'], torch.nan)
            if 'depth' in tasks:
                out.depth = depth
                out.encodings['depth'] = encode_depth_uint8_torch(depth)
            if 'normals' in tasks:
                out.normals = normals_from_depth(depth, self.intrinsics)
                out.encodings['normals'] = encode_normals_uint8_torch(out.normals)
        return out

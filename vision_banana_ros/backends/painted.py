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

"""Decoding painted answers: what the unified network answers (an RGB image per task, in [0, 1]) turned back into
labels, metres and unit vectors by the codecs, on the device. Shared by the backends whose answers are painted: the
network in this process (`unified`) and the same network served by Triton (`triton`).

With `mirror_average` a batch holds each image twice, as it is and mirrored left-right (the first and the second
half), and the two answers are averaged in a space where averaging means something: class probabilities from the
painted colours, depth along the power transform (two points of the Hilbert walk can lie far apart in RGB), normal
vectors as painted (x mirrored back). The encodings are then the averaged answer painted again.

Answers that paint depth for a canonical camera (`canonical_focal`, `model.canonical`) have each image's depth
scaled by its camera's focal length in pixels at the processing size (from the intrinsics the engine passes:
CameraInfo, else the node's fallback_hfov_deg), so that a network run at another size than it was trained at keeps
its metres; an image without intrinsics is taken to have the canonical 70 deg field of view.
"""
from __future__ import annotations

import torch

from .base import DenseOutputs
from ..codecs import decode_depth_pooled_torch, decode_depth_torch, decode_normals_torch, encode_depth_uint8_torch
from ..model.canonical import CANONICAL_FOCAL, canonical_focal_at, focal_of


class PaintedAnswers:
    """Decode for a backend with `palette`, `mirror_average` and `canonical_focal` (None: metres painted), in widths
    of `canonical_width` pixels (the depth network's trained width; None: the processed images' width).
    """

    canonical_width: int | None = None

    @torch.inference_mode()
    def class_probabilities(self, raw: dict[str, torch.Tensor]) -> torch.Tensor:
        """The painted segmentation's class probabilities (averaged with the mirror image's, as `decode` does)."""
        rgb = raw['segmentation'].float()
        if self.mirror_average:
            rgb, mirrored = rgb.chunk(2)
            return self.palette.probabilities_torch([rgb, mirrored.flip(-1)])[0]
        return self.palette.probabilities_torch([rgb])[0]

    def _focal_scale(self, intrinsics, count: int, width: int, device: torch.device) -> torch.Tensor:
        """Per image processed at `width`, metres over canonical depth (model.canonical): its focal length over the
        canonical one, in pixels at that width.
        """
        cameras = intrinsics or [None] * count
        canonical = canonical_focal_at(self.canonical_focal, self.canonical_width or width, width)
        focal = [CANONICAL_FOCAL if c is None else focal_of(c.fx, c.width) for c in cameras]
        return torch.tensor(focal, device=device)[:, None, None] / canonical

    @torch.inference_mode()
    def decode(self, raw: dict[str, torch.Tensor], tasks: tuple[str, ...], intrinsics=None) -> DenseOutputs:
        # The network paints normals from the image alone: intrinsics are not needed for them.
        """Decode the painted answers into labels, depth and normals."""
        out = DenseOutputs()
        for task in tasks:
            rgb, mirrored = raw[task].float(), None
            if self.mirror_average:
                rgb, mirrored = rgb.chunk(2)
                mirrored = mirrored.flip(-1)
            if task == 'segmentation':
                if mirrored is None:
                    # the class colours only, as training scores them: the network is never taught the ignore
                    # colour, so a dark class painted a little darker must not decode as unknown
                    out.encodings[task] = (rgb * 255.0).round_().to(torch.uint8)
                    out.labels, out.confidence = self.palette.decode_pooled_torch([rgb])
                else:
                    out.labels, out.confidence = self.palette.decode_pooled_torch([rgb, mirrored])
                    out.encodings[task] = self.palette.encode_torch(out.labels)
            elif task == 'depth':
                if mirrored is None:
                    out.depth = decode_depth_torch(rgb)
                else:
                    out.depth, rgb = decode_depth_pooled_torch([rgb, mirrored])
                if self.canonical_focal is None:
                    out.encodings[task] = (rgb * 255.0).round_().to(torch.uint8)
                else:
                    out.depth = out.depth * self._focal_scale(intrinsics, len(out.depth), out.depth.shape[-1],
                                                               out.depth.device)
                    out.encodings[task] = encode_depth_uint8_torch(out.depth)
            elif task == 'normals':
                if mirrored is not None:   # mirroring the image negates x, painted as 2r - 1
                    rgb = (rgb + torch.cat([1.0 - mirrored[:, :1], mirrored[:, 1:]], dim=1)) / 2.0
                out.normals = decode_normals_torch(rgb)
                out.encodings[task] = (rgb * 255.0).round_().to(torch.uint8)
        return out

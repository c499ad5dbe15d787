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

"""Training losses, measured where the answer is used: in decoded space.

- segmentation: cross-entropy over palette entries, with logits from the distance of the painted colour to
  each palette colour (so the network is pushed toward the right colour and away from its neighbours), weighted
  toward rare classes, plus L1 to the exact colour so that colours end up crisp; against a teacher's class
  probabilities (its top few) where they are given (`distill`);
- depth: L1 along the cube walk (the decoded position f, in units of edges), L1 of the log of the decoded depth
  (f squeezes the far range, so along the walk a 25 % error at 40 m costs a fifth of one at 5 m; in log depth,
  like the metrics delta1 and AbsRel, they cost the same), plus L1 to the target colour; +inf pixels (sky,
  nothing within range) are taught white, the far end of the walk; NaN, zero or negative depth is unknown (a
  stereo hole, no depth file) and taught nothing;
- normals: angular loss (1 - cos) of the decoded, renormalised normal, the distance of the painted vector's
  length from 1 (a hedge between two surfaces paints a short vector, and the decoder calls one shorter than
  MIN_NORM "no normal"), plus L1 to the target colour; far (+inf depth) pixels are taught mid-grey, which decodes
  to "no normal"; other pixels without a normal are taught nothing.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ..codecs import CITYSCAPES, depth_to_unit, Palette
from ..codecs.depth import EDGES, encode_depth_torch, project_on_walk_torch, walk_position_to_depth
from ..codecs.normals import encode_normals_torch

LOG_DEPTH_RANGE = (0.1, 300.0)  # metres; beyond it the log-depth term is flat (the along-walk term still pulls)


def class_balance_weights(labels: torch.Tensor, palette: Palette = CITYSCAPES, power: float = 0.5,
                          limit: float = 10.0, draws: torch.Tensor | None = None) -> torch.Tensor:
    """Per palette entry cross-entropy weights (median frequency / frequency) ** power from the label maps of a
    training set (N x H x W; each map counted `draws`[i] times where given, as training draws it), clipped to
    [1 / limit, limit]: thin and rare classes (poles, signs, people) count for more than road and sky. Classes
    absent from the labels get weight 1.
    """
    counts = torch.zeros(256, dtype=torch.float64)
    maps = labels.reshape(len(labels), -1)
    draws = torch.ones(len(maps)) if draws is None else draws.cpu()
    # bincount needs int64: converted a few hundred maps at a time, not the whole set at once (9 GB for 14 800
    # frames at 320x240, on top of the set itself: that ran out of 24 GB)
    per_chunk = max(1, (1 << 24) // max(1, maps.shape[1]))
    for chunk, times in zip(maps.split(per_chunk), draws.split(per_chunk)):
        for value in times.unique():
            counts += float(value) * torch.bincount(chunk[times == value].reshape(-1).long().cpu(),
                                                    minlength=256).double()
    counts = counts[torch.as_tensor(palette.ids)]
    present = counts > 0
    if not present.any():
        return torch.ones(len(palette.ids))
    frequency = counts / counts.sum()
    weights = torch.ones(len(palette.ids), dtype=torch.float64)
    weights[present] = (frequency[present].median() / frequency[present]) ** power
    return weights.clamp(1.0 / limit, limit).float()


def segmentation_loss(rgb: torch.Tensor, labels: torch.Tensor, palette: Palette = CITYSCAPES,
                      class_weights: torch.Tensor | None = None, soft: torch.Tensor | None = None) -> torch.Tensor:
    """Rgb N x 3 x H x W in [0, 1]; labels N x H x W train ids (255 ignored); class_weights: one per palette
    entry for the cross-entropy (see class_balance_weights); soft: N x 2K x H x W, a teacher's K most likely
    train ids then their probabilities (any scale), taught as a soft cross-entropy wherever labels (the teacher's
    most likely class) are not ignored.
    """
    logits = palette.logits_torch(rgb)
    colors = palette.device_table('entry_colors', rgb.device)[:-1].float() / 255.0
    entry_of_id = palette.device_table('entry_of_id', rgb.device)
    target = entry_of_id[labels.long()]
    valid = target >= 0
    if soft is None:
        ce = F.cross_entropy(logits, target, weight=class_weights, ignore_index=-100)
        ce = torch.where(valid.any(), ce, 0.0)      # nothing labelled (indoor crops): 0/0 would log NaN
    else:
        k = soft.shape[1] // 2
        entries = entry_of_id[soft[:, :k].long()]
        probabilities = soft[:, k:] * (entries >= 0)
        probabilities = probabilities / probabilities.sum(dim=1, keepdim=True).clamp(min=1e-6)
        picked = F.log_softmax(logits, dim=1).gather(1, entries.clamp(min=0))
        weight = valid * (1.0 if class_weights is None else class_weights[target.clamp(min=0)])
        ce = (-(probabilities * picked).sum(dim=1) * weight).sum() / weight.sum().clamp(min=1e-6)
    target_rgb = colors[target.clamp(min=0)].permute(0, 3, 1, 2)
    l1 = ((rgb - target_rgb).abs().sum(dim=1) * valid).sum() / valid.sum().clamp(min=1)
    return ce + l1


def depth_loss(rgb: torch.Tensor, depth: torch.Tensor) -> torch.Tensor:
    """Rgb N x 3 x H x W; depth N x H x W metres (+inf: far, taught white; NaN, <= 0: unknown, not taught)."""
    valid = torch.isfinite(depth) & (depth > 0)
    taught = (valid | torch.isposinf(depth)).float()
    taught_count = taught.sum().clamp(min=1)
    target_f = torch.where(valid, depth_to_unit(torch.where(valid, depth, 1.0)), 1.0)
    target_rgb = encode_depth_torch(torch.where(valid, depth, torch.inf))
    k, t = project_on_walk_torch(rgb)
    along = (((k + t) / EDGES - target_f).abs() * taught).sum() / taught_count * EDGES
    # Clamped on the walk, not in metres: white is +inf, whose gradient would be NaN even behind a clamp.
    low, high = (EDGES * depth_to_unit(d) for d in LOG_DEPTH_RANGE)
    predicted = walk_position_to_depth(k, torch.clamp(t, min=low - k, max=high - k))
    target = torch.where(valid, depth, 1.0).clamp(*LOG_DEPTH_RANGE)
    log_error = ((predicted.log() - target.log()).abs() * valid).sum() / valid.sum().clamp(min=1)
    return along + log_error + ((rgb - target_rgb).abs().sum(dim=1) * taught).sum() / taught_count


def normals_loss(rgb: torch.Tensor, normals: torch.Tensor, far: torch.Tensor) -> torch.Tensor:
    """Rgb N x 3 x H x W; normals N x 3 x H x W unit vectors, all-zero or non-finite where invalid; far N x H x W
    (depth +inf): where there is no surface, taught mid-grey.
    """
    normals = torch.nan_to_num(normals)
    valid = normals.abs().sum(dim=1) > 0
    target_rgb = encode_normals_torch(normals)
    vectors = rgb * 2.0 - 1.0
    # The epsilon sits inside the root: an exactly grey answer (common in bf16) has length 0, where the root's
    # gradient is infinite and a clamp after it would still turn it into NaN.
    length = ((vectors * vectors).sum(dim=1) + 1e-12).sqrt()
    cosine = (vectors * normals).sum(dim=1) / length
    count = valid.sum().clamp(min=1)
    angular = ((1.0 - cosine) * valid).sum() / count
    unit_length = ((length - 1.0).abs() * valid).sum() / count
    taught = (valid | far).float()
    colour = ((rgb - target_rgb).abs().sum(dim=1) * taught).sum() / taught.sum().clamp(min=1)
    return angular + unit_length + colour


TASK_LOSSES = {'segmentation': segmentation_loss, 'depth': depth_loss, 'normals': normals_loss}

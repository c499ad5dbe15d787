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

"""The teachers of a distillation: open expert checkpoints and/or our own unified model, answering bag frames.

Each task goes to one teacher: segmentation to `segmentation_model` (else the unified teacher), depth and normals
to `depth_model` (else the unified teacher). A teacher sees the whole camera frame as the node would show it to
that backend (its processing size, the frame's intrinsics as seen there); its answers are then resized to the
student's size: the class probabilities kept as the K most likely train ids with their probabilities in 8 bits,
depth in metres, normals (the experts' from their depth with the frame's intrinsics, the unified model's painted).
Where the bag measured depth (an RGB-D or stereo camera registered to the colour one), the measurement is the
depth teacher and its normals come from it.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .canonical import CANONICAL_HFOV_DEG
from ..codecs import CITYSCAPES
from ..engine.resample import resize_depth, resize_images, resize_normals, seen_intrinsics
from ..geometry.depth_normals import normals_from_depth
from ..geometry.intrinsics import Intrinsics
from ..tasks import TASKS

DISTILLATION_KEY = 'vision_banana.distillation'   # weights metadata: how a student was made
SOFT_K = 3        # class probabilities kept per pixel: at 320x240, 2 x 3 bytes a pixel = 460 kB a frame


@dataclass
class Labelled:
    """A frame as the student learns it, at the student's size: RGB, labels (the teachers' most likely class),
    soft (H x W x 2 SOFT_K uint8: the top train ids, then their probabilities x 255), depth (metres, NaN
    unknown), normals (H x W x 3, NaN unknown) and the intrinsics the student sees (None: unknown camera).
    """

    rgb: np.ndarray
    labels: np.ndarray
    soft: np.ndarray
    depth: np.ndarray
    normals: np.ndarray
    intrinsics: Intrinsics | None


def _licence(model: str) -> tuple[str, str]:
    """(licence, commercial use) of a teacher: from the supported-checkpoint table for hub ids; a directory's
    own card must be read by the user.
    """
    from ..backends.checkpoints import CHECKPOINTS
    for checkpoint in CHECKPOINTS:
        if checkpoint.hub_id == model:
            return checkpoint.licence, checkpoint.commercial
    if model == 'unified:embedded':
        return 'Apache-2.0 (the embedded weights of vision_banana_ros)', 'yes'
    if model.startswith('unified:'):   # a student inherits from its teachers, recorded in its weights
        import json

        from .weights import read_metadata
        recorded = read_metadata(model.split(':', 1)[1]).get(DISTILLATION_KEY)
        if recorded:
            teachers = json.loads(recorded)['teachers']
            worst = min((t['commercial'] for t in teachers), key=('no', 'unclear', 'yes').index)
            return f'as its own teachers: {inherited_restriction(teachers)}', worst
    return f'not recorded: read the licence or model card of {model}', 'unclear'


def describe(segmentation_model: str | None, depth_model: str | None, unified: str | None) -> list[dict]:
    """Per task, the teacher that answers it with its licence; ValueError when a task has none."""
    unified_name = None if unified is None else f'unified:{unified or "embedded"}'
    chosen = {'segmentation': segmentation_model or unified_name, 'depth': depth_model or unified_name}
    missing = [task for task, model in chosen.items() if model is None]
    if missing:
        raise ValueError(f'no teacher for {" and ".join(missing)}: give --segmentation-model and --depth-model, '
                         'or --teacher unified for what they leave out')
    out = []
    for task, model in chosen.items():
        licence, commercial = _licence(model)
        out.append({'task': task, 'model': model, 'licence': licence, 'commercial': commercial})
    return out


def inherited_restriction(teachers: list[dict]) -> str:
    """What a student of these teachers may be used for: it inherits the most restrictive teacher licence."""
    if any(t['commercial'] == 'no' for t in teachers):
        names = ', '.join(t['model'] for t in teachers if t['commercial'] == 'no')
        return f'non-commercial use only: a student of a non-commercial teacher ({names}) inherits its restriction'
    if any(t['commercial'] == 'unclear' for t in teachers):
        return "unclear: check the teachers' licences before any commercial use"
    return "as the teachers' licences allow (all allow commercial use)"


class Teachers:
    """The loaded teacher backends, answering batches of frames of one size."""

    def __init__(self, segmentation_model: str | None, depth_model: str | None, unified: str | None,
                 device: str = 'cpu', hf_cache: str | None = None):
        describe(segmentation_model, depth_model, unified)    # ValueError when a task has no teacher
        self.device = torch.device(device)
        self.routes = []    # (backend, tasks it answers)
        if segmentation_model or depth_model:
            from ..backends.experts import ExpertsBackend
            # a frame without intrinsics is the canonical camera to the student (its depth targets, normals from
            # measured depth): the teachers assume the same lens for it
            experts = ExpertsBackend(segmentation_model, depth_model, self.device, cache_dir=hf_cache,
                                     hfov_deg=CANONICAL_HFOV_DEG)
            self.routes.append((experts, tuple(t for t in TASKS if t in experts.tasks)))
        if unified is not None:
            from ..backends.unified import UnifiedBackend
            left = tuple(t for t in TASKS if not any(t in tasks for _, tasks in self.routes))
            if left:
                self.routes.append((UnifiedBackend(unified or None, self.device), left))

    @torch.inference_mode()
    def label(self, rgbs: list[np.ndarray], cameras: list[Intrinsics | None], measured: list[np.ndarray | None],
              size: tuple[int, int]) -> list[Labelled]:
        """Frames of one size (H x W x 3 uint8), their intrinsics and measured depth -> Labelled at size (h, w)."""
        images = torch.cat([torch.from_numpy(np.array(rgb)).permute(2, 0, 1)[None] for rgb in rgbs])
        images = images.to(self.device).float() / 255.0
        frame_size = tuple(images.shape[-2:])
        answers = {}
        for backend, tasks in self.routes:
            processing = backend.size_for(frame_size)
            seen = [None if c is None else seen_intrinsics(c, frame_size, processing) for c in cameras]
            raw = backend.forward(resize_images(images, processing), tasks)
            decoded = backend.decode(raw, tasks, seen)
            if 'segmentation' in tasks:
                answers['probabilities'] = resize_images(backend.class_probabilities(raw), size)
            if 'depth' in tasks:
                answers['depth'] = resize_depth(decoded.depth.float(), size)
            if 'normals' in tasks:
                answers['normals'] = resize_normals(decoded.normals.float(), size)
        top = answers['probabilities'].topk(SOFT_K, dim=1)
        ids = CITYSCAPES.device_table('entry_ids', self.device)[top.indices]
        soft = torch.cat([ids, (top.values.clamp(0, 1) * 255).round().to(torch.uint8)], dim=1).permute(0, 2, 3, 1)
        student_rgb = (resize_images(images, size) * 255).round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1)
        out = []
        for i, (camera, metres) in enumerate(zip(cameras, measured)):
            seen = None if camera is None else seen_intrinsics(camera, frame_size, size)
            depth, normals = answers['depth'][i], answers['normals'][i]
            if metres is not None:
                depth, normals = self._with_measured(depth, normals, metres, seen, size)
            out.append(Labelled(student_rgb[i].cpu().numpy(), ids[i, 0].cpu().numpy().astype(np.uint8),
                                soft[i].cpu().numpy(), depth.cpu().numpy(),
                                normals.permute(1, 2, 0).cpu().numpy(), seen))
        return out

    def _with_measured(self, depth, normals, metres: np.ndarray, seen: Intrinsics | None, size):
        """Measured depth where the bag has it (the teacher's elsewhere), and normals from it there."""
        measured = resize_depth(torch.from_numpy(metres).to(self.device)[None], size)[0]
        valid = torch.isfinite(measured)
        camera = seen or Intrinsics.from_fov(size[1], size[0], CANONICAL_HFOV_DEG)
        from_measured = normals_from_depth(measured[None], camera)[0]
        use = valid & torch.isfinite(from_measured).all(dim=0)
        return torch.where(valid, measured, depth), torch.where(use[None], from_measured, normals)


def fingerprint(model: str | None) -> str | None:
    """What identifies a teacher's weights for the cache: a hub id as it is, a file or directory by the sizes and
    modification times of its safetensors.
    """
    if not model:
        return model
    path = Path(model.split(':', 1)[1] if model.startswith('unified:') else model).expanduser()
    files = sorted(path.glob('*.safetensors')) if path.is_dir() else [path] if path.is_file() else []
    return model + ''.join(f'|{f.name}:{f.stat().st_size}:{f.stat().st_mtime_ns}' for f in files)

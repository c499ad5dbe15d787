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

"""`vision_banana ask IMAGE INSTRUCTION...`: the model's own interface — an image and a text instruction in, the
painted RGB answer and what the codecs read from it out.

The instruction is mapped to a task by the instruction table (model/instructions.yaml), so paraphrases such as
"estimate the metric depth" work; one that names no task, or several, is refused with the accepted instructions.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .camera_images import picture_to_rgb
from .engine import BatchRunner, FrameRequest
from .geometry.intrinsics import Intrinsics
from .model.instructions import InstructionTable


def ask(image_path: str | Path, instructions: list[str], out_dir: str | Path, backend,
        hfov_deg: float | None = None) -> dict:
    """Answer each instruction about one image file. Writes OUT/<stem>_<task>.png (the answer as painted) and the
    decoded output: <stem>_labels.png (Cityscapes train ids), <stem>_depth.npy (float32 metres, +inf far) or
    <stem>_normals.npy (float32 H x W x 3, optical frame, NaN invalid). Returns what was written, per task.
    `backend`: the unified model without mirror averaging (the answer exactly as painted), or the experts.
    `hfov_deg`: the horizontal field of view of the lens that took the picture as shown (after its EXIF rotation),
    the principal point at its centre, so that depth is in that camera's metres; None: no intrinsics, the backend's
    own assumption (the unified model's canonical 70° camera; the experts' 90° or Depth Pro's estimate).
    """
    table = InstructionTable.load()
    tasks = {}
    for text in instructions:
        task = table.task_of(text)
        if task in tasks:
            raise ValueError(f'{tasks[task]!r} and {text!r} ask for the same task ({task}): give one instruction a '
                             'task')
        tasks[task] = text
    image_path, out = Path(image_path), Path(out_dir)
    try:
        with Image.open(image_path) as file:
            # a phone photo is stored sideways with an EXIF orientation; the camera saw it upright
            rgb = picture_to_rgb(ImageOps.exif_transpose(file))
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError) as exc:
        raise ValueError(f'cannot read image {image_path}: {exc}') from None
    intrinsics = None if hfov_deg is None else Intrinsics.from_fov(rgb.shape[1], rgb.shape[0], hfov_deg)
    result = BatchRunner(backend, tuple(tasks)).run([FrameRequest('ask', rgb, intrinsics=intrinsics)])[0]
    out.mkdir(parents=True, exist_ok=True)
    written = {}
    for task, text in tasks.items():
        answer = out / f'{image_path.stem}_{task}.png'
        Image.fromarray(result.encodings[task]).save(answer)
        if task == 'segmentation':
            decoded = out / f'{image_path.stem}_labels.png'
            Image.fromarray(result.labels).save(decoded)
        else:
            decoded = out / f'{image_path.stem}_{task}.npy'
            np.save(decoded, result.depth if task == 'depth' else result.normals)
        written[task] = {'instruction': text, 'answer': str(answer), 'decoded': str(decoded)}
    return written

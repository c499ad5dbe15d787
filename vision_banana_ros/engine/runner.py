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

"""One batch through a backend: upload, resize (or turn, engine.upright) to the processing size, forward, decode,
resize back, download.

Every stage is timed. On CUDA the host images go through pinned memory with non-blocking copies, and the
device is synchronised at stage boundaries so that the timings are real.
"""
from __future__ import annotations

import math
import time

import numpy as np
import torch

from .frames import FrameRequest, FrameResult
from .resample import resize_depth, resize_images, resize_nearest, resize_normals, seen_intrinsics
from .upright import Turn
from ..backends.base import Backend, DenseOutputs
from ..codecs import encode_normals_uint8_torch
from ..device import autocast, check_precision


class BatchRunner:
    """Runs one batch of frames through a backend, stage by stage, for the tasks its frames ask for."""

    def __init__(self, backend: Backend, tasks: tuple[str, ...], precision: str = 'fp32'):
        missing = [t for t in tasks if t not in backend.tasks]
        if not tasks or missing:
            raise ValueError(f'tasks: backend {backend.name!r} answers {list(backend.tasks)}, asked for {list(tasks)}')
        check_precision(precision)
        self.backend = backend
        self.tasks = tuple(tasks)
        self.precision = precision
        self.device = backend.device

    def _sync(self) -> float:
        if self.device.type == 'cuda':
            torch.cuda.synchronize(self.device)
        return time.perf_counter()

    def _upload(self, image: np.ndarray) -> torch.Tensor:
        tensor = torch.from_numpy(np.require(image, requirements=['C', 'W']))  # torch wants writable memory
        if self.device.type == 'cuda':
            tensor = tensor.pin_memory().to(self.device, non_blocking=True)
        return tensor.permute(2, 0, 1)[None].float().div_(255.0)

    def run(self, requests: list[FrameRequest]) -> list[FrameResult]:
        """Answer a batch of frames: one forward per processing size their cameras take (`Backend.size_for`),
        results at each input resolution on the host.
        """
        sizes = [self.backend.size_for(_shown_size(r)) for r in requests]
        if len(set(sizes)) > 1:
            return self._run_each_size(requests, sizes)
        started = time.perf_counter()
        wanted = [self.tasks if r.tasks is None else tuple(t for t in self.tasks if t in r.tasks) for r in requests]
        tasks = tuple(t for t in self.tasks if any(t in w for w in wanted))
        size = sizes[0]
        resamplings = [_resampling(r, size) for r in requests]
        images = torch.cat([resampling.image(self._upload(r.image)) for r, resampling in zip(requests, resamplings)])
        t_upload = self._sync()
        seen = [None if r.intrinsics is None else resampling.intrinsics(r.intrinsics)
                for r, resampling in zip(requests, resamplings)]
        with autocast(self.device, self.precision):
            raw = self.backend.forward(images, tasks, seen)
        t_forward = self._sync()
        decoded = self.backend.decode(raw, tasks, seen)
        t_decode = self._sync()
        outputs = [self._to_host(decoded, i, resampling, w)
                   for i, (resampling, w) in enumerate(zip(resamplings, wanted))]
        t_download = self._sync()
        stage = {'upload': t_upload - started, 'forward': t_forward - t_upload, 'decode': t_decode - t_forward,
                 'download': t_download - t_decode}
        results = []
        now = time.monotonic()
        for request, out in zip(requests, outputs):
            timings = {k: v * 1e3 for k, v in stage.items()}
            timings['queue'] = (now - request.submitted) * 1e3 - sum(timings.values())
            results.append(FrameResult(camera_id=request.camera_id, header=request.header,
                                       intrinsics=request.intrinsics, image=request.image, timings=timings,
                                       batch_size=len(requests), **out))
        return results

    def _run_each_size(self, requests: list[FrameRequest], sizes: list[tuple[int, int]]) -> list[FrameResult]:
        """One forward per processing size in the batch (one size for all would squash some frames to another
        shape).
        """
        results = [None] * len(requests)
        for size in dict.fromkeys(sizes):
            same = [i for i, s in enumerate(sizes) if s == size]
            for i, result in zip(same, self.run([requests[i] for i in same])):
                results[i] = result
        return results

    @staticmethod
    def _to_host(out: DenseOutputs, i: int, back, tasks: tuple[str, ...]) -> dict:
        """Frame i of the batch, brought `back` to its camera's pixels by its _resampling, for the tasks it asked
        for only.
        """

        def host(t: torch.Tensor) -> np.ndarray:
            return t.cpu().numpy()

        def one(t: torch.Tensor) -> torch.Tensor:
            return t[i:i + 1]

        segmentation, depth = ('segmentation' in tasks), ('depth' in tasks)
        normals = back.normals(one(out.normals)) if 'normals' in tasks else None
        # Nearest, like labels: blending palette colours for display would invent classes.
        encodings = {task: back.nearest(one(out.encodings[task])) for task in tasks if task != 'normals'}
        if normals is not None:
            encodings['normals'] = back.normals_picture(one(out.encodings['normals']), normals)
        return {
            'labels': host(back.nearest(one(out.labels)[:, None])[0, 0]) if segmentation else None,
            # clamped: resampling weights sum to 1 only up to rounding, and a probability of 1 must stay one
            'confidence': (host(back.smooth(one(out.confidence)[:, None])[0, 0].clamp(0.0, 1.0))
                           if segmentation else None),
            'depth': host(back.depth(one(out.depth))[0]) if depth else None,
            'normals': None if normals is None else host(normals[0].permute(1, 2, 0)),
            'encodings': {task: host(image[0].permute(1, 2, 0)) for task, image in encodings.items()},
        }


class _Resized:
    """An unturned frame's way to the processing size and back (a Turn is a turned frame's): resized as a whole."""

    def __init__(self, image_size: tuple[int, int], canvas_size: tuple[int, int]):
        self.image_size, self.canvas_size = image_size, canvas_size

    def image(self, image: torch.Tensor) -> torch.Tensor:
        return resize_images(image, self.canvas_size)

    def intrinsics(self, intrinsics):
        return seen_intrinsics(intrinsics, self.image_size, self.canvas_size)

    def nearest(self, values: torch.Tensor) -> torch.Tensor:
        return resize_nearest(values, self.image_size)

    def smooth(self, values: torch.Tensor) -> torch.Tensor:
        return resize_images(values, self.image_size)

    def depth(self, depth: torch.Tensor) -> torch.Tensor:
        return resize_depth(depth, self.image_size)

    def normals(self, normals: torch.Tensor) -> torch.Tensor:
        return resize_normals(normals, self.image_size)

    def normals_picture(self, picture: torch.Tensor, normals: torch.Tensor) -> torch.Tensor:
        """The normals answer image at the camera's size: the backend's, resized nearest; painted again from the
        `normals` brought back where the resize changed the aspect ratio (its colours paint the stretched scene's).
        """
        (height, width), (h, w) = self.image_size, self.canvas_size
        if h * width == w * height:
            return self.nearest(picture)
        return encode_normals_uint8_torch(normals)


def _shown_size(request: FrameRequest) -> tuple[int, int]:
    """(H, W) of what the backend is shown of a request's image: the image, or the box its turned image spans (a
    camera on its side is shown on a canvas of the turned image's shape, not squeezed into one of the camera's).
    """
    height, width = request.image.shape[:2]
    if not request.turn_deg:
        return height, width
    c, s = abs(math.cos(math.radians(request.turn_deg))), abs(math.sin(math.radians(request.turn_deg)))
    return round(width * s + height * c), round(width * c + height * s)


def _resampling(request: FrameRequest, size: tuple[int, int]) -> _Resized | Turn:
    """How a request's image reaches the processing size and its answers come back."""
    height, width = request.image.shape[:2]
    if not request.turn_deg:
        return _Resized((height, width), size)
    intrinsics = request.intrinsics.scaled_to(width, height)
    centre = (intrinsics.cx, intrinsics.cy)
    return Turn.fitted((height, width), size, request.turn_deg, centre)

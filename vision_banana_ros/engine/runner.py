"""One batch through a backend: upload, resize to the processing size, forward, decode, resize back, download.

Every stage is timed. On CUDA the host images go through pinned memory with non-blocking copies, and the
device is synchronised at stage boundaries so that the timings are real.
"""
from __future__ import annotations

import time

import numpy as np
import torch

from ..backends.base import Backend, DenseOutputs
from ..backends.resample import resize_depth, resize_images, resize_labels, resize_nearest, resize_normals
from .device import autocast, check_precision
from .frames import FrameRequest, FrameResult


class BatchRunner:
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
        tensor = torch.from_numpy(np.ascontiguousarray(image))
        if self.device.type == 'cuda':
            tensor = tensor.pin_memory().to(self.device, non_blocking=True)
        return tensor.permute(2, 0, 1)[None].float().div_(255.0)

    def run(self, requests: list[FrameRequest]) -> list[FrameResult]:
        started = time.perf_counter()
        size = self.backend.processing_size
        images = torch.cat([resize_images(self._upload(r.image), size) for r in requests])
        t_upload = self._sync()
        with autocast(self.device, self.precision):
            raw = self.backend.forward(images, self.tasks)
        t_forward = self._sync()
        decoded = self.backend.decode(raw, self.tasks)
        t_decode = self._sync()
        outputs = [self._to_host(decoded, i, r.image.shape[:2]) for i, r in enumerate(requests)]
        t_download = self._sync()
        stage = {'upload': t_upload - started, 'forward': t_forward - t_upload, 'decode': t_decode - t_forward,
                 'download': t_download - t_decode}
        results = []
        now = time.monotonic()
        for request, out in zip(requests, outputs):
            timings = {k: v * 1e3 for k, v in stage.items()}
            timings['queue'] = (now - request.submitted) * 1e3 - sum(timings.values())
            results.append(FrameResult(camera_id=request.camera_id, header=request.header,
                                       intrinsics=request.intrinsics, timings=timings, batch_size=len(requests),
                                       **out))
        return results

    @staticmethod
    def _to_host(out: DenseOutputs, i: int, size: tuple[int, int]) -> dict:
        host = lambda t: None if t is None else t.cpu().numpy()
        pick = lambda t: None if t is None else t[i:i + 1]
        normals = pick(out.normals)
        return {
            'labels': host(None if out.labels is None else resize_labels(pick(out.labels), size)[0]),
            'confidence': host(None if out.confidence is None
                               else resize_images(pick(out.confidence)[:, None], size)[0, 0]),
            'depth': host(None if out.depth is None else resize_depth(pick(out.depth), size)[0]),
            'normals': host(None if normals is None else resize_normals(normals, size)[0].permute(1, 2, 0)),
            # Nearest, like labels: blending palette colours for display would invent classes.
            'encodings': {task: host(resize_nearest(rgb[i:i + 1], size)[0].permute(1, 2, 0))
                          for task, rgb in out.encodings.items()},
        }

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

"""The triton backend: the unified network served by Triton Inference Server (a stock server running the repository
of `export --format triton`, or `vision_banana serve`), its painted answers decoded here on the node's device by
the same code as the in-process unified backend (`painted`). A served experts backend (`vision_banana serve
--segmentation-model/--depth-model`) answers the same way; it also takes each frame's camera (`intrinsics`), and
its frames are not mirrored, as the in-process experts backend does not mirror them.

Before it decodes a single answer, and again after every reconnection (a server may come back with another
model), it checks that the served model's `vision_banana.identity` (a hash of the weights file and the palette,
written by the export) is the one expected: that of the node's own weights and palette, or `triton_identity`.
Requests travel over gRPC; with the server on this host their tensors go through system shared memory, so a
frame is not copied through a socket. When the server is unreachable or slow a request fails within its timeout,
the engine fails those frames (counted), and the next tries wait a back-off that doubles up to `BACKOFF_MAX_S`, so
a node keeps running and recovers by itself when the server returns.
"""
from __future__ import annotations

import json
import time
from urllib.parse import urlsplit
import uuid

import numpy as np
import torch

from .base import Backend
from .painted import PaintedAnswers
from ..codecs import CITYSCAPES, Palette
from ..model.served import BACKEND, CANONICAL_FOCAL, IDENTITY, INPUT, INTRINSICS, OUTPUT, TASKS

BACKOFF_S, BACKOFF_MAX_S = 0.5, 10.0
LOCAL_HOSTS = ('localhost', '127.0.0.1', '::1')


class ServerUnavailable(RuntimeError):
    """The Triton server cannot answer now: unreachable, timed out, or serving another model."""


def _is_local(url: str) -> bool:
    host = urlsplit(url if '//' in url else f'//{url}').hostname or ''
    return host in LOCAL_HOSTS or host.startswith('127.')


class TritonBackend(PaintedAnswers, Backend):
    """The served model at `url` (gRPC host:port) named `model`, expected to have `identity`."""

    name = 'triton'

    def __init__(self, url: str, model: str, identity: str, device: str | torch.device = 'cpu',
                 palette: Palette = CITYSCAPES, mirror_average: bool = True, timeout_s: float = 5.0,
                 shared_memory: bool = True, connect_timeout_s: float = 30.0):
        import tritonclient.grpc as grpc
        self.device = torch.device(device)
        self.url, self.model, self.identity = url, model, identity
        self.palette, self.mirror_asked, self.timeout_s = palette, mirror_average, timeout_s
        self.client = grpc.InferenceServerClient(url)
        self.shared_memory = shared_memory and _is_local(url)
        self.shared_memory_problem = ''     # why the server could not map our regions (answered over the socket)
        self._regions: dict[str, tuple] = {}
        self._unreleased: list[str] = []    # regions the server would not unregister yet (a request still using them)
        self._deadline: float | None = None  # when the batch in hand must be answered (triton_timeout_s for all)
        self.failed_requests, self.state = 0, 'not connected'
        self._backoff, self._retry_at = BACKOFF_S, 0.0
        deadline = time.monotonic() + connect_timeout_s
        while True:
            try:
                self._connect()
                break
            except ServerUnavailable as exc:
                if self.state == 'another model' or time.monotonic() > deadline:
                    raise ValueError(str(exc)) from None
                time.sleep(0.5)

    def _connect(self) -> None:
        """Read the served model's config, check its identity, (re)register shared memory."""
        from tritonclient.utils import InferenceServerException
        try:
            config = self.client.get_model_config(self.model, as_json=True, client_timeout=self._time_left())['config']
        except InferenceServerException as exc:
            raise ServerUnavailable(f'Triton server {self.url}, model {self.model!r}: {exc.message()}') from None
        params = {k: v.get('string_value', '') for k, v in config.get('parameters', {}).items()}
        served = params.get(IDENTITY, '')
        if served != self.identity:
            self.state = 'another model'
            raise ServerUnavailable(f'triton_model {self.model!r} is another model (identity {served[:12] or "none"}'
                                    f', expected {self.identity[:12]}: the weights and palette differ; serve the '
                                    "node's weights, or set weights / triton_identity to the served ones)")
        self.tasks = tuple(params[TASKS].split(','))
        self.mirror_average = self.mirror_asked and params.get(BACKEND, 'unified') == 'unified'
        self.takes_cameras = any(i['name'] == INTRINSICS for i in config['input'])
        focal = params.get(CANONICAL_FOCAL, 'none')
        self.canonical_focal = None if focal == 'none' else json.loads(focal)
        dims = [int(d) for d in next(i for i in config['input'] if i['name'] == INPUT)['dims']]
        self.processing_size = self.trained_size = (dims[1], dims[2])
        self.max_batch = int(config.get('max_batch_size', 0)) or 1
        self._release_regions()
        if self.shared_memory:
            self._register_regions()
        self.state = 'ready'

    def _register_regions(self) -> None:
        """System shared memory for a full batch of images and of answers, registered with the server; where the
        server cannot map them (a container without the host's /dev/shm, another user), none: the socket serves.
        """
        from tritonclient.utils import InferenceServerException
        import tritonclient.utils.shared_memory as shm
        height, width = self.processing_size
        image_bytes = 3 * height * width * 4
        sizes = {INPUT: self.max_batch * image_bytes, OUTPUT: self.max_batch * len(self.tasks) * image_bytes}
        for tensor, size in sizes.items():
            # unguessable, and never the name of a region a killed node with this PID left registered
            name = f'vision_banana_{uuid.uuid4().hex}_{tensor}'
            handle = shm.create_shared_memory_region(name, f'/{name}', size)
            try:
                self.client.register_system_shared_memory(name, f'/{name}', size, client_timeout=self._time_left())
            except InferenceServerException as exc:
                shm.destroy_shared_memory_region(handle)
                self._release_regions()
                self.shared_memory = False
                self.shared_memory_problem = (f'the server cannot map shared memory ({exc.message()}): images go '
                                              'over the socket (run a container with --ipc=host to share it)')
                return
            self._regions[tensor] = (name, handle, size)

    def _release_regions(self) -> None:
        """Unregister and free our regions (and retry those the server would not let go before)."""
        import tritonclient.utils.shared_memory as shm
        names = self._unreleased + [name for name, _, _ in self._regions.values()]
        self._unreleased = []
        for name in names:
            try:
                self.client.unregister_system_shared_memory(name, client_timeout=self._time_left())
            except Exception as exc:  # gone with its server, or in use by a request that timed out here
                if 'in use' in str(exc):
                    self._unreleased.append(name)
        for _, handle, _ in self._regions.values():
            shm.destroy_shared_memory_region(handle)
        self._regions.clear()

    def _infer(self, images: np.ndarray, cameras: np.ndarray) -> np.ndarray:
        """One request of at most max_batch images (and their cameras, where the model takes them) -> answers
        N x T x 3 x H x W.
        """
        import tritonclient.grpc as grpc
        import tritonclient.utils.shared_memory as shm
        request = grpc.InferInput(INPUT, list(images.shape), 'FP32')
        inputs = [request]
        if self.takes_cameras:
            inputs.append(grpc.InferInput(INTRINSICS, list(cameras.shape), 'FP32'))
            inputs[-1].set_data_from_numpy(cameras)
        answer = grpc.InferRequestedOutput(OUTPUT)
        if not self._regions:
            request.set_data_from_numpy(images)
            result = self.client.infer(self.model, inputs, outputs=[answer], client_timeout=self._time_left())
            return result.as_numpy(OUTPUT)
        (in_name, in_handle, _), (out_name, out_handle, _) = self._regions[INPUT], self._regions[OUTPUT]
        shm.set_shared_memory_region(in_handle, [images])
        request.set_shared_memory(in_name, images.nbytes)
        shape = [len(images), len(self.tasks), *images.shape[1:]]
        answer.set_shared_memory(out_name, int(np.prod(shape)) * 4)
        self.client.infer(self.model, inputs, outputs=[answer], client_timeout=self._time_left())
        return shm.get_contents_as_numpy(out_handle, np.float32, shape).copy()

    def _time_left(self) -> float:
        """The client timeout of the next call to the server: what is left of the batch's timeout (all its requests
        and a reconnection share it), else the whole timeout.
        """
        if self._deadline is None:
            return self.timeout_s
        return max(0.001, self._deadline - time.monotonic())

    def _call(self, images: np.ndarray, cameras: np.ndarray) -> np.ndarray:
        """Answers for `images`, in requests of at most max_batch, within triton_timeout_s for them all;
        ServerUnavailable while the server is not answering.
        """
        if self.state != 'ready':
            if time.monotonic() < self._retry_at:
                raise ServerUnavailable(f'Triton server {self.url} {self.state}; next try in '
                                        f'{self._retry_at - time.monotonic():.1f} s')
        self._deadline = time.monotonic() + self.timeout_s
        try:
            if self.state != 'ready':
                self._connect()
            answers = np.concatenate([self._infer(images[i:i + self.max_batch], cameras[i:i + self.max_batch])
                                      for i in range(0, len(images), self.max_batch)])
        except Exception as exc:
            self.failed_requests += 1
            if self.state == 'ready':
                self.state = 'unreachable'
            self._retry_at = time.monotonic() + self._backoff
            self._backoff = min(2 * self._backoff, BACKOFF_MAX_S)
            if isinstance(exc, ServerUnavailable):
                raise
            raise ServerUnavailable(f'Triton server {self.url}: {exc}') from None
        finally:
            self._deadline = None
        self._backoff = BACKOFF_S
        return answers

    @staticmethod
    def _cameras(intrinsics: list | None, count: int, width: int, mirrored: bool) -> np.ndarray:
        """The cameras of `count` images as count x 4 (fx, fy, cx, cy; NaN where unknown), mirrored when asked."""
        cameras = np.full((count, 4), np.nan, np.float32)
        for row, camera in zip(cameras, intrinsics or []):
            if camera is not None:
                row[:] = (camera.fx, camera.fy, width - 1 - camera.cx if mirrored else camera.cx, camera.cy)
        return cameras

    @torch.inference_mode()
    def forward(self, images: torch.Tensor, tasks: tuple[str, ...], intrinsics=None) -> dict[str, torch.Tensor]:
        """Paint the answers of `tasks` on the server (with the mirror images when asked) -> on the device."""
        count, width = len(images), images.shape[-1]
        cameras = self._cameras(intrinsics, count, width, mirrored=False)
        if self.mirror_average:
            images = torch.cat([images, images.flip(-1)])
            cameras = np.concatenate([cameras, self._cameras(intrinsics, count, width, mirrored=True)])
        answers = torch.from_numpy(self._call(images.float().cpu().numpy(), cameras)).to(self.device)
        return {task: answers[:, self.tasks.index(task)] for task in tasks}

    def models(self) -> list[torch.nn.Module]:
        """None in this process: the network runs on the server."""
        return []

    def diagnostics(self) -> dict[str, str]:
        """Where the server is, whether it answers, and how many requests failed."""
        values = {'triton_url': self.url, 'triton_model': self.model, 'triton_state': self.state,
                  'triton_failed_requests': str(self.failed_requests),
                  'triton_shared_memory': str(bool(self._regions)).lower()}
        if self.shared_memory_problem:
            values['triton_shared_memory_problem'] = self.shared_memory_problem
        if self.state != 'ready':
            values['triton_retry_in_s'] = f'{max(0.0, self._retry_at - time.monotonic()):.1f}'
        return values

    def close(self) -> None:
        """Unregister and free the shared memory regions, close the connection."""
        self._release_regions()
        self.client.close()

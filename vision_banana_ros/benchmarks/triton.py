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

"""`vision_banana bench --triton`: client nodes sharing one Triton server, beside the in-process engine.

A `vision_banana serve` server (this machine, --device, dynamic batching of up to 8 images) answers 1, 2 and 4
client processes at once; each client is what a node with one camera runs (`backend: triton`: BatchRunner with the
TritonBackend, each frame with its mirror image, decoded in the client) on `--frames` camera frames, one after the
other. Printed per client count: aggregate frames/s, latency p50/p99 per frame, and from Triton's own statistics
how many requests (and images) each execution combined. The same frames through the in-process unified backend
(`backend: unified`, one camera) in the same run give the baseline, and the served-vs-in-process overhead per frame
is the difference of their p50 latencies at one client. On a machine where the clients and the server share a few
CPU cores this measures overhead and batching, not scaling (docs/fleet.md). Ends with one JSON line.
"""
from __future__ import annotations

import json
import multiprocessing
import time

import numpy as np


def _frames(count: int, width: int, height: int, seed: int) -> list:
    from ..engine import FrameRequest
    rng = np.random.default_rng(seed)
    return [FrameRequest('camera', rng.integers(0, 256, (height, width, 3), dtype=np.uint8)) for _ in range(count)]


def _latencies(runner, frames: list, ready=None, start=None) -> tuple[list[float], float]:
    """Warm up on the first frame, say `ready`, wait for `start`, then each frame in turn: latencies (ms) and wall
    time (s).
    """
    runner.run(frames[:1])
    if start is not None:
        ready.put(True)
        start.wait()
    began, latencies = time.perf_counter(), []
    for frame in frames:
        t = time.perf_counter()
        runner.run([frame])
        latencies.append((time.perf_counter() - t) * 1e3)
    return latencies, time.perf_counter() - began


def _client(url: str, identity: str, count: int, size: tuple[int, int], seed: int, ready, start, results) -> None:
    """One client node's engine against the server; its latencies go to `results`."""
    import torch
    torch.set_num_threads(1)   # the clients decode on the CPU beside the server: one thread each
    from ..backends.triton import TritonBackend
    from ..engine import BatchRunner
    from ..tasks import TASKS
    backend = TritonBackend(url, 'vision_banana', identity, timeout_s=600.0)
    try:
        results.put(_latencies(BatchRunner(backend, TASKS), _frames(count, *size, seed), ready, start))
    finally:
        backend.close()


def _statistics(client) -> tuple[int, int, int]:
    """Requests, images and executions the served model has answered so far (Triton's statistics)."""
    stats = client.get_inference_statistics('vision_banana').model_stats[0]
    return stats.inference_stats.success.count, stats.inference_count, stats.execution_count


def _row(name: str, latencies: list[float], frames: int, wall: float, **extra) -> dict:
    lat = np.array(latencies)
    return {'run': name, 'frames_per_s': frames / wall, 'p50_ms': float(np.percentile(lat, 50)),
            'p99_ms': float(np.percentile(lat, 99)), **extra}


def main(args) -> int:
    """Serve, run 1/2/4 clients and the in-process engine, print the table and a JSON line."""
    import torch
    import tritonclient.grpc as grpc

    from ..backends.unified import UnifiedBackend
    from ..device import resolve_device
    from ..engine import BatchRunner
    from ..serving.server import free_ports, TritonServer
    from ..tasks import TASKS
    device = str(resolve_device(args.device))
    ports = free_ports(3)
    rows = []
    local = UnifiedBackend(args.weights, device=device)
    latencies, wall = _latencies(BatchRunner(local, TASKS), _frames(args.frames, *args.camera, 0))
    rows.append(_row('in-process', latencies, args.frames, wall, clients=1))
    with TritonServer(args.weights, grpc_port=ports[0], http_port=ports[1], metrics_port=ports[2],
                      device=device) as server:
        client = grpc.InferenceServerClient(server.url)
        spawn = multiprocessing.get_context('spawn')
        for clients in (1, 2, 4):
            ready, start, results = spawn.Queue(), spawn.Event(), spawn.Queue()
            workers = [spawn.Process(target=_client, args=(server.url, server.parameters['vision_banana.identity'],
                                                           args.frames, args.camera, i, ready, start, results))
                       for i in range(clients)]
            for worker in workers:
                worker.start()
            for _ in workers:     # every client warmed up: the statistics count from here (a client that died
                ready.get(timeout=600)   # before that ends the bench instead of hanging it)
            before = _statistics(client)
            start.set()
            answers = [results.get(timeout=3600) for _ in workers]
            for worker in workers:
                worker.join()
            after = _statistics(client)
            requests, images, executions = (a - b for a, b in zip(after, before))
            rows.append(_row(f'triton x{clients}', [x for lat, _ in answers for x in lat], clients * args.frames,
                             max(w for _, w in answers), clients=clients,
                             requests_per_execution=requests / max(executions, 1),
                             images_per_execution=images / max(executions, 1)))
    where = torch.cuda.get_device_name(device) if device.startswith('cuda') else 'CPU'
    print(f'Triton: {args.frames} frames of {args.camera[0]}x{args.camera[1]} per client, every task, each with its '
          f'mirror image; server and clients on {where}; in-process with {torch.get_num_threads()} CPU threads, each '
          'client decoding with 1')
    print(f'{"run":12} {"clients":>7} {"frames/s":>9} {"p50 ms":>8} {"p99 ms":>8} {"req/exec":>9} {"img/exec":>9}')
    for r in rows:
        combined = [r.get(key, float('nan')) for key in ('requests_per_execution', 'images_per_execution')]
        print(f'{r["run"]:12} {r["clients"]:7d} {r["frames_per_s"]:9.2f} {r["p50_ms"]:8.1f} {r["p99_ms"]:8.1f} '
              f'{combined[0]:9.2f} {combined[1]:9.2f}')
    overhead = rows[1]['p50_ms'] - rows[0]['p50_ms']
    ratio = rows[1]['p50_ms'] / rows[0]['p50_ms']
    print(f'served vs in-process, one client: {overhead:+.1f} ms per frame (p50), {ratio:.2f}x')
    print(json.dumps({'device': where, 'triton': rows, 'overhead_ms_per_frame': overhead,
                      'served_vs_in_process_p50': ratio}))
    return 0

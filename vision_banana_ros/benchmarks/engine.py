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

"""`vision_banana bench`: throughput and latency of the engine's batch path per backend, precision and batch size.

Each measurement runs BatchRunner.run on N camera frames (640x480 RGB by default): upload, resize to the
processing size, forward, decode on the device, resize back, download — everything a published frame costs
before message conversion. The experts backend is measured once per recommended pairing ('experts-fast', ...) as
the node runs it, each model at its processor's own size, with its real architectures (random weights: speed does
not depend on them) saved and loaded through the real from_pretrained path. The unified backend is measured as
the node runs it (each image also mirrored, `mirror_average`) and with single answers ('unified-single'), and
with `--compare-weights` other weights as the node runs them ('unified-compared', e.g. the previous model), and
with each frame turned upright by a quarter turn as `upright` turns a camera mounted on its side ('unified-upright':
the turn onto the canvas and every answer's turn back, against plain resizing). Every
row's frames/s is also given as a ratio against 'unified' at the same precision and batch size, in the same run.
Prints a table, then one JSON line.
"""
from __future__ import annotations

import json
from pathlib import Path
import tempfile
import time

import numpy as np
import torch

from .expert_architectures import save_random
from ..backends.checkpoints import PAIRINGS
from ..backends.experts import ExpertsBackend
from ..backends.unified import UnifiedBackend
from ..device import resolve_device
from ..engine import BatchRunner, FrameRequest
from ..geometry import Intrinsics
from ..tasks import TASKS

UPRIGHT_TURNS = {'unified-upright': -90.0}   # a camera on its side: the turn of every frame, per row


def _measure(runner: BatchRunner, frames: list[FrameRequest], repeats: int) -> dict:
    runner.run(frames)  # warm-up: allocator, kernels, autotuning
    latencies, stages = [], []
    for _ in range(repeats):
        started = time.perf_counter()
        results = runner.run(frames)
        latencies.append((time.perf_counter() - started) * 1e3)
        stages.append(results[0].timings)
    lat = np.array(latencies)
    return {'p50_ms': float(np.percentile(lat, 50)), 'p99_ms': float(np.percentile(lat, 99)),
            'fps': len(frames) * 1e3 / float(np.median(lat)),
            **{f'{k}_ms': float(np.median([s[k] for s in stages]))
               for k in ('upload', 'forward', 'decode', 'download')}}


def main(args) -> int:
    """`bench --engine`: time the engine at each batch size and precision and print the table."""
    device = resolve_device(args.device)
    batches = args.batches
    precisions = args.precisions or (
        ['fp32', 'fp16', 'bf16'] if device.type == 'cuda' else ['fp32', 'bf16'])
    width, height = args.camera
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (height, width, 3), dtype=np.uint8) for _ in range(max(batches))]
    camera = Intrinsics.from_fov(width, height, 70.0)      # as the node passes every frame's (a turn needs them)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        unified = UnifiedBackend(args.weights, device=device)   # at the size its weights were trained at
        backends = {'unified': unified, 'unified-single': UnifiedBackend(args.weights, device=device,
                                                                         mirror_average=False)}
        backends['unified-upright'] = unified
        if args.compare_weights:   # other weights (e.g. an earlier model) beside these, in the same run
            backends['unified-compared'] = UnifiedBackend(args.compare_weights, device=device)
        for pairing in [] if args.no_experts else args.pairings:
            seg, depth = (str(save_random(hub_id, Path(tmp))) if hub_id else None for hub_id in PAIRINGS[pairing])
            backends[f'experts-{pairing}'] = ExpertsBackend(seg, depth, device=device)
        for name, backend in backends.items():
            params = backend.parameter_count()
            for precision in precisions:
                runner = BatchRunner(backend, tuple(t for t in TASKS if t in backend.tasks), precision)
                for batch in batches:
                    frames = [FrameRequest(f'cam{i}', images[i], intrinsics=camera,
                                           turn_deg=UPRIGHT_TURNS.get(name, 0.0))
                              for i in range(batch)]
                    rows.append({'backend': name, 'params_m': params / 1e6, 'precision': precision, 'batch': batch,
                                 **_measure(runner, frames, args.repeats)})
    gpu = torch.cuda.get_device_name(device) if device.type == 'cuda' else f'CPU, {torch.get_num_threads()} threads'
    h, w = unified.size_for((height, width))
    notes = [f'p50: median of {args.repeats} runs']
    if args.repeats < 100:
        notes.append(f'p99 of {args.repeats} runs is about their slowest')
    if device.type == 'cuda' and torch.backends.cudnn.allow_tf32:
        notes.append("fp32 convolutions in TF32 (cuDNN's default)")
    print(f'engine batch path on {gpu}; camera {width}x{height} -> unified processing {w}x{h}, experts at their '
          f"processors' sizes; every task a backend answers; {'; '.join(notes)}")
    baseline = {(r['precision'], r['batch']): r['fps'] for r in rows if r['backend'] == 'unified'}
    for r in rows:
        r['vs_unified'] = r['fps'] / baseline[r['precision'], r['batch']]
    print(f'{"backend":16} {"params":>7} {"prec":5} {"batch":>5} {"p50 ms":>8} {"p99 ms":>8} {"frames/s":>9} '
          f'{"vs unif":>7} {"upload":>7} {"forward":>8} {"decode":>7} {"download":>8}')
    for r in rows:
        print(f'{r["backend"]:16} {r["params_m"]:6.1f}M {r["precision"]:5} {r["batch"]:5d} {r["p50_ms"]:8.1f} '
              f'{r["p99_ms"]:8.1f} {r["fps"]:9.1f} {r["vs_unified"]:6.2f}x {r["upload_ms"]:7.1f} '
              f'{r["forward_ms"]:8.1f} {r["decode_ms"]:7.1f} {r["download_ms"]:8.1f}')
    print(json.dumps({'device': gpu, 'engine': rows}))
    return 0

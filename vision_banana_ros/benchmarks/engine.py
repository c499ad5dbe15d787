"""`vision_banana bench`: throughput and latency of the engine's batch path per backend, precision and batch size.

Each measurement runs BatchRunner.run on N camera frames (640x480 RGB by default): upload, resize to the
processing size, forward, decode on the device, resize back, download — everything a published frame costs
before message conversion. The experts backend is measured at the same processing resolution with SegFormer-B0
and Depth-Anything-V2-Small architectures (random weights: speed does not depend on them), saved and loaded
through the real from_pretrained path. The unified backend is measured as the node runs it (each image also
mirrored, `mirror_average`) and with single answers ('unified-single'). Prints a table, then one JSON line.
"""
from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from ..backends.experts import ExpertsBackend
from ..backends.unified import UnifiedBackend
from ..engine import BatchRunner, FrameRequest, resolve_device
from ..tasks import TASKS


def _expert_checkpoints(folder: Path) -> tuple[str, str]:
    import transformers
    torch.manual_seed(0)
    seg = transformers.SegformerForSemanticSegmentation(transformers.SegformerConfig(
        num_labels=19, hidden_sizes=[32, 64, 160, 256], depths=[2, 2, 2, 2], decoder_hidden_size=256))
    seg.save_pretrained(folder / 'segformer-b0')
    backbone = transformers.Dinov2Config(hidden_size=384, num_hidden_layers=12, num_attention_heads=6,
                                         out_indices=[3, 6, 9, 12], patch_size=14, image_size=518,
                                         reshape_hidden_states=False, layerscale_value=1.0)
    depth = transformers.DepthAnythingForDepthEstimation(transformers.DepthAnythingConfig(
        backbone_config=backbone, neck_hidden_sizes=[48, 96, 192, 384], fusion_hidden_size=64,
        depth_estimation_type='metric', max_depth=80))
    depth.save_pretrained(folder / 'depth-anything-v2-small')
    return str(folder / 'segformer-b0'), str(folder / 'depth-anything-v2-small')


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
    device = resolve_device(args.device)
    batches = args.batches
    precisions = args.precisions or (
        ['fp32', 'fp16', 'bf16'] if device.type == 'cuda' else ['fp32', 'bf16'])
    width, height = args.camera
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (height, width, 3), dtype=np.uint8) for _ in range(max(batches))]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        unified = UnifiedBackend(args.weights, device=device)   # at the size its weights were trained at
        backends = {'unified': unified, 'unified-single': UnifiedBackend(args.weights, device=device,
                                                                         mirror_average=False)}
        if not args.no_experts:
            seg, depth = _expert_checkpoints(Path(tmp))
            backends['experts'] = ExpertsBackend(seg, depth, device=device, processing_size=unified.processing_size)
        for name, backend in backends.items():
            params = backend.parameter_count()
            for precision in precisions:
                runner = BatchRunner(backend, TASKS, precision)
                for batch in batches:
                    frames = [FrameRequest(f'cam{i}', images[i]) for i in range(batch)]
                    rows.append({'backend': name, 'params_m': params / 1e6, 'precision': precision, 'batch': batch,
                                 **_measure(runner, frames, args.repeats)})
    gpu = torch.cuda.get_device_name(device) if device.type == 'cuda' else f'CPU, {torch.get_num_threads()} threads'
    h, w = unified.processing_size
    print(f'engine batch path on {gpu}; camera {width}x{height} -> processing {w}x{h}; all three tasks; '
          f'median of {args.repeats}')
    print(f'{"backend":14} {"params":>7} {"prec":5} {"batch":>5} {"p50 ms":>8} {"p99 ms":>8} {"frames/s":>9} '
          f'{"upload":>7} {"forward":>8} {"decode":>7} {"download":>8}')
    for r in rows:
        print(f'{r["backend"]:14} {r["params_m"]:6.1f}M {r["precision"]:5} {r["batch"]:5d} {r["p50_ms"]:8.1f} '
              f'{r["p99_ms"]:8.1f} {r["fps"]:9.1f} {r["upload_ms"]:7.1f} {r["forward_ms"]:8.1f} '
              f'{r["decode_ms"]:7.1f} {r["download_ms"]:8.1f}')
    print(json.dumps({'device': gpu, 'engine': rows}))
    return 0

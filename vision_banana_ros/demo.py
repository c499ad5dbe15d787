"""`vision_banana demo`: what `make demo` runs.

Renders street frames from the procedural world, answers all three tasks with the embedded default model, and
writes a montage per frame (input | semantic | depth | normals; top row the model's RGB answers, bottom row the
ground truth through the same codecs) plus a summary of codec round-trip errors and model metrics.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
from PIL import Image

from .backends.unified import UnifiedBackend
from .codecs import CITYSCAPES, decode_depth, decode_normals, encode_depth_uint8, encode_normals_uint8
from .engine import BatchRunner, FrameRequest
from .evaluation.metrics import DepthMetrics, NormalMetrics, SegmentationMetrics
from .model.weights import DEFAULT_WEIGHTS
from .world import render_frame

from .tasks import TASKS
DEMO_SEEDS = (910_001, 910_002, 910_003, 910_004)


def _codec_round_trip(frame) -> dict:
    """Errors of the 8-bit codecs on this frame's ground truth (what a perfect model's answer would lose)."""
    valid = np.isfinite(frame.depth) & (frame.depth > 0)
    depth = decode_depth(encode_depth_uint8(frame.depth))
    has_normal = np.abs(frame.normals).sum(-1) > 0
    normals = decode_normals(encode_normals_uint8(frame.normals))
    cosine = np.clip((normals[has_normal] * frame.normals[has_normal]).sum(-1), -1, 1)
    return {'palette_exact': bool((CITYSCAPES.decode(CITYSCAPES.encode(frame.labels))[0] == frame.labels).all()),
            'depth_max_rel_err': float(np.max(np.abs(depth[valid] - frame.depth[valid]) / frame.depth[valid])),
            'normals_max_err_deg': float(np.degrees(np.arccos(cosine)).max())}


def run_demo(out_dir: str | Path, width: int = 320, height: int = 240) -> int:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    runner = BatchRunner(UnifiedBackend(DEFAULT_WEIGHTS), TASKS)
    seg, depth_metrics, normal_metrics = SegmentationMetrics(), DepthMetrics(), NormalMetrics()
    frames = [render_frame(seed, width, height) for seed in DEMO_SEEDS]
    started = time.perf_counter()
    results = runner.run([FrameRequest(f'demo{i}', f.rgb) for i, f in enumerate(frames)])
    inference_ms = (time.perf_counter() - started) * 1e3
    codec_checks = []
    for i, (frame, result) in enumerate(zip(frames, results)):
        answers = [result.encodings[t] for t in TASKS]
        truth = [CITYSCAPES.encode(frame.labels), encode_depth_uint8(frame.depth), encode_normals_uint8(frame.normals)]
        montage = np.concatenate([np.concatenate([frame.rgb, *answers], axis=1),
                                  np.concatenate([frame.rgb, *truth], axis=1)], axis=0)
        Image.fromarray(montage).save(out / f'montage_{i:02d}.png')
        seg.update(result.labels, frame.labels)
        depth_metrics.update(result.depth, frame.depth)
        normal_metrics.update(result.normals, frame.normals)
        codec_checks.append(_codec_round_trip(frame))
    summary = {
        'frames': len(frames), 'size': f'{width}x{height}', 'weights': str(DEFAULT_WEIGHTS.name),
        'inference_ms_per_batch': round(inference_ms, 1),
        'miou': seg.miou(), 'delta1': depth_metrics.summary()['delta1'],
        'normals_mean_deg': normal_metrics.summary()['mean_deg'],
        'codec_palette_exact': all(c['palette_exact'] for c in codec_checks),
        'codec_depth_max_rel_err': max(c['depth_max_rel_err'] for c in codec_checks),
        'codec_normals_max_err_deg': max(c['normals_max_err_deg'] for c in codec_checks),
    }
    (out / 'summary.json').write_text(json.dumps(summary, indent=2))
    print(f'wrote {len(frames)} montages (input | semantic | depth | normals; top: model, bottom: ground truth) '
          f'to {out}/')
    for key, value in summary.items():
        print(f'  {key:28} {value:.4f}' if isinstance(value, float) else f'  {key:28} {value}')
    return 0

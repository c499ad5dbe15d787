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

"""The on-disk dataset: one file per sample and modality, named by the frame index.

    DIR/rgb/<name>.png          8-bit RGB
    DIR/labels/<name>.png       8-bit Cityscapes train id, 255 = ignore
    DIR/depth/<name>.npy        float32 metres H x W; +inf = beyond range (the world's sky), taught as far;
                                NaN or <= 0 = unknown, taught nothing (REP 118)
    DIR/normals/<name>.npy      float32 H x W x 3 unit normals (optical frame, toward the camera), all-zero = invalid
    DIR/intrinsics/<name>.json  {"fx": .., "fy": .., "cx": .., "cy": ..} pixels, finite, fx, fy > 0 (optional)
    DIR/camera/<name>.json      the world's camera parameters, frame seed and kind of place (optional, world
                                renders only)

Names are zero-padded frame indices (000123). Frame i of a dataset made with seed S is rendered from
`frame_seed(S, i)`, so datasets made with different seeds share no frame.
"""
from __future__ import annotations

from collections.abc import Iterator
import hashlib
import json
import math
from pathlib import Path

import numpy as np

from .render import Frame, render_frame

PARTS = ('rgb', 'labels', 'depth', 'normals', 'intrinsics', 'camera')
# Resolutions `size='random'` draws from (all multiples of 16 wide).
RANDOM_SIZES = ((160, 120), (192, 144), (224, 168), (256, 192), (320, 240), (320, 180), (384, 216), (256, 256),
                (240, 240), (384, 288), (480, 270), (480, 360), (512, 384), (640, 360), (640, 480))


def frame_seed(seed: int, index: int) -> int:
    """The render seed of frame `index` in a dataset made with `seed` (63 bits, mixed by SeedSequence)."""
    if seed < 0 or index < 0:
        raise ValueError(f'seed and index must be non-negative, got {seed}, {index}')
    return int(np.random.SeedSequence([int(seed), int(index)]).generate_state(1, np.uint64)[0] >> np.uint64(1))


def source_digest() -> str:
    """12 hex digits of the world's source code: frames rendered by a cache keyed with it are still what the
    world renders (a change to any of its modules, however small, gives a new digest).
    """
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob('*.py')):
        digest.update(path.name.encode() + b'\0' + path.read_bytes())
    return digest.hexdigest()[:12]


def parse_size(size) -> tuple[int, int] | str:
    """(w, h), 'WxH' or 'random' -> (w, h) or 'random'."""
    if isinstance(size, str):
        if size == 'random':
            return size
        try:
            w, h = (int(v) for v in size.lower().split('x'))
        except ValueError:
            raise ValueError(f"size must be WxH (e.g. 320x240) or 'random', got {size!r}") from None
    else:
        w, h = size
    if not (8 <= w <= 4096 and 8 <= h <= 4096):
        raise ValueError(f'size must lie in 8..4096 pixels per side, got {w}x{h}')
    return int(w), int(h)


def frame_size(size, seed: int) -> tuple[int, int]:
    """The frame size of sample `seed`: `size`, or one of RANDOM_SIZES when size is 'random'."""
    if size != 'random':
        return size
    return RANDOM_SIZES[int(np.random.default_rng(seed).integers(len(RANDOM_SIZES)))]


def save_sample(out_dir: str | Path, name: str, frame: Frame) -> None:
    """Write one frame's RGB, labels, depth and normals under `out_dir` as `name`."""
    from PIL import Image
    out = Path(out_dir)
    Image.fromarray(np.ascontiguousarray(frame.rgb, dtype=np.uint8)).save(out / 'rgb' / f'{name}.png')
    Image.fromarray(np.ascontiguousarray(frame.labels, dtype=np.uint8)).save(out / 'labels' / f'{name}.png')
    np.save(out / 'depth' / f'{name}.npy', frame.depth.astype(np.float32))
    np.save(out / 'normals' / f'{name}.npy', frame.normals.astype(np.float32))
    if frame.intrinsics is not None:
        (out / 'intrinsics' / f'{name}.json').write_text(json.dumps(frame.intrinsics))
    if frame.camera:
        (out / 'camera' / f'{name}.json').write_text(json.dumps({**frame.camera, 'seed': frame.seed,
                                                                  'scene': frame.scene}))


def _render_one(job: tuple) -> tuple[str, Frame]:
    index, seed, size, overrides = job
    fs = frame_seed(seed, index)
    w, h = frame_size(size, fs)
    return f'{index:06d}', render_frame(fs, w, h, **overrides)


def write_dataset(out_dir: str | Path, count: int, seed: int, size=(320, 240), progress: bool = True,
                  workers: int = 1, **overrides) -> list[str]:
    """Render frames 0 .. count-1 into `out_dir` (created if needed, and holding no frames yet: frames of an
    earlier render left beside them would mix seeds, e.g. training frames into a held-out set); returns their
    names. `size` is (w, h), 'WxH' or 'random'; `workers` > 1 renders in that many processes; overrides go to
    `render_frame`.
    """
    for name, value in (('count', count), ('seed', seed)):
        if value < 0:
            raise ValueError(f'{name} must be non-negative, got {value}')
    size = parse_size(size)
    out = Path(out_dir)
    existing = sum(1 for _ in (out / 'rgb').glob('*.png')) if (out / 'rgb').is_dir() else 0
    if existing:
        raise ValueError(f'{out} already holds {existing} frames: render into a new folder (or delete it first)')
    for part in PARTS:
        (out / part).mkdir(parents=True, exist_ok=True)
    jobs = [(i, seed, size, overrides) for i in range(count)]
    names = []
    from tqdm import tqdm
    bar = tqdm(total=count, unit='frame', disable=not progress, desc=f'rendering {out}')
    if workers > 1 and count > 1:
        import multiprocessing
        with multiprocessing.get_context('spawn').Pool(workers) as pool:
            for name, frame in pool.imap(_render_one, jobs, chunksize=4):
                save_sample(out, name, frame)
                names.append(name)
                bar.update()
    else:
        for job in jobs:
            name, frame = _render_one(job)
            save_sample(out, name, frame)
            names.append(name)
            bar.update()
    bar.close()
    return names


def read_dataset(root: str | Path) -> list[str]:
    """Sorted names of the samples in a dataset directory (those with both an RGB image and labels); ValueError
    when there are none.
    """
    root = Path(root)
    if not (root / 'rgb').is_dir():
        raise ValueError(f'{root} is not a dataset: it has no rgb/ folder')
    names = sorted(p.stem for p in (root / 'rgb').glob('*.png') if (root / 'labels' / f'{p.stem}.png').exists())
    if not names:
        raise ValueError(f'{root}: no samples (rgb/<name>.png with labels/<name>.png)')
    return names


def iter_samples(root: str | Path) -> Iterator[Frame]:
    """Every sample of a dataset directory in name order, loaded one at a time."""
    for name in read_dataset(root):
        yield load_sample(root, name)


CAMERA_NUMBERS = ('height_m', 'pitch_deg', 'roll_deg', 'yaw_deg', 'fov_deg', 'ground_z')


def _floats(path: Path, what: str) -> np.ndarray:
    """A float array file as float32; anything else (16-bit millimetres, 8-bit codec images) is refused, not
    read as if it were `what`.
    """
    values = np.load(path)
    if values.dtype.kind != 'f':
        raise ValueError(f'{path}: {values.dtype} values; the format holds float {what}')
    return values.astype(np.float32)


def _intrinsics(path: Path) -> dict:
    intrinsics = _read_json(path)
    numbers = isinstance(intrinsics, dict) and all(
        isinstance(intrinsics.get(k), (int, float)) and math.isfinite(intrinsics[k]) for k in ('fx', 'fy', 'cx', 'cy'))
    if not numbers or min(intrinsics['fx'], intrinsics['fy']) <= 0:
        raise ValueError(f'{path}: intrinsics must be finite numbers fx, fy (> 0), cx, cy in pixels of the image')
    return intrinsics


def _read_json(path: Path):
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f'{path}: not JSON ({exc})') from None


def load_sample(root: str | Path, name: str) -> Frame:
    """One sample as a Frame; a missing depth or normals file gives an all-invalid array, missing
    intrinsics None, missing camera parameters an empty dict.
    """
    from PIL import Image
    root = Path(root)
    rgb = np.asarray(Image.open(root / 'rgb' / f'{name}.png').convert('RGB'))
    with Image.open(root / 'labels' / f'{name}.png') as picture:
        labels = np.asarray(picture.getchannel(0) if picture.mode == 'LA' else picture)
    if labels.ndim != 2 or labels.shape != rgb.shape[:2]:
        raise ValueError(f'{root}/labels/{name}.png must be a single-channel image the size of the RGB image')
    if labels.dtype != np.uint8 and labels.max(initial=0) > 255:
        raise ValueError(f'{root}/labels/{name}.png has ids above 255: labels are 8-bit train ids')
    h, w = labels.shape
    depth_file, normals_file = root / 'depth' / f'{name}.npy', root / 'normals' / f'{name}.npy'
    depth = _floats(depth_file, 'metres') if depth_file.exists() else np.full((h, w), np.nan, np.float32)
    normals = _floats(normals_file, 'unit vectors') if normals_file.exists() else np.zeros((h, w, 3), np.float32)
    if depth.shape != (h, w) or normals.shape != (h, w, 3):
        raise ValueError(f'sample {name} in {root}: depth {depth.shape} / normals {normals.shape} do not match '
                         f'the {w}x{h} image')
    length = np.linalg.norm(normals, axis=-1)
    if not np.all((np.abs(length - 1) < 1e-2) | (length == 0) | np.isnan(length)):
        raise ValueError(f'{normals_file}: normals must be unit vectors (all-zero or NaN where unknown)')
    intr_file, cam_file = root / 'intrinsics' / f'{name}.json', root / 'camera' / f'{name}.json'
    intrinsics = _intrinsics(intr_file) if intr_file.exists() else None
    camera = _read_json(cam_file) if cam_file.exists() else {}
    if not isinstance(camera, dict) or not all(isinstance(camera.get(k, 0.0), (int, float)) for k in CAMERA_NUMBERS):
        raise ValueError(f'{cam_file}: the camera must be an object whose {", ".join(CAMERA_NUMBERS)} are numbers')
    seed, scene = camera.pop('seed', None), camera.pop('scene', None)
    return Frame(rgb, labels.astype(np.uint8), depth, normals, intrinsics, camera, seed, scene)

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

"""Render the data of the embedded file's last training stage (the model card's recipe, stage 39: stage 33's sets
in other shares) into OUT, one data set per folder, then print the `vision_banana train` line that continues from
the embedded file on it with the mix and rate of stage 39's run (which started from stage 37; stage 39 is that
run's weights averaged half-and-half with stage 37's, `tools/average_weights.py`).

Sets named *_UP keep only the frames whose camera is upright (pitch and roll within the wide preset's upright
ranges, `world.presets.camera_pose`): the freely turned quarter of the wide preset stays out of training, as in the
recipe. A set already complete in OUT (its `.complete` marker) is kept, so an interrupted run goes on where it
stopped; a set left half-rendered is rendered again. About 17 000 frames, 35 minutes on two CPU cores.

Usage: python tools/recipe_data.py OUT [--workers 2] [--scale 1]   (--scale: a share of every set's count)
"""
import argparse
import json
from pathlib import Path
import shutil

from vision_banana_ros.model.weights import DEFAULT_WEIGHTS
from vision_banana_ros.world import write_dataset
from vision_banana_ros.world.dataset import PARTS
from vision_banana_ros.world.presets import camera_pose

# name: (preset, seed, frames rendered, camera ranges, upright cameras only)
SETS = {
    'W20_UP': ('wide', 20, 4800, {}, True),
    'W23_UP': ('wide', 23, 2400, {}, True),
    'LOW_UP': ('wide', 24, 1600, {'height_m': (0.2, 0.6)}, True),
    'ST': ('street', 22, 1200, {}, False),
    'IN_B': ('indoor', 44, 2400, {}, False),
    'REACH_B': ('reach', 43, 2400, {}, False),
    'REACH': ('reach', 41, 2400, {}, False),
}
# each set's share of the batches: listed as often as the recipe lists it
TRAINING_DATA = ('W20_UP,W20_UP,W20_UP,W23_UP,W23_UP,LOW_UP,LOW_UP,LOW_UP,ST,ST,ST,ST,IN_B,IN_B,IN_B,REACH_B,REACH_B,'
                 'REACH_B,REACH,REACH')


def drop_turned_cameras(folder: Path) -> int:
    """Delete the frames of `folder` whose camera is not upright; return how many stay."""
    kept = 0
    for camera in sorted((folder / 'camera').glob('*.json')):
        if camera_pose(json.loads(camera.read_text())) == 'upright':
            kept += 1
            continue
        for part in PARTS:
            for path in (folder / part).glob(f'{camera.stem}.*'):
                path.unlink()
    return kept


def render_set(out: Path, name: str, scale: float, workers: int) -> None:
    """Render one set of SETS into OUT/name unless it is complete there."""
    folder = out / name
    if (folder / '.complete').exists():
        print(f'{name}: complete, kept')
        return
    shutil.rmtree(folder, ignore_errors=True)
    preset, seed, count, camera, upright = SETS[name]
    write_dataset(folder, max(1, round(count * scale)), seed, size=(320, 240), workers=workers, preset=preset,
                  **camera)
    if upright:
        print(f'{name}: {drop_turned_cameras(folder)} upright frames kept')
    (folder / '.complete').touch()


def main() -> None:
    """Render every set, then print the training line."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('out', type=Path)
    parser.add_argument('--workers', type=int, default=2, help='rendering processes (default: %(default)s)')
    parser.add_argument('--scale', type=float, default=1.0, help='share of each count to render (default: 1)')
    args = parser.parse_args()
    if not 0 < args.scale <= 1:
        parser.error(f'--scale must lie in (0, 1], got {args.scale}')
    for name in SETS:
        render_set(args.out, name, args.scale, args.workers)
    data = ','.join(str(args.out / name) for name in TRAINING_DATA.split(','))
    print(f'vision_banana train --data {data} --size 320x240 --minutes 20 --lr 5e-5 --init {DEFAULT_WEIGHTS} '
          f'--out STAGE')


if __name__ == '__main__':
    main()

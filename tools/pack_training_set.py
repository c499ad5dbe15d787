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

"""Pack a data set directory small enough to travel to a lent GPU machine (which has no open3d to render with):
one uncompressed zip holding RGB as JPEG (quality 85 with full-resolution colour: 4:2:0 at quality 90 is as large
and smears the colour of thin poles and signs), labels and the lossless 8-bit codec images of depth (unknown depth
black, 0 m) and normals as lossless WebP, and each frame's intrinsics as JSON (camera-aware depth needs them), about
23.5 KB a frame at 256x192. One file travels in far less room than thousands (the device counts every file's
blocks): 2250 frames make ~53 MB, what fits one call beside the working tree.

Usage: python tools/pack_training_set.py DATASET_DIR PACK.zip [--start I] [--count N]
"""
import argparse
import io
import itertools
import json
import zipfile

import numpy as np
from PIL import Image

from vision_banana_ros.codecs import encode_depth_uint8, encode_normals_uint8
from vision_banana_ros.world.dataset import iter_samples


def main() -> None:
    """Pack the data set frames START .. START + COUNT into one zip."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('dataset')
    parser.add_argument('pack')
    parser.add_argument('--start', type=int, default=0)
    parser.add_argument('--count', type=int)
    args = parser.parse_args()
    stop = None if args.count is None else args.start + args.count
    with zipfile.ZipFile(args.pack, 'w', zipfile.ZIP_STORED) as pack:
        for i, frame in enumerate(itertools.islice(iter_samples(args.dataset), args.start, stop), args.start):
            def add(folder, rgb, suffix='webp', **options):
                data = io.BytesIO()
                Image.fromarray(rgb).save(data, format=suffix.upper().replace('JPG', 'JPEG'), **options)
                pack.writestr(f'{folder}/{i:05d}.{suffix}', data.getvalue())
            add('rgb', frame.rgb, 'jpg', quality=85, subsampling=0)
            add('labels', np.repeat(frame.labels[..., None], 3, axis=2), lossless=True)
            # unknown depth (NaN) as black, 0 m, which is no depth either: the codec paints NaN white, which is far
            add('depth', encode_depth_uint8(np.where(frame.depth >= 0, frame.depth, 0.0)), lossless=True)
            add('normals', encode_normals_uint8(frame.normals), lossless=True)
            if frame.intrinsics:
                pack.writestr(f'intrinsics/{i:05d}.json', json.dumps(frame.intrinsics))


if __name__ == '__main__':
    main()

"""Pack a data set directory small enough to travel to a lent GPU machine (which has no open3d to render with):
RGB as JPEG, labels and the lossless 8-bit codec images of depth and normals as lossless WebP. About 20 KB a
frame at 256x192.   Usage: python tools/pack_training_set.py DATASET_DIR PACK_DIR [--start I] [--count N]"""
import argparse
import itertools
from pathlib import Path

import numpy as np
from PIL import Image

from vision_banana_ros.codecs import encode_depth_uint8, encode_normals_uint8
from vision_banana_ros.world.dataset import iter_samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('dataset')
    parser.add_argument('pack')
    parser.add_argument('--start', type=int, default=0)
    parser.add_argument('--count', type=int)
    args = parser.parse_args()
    out = Path(args.pack)
    for folder in ('rgb', 'labels', 'depth', 'normals'):
        (out / folder).mkdir(parents=True, exist_ok=True)
    stop = None if args.count is None else args.start + args.count
    for i, frame in enumerate(itertools.islice(iter_samples(args.dataset), args.start, stop), args.start):
        lossless = lambda folder, rgb: Image.fromarray(rgb).save(out / folder / f'{i:05d}.webp', lossless=True)
        Image.fromarray(frame.rgb).save(out / 'rgb' / f'{i:05d}.jpg', quality=90)
        lossless('labels', np.repeat(frame.labels[..., None], 3, axis=2))
        lossless('depth', encode_depth_uint8(frame.depth))
        lossless('normals', encode_normals_uint8(frame.normals))


if __name__ == '__main__':
    main()

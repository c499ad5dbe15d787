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

"""Render time of the procedural world per frame, on one core, for each size asked.

vision_banana bench --world [--sizes 160x120,320x240,640x480]
"""
from __future__ import annotations

import json
import time

import numpy as np

from ..world import render_frame

FRAMES = 5  # scenes per size (seeds 0..4): the time varies with what a scene holds


def main(sizes: list[tuple[int, int]]) -> int:
    """`bench --world`: time the world render at each size and print the table."""
    render_frame(0, 64, 48)  # imports, the noise texture
    rows = []
    print(f'world render, one process; {FRAMES} scenes per size')
    print(f'{"size":>9} {"median ms":>10} {"max ms":>8}')
    for width, height in sizes:
        times = []
        for seed in range(FRAMES):
            start = time.perf_counter()
            render_frame(seed, width, height)
            times.append((time.perf_counter() - start) * 1000.0)
        rows.append({'size': f'{width}x{height}', 'median_ms': float(np.median(times)), 'max_ms': max(times)})
        print(f'{rows[-1]["size"]:>9} {rows[-1]["median_ms"]:10.0f} {rows[-1]["max_ms"]:8.0f}')
    print(json.dumps({'world': rows}))
    return 0

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

"""Procedural world: random street and indoor scenes with exact per-pixel ground truth for training and evaluation;
no rclpy.

`render_frame(seed, width, height, preset=...)` ray-casts a random scene (open3d's CPU RaycastingScene) of a preset
(`presets`: street, wide, holdout, indoor, reach) into a `Frame`: RGB,
Cityscapes train ids, metric depth (optical-frame z, +inf on sky) and unit normals (optical frame, toward the
camera, zero on sky). `write_dataset` / `read_dataset` / `load_sample` / `iter_samples` handle the on-disk format
(docs/world.md).

Classes: the world contains road 0, sidewalk 1, building 2, wall 3, fence 4, pole 5, traffic sign 7,
vegetation 8 (tree trunks and crowns, hedges, bushes), terrain 9 (grass, dirt), sky 10, person 11, car 13,
truck 14 and bus 15. It never contains traffic light 6, rider 12, train 16, motorcycle 17 or bicycle 18. Streets
never write the ignore id 255; indoor scenes (every preset but street) label with it what Cityscapes has no class
for (floors, ceilings, furniture).
"""
from .dataset import frame_seed, iter_samples, load_sample, read_dataset, write_dataset
from .render import Frame, render, render_frame, Sensor
from .scene import Camera, CAMERA_RANGES, generate, Lighting, Scene

WORLD_CLASSES = (0, 1, 2, 3, 4, 5, 7, 8, 9, 10, 11, 13, 14, 15)
ABSENT_CLASSES = (6, 12, 16, 17, 18)

__all__ = ['ABSENT_CLASSES', 'CAMERA_RANGES', 'WORLD_CLASSES', 'Camera', 'Frame', 'Lighting', 'Scene', 'Sensor',
           'frame_seed', 'generate', 'iter_samples', 'load_sample', 'read_dataset', 'render', 'render_frame',
           'write_dataset']

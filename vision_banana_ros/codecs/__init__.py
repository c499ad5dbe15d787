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

"""Codecs between task results and RGB images (numpy: ... x H x W x 3; torch: N x 3 x H x W on any device)."""
from .depth import (
                    decode_depth,
                    decode_depth_pooled_torch,
                    decode_depth_torch,
                    depth_to_unit,
                    encode_depth,
                    encode_depth_torch,
                    encode_depth_uint8,
                    encode_depth_uint8_torch,
                    unit_to_depth,
)
from .depth import STEPS as DEPTH_STEPS
from .normals import (
                    decode_normals,
                    decode_normals_torch,
                    encode_normals,
                    encode_normals_torch,
                    encode_normals_uint8,
                    encode_normals_uint8_torch,
)
from .palette import CITYSCAPES, IGNORE_ID, load_palette, Palette

__all__ = [
    'CITYSCAPES', 'DEPTH_STEPS', 'IGNORE_ID', 'Palette', 'load_palette',
    'depth_to_unit', 'unit_to_depth',
    'encode_depth', 'encode_depth_uint8', 'decode_depth',
    'encode_depth_torch', 'encode_depth_uint8_torch', 'decode_depth_torch', 'decode_depth_pooled_torch',
    'encode_normals', 'encode_normals_uint8', 'decode_normals',
    'encode_normals_torch', 'encode_normals_uint8_torch', 'decode_normals_torch',
]

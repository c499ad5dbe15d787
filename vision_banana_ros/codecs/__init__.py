"""Codecs between task results and RGB images (numpy: ... x H x W x 3; torch: N x 3 x H x W on any device)."""
from .depth import (STEPS as DEPTH_STEPS, decode_depth, decode_depth_pooled_torch, decode_depth_torch, depth_to_unit,
                    encode_depth, encode_depth_torch, encode_depth_uint8, encode_depth_uint8_torch, unit_to_depth)
from .normals import (decode_normals, decode_normals_torch, encode_normals, encode_normals_torch,
                      encode_normals_uint8, encode_normals_uint8_torch)
from .palette import CITYSCAPES, IGNORE_ID, Palette, load_palette

__all__ = [
    'CITYSCAPES', 'DEPTH_STEPS', 'IGNORE_ID', 'Palette', 'load_palette',
    'depth_to_unit', 'unit_to_depth',
    'encode_depth', 'encode_depth_uint8', 'decode_depth',
    'encode_depth_torch', 'encode_depth_uint8_torch', 'decode_depth_torch', 'decode_depth_pooled_torch',
    'encode_normals', 'encode_normals_uint8', 'decode_normals',
    'encode_normals_torch', 'encode_normals_uint8_torch', 'decode_normals_torch',
]

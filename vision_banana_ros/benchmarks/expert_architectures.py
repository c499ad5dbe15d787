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

"""The recommended pairings' checkpoints as random-weight copies of their real architectures and
processors, for `vision_banana bench` (speed does not depend on the weights, and the bench must run
without internet).

The architecture settings and preprocessor_config.json values are those of the hub checkpoints' own
files.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

_IMAGENET = {'image_mean': [0.485, 0.456, 0.406], 'image_std': [0.229, 0.224, 0.225]}
SEGFORMER_PROCESSOR = {
    'image_processor_type': 'SegformerImageProcessor',
    'do_resize': True,
    'do_normalize': True,
    'resample': 2,
    'size': 1024,
    **_IMAGENET,
}
DEPTH_ANYTHING_PROCESSOR = {
    'image_processor_type': 'DPTImageProcessor',
    'do_resize': True,
    'do_normalize': True,
    'do_pad': False,
    'do_rescale': True,
    'ensure_multiple_of': 14,
    'keep_aspect_ratio': True,
    'resample': 3,
    'size': {'height': 518, 'width': 518},
    **_IMAGENET,
}
_SEGFORMER = {  # hidden sizes, depths, decoder width
    'nvidia/segformer-b0-finetuned-cityscapes-1024-1024': ([32, 64, 160, 256], [2, 2, 2, 2], 256),
    'nvidia/segformer-b5-finetuned-cityscapes-1024-1024': (
        [64, 128, 320, 512],
        [3, 6, 40, 3],
        768,
    ),
}
_DEPTH_ANYTHING = {  # DINOv2 width, layers, heads, out indices; neck sizes, fusion width
    'depth-anything/Depth-Anything-V2-Metric-Outdoor-Small-hf': (
        384,
        12,
        6,
        [3, 6, 9, 12],
        [48, 96, 192, 384],
        64,
    ),
    'depth-anything/Depth-Anything-V2-Metric-Outdoor-Large-hf': (
        1024,
        24,
        16,
        [5, 12, 18, 24],
        [256, 512, 1024, 1024],
        256,
    ),
}


def save_random(hub_id: str, folder: Path) -> Path:
    """A random-weight checkpoint of `hub_id`'s architecture and processor, saved in
    folder/<name>.
    """
    import transformers

    torch.manual_seed(0)
    path = Path(folder) / hub_id.split('/')[1]
    if hub_id in _SEGFORMER:
        hidden, depths, decoder = _SEGFORMER[hub_id]
        model = transformers.SegformerForSemanticSegmentation(
            transformers.SegformerConfig(
                num_labels=19,
                hidden_sizes=hidden,
                depths=depths,
                num_attention_heads=[1, 2, 5, 8],
                decoder_hidden_size=decoder,
            )
        )
        processor = SEGFORMER_PROCESSOR
    elif hub_id in _DEPTH_ANYTHING:
        width, layers, heads, out_indices, neck, fusion = _DEPTH_ANYTHING[hub_id]
        backbone = transformers.Dinov2Config(
            hidden_size=width,
            num_hidden_layers=layers,
            num_attention_heads=heads,
            out_indices=out_indices,
            patch_size=14,
            image_size=518,
            reshape_hidden_states=False,
            layerscale_value=1.0,
        )
        model = transformers.DepthAnythingForDepthEstimation(
            transformers.DepthAnythingConfig(
                backbone_config=backbone,
                neck_hidden_sizes=neck,
                fusion_hidden_size=fusion,
                depth_estimation_type='metric',
                max_depth=80,
            )
        )
        processor = DEPTH_ANYTHING_PROCESSOR
    else:
        raise ValueError(f'no benchmark architecture for {hub_id}')
    model.save_pretrained(path)
    (path / 'preprocessor_config.json').write_text(json.dumps(processor))
    return path

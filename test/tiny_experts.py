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

"""Tiny random checkpoints of every supported expert family, saved as transformers saves them
(config.json, model.safetensors, preprocessor_config.json), for the tests of the experts backend
and everything around it.

Each is its family's real hub configuration with the widths, depths and processor sizes shrunk (so
that a test runs in seconds) and the output head scaled up, so that answers vary over the image
instead of sitting near one value. The processor configurations keep the real ones' keys and rules
(resize rule, multiple, padding, resampling, normalisation); only their sizes are smaller.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from vision_banana_ros.benchmarks.expert_architectures import (
    DEPTH_ANYTHING_PROCESSOR,
    SEGFORMER_PROCESSOR,
)

CITYSCAPES_ID2LABEL = dict(
    enumerate(
        [
            'road',
            'sidewalk',
            'building',
            'wall',
            'fence',
            'pole',
            'traffic light',
            'traffic sign',
            'vegetation',
            'terrain',
            'sky',
            'person',
            'rider',
            'car',
            'truck',
            'bus',
            'train',
            'motorcycle',
            'bicycle',
        ]
    )
)
IMAGENET = {'image_mean': [0.485, 0.456, 0.406], 'image_std': [0.229, 0.224, 0.225]}
HALF = {'image_mean': [0.5, 0.5, 0.5], 'image_std': [0.5, 0.5, 0.5]}

# preprocessor_config.json as on the hub, sizes shrunk (real: 1024; 384 + 1333; 518; 384 x 512;
# 1536)
PROCESSORS = {
    'segformer': {**SEGFORMER_PROCESSOR, 'size': 96},
    'mask2former': {
        'image_processor_type': 'Mask2FormerImageProcessor',
        'do_resize': True,
        'do_normalize': True,
        'do_rescale': True,
        'ignore_index': 255,
        'resample': 2,
        'size_divisor': 32,
        'size': {'shortest_edge': 64, 'longest_edge': 160},
        **IMAGENET,
    },
    'depth_anything': {**DEPTH_ANYTHING_PROCESSOR, 'size': {'height': 70, 'width': 70}},
    'zoedepth': {
        'image_processor_type': 'ZoeDepthImageProcessor',
        'do_resize': True,
        'do_normalize': True,
        'do_pad': True,
        'do_rescale': True,
        'ensure_multiple_of': 32,
        'keep_aspect_ratio': True,
        'resample': 2,
        'size': {'height': 64, 'width': 96},
        **HALF,
    },
    'glpn': {
        'image_processor_type': 'GLPNImageProcessor',
        'do_resize': True,
        'do_rescale': True,
        'resample': 2,
        'size_divisor': 32,
    },
    'depth_pro': {
        'image_processor_type': 'DepthProImageProcessorFast',
        'do_resize': True,
        'do_normalize': True,
        'do_rescale': True,
        'resample': 2,
        'size': {'height': 128, 'width': 128},
        **HALF,
    },
}


# std of the re-initialised head weights times sqrt(fan-in): enough to vary, not so much that the
# metric heads saturate (Depth Anything's sigmoid) or multiply out of range (ZoeDepth's bins, Depth
# Pro's inverse depth)
GAINS = {
    'segformer': 3.0,
    'mask2former': 3.0,
    'depth_anything': 1.0,
    'zoedepth': 1.5,
    'glpn': 3.0,
    'depth_pro': 0.5,
}


def _dinov2(**changes):
    import transformers

    settings = {
        'hidden_size': 16,
        'num_hidden_layers': 4,
        'num_attention_heads': 2,
        'intermediate_size': 32,
        'patch_size': 14,
        'image_size': 70,
        'out_indices': [1, 2, 3, 4],
        'reshape_hidden_states': False,
    }
    return transformers.Dinov2Config(**{**settings, **changes})


def build(family: str, seed: int = 0, gain: float | None = None, **changes):
    """A random model of `family` (its config changed by `changes`), head scaled up."""
    import transformers

    torch.manual_seed(seed)
    if family == 'segformer':
        model = transformers.SegformerForSemanticSegmentation(
            transformers.SegformerConfig(
                num_labels=19,
                id2label=CITYSCAPES_ID2LABEL,
                hidden_sizes=[8, 16, 24, 32],
                depths=[1, 1, 1, 1],
                num_attention_heads=[1, 1, 1, 1],
                decoder_hidden_size=16,
                **changes,
            )
        )
        head = model.decode_head
    elif family == 'mask2former':
        swin = transformers.SwinConfig(
            embed_dim=8,
            depths=[1, 1, 1, 1],
            num_heads=[1, 1, 1, 1],
            window_size=4,
            out_features=['stage1', 'stage2', 'stage3', 'stage4'],
        )
        model = transformers.Mask2FormerForUniversalSegmentation(
            transformers.Mask2FormerConfig(
                backbone_config=swin,
                num_labels=19,
                id2label=CITYSCAPES_ID2LABEL,
                hidden_dim=32,
                feature_size=32,
                mask_feature_size=32,
                encoder_feedforward_dim=32,
                dim_feedforward=32,
                encoder_layers=1,
                decoder_layers=2,
                num_attention_heads=2,
                num_queries=8,
                **changes,
            )
        )
        decoder = model.model.transformer_module
        head = torch.nn.ModuleList([model.class_predictor, decoder.decoder.mask_predictor])
    elif family == 'depth_anything':
        model = transformers.DepthAnythingForDepthEstimation(
            transformers.DepthAnythingConfig(
                backbone_config=_dinov2(),
                reassemble_hidden_size=16,
                neck_hidden_sizes=[8, 8, 16, 16],
                fusion_hidden_size=16,
                head_hidden_size=8,
                depth_estimation_type='metric',
                max_depth=80,
                **changes,
            )
        )
        head = torch.nn.ModuleList([model.neck, model.head])
    elif family == 'zoedepth':
        beit = transformers.BeitConfig(
            hidden_size=16,
            num_hidden_layers=4,
            num_attention_heads=2,
            intermediate_size=32,
            image_size=64,
            patch_size=16,
            out_indices=[1, 2, 3, 4],
            use_relative_position_bias=True,
            reshape_hidden_states=False,
        )
        model = transformers.ZoeDepthForDepthEstimation(
            transformers.ZoeDepthConfig(
                backbone_config=beit,
                neck_hidden_sizes=[8, 8, 16, 16],
                fusion_hidden_size=16,
                bottleneck_features=16,
                num_relative_features=8,
                bin_embedding_dim=8,
                num_attractors=[4, 2, 2, 1],
                bin_configurations=[
                    {'n_bins': 16, 'min_depth': 0.001, 'max_depth': 80.0, 'name': 'kitti'}
                ],
                **changes,
            )
        )
        head = torch.nn.ModuleList([model.neck, model.relative_head, model.metric_head])
    elif family == 'glpn':
        model = transformers.GLPNForDepthEstimation(
            transformers.GLPNConfig(
                hidden_sizes=[8, 16, 24, 32],
                depths=[1, 1, 1, 1],
                num_attention_heads=[1, 1, 1, 1],
                decoder_hidden_size=16,
                max_depth=80,
                **changes,
            )
        )
        head = model.head
    elif family == 'depth_pro':
        sub = {
            'hidden_size': 16,
            'num_hidden_layers': 2,
            'num_attention_heads': 2,
            'intermediate_size': 32,
            'patch_size': 8,
            'image_size': 32,
            'out_indices': [2],
            'reshape_hidden_states': False,
        }
        model = transformers.DepthProForDepthEstimation(
            transformers.DepthProConfig(
                image_model_config=_dinov2(**sub),
                patch_model_config=_dinov2(**sub),
                fov_model_config=_dinov2(**sub),
                patch_size=32,
                fusion_hidden_size=16,
                intermediate_hook_ids=[1, 0],
                intermediate_feature_dims=[8, 8],
                scaled_images_feature_dims=[16, 16, 8],
                use_fov_model=True,
                **changes,
            )
        )
        head = model.head
    else:
        raise ValueError(family)
    gain = gain or GAINS[family]
    # transformers initialises with std 0.02: signals would fade to a constant
    with torch.no_grad():
        for name, parameter in head.named_parameters():
            if name.endswith('weight') and parameter.dim() > 1:
                parameter.normal_(0.0, gain / parameter[0].numel() ** 0.5)
        if (
            family == 'depth_pro'
        ):  # inverse depth above zero (a ReLU ends the head), a field of view near 60 deg
            model.head.layers[4].bias.fill_(0.3)
            model.fov_model.head.layers[4].bias.fill_(60.0)
    return model.eval()


def save(family: str, directory: str | Path, seed: int = 0, **changes) -> Path:
    """A tiny checkpoint of `family` saved in `directory` as transformers saves one."""
    directory = Path(directory)
    build(family, seed, **changes).save_pretrained(directory)
    (directory / 'preprocessor_config.json').write_text(json.dumps(PROCESSORS[family], indent=2))
    return directory


def hub_cache(
    root: Path, checkpoints: dict[str, str], revision: str = '0123456789abcdef' * 2 + '01234567'
) -> Path:
    """A Hugging Face cache in huggingface_hub's own layout
    (models--org--name/snapshots/<revision>/...,
    refs/main) holding a tiny checkpoint per hub id (`checkpoints`: hub id -> family).
    """
    for hub_id, family in checkpoints.items():
        repo = Path(root) / f'models--{hub_id.replace("/", "--")}'
        save(family, repo / 'snapshots' / revision)
        (repo / 'refs').mkdir()
        (repo / 'refs' / 'main').write_text(revision)
    return Path(root)


def go_offline(monkeypatch, cache: Path) -> None:
    """No network for huggingface_hub, and `cache` as the standard cache (the variable the node
    reads).
    """
    import huggingface_hub.constants

    monkeypatch.setenv('HF_HUB_OFFLINE', '1')
    monkeypatch.setattr(huggingface_hub.constants, 'HF_HUB_OFFLINE', True)
    monkeypatch.setenv('HF_HUB_CACHE', str(cache))
    monkeypatch.setattr(huggingface_hub.constants, 'HF_HUB_CACHE', str(cache))

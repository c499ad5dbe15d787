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

"""Every expert family answers as transformers' own processor + post_process_* do (the oracle), on
tiny random checkpoints built from each family's real configuration (test/tiny_experts.py), on an
odd-sized non-square image.

Two checks per family: given the processor's own pixel_values, our post-processing gives the same
labels and depth within 1e-4 relative; end to end from the uint8 image (PIL resizes in the
processor, torch in the backend), depth within 1 % and at least 99.5 % of labels equal.

torchvision is not installed here, so two processors cannot run whole: Depth Pro's (torchvision
only) is followed step by step from transformers 5.24.0's image_processing_depth_pro.py in
`depth_pro_reference`, and ZoeDepth's post-processing, which calls torchvision's tensor resize,
runs with that resize replaced by what it does for a tensor (torch.nn.functional.interpolate,
bicubic, corners not aligned, no antialiasing).
"""

import json
import shutil
import types

import numpy as np
from PIL import Image
import pytest
from tiny_experts import save
import torch
import torch.nn.functional as F

from vision_banana_ros.backends.expert_families import (
    FAMILIES,
    metric_depth,
    Preprocessing,
    semantic_scores,
)
from vision_banana_ros.backends.experts import ExpertsBackend
from vision_banana_ros.engine import BatchRunner, FrameRequest
from vision_banana_ros.geometry import Intrinsics

transformers = pytest.importorskip('transformers')

SEGMENTATION = ('segformer', 'mask2former')
DEPTH = ('depth_anything', 'zoedepth', 'glpn', 'depth_pro')
HEIGHT, WIDTH = 67, 93


@pytest.fixture(scope='module')
def image():
    """A smooth random picture (real images are smooth; white noise would make every resize a coin
    toss).
    """
    rng = np.random.default_rng(3)
    coarse = torch.from_numpy(rng.random((1, 3, 9, 13), dtype=np.float32))
    smooth = F.interpolate(coarse, size=(HEIGHT, WIDTH), mode='bicubic', align_corners=False)[0]
    return (smooth.clamp(0, 1) * 255).round().byte().permute(1, 2, 0).numpy()


@pytest.fixture(scope='module')
def checkpoints(tmp_path_factory):
    root = tmp_path_factory.mktemp('families')
    return {family: save(family, root / family) for family in SEGMENTATION + DEPTH}


@pytest.fixture(autouse=True)
def torchvision_resize_for_zoedepth(monkeypatch):
    import transformers.models.zoedepth.image_processing_pil_zoedepth as zoe

    def resize(
        tensor, size, interpolation, antialias
    ):  # torchvision's resize of a C x H x W tensor
        return F.interpolate(
            tensor[None], size=size, mode=interpolation, align_corners=False, antialias=antialias
        )[0]

    monkeypatch.setattr(
        zoe,
        'tvF',
        types.SimpleNamespace(
            resize=resize, InterpolationMode=types.SimpleNamespace(BICUBIC='bicubic')
        ),
        raising=False,
    )


def processor(family, path):
    return getattr(transformers, FAMILIES[family].processor).from_pretrained(str(path))


def depth_pro_pixel_values(image: np.ndarray, size) -> torch.Tensor:
    """DepthProImageProcessor._preprocess: rescale, normalise (mean, std 0.5), then resize
    (bilinear, no antialiasing) the float tensor.
    """
    x = torch.from_numpy(image).permute(2, 0, 1)[None].float() / 255.0
    return F.interpolate(
        (x - 0.5) / 0.5, size=size, mode='bilinear', align_corners=False, antialias=False
    )


def depth_pro_reference(outputs, target_size, focal_length=None) -> torch.Tensor:
    """DepthProImageProcessor.post_process_depth_estimation for one image, line by line
    (focal_length: the known one, in place of the one from the predicted field of view).
    """
    depth, fov_value = outputs.predicted_depth[0], outputs.field_of_view[0]
    width = target_size[1]
    if focal_length is None:
        focal_length = 0.5 * width / torch.tan(0.5 * torch.deg2rad(fov_value))
    depth = depth * width / focal_length
    depth = F.interpolate(
        input=depth.unsqueeze(0).unsqueeze(1), size=target_size, mode='bilinear'
    ).squeeze()
    return 1.0 / torch.clamp(depth, min=1e-4, max=1e4)


def oracle(family, path, model, image):
    """(pixel_values, model outputs, labels or metres) as transformers makes them from the uint8
    image.
    """
    size = (HEIGHT, WIDTH)
    if family == 'depth_pro':
        pixel_values = depth_pro_pixel_values(image, (128, 128))
    else:
        pixel_values = processor(family, path)(
            images=Image.fromarray(image), return_tensors='pt'
        ).pixel_values
    with torch.no_grad():
        outputs = model(pixel_values=pixel_values)
    if family == 'depth_pro':
        return pixel_values, outputs, depth_pro_reference(outputs, size)
    p = processor(family, path)
    if family in SEGMENTATION:
        return (
            pixel_values,
            outputs,
            p.post_process_semantic_segmentation(outputs, target_sizes=[size])[0],
        )
    if family == 'zoedepth':
        answer = p.post_process_depth_estimation(outputs, source_sizes=[size], target_sizes=[size])
    else:
        answer = p.post_process_depth_estimation(outputs, target_sizes=[size])
    return pixel_values, outputs, answer[0]['predicted_depth']


def load(family, path):
    return getattr(transformers, FAMILIES[family].auto_class).from_pretrained(path).eval()


@pytest.mark.parametrize('family', SEGMENTATION + DEPTH)
def test_same_pixel_values_give_the_processors_answer(family, checkpoints, image):
    path = checkpoints[family]
    model, pre = load(family, path), Preprocessing.read(family, path)
    pixel_values, outputs, theirs = oracle(family, path, model, image)
    assert tuple(pixel_values.shape[-2:]) == pre.input_size(
        HEIGHT, WIDTH
    )  # the processor's resize rule
    if family in SEGMENTATION:
        ours = semantic_scores(family, outputs, (HEIGHT, WIDTH)).argmax(dim=1)[0]
        assert len(theirs.unique()) > 1
        assert torch.equal(ours, theirs)
    else:
        ours = metric_depth(pre, outputs, (HEIGHT, WIDTH))[0]
        assert theirs.std() > 0.01 * theirs.mean()
        torch.testing.assert_close(ours, theirs, rtol=1e-4, atol=0.0)


@pytest.mark.parametrize('family', SEGMENTATION)
def test_class_scores_are_combined_in_float32_under_half_precision_autocast(family, checkpoints, image):
    """The engine runs forward under fp16/bf16 autocast: Mask2Former's einsum of class and mask probabilities
    would run in half precision there (labels flipped on 0.5 % of pixels), so the scores are combined in float32.
    """
    path = checkpoints[family]
    _, outputs, _ = oracle(family, path, load(family, path), image)
    exact = semantic_scores(family, outputs, (HEIGHT, WIDTH))
    with torch.autocast('cpu', dtype=torch.bfloat16):
        under = semantic_scores(family, outputs, (HEIGHT, WIDTH))
    assert under.dtype == torch.float32
    torch.testing.assert_close(under, exact)


def test_a_fixed_mask2former_size_is_rounded_up_to_its_divisor_as_its_processor_does(checkpoints, image, tmp_path):
    path = tmp_path / 'mask2former'
    shutil.copytree(checkpoints['mask2former'], path)
    config = json.loads((path / 'preprocessor_config.json').read_text())
    config['size'] = {'height': 70, 'width': 90}        # neither a multiple of its size_divisor (32)
    (path / 'preprocessor_config.json').write_text(json.dumps(config))
    theirs = processor('mask2former', path)(images=Image.fromarray(image), return_tensors='pt').pixel_values
    assert Preprocessing.read('mask2former', path).input_size(HEIGHT, WIDTH) == tuple(theirs.shape[-2:]) == (96, 96)


@pytest.mark.parametrize('family', SEGMENTATION + DEPTH)
def test_the_backend_answers_like_the_processor_from_the_uint8_image(family, checkpoints, image):
    path = checkpoints[family]
    task = 'segmentation' if family in SEGMENTATION else 'depth'
    backend = ExpertsBackend(**{task: str(path)})
    assert (
        backend.processing_size is None
    )  # the batch goes in at the frame's size; each model resizes it
    _, _, theirs = oracle(family, path, load(family, path), image)
    result = BatchRunner(backend, (task,)).run([FrameRequest('cam', image)])[0]
    if family in SEGMENTATION:
        assert (result.labels == theirs.numpy()).mean() >= 0.995
    else:
        relative = np.abs(result.depth / theirs.numpy() - 1.0)
        assert relative.max() < 0.01, (float(np.median(relative)), float(relative.max()))


def test_depth_pro_uses_the_known_focal_length_and_says_so(checkpoints, image):
    path = checkpoints['depth_pro']
    backend = ExpertsBackend(depth=str(path))
    camera = Intrinsics(70.0, 70.0, WIDTH / 2, HEIGHT / 2, WIDTH, HEIGHT)
    known = BatchRunner(backend, ('depth',)).run([FrameRequest('cam', image, intrinsics=camera)])[
        0
    ]
    predicted = BatchRunner(backend, ('depth',)).run([FrameRequest('cam', image)])[0]
    with torch.no_grad():
        outputs = load('depth_pro', path)(pixel_values=depth_pro_pixel_values(image, (128, 128)))
    reference = depth_pro_reference(outputs, (HEIGHT, WIDTH), focal_length=70.0).numpy()
    np.testing.assert_allclose(known.depth, reference, rtol=1e-4)
    assert (
        np.abs(predicted.depth / known.depth - 1).mean() > 0.05
    )  # the predicted field of view differs
    assert backend.diagnostics() == {'depth_pro_focal_length': 'given_camera: 1, predicted_fov: 1'}


def test_a_processing_size_override_sets_the_model_input_size(checkpoints, image):
    backend = ExpertsBackend(
        str(checkpoints['segformer']), str(checkpoints['depth_anything']), processing_size=(40, 60)
    )
    assert backend.segmentation_pre.input_size(40, 60, (40, 60)) == (40, 60)
    assert backend.depth_pre.input_size(40, 60, (40, 60)) == (
        42,
        56,
    )  # multiples of the patch size, 14
    result = BatchRunner(backend, ('segmentation', 'depth')).run([FrameRequest('cam', image)])[0]
    assert result.labels.shape == result.depth.shape == (HEIGHT, WIDTH)
    # Depth Pro's network refuses an input smaller than its own (patches of a quarter-size image): it keeps it
    depth_pro = ExpertsBackend(depth=str(checkpoints['depth_pro']), processing_size=(40, 60))
    assert depth_pro.depth_pre.input_size(40, 60, (40, 60)) == (128, 128)
    assert BatchRunner(depth_pro, ('depth',)).run([FrameRequest('cam', image)])[0].depth.shape == (HEIGHT, WIDTH)


def test_a_checkpoint_without_its_preprocessor_config_is_refused_by_name(checkpoints, tmp_path):
    """The library's AutoImageProcessor refuses such a directory too; its class defaults would feed the network
    another size and normalisation without a word.
    """
    for family, task in (('depth_anything', 'depth'), ('depth_pro', 'depth'), ('segformer', 'segmentation')):
        bare = tmp_path / family
        shutil.copytree(checkpoints[family], bare)
        (bare / 'preprocessor_config.json').unlink()
        with pytest.raises(ValueError, match=f'checkpoint {bare} has no preprocessor_config.json'):
            ExpertsBackend(**{task: str(bare)})


def test_unsupported_families_are_refused_by_name(checkpoints, tmp_path):
    config = transformers.DPTConfig(
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        neck_hidden_sizes=[8, 8, 8, 8],
        fusion_hidden_size=8,
    )
    transformers.DPTForDepthEstimation(config).save_pretrained(tmp_path / 'dpt')
    with pytest.raises(ValueError, match='relative inverse depth'):
        ExpertsBackend(depth=str(tmp_path / 'dpt'))
    with pytest.raises(
        ValueError, match='is a glpn model; segmentation supports segformer, mask2former$'
    ):
        ExpertsBackend(segmentation=str(checkpoints['glpn']))

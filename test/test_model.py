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

"""The unified network, its instructions, weights files and training."""
import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from tiny_model import save_tiny, TINY
import torch

from vision_banana_ros.codecs import CITYSCAPES, decode_depth_torch, encode_depth_torch
from vision_banana_ros.model.instructions import InstructionTable
from vision_banana_ros.model.losses import class_balance_weights, depth_loss, normals_loss, segmentation_loss
from vision_banana_ros.model.network import deepened, NetworkConfig, parameter_count, VisionBananaNet
from vision_banana_ros.model.train import _losses, train, TrainingSet, TrainOptions
from vision_banana_ros.model.weights import (
    CONFIG_KEY,
    load_network,
    read_metadata,
    save_network,
    trained_size,
    TRAINED_SIZE_KEY,
)
from vision_banana_ros.tasks import TASKS


def test_instructions_and_paraphrases():
    table = InstructionTable.load()
    for task, text in table.instructions.items():
        assert table.task_of(text) == task
    assert table.task_of('Estimate the metric depth of every pixel') == 'depth'
    assert table.task_of('semantic segmentation please') == 'segmentation'
    assert table.task_of('What are the surface orientations?') == 'normals'
    network = VisionBananaNet(TINY)
    ids = network.task_ids([table.task_of(t) for t in ('paint metric depth', 'paint surface normals')])
    assert ids.tolist() == [1, 2]
    for text in ('make me a sandwich', 'depth and normals'):
        with pytest.raises(ValueError, match='one task'):
            table.task_of(text)


def test_encode_once_decode_per_task_shapes_and_range():
    net = VisionBananaNet(TINY).eval()
    with torch.inference_mode():
        out = net(torch.rand(2, 3, 50, 70), torch.tensor([2, 0]))
    assert out.shape == (2, 2, 3, 50, 70)
    assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0
    with torch.inference_mode(), torch.autocast('cpu', dtype=torch.bfloat16):
        # bfloat16 colours would step by a whole 8-bit code above 0.5
        assert net(torch.rand(1, 3, 32, 32), torch.tensor([1])).dtype == torch.float32


def _decode_every_pair(net, images, task_ids):
    """The decoder run naively: features repeated for every (image, task) pair, [upsampled, skip] concatenated."""
    features = net.encode(images)
    n, t = images.shape[0], task_ids.numel()
    feats = [f.repeat_interleave(t, dim=0) for f in features]
    task = net.task_embedding(task_ids).repeat(n, 1)
    x = feats[-1]
    for stage, skip in zip(net.decoder, reversed(feats[:-1])):
        x = torch.nn.functional.interpolate(x, size=skip.shape[-2:], mode='bilinear', align_corners=False)
        x = torch.relu(stage.merge(torch.cat([x, skip], dim=1)))
        scale, shift = stage.film(task)[:, :, None, None].chunk(2, dim=1)
        x = torch.relu(stage.refine(x) * (1 + scale) + shift)
    rgb = torch.sigmoid(torch.nn.functional.pixel_shuffle(net.head(x), 2))
    return rgb.view(n, t, 3, *rgb.shape[-2:])


@pytest.mark.parametrize('mode', ['eval', 'train'])
def test_task_independent_work_runs_once_per_image_with_the_same_answers(mode):
    torch.manual_seed(0)
    net = VisionBananaNet(TINY).train(mode == 'train')
    for stage in net.decoder:
        torch.nn.init.normal_(stage.film.weight, std=0.5)
    images, task_ids = torch.rand(3, 3, 64, 96), torch.tensor([2, 0, 1])
    with torch.no_grad():
        torch.testing.assert_close(net(images, task_ids), _decode_every_pair(net, images, task_ids),
                                   rtol=1e-5, atol=1e-5)
        # an answer does not depend on which other tasks share the batch
        alone = net.eval()(images, torch.tensor([0]))
        torch.testing.assert_close(alone[:, 0], net(images, task_ids)[:, 1], rtol=1e-5, atol=1e-5)


def test_default_network_is_cpu_sized():
    assert parameter_count(VisionBananaNet()) <= 10_000_000


def test_tasks_answered_differ():
    net = VisionBananaNet(TINY).eval()
    torch.nn.init.normal_(net.decoder[0].film.weight, std=0.5)
    with torch.inference_mode():
        out = net(torch.rand(1, 3, 64, 64), torch.arange(3))
    assert not torch.allclose(out[0, 0], out[0, 1])


def test_weights_round_trip_and_bad_files_name_the_file(tmp_path):
    net = VisionBananaNet(TINY).eval()
    path = tmp_path / 'w.safetensors'
    save_network(net, path)
    loaded = load_network(path)
    x = torch.rand(1, 3, 32, 32)
    with torch.inference_mode():
        torch.testing.assert_close(loaded(x, torch.arange(3)), net(x, torch.arange(3)))

    truncated = tmp_path / 'truncated.safetensors'
    truncated.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    wrong_shape = tmp_path / 'wrong_shape.safetensors'
    other = VisionBananaNet(NetworkConfig(**{**TINY.to_dict(), 'decoder_widths': (16, 8, 8, 4)}))
    from safetensors.torch import save_file
    save_file({k: v.contiguous() for k, v in other.state_dict().items()}, str(wrong_shape),
              metadata={CONFIG_KEY: json.dumps(TINY.to_dict())})
    pickle_file = tmp_path / 'model.safetensors'
    pickle_file.write_bytes(b'\x80\x04\x95 not a safetensors file')
    unknown_task = tmp_path / 'unknown_task.safetensors'
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(unknown_task),
              metadata={CONFIG_KEY: json.dumps({**TINY.to_dict(), 'tasks': ['banana']})})
    for bad in (truncated, wrong_shape, pickle_file, unknown_task, tmp_path / 'missing.safetensors', tmp_path):
        with pytest.raises(ValueError) as info:
            load_network(bad)
        assert str(bad) in str(info.value) and '\n' not in str(info.value)


def test_weights_record_the_size_they_were_trained_at(tmp_path):
    net = VisionBananaNet(TINY)
    save_network(net, tmp_path / 'sized.safetensors', trained_size=(48, 64))
    assert trained_size(tmp_path / 'sized.safetensors') == (48, 64)
    save_network(net, tmp_path / 'older.safetensors')
    assert trained_size(tmp_path / 'older.safetensors') is None
    for value in ('[48]', '"48x64"', '[0, 64]', 'nonsense'):
        save_network(net, tmp_path / 'bad.safetensors', extra_metadata={TRAINED_SIZE_KEY: value})
        with pytest.raises(ValueError, match=f'bad.safetensors: {TRAINED_SIZE_KEY}'):
            trained_size(tmp_path / 'bad.safetensors')


def test_losses_are_zero_at_the_exact_encoding_and_positive_elsewhere():
    torch.manual_seed(0)
    labels = torch.randint(0, 19, (2, 8, 8), dtype=torch.uint8)
    rgb = CITYSCAPES.encode_torch(labels).float() / 255.0
    exact = float(segmentation_loss(rgb, labels))
    # Not zero at the exact colours (close palette pairs such as bus/train share some probability), but far
    # below the loss of wrong colours, and lower than slightly-off colours.
    assert exact < 0.3 and exact < 0.1 * float(segmentation_loss(rgb.flip(0), labels))
    assert exact < float(segmentation_loss((rgb + 0.05).clamp(0, 1), labels))
    depth = torch.rand(2, 8, 8) * 50 + 0.5
    depth[0, 0, 0] = torch.inf
    assert float(depth_loss(encode_depth_torch(depth), depth)) < 1e-5
    assert float(depth_loss(encode_depth_torch(depth * 2), depth)) > 0.1
    normals = torch.nn.functional.normalize(torch.randn(2, 3, 8, 8), dim=1)
    near = torch.zeros(2, 8, 8, dtype=torch.bool)
    assert float(normals_loss((normals + 1) / 2, normals, near)) < 1e-5
    assert float(normals_loss((1 - normals) / 2, normals, near)) > 1.0
    # Within ~4e-4 of an edge from a walk corner float32 cannot tell the two edges apart (a tenth of one 8-bit level).
    torch.testing.assert_close(decode_depth_torch(encode_depth_torch(depth)), depth, rtol=1e-3, atol=0.0)


def _synthetic_set(n=6, h=32, w=32):
    yy = np.linspace(0, 1, h, dtype=np.float32)[:, None].repeat(w, 1)
    frames = []
    for i in range(n):
        labels = np.where(yy < 0.5, 10, 0).astype(np.uint8)
        rgb = CITYSCAPES.encode(labels)
        depth = np.where(yy < 0.5, np.inf, 2.0 + 10 * (1 - yy)).astype(np.float32)
        normals = np.zeros((h, w, 3), np.float32)
        normals[yy >= 0.5] = (0, -1, 0)
        frames.append(type('F', (), {'rgb': rgb, 'labels': labels, 'depth': depth, 'normals': normals}))
    return TrainingSet.from_frames(frames)


def test_training_lowers_the_loss_and_resumes(tmp_path):
    data = _synthetic_set()
    batch = data.batch(4, torch.Generator().manual_seed(1), torch.device('cpu'))

    def loss_of(net):
        net.eval()
        with torch.no_grad():
            return float(_losses(net, batch['rgb'], batch, torch.arange(3), None, torch.device('cpu'), 'fp32').sum())

    torch.manual_seed(0)
    before = loss_of(VisionBananaNet(TINY))
    options = TrainOptions(out=tmp_path, steps=30, batch=4, lr=5e-3, checkpoint_every=15, progress=False)
    after = loss_of(train(data, TINY, options))
    assert after < 0.7 * before
    assert (tmp_path / 'weights.safetensors').exists() and (tmp_path / 'checkpoint' / 'state.json').exists()
    assert json.loads((tmp_path / 'checkpoint' / 'state.json').read_text())['step'] == 30
    for weights in (tmp_path / 'weights.safetensors', tmp_path / 'checkpoint' / 'weights.safetensors'):
        assert trained_size(weights) == (32, 32)
    # Resuming continues from step 30 with the checkpoint's weights (lr 0: they stay as loaded) up to step 40.
    saved = load_network(tmp_path / 'checkpoint' / 'weights.safetensors').state_dict()
    resumed = train(data, TINY, TrainOptions(out=tmp_path, steps=40, batch=4, lr=0.0, resume=True, progress=False))
    assert json.loads(read_metadata(tmp_path / 'weights.safetensors')['vision_banana.training'])['steps'] == 40
    for name, value in saved.items():
        if 'running' not in name and 'num_batches' not in name:
            torch.testing.assert_close(resumed.state_dict()[name], value)


def test_crops_are_one_window_of_one_sample_in_every_target():
    h, w = 12, 16
    rows, cols = np.mgrid[0:h, 0:w]
    frames = []
    for n in range(3):
        position = (200 * n + 16 * rows + cols).astype(np.float32)    # which sample, row and column; float16-exact
        normals = np.zeros((h, w, 3), np.float32)
        normals[..., 0] = 0.6
        normals[..., 2] = -0.8
        frames.append(type('F', (), {'rgb': np.repeat((position % 256).astype(np.uint8)[..., None], 3, axis=2),
                                     'labels': (position % 19).astype(np.uint8), 'depth': position,
                                     'normals': normals}))
    data = TrainingSet.from_frames(frames)
    # The camera effects (zoom, cut-outs) are augment's and tested there: here only the windows.
    batch = data.batch(32, torch.Generator().manual_seed(3), torch.device('cpu'), crop=(5, 4), augmented=False)
    assert batch['rgb'].shape == (32, 3, 4, 5) and batch['depth'].shape == (32, 4, 5)
    for depth, labels, normals in zip(batch['depth'], batch['segmentation'], batch['normals']):
        flipped = depth[0, 1] < depth[0, 0]
        window = depth.flip(-1) if flipped else depth
        sample, corner = divmod(int(window[0, 0]), 200)
        top, left = divmod(corner, 16)
        assert top + 4 <= h and left + 5 <= w
        torch.testing.assert_close(window, torch.from_numpy(frames[sample].depth[top:top + 4, left:left + 5]))
        assert torch.equal(labels, (depth % 19).to(torch.uint8))
        assert torch.allclose(normals[0], torch.full((4, 5), -0.6 if flipped else 0.6), atol=1e-3)  # float16
    with pytest.raises(ValueError, match='crop 17x4'):
        data.batch(2, torch.Generator(), torch.device('cpu'), crop=(17, 4))
    # draws weigh the samples: one never drawn, one drawn three times as often as the other
    data.draws = torch.tensor([0.0, 3.0, 1.0])
    batch = data.batch(4000, torch.Generator().manual_seed(4), torch.device('cpu'), augmented=False)
    drawn = torch.bincount(batch['depth'].amax(dim=(1, 2)).long() // 200, minlength=3)
    assert drawn[0] == 0 and 2.6 < drawn[1] / drawn[2] < 3.4


def test_training_set_fills_from_a_generator_and_names_what_is_wrong():
    def frame(value, h=4, w=6):
        return type('F', (), {
            'rgb': np.full((h, w, 3), value, np.uint8), 'labels': np.full((h, w), value % 19, np.uint8),
            'depth': np.full((h, w), float(value), np.float32), 'normals': np.full((h, w, 3), np.nan, np.float32)})
    data = TrainingSet.from_frames((frame(v) for v in (3, 5, 7)), count=3)
    assert data.rgb.shape == (3, 4, 6, 3) and data.normals.dtype == torch.float16
    assert data.depth[:, 0, 0].tolist() == [3.0, 5.0, 7.0] and data.labels[2, 0, 0] == 7
    assert torch.equal(data.normals, torch.zeros_like(data.normals))    # NaN stored as "no normal"
    with pytest.raises(ValueError, match='expected 3 training samples, got 2'):
        TrainingSet.from_frames((frame(v) for v in (3, 5)), count=3)
    with pytest.raises(ValueError, match='one resolution, got 6x4 and 8x4'):
        TrainingSet.from_frames([frame(1), frame(2, w=8)])
    with pytest.raises(ValueError, match='no training samples'):
        TrainingSet.from_frames([])


def test_training_refuses_crops_the_network_would_pad(tmp_path):
    data = _synthetic_set(h=64, w=64)
    with pytest.raises(ValueError, match='--crop 32x48: both sides must be multiples of 32'):
        train(data, TINY, TrainOptions(out=tmp_path, steps=1, batch=2, crop=(32, 48), progress=False))
    with pytest.raises(ValueError, match='--crop 96x32 does not fit in the 64x64 frames'):
        train(data, TINY, TrainOptions(out=tmp_path, steps=1, batch=2, crop=(96, 32), progress=False))
    train(data, TINY, TrainOptions(out=tmp_path, steps=1, batch=2, crop=(32, 64), progress=False))
    assert trained_size(tmp_path / 'weights.safetensors') == (64, 64)   # its frames' size, at whose scale it saw


def test_class_balance_weights_favour_rare_classes():
    labels = torch.zeros(100, dtype=torch.uint8)       # road 89, sky 9, pole 1, one ignored pixel
    labels[90:99] = 10
    labels[99] = 5
    labels[0] = 255
    weights = class_balance_weights(labels, limit=10.0)
    road, pole, sky, car = (CITYSCAPES.ids.index(i) for i in (0, 5, 10, 13))
    assert weights[pole] > weights[sky] > weights[road]
    assert weights[sky] == pytest.approx(1.0)           # the median class
    assert weights[pole] == pytest.approx(3.0)          # (9 / 1) ** 0.5
    assert weights[car] == 1.0                          # absent
    # a set counted in chunks (more pixels than one chunk of 2 ** 24 holds) weighs as the same pixels counted at
    # once, and a map drawn twice as often counts twice
    many = torch.randint(0, 19, (3, 3000, 2000), generator=torch.Generator().manual_seed(0)).to(torch.uint8)
    many[0, :7] = 5
    assert torch.equal(class_balance_weights(many), class_balance_weights(many.reshape(1, -1)))
    assert torch.equal(class_balance_weights(many, draws=torch.tensor([2.0, 1.0, 1.0])),
                       class_balance_weights(torch.cat([many[:1], many])))
    assert not torch.equal(class_balance_weights(many, draws=torch.tensor([2.0, 1.0, 1.0])),
                           class_balance_weights(many))
    labels = torch.tensor([0, 0, 5], dtype=torch.uint8).repeat(10)
    one_sided = segmentation_loss(CITYSCAPES.encode_torch(torch.zeros(1, 1, 30, dtype=torch.uint8)).float() / 255,
                                  labels.view(1, 1, 30))
    weighted = segmentation_loss(CITYSCAPES.encode_torch(torch.zeros(1, 1, 30, dtype=torch.uint8)).float() / 255,
                                 labels.view(1, 1, 30), class_weights=class_balance_weights(labels))
    assert weighted > one_sided   # all-road answers cost more when the missed pole weighs more


def test_normals_loss_gradient_is_finite_on_an_exactly_grey_answer():
    rgb = torch.full((1, 3, 4, 4), 0.5, requires_grad=True)    # what bf16 paints for tiny logits
    normals = torch.zeros(1, 3, 4, 4)
    normals[:, 2] = -1.0
    normals_loss(rgb, normals, torch.zeros(1, 4, 4, dtype=torch.bool)).backward()
    assert torch.isfinite(rgb.grad).all()


def test_a_batch_with_nothing_labelled_has_a_finite_segmentation_loss():
    """Indoor crops may hold only floor, ceiling and furniture (all ignore): the loss logged must not be NaN."""
    rgb = torch.rand(2, 3, 8, 8, requires_grad=True)
    unlabelled = torch.full((2, 8, 8), 255, dtype=torch.uint8)
    for weights in (None, torch.ones(len(CITYSCAPES.names))):
        loss = segmentation_loss(rgb, unlabelled, class_weights=weights)
        assert float(loss) == 0.0
        loss.backward()
        assert torch.isfinite(rgb.grad).all()


def test_normals_loss_charges_a_short_vector_by_its_missing_length():
    normals = torch.nn.functional.normalize(torch.randn(2, 3, 8, 8), dim=1)
    hedge = (0.4 * normals + 1) / 2                        # right direction, decodes to "no normal" (< MIN_NORM)
    colour = (hedge - (normals + 1) / 2).abs().sum(dim=1).mean()
    near = torch.zeros(2, 8, 8, dtype=torch.bool)
    torch.testing.assert_close(normals_loss(hedge, normals, near), 0.6 + colour, rtol=1e-4, atol=1e-4)


def test_unknown_depth_and_normals_teach_nothing_and_far_pixels_teach_white_and_grey():
    """A stereo hole (NaN), a zero depth or a missing normal must not be taught as "far" or "no normal"."""
    depth = torch.full((1, 4, 4), 5.0)
    depth[0, 0, :2] = torch.nan
    depth[0, 0, 2] = 0.0
    depth[0, 3, 3] = torch.inf                                  # sky
    normals = torch.zeros(1, 3, 4, 4)
    normals[:, 2, 1:] = -1.0                                   # row 0 has no normal
    rgb = torch.full((1, 3, 4, 4), 0.3, requires_grad=True)
    (depth_loss(rgb, depth) + normals_loss(rgb, normals, torch.isposinf(depth))).backward()
    grad = rgb.grad.abs().sum(dim=1)[0]
    assert (grad[0, :3] == 0).all()                            # unknown depth, no normal: untouched
    assert (grad[1:] > 0).all() and grad[0, 3] > 0             # known depth (and sky, white and grey) taught
    far_only = torch.full((1, 4, 4), torch.nan)
    far_only[0, 3, 3] = torch.inf
    rgb.grad = None
    depth_loss(rgb, far_only).backward()
    assert rgb.grad[0, :, 3, 3].sum() < 0 and rgb.grad.abs().sum() == rgb.grad[0, :, 3, 3].abs().sum()


def test_depth_loss_weighs_far_errors_by_their_relative_size_and_stays_finite_at_the_ends():
    # Along the walk alone a 25 % error at 40 m costs ~0.18 of one at 5 m; the log-depth term lifts that.
    def cost(d):
        return float(depth_loss(encode_depth_torch(torch.full((1, 2, 2), d * 1.25)), torch.full((1, 2, 2), d)))
    assert cost(40.0) > 0.3 * cost(5.0)
    for value in (0.0, 1.0):            # black (0 m) and white (+inf): the ends of the walk
        rgb = torch.full((1, 3, 4, 4), value, requires_grad=True)
        depth_loss(rgb, torch.full((1, 4, 4), 20.0)).backward()
        assert torch.isfinite(rgb.grad).all()


def test_training_can_start_from_given_weights(tmp_path):
    # Seeded unlike the training run (seed 0), whose own random start would otherwise be the same network.
    tiny_weights = save_tiny(tmp_path / 'start.safetensors', seed=1)
    start = load_network(tiny_weights)
    tuned = train(_synthetic_set(), TINY, TrainOptions(out=tmp_path, steps=2, batch=2, lr=0.0, init=tiny_weights,
                                                       progress=False))
    # lr 0: the optimizer moves nothing, so the result is the starting network (batch-norm statistics aside).
    for name, value in start.state_dict().items():
        if 'running' not in name and 'num_batches' not in name:
            torch.testing.assert_close(tuned.state_dict()[name], value)
    other = NetworkConfig(encoder_widths=(8, 8, 8, 8, 8), decoder_widths=(8, 8, 8, 8), tasks=('depth',))
    with pytest.raises(ValueError, match='--init'):
        train(_synthetic_set(), other, TrainOptions(out=tmp_path / 'x', steps=1, batch=2, init=tiny_weights,
                                                    progress=False))


def test_a_deepened_network_answers_as_before_until_its_new_blocks_train():
    torch.manual_seed(3)
    net = VisionBananaNet(TINY)
    with torch.no_grad():   # trained-looking batch norms, so that an identity is not an accident of the defaults
        for name, value in net.state_dict().items():
            if value.is_floating_point():
                value.copy_(torch.rand_like(value) + 0.5 if 'running_var' in name else torch.randn_like(value) * 0.3)
    net.eval()
    grown = deepened(net, (0, 1, 2, 3, 1))
    assert grown.config.encoder_blocks == (0, 1, 2, 3, 1) and not grown.training
    assert parameter_count(grown) > parameter_count(net)
    images, ids = torch.rand(2, 3, 64, 96), torch.arange(len(TINY.tasks))
    with torch.no_grad():
        torch.testing.assert_close(grown(images, ids), net(images, ids), rtol=0, atol=1e-6)
    grown.train()
    grown(images, ids).square().mean().backward()
    added = grown.encoder[3][2 + TINY.encoder_blocks[3]].body[-1][1].weight   # the scale that starts at zero
    assert added.grad.abs().sum() > 0
    with pytest.raises(ValueError, match='can only be added'):
        deepened(net, (0, 1, 0, 1, 1))
    with pytest.raises(ValueError, match='one count per encoder stage'):
        deepened(net, (0, 1, 1, 1))


def test_training_from_given_weights_adds_the_encoder_blocks_the_config_asks_for(tmp_path):
    start = save_tiny(tmp_path / 'start.safetensors', seed=1)
    deeper = dataclasses.replace(TINY, encoder_blocks=(0, 1, 2, 2, 2))
    # at a rate of 0 the weights stay what they started as: the given ones, deepened (not fresh ones of that shape)
    tuned = train(_synthetic_set(), deeper, TrainOptions(out=tmp_path / 'deeper', steps=1, batch=2, init=start,
                                                         lr=0.0, weight_decay=0.0, progress=False))
    assert tuned.config == deeper
    saved = load_network(tmp_path / 'deeper' / 'weights.safetensors')
    assert saved.config == deeper
    given = load_network(start).state_dict()          # (the added blocks' own weights are drawn fresh)
    learned = [k for k in given if not k.endswith(('running_mean', 'running_var', 'num_batches_tracked'))]
    assert len(learned) > 50
    for key in learned:       # (batch-norm statistics move in a training step whatever the rate)
        torch.testing.assert_close(saved.state_dict()[key], given[key], rtol=0, atol=1e-3, msg=key)


def test_the_network_to_train_is_the_init_files_deepened_where_asked(tmp_path):
    from vision_banana_ros.model.experiment import network_config
    assert network_config(None) == NetworkConfig()
    assert network_config(None, [0, 1, 3, 5, 5]).encoder_blocks == (0, 1, 3, 5, 5)
    start = save_tiny(tmp_path / 'start.safetensors')
    assert network_config(start) == TINY        # the embedded model is deeper than the default: fine-tuning keeps it
    assert network_config(start, [0, 1, 2, 2, 2]) == dataclasses.replace(TINY, encoder_blocks=(0, 1, 2, 2, 2))


def test_experts_share_a_step_budget_smaller_than_their_number(tmp_path):
    from vision_banana_ros.model.experiment import train_models
    report = train_models(_synthetic_set(), tmp_path, experts=True, steps=1, batch=2, progress=False)
    assert sorted(Path(folder).name for folder in report) == sorted(TASKS)
    assert all(entry['steps'] == 1 and len(entry['tasks']) == 1 for entry in report.values())

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

"""`vision_banana distill` end to end on short procedural bags: the embedded model teaching a fresh tiny student,
tiny expert checkpoints as teachers, measured depth from the bag, the cache, the held-out spans, the errors.
"""
import json

import numpy as np
import pytest
from tiny_experts import go_offline, hub_cache, save
from tiny_model import save_tiny
import torch

from vision_banana_ros.bag.sample import make_sample
from vision_banana_ros.cli import main
from vision_banana_ros.model import distill, teachers
from vision_banana_ros.model.distill import split_spans
from vision_banana_ros.model.distill_cache import load_labelled, SKY
from vision_banana_ros.model.losses import segmentation_loss
from vision_banana_ros.model.teachers import DISTILLATION_KEY
from vision_banana_ros.model.train import TrainingSet
from vision_banana_ros.model.weights import read_metadata, trained_size
from vision_banana_ros.world import dataset
from vision_banana_ros.world.dataset import load_sample

SIZE = '64x48'


@pytest.fixture(scope='module')
def drive(tmp_path_factory):
    """A 3 s drive at 10 Hz, 160x120, with ground-truth labels and depth topics."""
    root = tmp_path_factory.mktemp('distill')
    return make_sample(root / 'drive', frames=30, rate_hz=10.0, size=(160, 120), seed=11, progress=False)


def run(capsys, *args) -> dict:
    code = main(['distill', '--quiet', '--size', SIZE, '--min-interval', '0.05', '--min-change', '0', *map(str, args)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert 'weights:=' in err
    return json.loads(out)


def test_procedural_frames_are_rendered_again_once_the_world_changes(tmp_path, monkeypatch):
    digest = dataset.source_digest()
    assert len(digest) == 12 and digest == dataset.source_digest()
    (tmp_path / 'procedural-wide-32x24-1-seed3' / 'rgb').mkdir(parents=True)   # a cache named before digests
    folder, names = distill._procedural(tmp_path, 1, (32, 24), 3)
    assert folder.name.endswith(f'-world{digest}') and names == ['000000']
    stamp = (folder / 'rgb' / '000000.png').stat().st_mtime_ns
    assert distill._procedural(tmp_path, 1, (32, 24), 3)[0] == folder                   # reused as it is
    assert (folder / 'rgb' / '000000.png').stat().st_mtime_ns == stamp
    monkeypatch.setattr(dataset, 'source_digest', lambda: 'f' * 12)                      # the world changed
    changed, _ = distill._procedural(tmp_path, 1, (32, 24), 3)
    assert changed != folder and [p.name for p in tmp_path.iterdir()] == [changed.name]


def test_split_spans_holds_out_whole_time_spans_of_each_bag():
    frames = [{'name': f'{b}{i:03d}', 'bag': b, 'stamp_ns': i * 10**8} for b in 'ab' for i in range(200)]
    train, held = split_spans(frames, 0.1)
    assert not set(train) & set(held) and len(train) + len(held) == 400
    assert len(held) == 40   # 2 of 20 spans in each bag
    for bag in 'ab':
        indices = sorted(int(n[1:]) for n in held if n[0] == bag)
        runs = np.split(indices, np.flatnonzero(np.diff(indices) > 1) + 1)
        assert [len(r) for r in runs] == [10, 10]   # two whole spans, apart from each other
        assert 0 < indices[0] and indices[-1] < 199
    assert split_spans(frames, 0.0)[1] == []
    with pytest.raises(ValueError, match='holdout'):
        split_spans(frames, 1.0)


def test_soft_cross_entropy_is_the_hard_one_for_certain_teachers():
    torch.manual_seed(0)
    rgb = torch.rand(2, 3, 8, 8, requires_grad=True)
    labels = torch.randint(0, 19, (2, 8, 8))
    labels[0, 0, 0] = 255
    soft = torch.zeros(2, 6, 8, 8)
    soft[:, 0], soft[:, 3] = labels.float(), 255.0
    weights = torch.rand(19) + 0.5
    assert torch.allclose(segmentation_loss(rgb, labels, class_weights=weights, soft=soft),
                          segmentation_loss(rgb, labels, class_weights=weights))
    soft[:, 1], soft[:, 4] = (labels + 1) % 19, 255.0    # two classes, half each: a different target
    assert not torch.allclose(segmentation_loss(rgb, labels, soft=soft), segmentation_loss(rgb, labels))


def test_embedded_teacher_teaches_a_tiny_student_and_the_cache_is_reused(drive, tmp_path, capsys, monkeypatch):
    student = save_tiny(tmp_path / 'fresh.safetensors', seed=3)
    out = tmp_path / 'student.safetensors'
    common = ['--bag', drive, '--teacher', 'unified', '--init', student, '--out', out, '--holdout', '0.2',
              '--procedural-share', '0', '--batch', '4', '--lr', '5e-3']
    seen = []
    original = TrainingSet.from_frames.__func__

    def recording(cls, frames, count=None, soft_k=0):
        frames = list(frames)
        seen.extend(f.camera['stamp_ns'] for f in frames)
        return original(cls, frames, count, soft_k)
    monkeypatch.setattr(TrainingSet, 'from_frames', classmethod(recording))
    untrained = run(capsys, *common, '--steps', '1', '--checkpoint-every', '1000')
    trained = run(capsys, *common, '--steps', '300', '--checkpoint-every', '1000', '--work', tmp_path / 'again')
    # the held-out spans never entered training
    manifest = json.loads(next((tmp_path / 'student.distill').glob('cache-*/manifest.json')).read_text())
    _, held = split_spans(manifest['frames'], 0.2)
    held_stamps = {f['stamp_ns'] for f in manifest['frames'] if f['name'] in held}
    assert held_stamps and not held_stamps & set(seen)
    assert trained['frames']['train'] + trained['frames']['held_out'] == 30
    # the teacher's depth is cached as it answered (finite on some of what it labels sky); where it says sky,
    # training and scoring see no distance
    folder = next((tmp_path / 'student.distill').glob('cache-*'))
    name = manifest['frames'][0]['name']
    raw, sample = load_sample(folder, name), load_labelled(folder, name)
    sky = raw.labels == SKY
    assert np.isfinite(raw.depth[sky]).any() and np.isposinf(sample.depth[sky]).all()
    assert np.array_equal(sample.depth[~sky], raw.depth[~sky], equal_nan=True)
    # nor a surface: its normals (cached as the teacher painted them) go, as the world's sky has none
    assert np.isfinite(raw.normals[sky]).all(-1).any() and not sample.normals[sky].any()
    assert np.array_equal(sample.normals[~sky], raw.normals[~sky], equal_nan=True)
    # the student learned the teacher (in 300 steps: 150 taught it stage 33's depth, δ1 0.11 -> 0.34, but not
    # stage 37's, 0.10 -> 0.17, which 300 took to 0.43)
    before, after = untrained['agreement_held_out'], trained['agreement_held_out']
    assert after['miou'] > before['miou'] + 0.05 and after['delta1'] > before['delta1'] + 0.1, (before, after)
    # a rerun with the same bags and teachers never loads a teacher
    monkeypatch.setattr(teachers.Teachers, '__init__', lambda *a, **k: pytest.fail('teachers ran again'))
    again = run(capsys, *common, '--steps', '2', '--checkpoint-every', '1000')
    assert again['frames']['labelled'] == 30
    recorded = json.loads(read_metadata(out)[DISTILLATION_KEY])
    assert recorded['teachers'][0]['model'] == 'unified:embedded' and recorded['agreement_held_out']['frames'] > 0
    assert recorded['training']['steps'] == 2


def test_measured_depth_in_the_bag_is_the_depth_teacher(drive, tmp_path, capsys):
    run(capsys, '--bag', drive, '--teacher', 'unified', '--depth-topic', '/camera/ground_truth/depth',
        '--init', save_tiny(tmp_path / 'tiny.safetensors'), '--out', tmp_path / 's.safetensors', '--steps', '1',
        '--procedural-share', '0')
    folder = next((tmp_path / 's.distill').glob('cache-*'))
    manifest = json.loads((folder / 'manifest.json').read_text())
    assert manifest['counts']['frames with depth from the bag'] == 30
    from vision_banana_ros.bag.sample import drive_frames
    from vision_banana_ros.engine.resample import resize_depth
    truth = [frame.depth for frame, _ in drive_frames(11, 30, 160, 120)]
    for i in (0, 17):
        cached = load_sample(folder, f'{i:06d}').depth
        expected = resize_depth(torch.from_numpy(np.where(np.isfinite(truth[i]), truth[i], np.nan))[None],
                                (48, 64))[0].numpy()
        measured = np.isfinite(expected)
        assert measured.mean() > 0.5
        np.testing.assert_allclose(cached[measured], expected[measured], rtol=1e-5)


def test_expert_teachers_and_their_licences(drive, tmp_path, capsys, monkeypatch):
    cache = hub_cache(tmp_path / 'hf', {'nvidia/segformer-b0-finetuned-cityscapes-1024-1024': 'segformer'})
    go_offline(monkeypatch, cache)
    depth = save('depth_anything', tmp_path / 'depth')
    summary = run(capsys, '--bag', drive, '--segmentation-model', 'nvidia/segformer-b0-finetuned-cityscapes-1024-1024',
                  '--depth-model', depth, '--init', save_tiny(tmp_path / 'tiny.safetensors'),
                  '--out', tmp_path / 's.safetensors', '--steps', '2', '--procedural-share', '0.2', '--crop', '32x32')
    by_task = {t['task']: t for t in summary['teachers']}
    assert by_task['segmentation']['commercial'] == 'no' and by_task['depth']['commercial'] == 'unclear'
    assert summary['use'].startswith('non-commercial use only')
    assert summary['frames']['procedural'] == round(0.25 * summary['frames']['train'])
    soft = np.load(next((tmp_path / 's.distill').glob('cache-*/soft/000000.npy')))
    assert soft.shape == (48, 64, 6) and set(np.unique(soft[..., :3])) <= set(range(19))
    probabilities = soft[..., 3:].astype(int)
    assert (np.diff(probabilities, axis=-1) <= 0).all() and (probabilities.sum(-1) <= 255 + 2).all()
    # trained on windows, stored at the student's size
    assert summary['training']['crop'] == [32, 32] and trained_size(tmp_path / 's.safetensors') == (48, 64)
    # a student of that student inherits the restriction through its weights
    assert teachers.describe(None, None, str(tmp_path / 's.safetensors'))[0]['commercial'] == 'no'


def test_errors_are_one_line(drive, tmp_path, capsys):
    tiny = save_tiny(tmp_path / 'tiny.safetensors')
    base = ['distill', '--out', str(tmp_path / 's.safetensors'), '--steps', '1', '--init', str(tiny)]
    assert main([*base, '--bag', str(drive)]) == 2
    assert 'no teacher for segmentation and depth' in capsys.readouterr().err
    assert main([*base, '--bag', str(drive), '--depth-model', str(tmp_path), '--teacher', 'unified']) == 2
    assert 'cannot load depth checkpoint' in capsys.readouterr().err
    assert main([*base, '--bag', str(drive), '--teacher', 'unified', '--image-topic', '/nope/image']) == 2
    assert 'has no image topic' in capsys.readouterr().err
    crop = ['distill', '--out', str(tmp_path / 'c.safetensors'), '--steps', '1', '--init', str(tiny), '--bag',
            str(drive), '--teacher', 'unified', '--crop', '30x32']
    assert main(crop) == 2
    assert 'both sides must be multiples of 32' in capsys.readouterr().err
    assert main([*crop[:-1], '1024x32']) == 2
    assert '--crop 1024x32 does not fit in the' in capsys.readouterr().err
    assert not (tmp_path / 'c.distill').exists()     # refused before the teachers label anything
    make_sample(tmp_path / 'one', frames=1, size=(32, 24), progress=False)
    assert main([*base, '--bag', str(tmp_path / 'one'), '--teacher', 'unified']) == 2
    assert 'nothing to hold out' in capsys.readouterr().err


def test_parked_camera_is_kept_once(tmp_path):
    from vision_banana_ros.bag import messages
    from vision_banana_ros.bag.frames import camera_frames
    from vision_banana_ros.bag.io import open_writer
    rng = np.random.default_rng(0)
    still = rng.integers(0, 255, (24, 32, 3), dtype=np.uint8)
    with open_writer(tmp_path / 'parked', 'mcap') as writer:
        image = writer.add_connection('/cam/image_raw', messages.IMAGE, typestore=messages.TYPESTORE)
        for i in range(40):       # 2 s parked, then 2 s of new views
            rgb = still if i < 20 else rng.integers(0, 255, (24, 32, 3), dtype=np.uint8)
            header = messages.header(10**9 + i * 10**8, 'cam')
            writer.write(image, 10**9 + i * 10**8, messages.serialize(messages.image(rgb, header), messages.IMAGE))
    kept = list(camera_frames([tmp_path / 'parked'], min_interval_s=0.5, min_change=0.02))
    stamps = [(f.stamp_ns - 10**9) // 10**8 for f in kept]
    assert stamps == [0, 20, 25, 30, 35]
    assert all(f.camera == '/cam' and f.intrinsics is None for f in kept)


@pytest.mark.parametrize('depth_first', [False, True])
def test_each_frame_gets_its_own_ground_truth_at_60_hz(tmp_path, depth_first):
    """At 60 Hz the previous frame's depth lies within the pairing tolerance too: each frame must wait for the
    nearest, whether the bag logs it before or after the image (each depth is the number of its frame).
    """
    from vision_banana_ros.bag import messages
    from vision_banana_ros.bag.frames import camera_frames
    from vision_banana_ros.bag.io import open_writer
    rng = np.random.default_rng(0)
    with open_writer(tmp_path / 'fast', 'mcap') as writer:
        image = writer.add_connection('/cam/image', messages.IMAGE, typestore=messages.TYPESTORE)
        depth = writer.add_connection('/cam/ground_truth/depth', messages.IMAGE, typestore=messages.TYPESTORE)
        for i in range(5):
            t = 10**18 + i * 16_666_667
            header = messages.header(t, 'cam')
            writes = [(image, messages.image(rng.integers(0, 255, (24, 32, 3), dtype=np.uint8), header)),
                      (depth, messages.image(np.full((24, 32), float(i + 1), np.float32), header))]
            for connection, msg in writes[::-1] if depth_first else writes:
                writer.write(connection, t, messages.serialize(msg, messages.IMAGE))
    kept = list(camera_frames([tmp_path / 'fast'], depth_topics=['/cam/ground_truth/depth'], min_interval_s=0.0,
                              min_change=0.0))
    assert [round((f.stamp_ns - 10**18) / 16_666_667) for f in kept] == [0, 1, 2, 3, 4]
    assert [float(f.depth.max()) for f in kept] == [1.0, 2.0, 3.0, 4.0, 5.0]


def test_the_command_of_the_docs_runs(drive, tmp_path, capsys, monkeypatch):
    """docs/distill.md's command, with tiny checkpoints under its hub ids, a tiny student and a short budget."""
    from test_docs import shown_commands
    lines = [line for page, line in shown_commands('vision_banana distill')
             if page == 'docs/distill.md' and '--segmentation-model' in line]
    assert len(lines) == 1
    words = lines[0].split()[1:]
    models = {words[words.index('--segmentation-model') + 1]: 'segformer',
              words[words.index('--depth-model') + 1]: 'depth_anything'}
    go_offline(monkeypatch, hub_cache(tmp_path / 'hf', models))
    monkeypatch.chdir(tmp_path)
    words[words.index('my_robot_bag')] = str(drive)
    words[words.index('--minutes') + 1] = '0.05'
    summary = run(capsys, *words[1:], '--init', save_tiny(tmp_path / 'tiny.safetensors'))
    assert (tmp_path / 'my_robot.safetensors').is_file() and summary['weights'] == 'my_robot.safetensors'
    assert {t['model'] for t in summary['teachers']} == set(models)


def test_the_measurement_of_the_docs_runs_in_small(tmp_path, capsys, monkeypatch):
    """docs/distill.md's measurement, in order, at small sizes: two drives, an early stage, the student, its score."""
    from test_docs import shown_commands
    lines = [line for page, line in shown_commands('vision_banana') if page == 'docs/distill.md'
             and '--segmentation-model' not in line]
    assert [line.split()[1] for line in lines] == ['bag', 'bag', 'eval', 'train', 'eval', 'distill', 'eval']
    smaller = {'--frames': {'400': '12', '100': '6'}, '--scenes': {'100': '3', '10': '2'}, '--size': '64x48',
               '--render': '4', '--minutes': '0.05'}
    monkeypatch.chdir(tmp_path)
    for line in lines:
        words = line.split()[1:]
        for option, value in smaller.items():
            if option in words:
                i = words.index(option) + 1
                words[i] = value[words[i]] if isinstance(value, dict) else value
        if words[0] == 'distill':
            words += ['--quiet', '--min-change', '0']
        if words[0] == 'eval' and '--weights' not in words:   # the teacher: the embedded model, scored as it is
            words += ['--batch', '1']
        assert main(words) == 0, words
        out = capsys.readouterr().out
    assert json.loads(out)['frames'] == 6
    assert (tmp_path / 'student.safetensors').is_file() and (tmp_path / 'early' / 'weights.safetensors').is_file()


def test_expert_teachers_see_a_frame_without_intrinsics_as_the_students_canonical_camera(tmp_path):
    """The student takes a camera-less frame as the canonical 70-degree camera; the experts' normals (derived from
    their depth with the lens they assume) must assume it too, not the backend's 90-degree default.
    """
    from vision_banana_ros.geometry import Intrinsics
    from vision_banana_ros.geometry.depth_normals import normals_from_depth
    from vision_banana_ros.model.canonical import CANONICAL_HFOV_DEG
    experts = teachers.Teachers(str(save('segformer', tmp_path / 'seg')), str(save('depth_anything', tmp_path / 'd')),
                                None)
    rgb = np.random.default_rng(0).integers(0, 255, (48, 64, 3), dtype=np.uint8)
    labelled = experts.label([rgb], [None], [None], (48, 64))[0]
    depth = torch.from_numpy(labelled.depth)[None]
    for hfov, agrees in ((CANONICAL_HFOV_DEG, True), (90.0, False)):
        derived = normals_from_depth(depth, Intrinsics.from_fov(64, 48, hfov))[0].permute(1, 2, 0).numpy()
        both = np.isfinite(derived).all(-1) & np.isfinite(labelled.normals).all(-1)
        assert both.mean() > 0.5
        assert np.allclose(derived[both], labelled.normals[both], atol=1e-3) == agrees, hfov


def test_a_camera_without_camera_info_is_labelled_as_the_node_takes_it(tmp_path):
    """The student, run by the node with its defaults, takes such a camera as fallback_hfov_deg (90 degrees): its
    frames are taught with that lens, or its depth would come out 0.7 times the teachers' metres.
    """
    from vision_banana_ros.bag import messages
    from vision_banana_ros.bag.io import open_writer
    from vision_banana_ros.geometry import Intrinsics
    from vision_banana_ros.model.distill_cache import cache_folder, cache_key, label_bags
    rng = np.random.default_rng(0)
    with open_writer(tmp_path / 'bare', 'mcap') as writer:
        image = writer.add_connection('/cam/image_raw', messages.IMAGE, typestore=messages.TYPESTORE)
        for i in range(2):
            t = 10**9 + i * 10**9
            rgb = rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)
            writer.write(image, t, messages.serialize(messages.image(rgb, messages.header(t, 'cam')), messages.IMAGE))
    tiny = save_tiny(tmp_path / 'tiny.safetensors')
    key = cache_key([tmp_path / 'bare'], None, None, 0.5, 0.02, (24, 32), teachers.describe(None, None, str(tiny)))
    folder = cache_folder(tmp_path / 'work', key)
    manifest = label_bags(folder, key, {'segmentation_model': None, 'depth_model': None, 'unified': str(tiny)},
                          progress=False)
    expected = Intrinsics.from_fov(64, 48, 90.0).scaled_to(32, 24)
    for frame in manifest['frames']:
        assert load_sample(folder, frame['name']).intrinsics['fx'] == pytest.approx(expected.fx)


def test_the_student_learns_at_the_size_the_node_will_run_its_camera_at(drive, tmp_path):
    """The node runs a 16:9 camera at the trained pixel count in its own aspect ratio: a student taught on it
    squashed to 320x240 would learn frames it is never shown.
    """
    from vision_banana_ros.model.distill import student_size
    wide = make_sample(tmp_path / 'wide', frames=1, size=(160, 90), progress=False)
    assert student_size((240, 320), [wide], None, 32) == (224, 384)
    assert student_size((240, 320), [drive], None, 32) == (240, 320)           # a 4:3 camera: the trained size

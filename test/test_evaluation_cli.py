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

"""`vision_banana eval` end to end on a small rendered set: strict JSON, partial sets, single-task weights."""
import json
import shutil

import numpy as np
from PIL import Image
import pytest
from tiny_model import TINY

from vision_banana_ros.cli import main
from vision_banana_ros.model.network import NetworkConfig, VisionBananaNet
from vision_banana_ros.model.weights import save_network
from vision_banana_ros.world import load_sample, write_dataset
from vision_banana_ros.world.presets import camera_pose


def _refuse_nan(token):
    raise AssertionError(f'{token} is not JSON')


@pytest.fixture(scope='module')
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp('heldout')
    write_dataset(root, 2, seed=11, size=(48, 36), progress=False)
    return root


def _eval(capsys, *args):
    assert main(['eval', '--json', '--size', '64x64', *map(str, args)]) == 0
    return json.loads(capsys.readouterr().out, parse_constant=_refuse_nan)


def test_eval_json_has_every_metric(dataset, tiny_weights, capsys):
    result = _eval(capsys, '--data', dataset, '--weights', tiny_weights, '--batch', 3)
    assert result['frames'] == 2
    for key in ('miou', 'delta1', 'delta2', 'abs_rel', 'rmse', 'normals_mean_deg', 'normals_median_deg'):
        assert isinstance(result[key], float), key
    assert 'sky' in result['per_class_iou'] and 0.0 <= result['miou'] <= 1.0


def test_results_do_not_depend_on_the_batch_size(dataset, tiny_weights, capsys):
    """IoU accumulates over the set and depth/normal metrics average over frames, whatever the batches."""
    one_by_one = _eval(capsys, '--data', dataset, '--weights', tiny_weights, '--batch', 1)
    together = _eval(capsys, '--data', dataset, '--weights', tiny_weights, '--batch', 2)
    assert one_by_one['frames'] == together['frames'] == 2
    for key in ('miou', 'delta1', 'abs_rel', 'rmse', 'normals_mean_deg', 'normals_within_30'):
        assert one_by_one[key] == pytest.approx(together[key], rel=1e-3), key


def test_single_answers_are_scored_on_request(dataset, tiny_weights, capsys):
    averaged = _eval(capsys, '--data', dataset, '--weights', tiny_weights)
    single = _eval(capsys, '--data', dataset, '--weights', tiny_weights, '--no-mirror-average')
    assert single['abs_rel'] != pytest.approx(averaged['abs_rel'], rel=1e-3)


def test_what_cannot_be_measured_is_null(dataset, tiny_weights, tmp_path, capsys):
    partial = tmp_path / 'no_depth_no_normals'
    shutil.copytree(dataset, partial)
    shutil.rmtree(partial / 'depth')
    shutil.rmtree(partial / 'normals')
    result = _eval(capsys, '--data', partial, '--weights', tiny_weights)
    assert result['delta1'] is None and result['normals_mean_deg'] is None and result['miou'] is not None

    depth_only = tmp_path / 'depth.safetensors'
    save_network(VisionBananaNet(NetworkConfig(**{**TINY.to_dict(), 'tasks': ('depth',)})), depth_only)
    result = _eval(capsys, '--data', dataset, '--weights', depth_only)
    assert result['miou'] is None and result['normals_mean_deg'] is None and isinstance(result['delta1'], float)


def test_no_samples_and_bad_arguments_are_named(tmp_path, tiny_weights, capsys):
    (tmp_path / 'rgb').mkdir()
    assert main(['eval', '--data', str(tmp_path), '--weights', str(tiny_weights)]) == 2
    assert 'no samples' in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(['eval', '--data', str(tmp_path), '--batch', '0'])
    assert 'at least 1' in capsys.readouterr().err


def test_labels_as_written_by_other_tools(dataset, tmp_path):
    copy = tmp_path / 'set'
    shutil.copytree(dataset, copy)
    labels = np.asarray(Image.open(copy / 'labels' / '000000.png'))
    Image.fromarray(np.dstack([labels, np.full_like(labels, 255)]), mode='LA').save(copy / 'labels' / '000000.png')
    np.testing.assert_array_equal(load_sample(copy, '000000').labels, labels)     # grey + alpha: the grey
    Image.fromarray(labels.astype(np.uint16) + 256).save(copy / 'labels' / '000000.png')
    with pytest.raises(ValueError, match='above 255'):
        load_sample(copy, '000000')
    (copy / 'intrinsics' / '000001.json').write_text('{"fx": ')
    with pytest.raises(ValueError, match='000001.json'):
        load_sample(copy, '000001')


def test_a_bag_with_ground_truth_scores_as_its_frames_do(tiny_weights, tmp_path, capsys):
    """`eval --bag` on a sample drive gives the metrics `eval --data` gives on the same frames (normals, which bags
    do not carry, aside); ground truth named explicitly, or missing, is handled.
    """
    from vision_banana_ros.bag.sample import drive_frames, make_sample
    from vision_banana_ros.world.dataset import PARTS, save_sample
    make_sample(tmp_path / 'drive', frames=6, size=(96, 64), seed=4, scenes=2, progress=False)
    folder = tmp_path / 'frames'
    for part in PARTS:
        (folder / part).mkdir(parents=True)
    for i, (frame, _) in enumerate(drive_frames(4, 6, 96, 64, scenes=2)):
        save_sample(folder, f'{i:06d}', frame)

    def scores(*args):
        assert main(['eval', '--weights', str(tiny_weights), '--json', *args]) == 0
        return json.loads(capsys.readouterr().out)
    from_bag, from_data = scores('--bag', str(tmp_path / 'drive')), scores('--data', str(folder))
    assert from_bag['frames'] == 6 and from_bag['normals_mean_deg'] is None
    for metric in ('miou', 'delta1', 'abs_rel', 'rmse'):
        assert from_bag[metric] == pytest.approx(from_data[metric], abs=1e-6), metric
    named = scores('--bag', str(tmp_path / 'drive'), '--depth-topic', '/camera/ground_truth/depth')
    assert named == from_bag                # the labels not named: their default, as the help says
    make_sample(tmp_path / 'plain', frames=2, size=(32, 24), ground_truth=False, progress=False)
    assert main(['eval', '--bag', str(tmp_path / 'plain')]) == 2
    assert 'no <camera>/ground_truth/labels or /depth topic' in capsys.readouterr().err


def test_rendered_sets_are_also_scored_by_kind_of_place_and_camera_pose(tiny_weights, tmp_path, capsys):
    """The world's renders say what place they show and how their camera stood; eval scores each kind and each
    pose apart, and the kinds make up the set.
    """
    root = tmp_path / 'wide'
    write_dataset(root, 8, seed=5, size=(48, 36), progress=False, preset='wide')
    kinds = [load_sample(root, f'{i:06d}').scene for i in range(8)]
    poses = [camera_pose(load_sample(root, f'{i:06d}').camera) for i in range(8)]
    result = _eval(capsys, '--data', root, '--weights', tiny_weights)
    parts = result['by_scene']
    assert sorted(parts) == sorted(set(kinds)) and {k: p['frames'] for k, p in parts.items()} == {
        k: kinds.count(k) for k in kinds}
    # Depth metrics are means over frames: the kinds' means, weighted by their frames, give the set's.
    assert sum(p['delta1'] * p['frames'] for p in parts.values()) / 8 == pytest.approx(result['delta1'], abs=1e-9)
    assert main(['eval', '--size', '64x64', '--data', str(root), '--weights', str(tiny_weights)]) == 0
    report = capsys.readouterr().out
    assert 'by kind of place' in report and all(f'  {k} ' in report for k in parts)
    assert {'turned', 'upright'} == set(poses)   # frame 1 of seed 5 turns freely
    assert {k: p['frames'] for k, p in result['by_pose'].items()} == {k: poses.count(k) for k in poses}
    assert 'by camera pose' in report and '  turned ' in report


def test_upright_turns_rolled_cameras_as_the_node_does_with_tf(tmp_path, capsys):
    """Street cameras on their side: `--upright` turns each frame by its camera's roll (as the node's upright does
    with the mounting from tf) and the embedded model reads them far better; a least roll above theirs turns none.
    """
    root = tmp_path / 'rolled'
    write_dataset(root, 2, seed=12, progress=False, roll_deg=90.0, pitch_deg=-5.0)

    def scores(*args):     # at the embedded model's own processing size
        assert main(['eval', '--json', '--data', str(root), *map(str, args)]) == 0
        return json.loads(capsys.readouterr().out, parse_constant=_refuse_nan)
    as_is, turned = scores(), scores('--upright')
    assert scores('--upright', '--upright-min-roll-deg', 91) == as_is
    assert turned['pixel_accuracy'] > as_is['pixel_accuracy'] + 0.3, (as_is['pixel_accuracy'], turned['pixel_accuracy'])
    with pytest.raises(SystemExit):
        main(['eval', '--data', str(root), '--upright', '--upright-min-roll-deg', '181'])
    assert 'must be at most 180' in capsys.readouterr().err
    assert main(['eval', '--bag', str(tmp_path / 'any'), '--upright']) == 2
    assert "a bag's frames have none" in capsys.readouterr().err
    assert main(['eval', '--data', str(root), '--upright', '--no-intrinsics']) == 2
    assert "--upright needs the frames' intrinsics" in capsys.readouterr().err


def _one_frame_bag(path, *messages_of_topics):
    """A bag of one stamp: (topic, message type, message) in the order given."""
    from vision_banana_ros.bag import messages
    from vision_banana_ros.bag.io import open_writer
    with open_writer(path) as writer:
        for topic, msgtype, msg in messages_of_topics:
            conn = writer.add_connection(topic, msgtype, typestore=messages.TYPESTORE)
            writer.write(conn, 10**18, messages.serialize(msg, msgtype))
    return path


def _frame_and_truth(camera='/cam', depth_topic='/cam/ground_truth/depth', labels=True):
    """A camera image with its depth (and labels) ground truth, all stamped alike."""
    from vision_banana_ros.bag import messages
    header = messages.header(10**18, 'cam')
    topics = [(f'{camera}/image', messages.IMAGE, messages.image(np.zeros((48, 64, 3), np.uint8), header)),
              (depth_topic, messages.IMAGE, messages.image(np.ones((48, 64), np.float32), header))]
    if labels:
        topics.append((f'{camera}/ground_truth/labels', messages.IMAGE,
                       messages.image(np.zeros((48, 64), np.uint8), header)))
    return topics


def test_a_bags_frames_carry_the_intrinsics_the_node_would_use(tmp_path):
    """K, or P for rectified images, and for a camera without CameraInfo the node's fallback field of view."""
    from vision_banana_ros.bag import messages
    from vision_banana_ros.evaluation.bag_samples import bag_samples
    from vision_banana_ros.geometry import Intrinsics
    from vision_banana_ros.outputs import DepthCameraInfo

    def fx(path, **options):
        return [s.intrinsics and s.intrinsics['fx'] for s in bag_samples(path, **options)]

    plain = _one_frame_bag(tmp_path / 'plain', *_frame_and_truth())
    assert fx(plain) == [Intrinsics.from_fov(64, 48, 90.0).fx]                       # fallback_hfov_deg's default
    assert fx(plain, fallback_hfov_deg=60.0) == [Intrinsics.from_fov(64, 48, 60.0).fx]
    assert fx(plain, fallback_hfov_deg=None) == [None]                              # no lens: no intrinsics
    info = messages.camera_info(DepthCameraInfo(Intrinsics(50.0, 50.0, 31.5, 23.5, 64, 48)), messages.header(0, 'cam'))
    info.p[0] = 40.0                # the rectified camera's focal length differs from the raw one's
    rectifying = _one_frame_bag(tmp_path / 'info', ('/cam/camera_info', messages.CAMERA_INFO, info),
                                *_frame_and_truth())
    assert fx(rectifying) == [50.0] and fx(rectifying, rectified=True) == [40.0]


def test_ground_truth_topics_named_on_the_command_line(tmp_path, capsys):
    """A registered depth image in a namespace of its own is ground truth, not a camera; naming the depth keeps
    the labels' default; ground truth that never pairs is an error that says what was read.
    """
    depth = '/cam/aligned_depth_to_color/image_raw'      # as an RGB-D driver names it
    rgbd = _one_frame_bag(tmp_path / 'rgbd', *_frame_and_truth(depth_topic=depth))
    assert main(['eval', '--bag', str(rgbd), '--depth-topic', depth, '--json']) == 0
    scores = json.loads(capsys.readouterr().out)
    assert scores['delta1'] is not None and scores['miou'] is not None
    image, metres, _ = _frame_and_truth()
    floats = _one_frame_bag(tmp_path / 'floats', image, ('/cam/ground_truth/labels', *metres[1:]))
    assert main(['eval', '--bag', str(floats), '--json']) == 2           # labels of 32FC1 metres pair with nothing
    assert 'no camera frame got ground truth' in capsys.readouterr().err
    assert main(['eval', '--bag', str(floats), '--depth-topic', '/cam/ground_truth/labels', '--json']) == 0
    assert json.loads(capsys.readouterr().out)['delta1'] is not None    # named as what they are, they score

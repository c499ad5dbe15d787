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

"""Bag tooling: the sample drive, offline processing of sqlite3/mcap/real bags, and online == offline."""
import os
from pathlib import Path
import re
import signal
import sqlite3
import subprocess
import sys
import time

import numpy as np
import pytest
from rosbags.highlevel import AnyReader
from rosbags.rosbag2 import Writer
import yaml

from vision_banana_ros.bag.process import process_bag
from vision_banana_ros.bag.sample import make_sample

BAGS = Path(__file__).resolve().parents[2] / 'shared' / 'data' / 'real_bags'
BIN = Path(sys.executable).parent


@pytest.fixture(scope='module')
def setup(tmp_path_factory, tiny_weights):
    root = tmp_path_factory.mktemp('bags')
    config = root / 'params.yaml'
    config.write_text(f'/**:\n  ros__parameters:\n    weights: {tiny_weights}\n    device: cpu\n    max_batch: 4\n')
    return root, config


def read(bag):
    out = {}
    with AnyReader([Path(bag)]) as reader:
        for conn, t, raw in reader.messages():
            msg = reader.deserialize(raw, conn.msgtype)
            out.setdefault(conn.topic, []).append((t, msg))
    return out


def stamp(msg):
    return msg.header.stamp.sec * 10**9 + msg.header.stamp.nanosec


@pytest.mark.parametrize('storage', ['mcap', 'sqlite3'])
def test_sample_and_process_keep_topics_headers_and_timestamps(setup, storage):
    root, config = setup
    sample = make_sample(root / f'sample_{storage}', frames=3, size=(160, 120), storage=storage, progress=False)
    summary = process_bag(sample, root / f'out_{storage}', config, storage=storage, progress=False)
    assert summary['frames'] == 3 and summary['rejected'] == 0
    bag = read(root / f'out_{storage}')
    for topic in ('/camera/image', '/camera/camera_info', '/camera/ground_truth/labels'):
        assert len(bag[topic]) == 3           # inputs copied
    images = bag['/camera/image']
    for topic in ('/camera/semantic/labels', '/camera/depth', '/camera/normals', '/camera/points'):
        outs = bag[topic]
        assert [t for t, _ in outs] == [t for t, _ in images], topic                  # bag timestamps
        assert [stamp(m) for _, m in outs] == [stamp(m) for _, m in images], topic    # header stamps
        assert all(m.header.frame_id == 'camera_optical_frame' for _, m in outs)
    depth = bag['/camera/depth'][0][1]
    assert (depth.encoding, depth.width, depth.height) == ('32FC1', 160, 120)
    for written in (sample, root / f'out_{storage}'):
        # Humble's rosbag2 reads each topic's QoS profiles as one YAML string (a list, as Jazzy writes, fails)
        info = yaml.safe_load((written / 'metadata.yaml').read_text())['rosbag2_bagfile_information']
        assert all(isinstance(t['topic_metadata']['offered_qos_profiles'], str)
                   for t in info['topics_with_message_count'])
    info = bag['/camera/depth/camera_info'][0][1]
    np.testing.assert_allclose(info.k, bag['/camera/camera_info'][0][1].k)


def test_process_errors_are_clear(setup, tmp_path):
    root, config = setup
    with pytest.raises(ValueError, match='does not exist'):
        process_bag(tmp_path / 'nope', tmp_path / 'out', config)
    sample = make_sample(tmp_path / 's', frames=1, size=(64, 48), progress=False)
    with pytest.raises(ValueError, match=r"image topics: \['/camera/ground_truth/depth'"):
        process_bag(sample, tmp_path / 'out', config, image_topics=['/front/image'])
    with pytest.raises(ValueError, match='exists already'):
        process_bag(sample, sample, config)
    corrupt = tmp_path / 'corrupt.mcap'
    corrupt.write_bytes(b'\x89MCAP0\r\n' + bytes(100))
    with pytest.raises(ValueError, match='cannot read bag'):
        process_bag(corrupt, tmp_path / 'out3', config)
    from rosbags.rosbag1 import Writer as Ros1Writer
    from rosbags.typesys import get_typestore, Stores
    ros1 = tmp_path / 'ros1.bag'                    # a ROS 1 bag of one message, as robots on Noetic record
    typestore = get_typestore(Stores.ROS1_NOETIC)
    with Ros1Writer(ros1) as writer:
        connection = writer.add_connection('/chatter', 'std_msgs/msg/String', typestore=typestore)
        writer.write(connection, 10**9, typestore.serialize_ros1(typestore.types['std_msgs/msg/String'](data='hi'),
                                                                 'std_msgs/msg/String'))
    with pytest.raises(ValueError, match='ROS 1 bag.*rosbags-convert'):
        process_bag(ros1, tmp_path / 'out2', config)


def _as_recorded_on_humble(bag: Path) -> Path:
    """What Humble's rosbag2 writes: no type hashes (metadata version 5) and, in sqlite3, no message definitions."""
    meta = bag / 'metadata.yaml'
    meta.write_text(re.sub(r'\n\s*type_description_hash:[^\n]*(\n\s+RIHS01_[^\n]*)?', '',
                           meta.read_text()).replace('version: 9', 'version: 5'))
    for db in bag.glob('*.db3'):
        with sqlite3.connect(db) as con:
            con.execute('drop table message_definitions')
            con.execute('alter table topics drop column type_description_hash')
            con.execute('update schema set schema_version = 3')
    return bag


@pytest.mark.parametrize('storage', ['mcap', 'sqlite3'])
def test_bags_recorded_on_humble(setup, tmp_path, storage):
    _, config = setup
    bag = _as_recorded_on_humble(make_sample(tmp_path / 'humble', frames=2, size=(64, 48), storage=storage,
                                             progress=False))
    with pytest.raises(Exception):                 # what a plain reader makes of it (sqlite3), or the old writer
        with AnyReader([bag]) as reader:
            assert all(c.digest for c in reader.connections)
    summary = process_bag(bag, tmp_path / 'out', config, progress=False)
    assert summary['frames'] == 2 and len(read(tmp_path / 'out')['/camera/depth']) == 2


def test_one_image_topic_per_camera_and_no_output_left_by_a_failure(setup, tmp_path):
    _, config = setup
    sample = make_sample(tmp_path / 's', frames=2, size=(64, 48), progress=False)
    doubled = tmp_path / 'doubled'
    with AnyReader([sample]) as reader, Writer(doubled, version=9) as writer:
        for conn, t, raw in reader.messages():
            for topic in ([conn.topic, '/camera/image_raw'] if conn.topic == '/camera/image' else [conn.topic]):
                if topic not in writer_connections(writer):
                    writer.add_connection(topic, conn.msgtype, typestore=reader.typestore)
                writer.write(writer_connections(writer)[topic], t, raw)
    summary = process_bag(doubled, tmp_path / 'out', config, progress=False)
    assert summary['cameras'] == ['/camera/image_raw'] and len(read(tmp_path / 'out')['/camera/depth']) == 2
    with pytest.raises(ValueError, match='one camera'):
        process_bag(doubled, tmp_path / 'out2', config, image_topics=['/camera/image', '/camera/image_raw'],
                    progress=False)
    assert not (tmp_path / 'out2').exists()


def test_a_failure_part_way_aborts_the_half_written_bag_before_removing_it(setup, tmp_path, monkeypatch):
    import vision_banana_ros.bag.process as process
    _, config = setup
    sample = make_sample(tmp_path / 's', frames=2, size=(64, 48), progress=False)
    aborted = []
    abort = Writer.abort
    monkeypatch.setattr(Writer, 'abort', lambda self: aborted.append(self) or abort(self))

    def failing(*args, **kwargs):
        raise OSError('No space left on device')
    monkeypatch.setattr(process, 'make_outputs', failing)
    with pytest.raises(OSError, match='No space'):
        process_bag(sample, tmp_path / 'out', config, progress=False)
    assert len(aborted) == 1 and aborted[0].storage is None       # its files closed
    assert not any(p.name.startswith('out') for p in tmp_path.iterdir())


def test_images_logged_before_their_camera_info_use_it(setup, tmp_path):
    _, config = setup
    sample = make_sample(tmp_path / 's', frames=3, size=(64, 48), progress=False)
    late = tmp_path / 'late_info'
    with AnyReader([sample]) as reader, Writer(late, version=9) as writer:
        skipped = False
        for conn, t, raw in reader.messages():
            if conn.topic == '/camera/camera_info' and not skipped:
                skipped = True                                      # the first image comes before any info
                continue
            if conn.topic not in writer_connections(writer):
                writer.add_connection(conn.topic, conn.msgtype, typestore=reader.typestore)
            writer.write(writer_connections(writer)[conn.topic], t, raw)
    summary = process_bag(late, tmp_path / 'out', config, progress=False)
    assert summary['frames'] == 3 and summary['fallback_intrinsics'] == 0
    infos = read(tmp_path / 'out')['/camera/depth/camera_info']
    assert len({tuple(m.k) for _, m in infos}) == 1                 # all three frames: the bag's calibration


def writer_connections(writer):
    return {c.topic: c for c in writer.connections}


@pytest.mark.skipif(not BAGS.is_dir(), reason='shared real bags not present')
def test_real_compressed_mcap(setup, tmp_path):
    _, config = setup
    summary = process_bag(BAGS / 'raspicam_aruco_mcap', tmp_path / 'out', config, progress=False)
    assert summary['frames'] == 1
    labels = read(tmp_path / 'out')['/raspicam_node/semantic/labels'][0][1]
    assert (labels.width, labels.height) == (1280, 960)


def wait_for_graph(node_process, node_log: Path, timeout=60.0):
    """Until the node subscribes to the images and both recorders subscribe to what they record."""
    import rclpy
    context = rclpy.Context()
    rclpy.init(context=context)
    probe = rclpy.create_node('vision_banana_test_probe', context=context)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert node_process.poll() is None, node_log.read_text()
            if (probe.count_subscribers('/camera/image') >= 2 and probe.count_subscribers('/camera/depth') >= 1
                    and probe.count_publishers('/camera/depth') >= 1):
                return
            time.sleep(0.2)
        raise AssertionError('node and recorders never met on the graph')
    finally:
        probe.destroy_node()
        rclpy.shutdown(context=context)


@pytest.mark.ros
def test_online_node_matches_offline_processing(setup, tmp_path):
    """Play the sample into the node, record its input and outputs with our recorder, then process the recorded
    input offline: labels and depth must agree for every frame the node published.
    """
    root, config = setup
    sample = make_sample(tmp_path / 'sample', frames=8, size=(160, 120), progress=False)
    env = os.environ.copy()
    # Logs go to files: a pipe nobody reads until the end fills up and blocks the process writing to it.
    node_log = tmp_path / 'node.log'
    with node_log.open('w') as log:
        node = subprocess.Popen([str(BIN / 'vision_banana_node'), '--ros-args', '-r', '__ns:=/camera',
                                 '--params-file', str(config)], env=env, stdout=log, stderr=subprocess.STDOUT)
    recorders = []
    for name, topics in (('inputs', ['/camera/image', '/camera/camera_info']),
                         ('online', ['/camera/semantic/labels', '/camera/depth'])):
        with (tmp_path / f'{name}.log').open('w') as log:
            recorders.append(subprocess.Popen([str(BIN / 'vision_banana'), 'bag', 'record', str(tmp_path / name),
                                               *topics], env=env, stdout=subprocess.DEVNULL, stderr=log))
    try:
        wait_for_graph(node, node_log)
        # the player is new on the graph: discovery on two loaded cores takes seconds
        subprocess.run([str(BIN / 'vision_banana'), 'bag', 'play', str(sample), '--rate', '0.2', '--delay', '5'],
                       env=env, check=True, timeout=60)
        time.sleep(3.0)                     # the last frame's outputs on their way; then Ctrl-C keeps the bags
        for recorder in recorders:
            recorder.send_signal(signal.SIGINT)
        for recorder in recorders:
            assert recorder.wait(timeout=60) == 0
    finally:
        for process in (node, *recorders):
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
    online = read(tmp_path / 'online')
    assert len(online.get('/camera/semantic/labels', [])) >= 3, 'the node published too few frames'
    process_bag(tmp_path / 'inputs', tmp_path / 'offline', config, progress=False)
    offline = read(tmp_path / 'offline')
    for topic, dtype in (('/camera/semantic/labels', np.uint8), ('/camera/depth', np.float32)):
        by_stamp = {stamp(m): m for _, m in offline[topic]}
        both = [msg for _, msg in online[topic] if stamp(msg) in by_stamp]
        assert len(both) >= 3, f'{topic}: only {len(both)} frames both recorded and published'
        for msg in both:
            ours = np.frombuffer(bytes(msg.data), dtype)
            theirs = np.frombuffer(bytes(by_stamp[stamp(msg)].data), dtype)
            # Batches of other sizes round differently in the last bits, and a colour on the border between two
            # palette entries or two edges of the depth walk may then decode to either: a pixel or so, not a frame.
            if dtype is np.uint8:
                assert np.mean(ours == theirs) > 0.999
            else:
                finite = np.isfinite(ours) & np.isfinite(theirs)
                assert np.array_equal(np.isfinite(ours), np.isfinite(theirs))
                assert np.mean(np.isclose(ours[finite], theirs[finite], rtol=1e-4)) > 0.999


@pytest.mark.ros
def test_record_takes_best_effort_and_latched_topics_and_ctrl_c_keeps_the_bag(tmp_path):
    import rclpy
    from rclpy.qos import DurabilityPolicy, qos_profile_sensor_data, QoSProfile, ReliabilityPolicy
    from std_msgs.msg import String
    context = rclpy.Context()
    rclpy.init(context=context)
    node = rclpy.create_node('vision_banana_test_talker', context=context)
    latched = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL)
    static = node.create_publisher(String, '/map_name', latched)                      # like /tf_static
    chatter = node.create_publisher(String, '/chatter', qos_profile_sensor_data)   # best effort, like cameras
    static.publish(String(data='warehouse'))                                        # before the recorder exists
    # topics as typed: relative (as ros2 bag record takes them) or absolute, and one nobody publishes
    recorder = subprocess.Popen([str(BIN / 'vision_banana'), 'bag', 'record', str(tmp_path / 'rec'), 'chatter',
                                 '/map_name', '/nobody'], env=os.environ.copy(), stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and node.count_subscribers('/chatter') == 0:
            time.sleep(0.1)
        for k in range(20):
            chatter.publish(String(data=f'hello {k}'))
            time.sleep(0.05)
        time.sleep(0.5)
        recorder.send_signal(signal.SIGINT)                                        # Ctrl-C
        assert recorder.wait(timeout=30) == 0, recorder.stderr.read()
        assert "never seen, not in the bag: ['/nobody']" in recorder.stderr.read()
    finally:
        if recorder.poll() is None:
            recorder.kill()
        node.destroy_node()
        rclpy.shutdown(context=context)
    assert (tmp_path / 'rec' / 'metadata.yaml').exists()
    recorded = read(tmp_path / 'rec')
    assert len(recorded.get('/chatter', [])) >= 10 and len(recorded.get('/map_name', [])) == 1
    with AnyReader([tmp_path / 'rec']) as reader:
        profiles = {c.topic: c.ext.offered_qos_profiles for c in reader.connections}
    assert profiles['/map_name'][0].durability.name == 'TRANSIENT_LOCAL'


def test_make_sample_refuses_before_writing_and_leaves_no_half_bag(tmp_path, monkeypatch):
    import vision_banana_ros.bag.sample as sample
    with pytest.raises(ValueError, match='scenes'):
        make_sample(tmp_path / 's', frames=1, scenes=2, size=(64, 48), progress=False)
    assert not (tmp_path / 's').exists()

    original = sample.drive_frames

    def drive(*args):       # the first frame renders, then Ctrl-C
        yield next(original(*args))
        raise KeyboardInterrupt
    monkeypatch.setattr(sample, 'drive_frames', drive)
    with pytest.raises(KeyboardInterrupt):
        make_sample(tmp_path / 's', frames=3, size=(64, 48), progress=False)
    assert not (tmp_path / 's').exists()      # so the same command can run again


def test_an_rgbd_bag_whose_topics_take_the_output_names_is_processed_under_a_prefix(setup, tmp_path):
    """A Gazebo or RGB-D driver's bag has <ns>/depth/camera_info already: refused before the model loads, with the
    way out named; under --output-prefix the outputs go beside the recorded topics.
    """
    from vision_banana_ros.bag import messages
    from vision_banana_ros.bag.io import open_writer
    from vision_banana_ros.geometry import Intrinsics
    from vision_banana_ros.outputs import DepthCameraInfo
    _, config = setup
    header = messages.header(10**18, 'camera_optical')
    info = messages.camera_info(DepthCameraInfo(Intrinsics(50.0, 50.0, 31.5, 23.5, 64, 48)), header)
    recorded = [('/camera/image_raw', messages.IMAGE, messages.image(np.full((48, 64, 3), 90, np.uint8), header)),
                ('/camera/camera_info', messages.CAMERA_INFO, info),
                ('/camera/depth/image_raw', messages.IMAGE, messages.image(np.full((48, 64), 2.0, np.float32), header)),
                ('/camera/depth/camera_info', messages.CAMERA_INFO, info)]
    with open_writer(tmp_path / 'rgbd') as writer:
        for topic, msgtype, msg in recorded:
            writer.write(writer.add_connection(topic, msgtype, typestore=messages.TYPESTORE), 10**18,
                         messages.serialize(msg, msgtype))
    missing_weights = tmp_path / 'params.yaml'
    missing_weights.write_text('/**:\n  ros__parameters:\n    weights: /nowhere.safetensors\n')
    with pytest.raises(ValueError, match=r"output topics \['/camera/depth/camera_info'\].*--output-prefix"):
        process_bag(tmp_path / 'rgbd', tmp_path / 'out', missing_weights, progress=False)
    summary = process_bag(tmp_path / 'rgbd', tmp_path / 'out', config, progress=False, output_prefix='vision_banana')
    out = read(tmp_path / 'out')
    assert summary['frames'] == 1 and len(out['/camera/vision_banana/depth']) == 1
    assert len(out['/camera/depth/camera_info']) == 1 and len(out['/camera/vision_banana/depth/camera_info']) == 1


def test_the_config_files_cpu_threads_are_the_runs_not_the_callers(tiny_weights, tmp_path, monkeypatch):
    import torch

    from vision_banana_ros.bag import process
    sample = make_sample(tmp_path / 's', frames=1, size=(64, 48), progress=False)
    config = tmp_path / 'params.yaml'
    before = torch.get_num_threads()
    threads = 1 if before != 1 else 2
    config.write_text(f'/**:\n  ros__parameters:\n    weights: {tiny_weights}\n    cpu_threads: {threads}\n')
    seen, build = [], process.build_backend
    monkeypatch.setattr(process, 'build_backend', lambda cfg: seen.append(torch.get_num_threads()) or build(cfg))
    assert process_bag(sample, tmp_path / 'out', config, progress=False)['frames'] == 1
    assert seen == [threads] and torch.get_num_threads() == before

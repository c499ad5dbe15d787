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

"""Hostile inputs to `vision_banana bag process` and the files it reads (issue 21): a bad message, topic,
parameter value, CameraInfo or weights file costs only itself; an interrupted run leaves a readable partial bag.
"""
import json
import math
import os
from pathlib import Path
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from rosbags.highlevel import AnyReader
from rosbags.rosbag2 import StoragePlugin, Writer
from rosbags.typesys import get_types_from_msg, get_typestore, Stores
from test_bag import _as_recorded_on_humble, read

from vision_banana_ros.bag import process as process_module
from vision_banana_ros.bag.process import process_bag
from vision_banana_ros.bag.sample import make_sample
from vision_banana_ros.cli import main
from vision_banana_ros.config import load_config_file

BIN = Path(sys.executable).parent
KILTED = get_typestore(Stores.ROS2_KILTED)


@pytest.fixture(scope='module')
def config(tmp_path_factory, tiny_weights):
    path = tmp_path_factory.mktemp('hostile') / 'params.yaml'
    path.write_text(f'/**:\n  ros__parameters:\n    weights: {tiny_weights}\n    device: cpu\n    max_batch: 2\n')
    return path


@pytest.fixture(scope='module')
def sample(tmp_path_factory):
    return make_sample(tmp_path_factory.mktemp('sample') / 's', frames=4, size=(64, 48), progress=False)


def rewrite(src: Path, dst: Path, change, extra=(), storage=StoragePlugin.MCAP, typestore=None) -> Path:
    """A copy of bag `src` at `dst` where `change(topic, index, raw)` returns the raw message to write (or None to
    drop it); `extra`: (topic, msgtype, timestamp, raw) messages added.
    """
    counts = {}
    with AnyReader([src]) as reader, Writer(dst, version=9, storage_plugin=storage) as writer:
        out = {c.topic: writer.add_connection(c.topic, c.msgtype, typestore=reader.typestore)
               for c in reader.connections}
        for topic, msgtype, _, _ in extra:
            if topic not in out:
                out[topic] = writer.add_connection(topic, msgtype, typestore=typestore or KILTED)
        for connection, timestamp, raw in reader.messages():
            index = counts[connection.topic] = counts.get(connection.topic, -1) + 1
            raw = change(connection.topic, index, bytes(raw))
            if raw is not None:
                writer.write(out[connection.topic], timestamp, raw)
        for topic, _, timestamp, raw in extra:
            writer.write(out[topic], timestamp, raw)
    return dst


def run_cli(capsys, *argv) -> tuple[int, dict | None, list[str]]:
    """Exit status, the JSON summary (or None) and the stderr lines of `vision_banana bag process ...`."""
    rc = main(['bag', 'process', *[str(a) for a in argv]])
    captured = capsys.readouterr()
    summary = json.loads(captured.out) if captured.out.strip() else None
    lines = [line for line in captured.err.replace('\r', '\n').splitlines() if 'vision_banana' in line]
    return rc, summary, lines


def small_image(stamp_ns: int) -> bytes:
    header = KILTED.types['std_msgs/msg/Header'](
        stamp=KILTED.types['builtin_interfaces/msg/Time'](sec=stamp_ns // 10**9, nanosec=stamp_ns % 10**9),
        frame_id='camera_optical_frame')
    msg = KILTED.types['sensor_msgs/msg/Image'](header=header, height=4, width=4, encoding='rgb8', is_bigendian=0,
                                                step=12, data=np.zeros(48, np.uint8))
    return bytes(KILTED.serialize_cdr(msg, 'sensor_msgs/msg/Image'))


def garbage_jpeg(stamp_ns: int) -> bytes:
    header = KILTED.types['std_msgs/msg/Header'](
        stamp=KILTED.types['builtin_interfaces/msg/Time'](sec=stamp_ns // 10**9, nanosec=stamp_ns % 10**9),
        frame_id='cam2_optical_frame')
    msg = KILTED.types['sensor_msgs/msg/CompressedImage'](header=header, format='jpeg',
                                                          data=np.frombuffer(b'\xff\xd8 not a jpeg', np.uint8))
    return bytes(KILTED.serialize_cdr(msg, 'sensor_msgs/msg/CompressedImage'))


def test_bad_messages_are_skipped_counted_and_reported_once_per_topic_and_reason(capsys, tmp_path, config, sample):
    def change(topic, index, raw):
        if topic == '/camera/image' and index == 1:
            return raw[:len(raw) // 3]                    # truncated in the middle of the pixel data
        if topic == '/camera/image' and index in (2, 3):
            return small_image(index * 10**8)             # 4x4: smaller than the engine's 8 px
        return raw
    jpeg = 'sensor_msgs/msg/CompressedImage'
    bag = rewrite(sample, tmp_path / 'bad', change,
                  extra=[('/cam2/image/compressed', jpeg, t, garbage_jpeg(t)) for t in (10**8, 2 * 10**8)])
    rc, summary, lines = run_cli(capsys, bag, tmp_path / 'out', '--config', config)
    assert rc == 0, lines
    assert summary['frames'] == 1 and summary['rejected'] == 5
    assert summary['rejected_by_topic'] == {'/camera/image': {'truncated or corrupt message': 1,
                                                              'frame smaller than 8 px': 2},
                                            '/cam2/image/compressed': {'undecodable image': 2}}
    reasons = [line for line in lines if 'skipped' in line]
    assert len(reasons) == 3, lines                      # one line per topic and reason, with the count
    assert any('/camera/image' in line and '2 messages' in line and '8 px' in line for line in reasons), reasons
    assert not any('Traceback' in line for line in lines)
    with AnyReader([tmp_path / 'out']) as reader:          # the input's messages are copied as they were
        assert sum(c.msgcount for c in reader.connections if c.topic == '/camera/depth') == 1


def test_humble_sqlite3_bag_with_an_unknown_type_is_processed_and_the_topic_skipped(capsys, tmp_path, config):
    store = get_typestore(Stores.ROS2_KILTED)
    store.register(get_types_from_msg('int32 x', 'my_pkg/msg/Foo'))
    src = make_sample(tmp_path / 's', frames=2, size=(64, 48), storage='sqlite3', progress=False)
    foo = bytes(store.serialize_cdr(store.types['my_pkg/msg/Foo'](x=3), 'my_pkg/msg/Foo'))
    bag = _as_recorded_on_humble(rewrite(src, tmp_path / 'humble', lambda t, i, raw: raw,
                                         extra=[('/foo', 'my_pkg/msg/Foo', 1, foo)], storage=StoragePlugin.SQLITE3,
                                         typestore=store))
    rc, summary, lines = run_cli(capsys, bag, tmp_path / 'out', '--config', config)
    assert rc == 0, lines
    assert summary['frames'] == 2 and summary['skipped'] == ['/foo']
    assert len([line for line in lines if '/foo' in line]) == 1, lines
    assert '/foo' not in read(tmp_path / 'out') and len(read(tmp_path / 'out')['/camera/image']) == 2


def test_unreadable_bag_is_one_line_and_a_failure(capsys, tmp_path, config):
    garbage = tmp_path / 'garbage.mcap'
    garbage.write_bytes(b'\x89MCAP0\r\n' + bytes(100))
    rc, summary, lines = run_cli(capsys, garbage, tmp_path / 'out', '--config', config)
    assert rc != 0 and summary is None and len(lines) == 1 and 'cannot read bag' in lines[0]
    assert not (tmp_path / 'out').exists() and not (tmp_path / 'out.partial').exists()


def test_an_output_that_appears_while_the_model_loads_is_not_removed(tmp_path, config, sample, monkeypatch):
    dst = tmp_path / 'out'
    build = process_module.build_backend

    def someone_else_writes(cfg):
        dst.mkdir()
        (dst / 'theirs.txt').write_text('not yours')
        return build(cfg)
    monkeypatch.setattr(process_module, 'build_backend', someone_else_writes)
    with pytest.raises(ValueError, match='exists'):
        process_bag(sample, dst, config, progress=False)
    assert (dst / 'theirs.txt').read_text() == 'not yours'
    assert not (tmp_path / 'out.partial').exists()


def test_sigterm_leaves_a_readable_partial_bag_and_a_rerun_works(tmp_path, config, sample):
    with AnyReader([sample]) as reader:             # the same four frames again and again: 400 frames
        messages = [(c.topic, c.msgtype, t, bytes(raw)) for c, t, raw in reader.messages()]
    many = tmp_path / 'many400'
    with Writer(many, version=9) as writer:
        out = {}
        for k in range(100):
            for topic, msgtype, t, raw in messages:
                if topic not in out:
                    out[topic] = writer.add_connection(topic, msgtype, typestore=KILTED)
                writer.write(out[topic], t + k * 10**9, raw)
    dst = tmp_path / 'out'
    partial = tmp_path / 'out.partial'
    proc = subprocess.Popen([str(BIN / 'vision_banana'), 'bag', 'process', str(many), str(dst), '--config',
                             str(config)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not partial.exists() and proc.poll() is None:
            time.sleep(0.05)
        assert partial.exists(), 'the run never started writing'
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert 'Traceback' not in err and 'partial' in err
    assert json.loads(out)['partial'] is True
    assert not dst.exists()
    assert (partial / 'metadata.yaml').exists()
    kept = read(partial)                              # readable, with what was done before the signal
    assert len(kept.get('/camera/depth', [])) == json.loads(out)['frames'] <= len(kept.get('/camera/image', []))
    summary = process_bag(sample, dst, config, progress=False)    # the re-run is not blocked
    assert summary['frames'] == 4 and partial.exists() and dst.exists()
    assert not (tmp_path / 'out.partial.1').exists()          # renamed into place


@pytest.mark.parametrize('line, name', [('cloud_drop_classes: "10"', 'cloud_drop_classes'),
                                        ('max_batch: "four"', 'max_batch'),
                                        ('max_batch: 2.5', 'max_batch'),
                                        ('tasks: depth', 'tasks'),
                                        ('compile: "yes"', 'compile'),
                                        ('fallback_hfov_deg: [90]', 'fallback_hfov_deg'),
                                        ('cameras: [1, 2]', 'cameras'),
                                        ('target_transform: "0 0 0 0 0 0 1"', 'target_transform')])
def test_config_values_are_type_checked_naming_the_parameter(tmp_path, line, name):
    path = tmp_path / 'params.yaml'
    path.write_text(f'/**:\n  ros__parameters:\n    device: cpu\n    {line}\n')
    with pytest.raises(ValueError, match=rf'^parameter {name}: .* is not (a|an) ') as error:
        load_config_file(path)
    assert '\n' not in str(error.value)


def test_a_config_that_needs_tf_names_the_parameter_for_a_bag_without_it(capsys, tmp_path, config, sample):
    no_tf = rewrite(sample, tmp_path / 'no_tf', lambda topic, index, raw: None if topic == '/tf' else raw)
    for line, name in (('scale_lock: ground', 'camera_height_m'), ('grid_frame: odom', 'grid_frame'),
                       ('target_frame: odom', 'target_frame')):
        params = tmp_path / 'params.yaml'
        params.write_text(config.read_text() + f'    {line}\n')
        rc, summary, lines = run_cli(capsys, no_tf, tmp_path / 'out', '--config', params)
        assert rc != 0 and summary is None and not (tmp_path / 'out').exists()
        assert any(f'parameter {name}: ' in line and 'has no /tf or /tf_static' in line for line in lines), lines


def test_config_numbers_of_the_other_kind_are_taken(tmp_path):
    path = tmp_path / 'params.yaml'
    path.write_text('/**:\n  ros__parameters:\n    device: cpu\n    max_batch: 2.0\n    max_wait_ms: 7\n'
                    '    cloud_drop_classes: [10, 11.0]\n')
    config = load_config_file(path)
    assert config.max_batch == 2 and isinstance(config.max_batch, int)
    assert config.max_wait_ms == 7.0 and config.cloud_drop_classes == (10, 11)


def test_nan_distortion_is_not_republished(tmp_path, config, sample):
    def change(topic, index, raw):
        if topic != '/camera/camera_info':
            return raw
        info = KILTED.deserialize_cdr(raw, 'sensor_msgs/msg/CameraInfo')
        info.d = np.array([math.nan, 0.0, 0.0, 0.0, 0.0])
        info.distortion_model = 'plumb_bob'
        return bytes(KILTED.serialize_cdr(info, 'sensor_msgs/msg/CameraInfo'))
    bag = rewrite(sample, tmp_path / 'nan_d', change)
    summary = process_bag(bag, tmp_path / 'out', config, progress=False)
    assert summary['frames'] == 4 and summary['fallback_intrinsics'] == 4      # that CameraInfo is refused
    infos = read(tmp_path / 'out')['/camera/depth/camera_info']
    assert len(infos) == 4 and all(np.isfinite(m.d).all() for _, m in infos)


@pytest.mark.parametrize('change', [{'encoder_widths': [8, 8, 16, 16, 4096]}, {'task_dim': 1 << 20},
                                    {'encoder_blocks': [0, 1, 1, 1, 2000]}])
def test_weights_config_is_checked_against_the_tensors_before_the_network_is_built(tmp_path, tiny_weights,
                                                                                   monkeypatch, change):
    from safetensors.torch import load_file, save_file

    from vision_banana_ros.model import weights
    metadata = weights.read_metadata(tiny_weights)
    network_config = {**json.loads(metadata[weights.CONFIG_KEY]), **change}
    lying = tmp_path / 'lying.safetensors'
    save_file(load_file(str(tiny_weights)), str(lying),
              metadata={**metadata, weights.CONFIG_KEY: json.dumps(network_config)})
    built = []
    real = weights.VisionBananaNet

    def recording(*args, **kwargs):
        network = real(*args, **kwargs)
        built.append(next(network.parameters()).device.type)
        return network
    monkeypatch.setattr(weights, 'VisionBananaNet', recording)
    with pytest.raises(ValueError, match=r'lying.safetensors.*(does not match|tensors)'):
        weights.load_network(lying)
    assert set(built) <= {'meta'}, 'the network was built with real memory before its shapes were checked'
    assert os.path.getsize(lying) < 1 << 20


def test_a_bag_without_camera_info_uses_the_fallback_field_of_view(tmp_path, config, sample):
    bag = rewrite(sample, tmp_path / 'no_info', lambda topic, i, raw: None if topic == '/camera/camera_info' else raw)
    summary = process_bag(bag, tmp_path / 'out', config, progress=False)
    assert summary['frames'] == 4 and summary['fallback_intrinsics'] == 4


def test_a_read_error_part_way_keeps_what_came_before(capsys, tmp_path, config, sample, monkeypatch):
    real_open = process_module.open_reader

    def failing_after_ten(src):
        reader = real_open(src)
        messages = reader.messages

        def some_then_fail(*args, **kwargs):
            for k, item in enumerate(messages(*args, **kwargs)):
                if k == 10:
                    raise RuntimeError('chunk 3: CRC mismatch')
                yield item
        reader.messages = some_then_fail
        return reader
    monkeypatch.setattr(process_module, 'open_reader', failing_after_ten)
    rc, summary, lines = run_cli(capsys, sample, tmp_path / 'out', '--config', config)
    assert rc == 0 and summary['read_error'] == 'chunk 3: CRC mismatch'
    assert 0 < summary['frames'] < 4 and (tmp_path / 'out' / 'metadata.yaml').exists()
    assert [line for line in lines if 'CRC' in line] == [lines[-1]] and 'Traceback' not in ''.join(lines)


@pytest.mark.ros
def test_play_of_a_bag_with_no_type_installed_here_is_one_line(capsys, tmp_path):
    from vision_banana_ros.bag import messages
    from vision_banana_ros.bag.io import open_writer
    with open_writer(tmp_path / 'tf_only') as writer:       # tf2_msgs has no wheel here
        tf = writer.add_connection('/tf', messages.TF, typestore=messages.TYPESTORE)
        writer.write(tf, 10**18, messages.serialize(messages.T[messages.TF](transforms=[]), messages.TF))
    assert main(['bag', 'play', str(tmp_path / 'tf_only'), '--delay', '0']) == 2
    assert 'has no topic of a message type installed here' in capsys.readouterr().err

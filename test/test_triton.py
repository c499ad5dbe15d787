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

"""`backend: triton` against `vision_banana serve` on localhost: the served answers are the in-process ones, the
identity check refuses another model, and two node processes of two cameras each share one server, which may go
away and come back mid-stream; the fleet page's commands run.
"""
import json
from pathlib import Path
import shlex
import signal
import subprocess
import sys
import time

import pytest
import torch

pytest.importorskip('tritonclient.grpc')

from tiny_model import save_tiny  # noqa: E402, I100

from vision_banana_ros.backends.triton import TritonBackend  # noqa: E402 (after the skip)
from vision_banana_ros.backends.unified import UnifiedBackend  # noqa: E402
from vision_banana_ros.model.served import identity  # noqa: E402
from vision_banana_ros.serving.server import free_ports, TritonServer  # noqa: E402


@pytest.fixture(scope='module')
def server(tiny_weights):
    grpc, http, metrics = free_ports(3)
    with TritonServer(tiny_weights, grpc_port=grpc, http_port=http, metrics_port=metrics, max_batch=8) as served:
        yield served


@pytest.mark.parametrize('shared_memory', [True, False])
def test_served_answers_are_the_in_process_ones(server, tiny_weights, shared_memory):
    remote = TritonBackend(server.url, server.name, identity(tiny_weights), shared_memory=shared_memory,
                           timeout_s=60)
    local = UnifiedBackend(tiny_weights)
    try:
        assert bool(remote._regions) == shared_memory
        assert (remote.tasks, remote.processing_size) == (local.tasks, local.processing_size)
        images = torch.rand(5, 3, *local.processing_size)    # 10 with their mirror images: two requests of 8 at most
        served = remote.decode(remote.forward(images, remote.tasks), remote.tasks)
        expected = local.decode(local.forward(images, local.tasks), local.tasks)
        assert (served.labels == expected.labels).float().mean() >= 0.999
        assert torch.allclose(served.depth, expected.depth, rtol=1e-4, equal_nan=True)
        assert torch.allclose(served.normals, expected.normals, atol=1e-4, equal_nan=True)
        assert remote.diagnostics()['triton_state'] == 'ready'
    finally:
        remote.close()


def test_the_timeout_is_for_the_whole_batch_however_many_requests_carry_it(server, tiny_weights):
    """A batch larger than the server's max_batch goes as several requests: they share triton_timeout_s."""
    remote = TritonBackend(server.url, server.name, identity(tiny_weights), timeout_s=60)
    infer, given = remote.client.infer, []

    def slow(*args, client_timeout, **kwargs):
        given.append(client_timeout)
        time.sleep(0.3)
        return infer(*args, client_timeout=client_timeout, **kwargs)
    remote.client.infer = slow
    try:
        remote.forward(torch.rand(5, 3, *remote.processing_size), remote.tasks)    # 10 with mirrors: 2 requests
        assert len(given) == 2 and given[0] <= 60 and given[1] < given[0] - 0.3
    finally:
        remote.close()


def test_a_server_that_cannot_map_our_shared_memory_is_served_over_the_socket(server, tiny_weights, monkeypatch):
    """A stock Triton container without --ipc=host has a /dev/shm of its own: registering our region fails there.
    The node must answer over the socket, say why, and leave no region behind.
    """
    import tritonclient.utils.shared_memory as shm
    create = shm.create_shared_memory_region
    made = []

    def elsewhere(name, key, size):     # the region lands where the server does not look, as in another /dev/shm
        made.append(f'/dev/shm{key}_elsewhere')
        return create(name, f'{key}_elsewhere', size)
    monkeypatch.setattr(shm, 'create_shared_memory_region', elsewhere)
    remote = TritonBackend(server.url, server.name, identity(tiny_weights), timeout_s=60)
    monkeypatch.undo()
    local = UnifiedBackend(tiny_weights)
    try:
        assert not remote._regions and made and not any(Path(path).exists() for path in made)
        assert 'cannot map shared memory' in remote.diagnostics()['triton_shared_memory_problem']
        images = torch.rand(2, 3, *local.processing_size)
        served = remote.decode(remote.forward(images, remote.tasks), remote.tasks)
        assert torch.allclose(served.depth, local.decode(local.forward(images, local.tasks), local.tasks).depth,
                              rtol=1e-4, equal_nan=True)
    finally:
        remote.close()


def test_served_experts_are_the_in_process_experts_with_each_frames_camera(tmp_path):
    from tiny_experts import save

    from vision_banana_ros.backends.experts import ExpertsBackend
    from vision_banana_ros.geometry import Intrinsics
    from vision_banana_ros.model.served import experts_identity
    segmentation, depth = str(save('segformer', tmp_path / 'seg')), str(save('depth_anything', tmp_path / 'depth'))
    grpc, http, metrics = free_ports(3)
    with TritonServer(grpc_port=grpc, http_port=http, metrics_port=metrics, size=(96, 64),
                      segmentation_model=segmentation, depth_model=depth) as served:
        assert served.parameters['vision_banana.backend'] == 'experts'
        remote = TritonBackend(served.url, served.name, experts_identity(segmentation, depth), timeout_s=60)
        local = ExpertsBackend(segmentation, depth)
        images = torch.rand(3, 3, 64, 96)
        cameras = [None, Intrinsics.from_fov(96, 64, 50.0), Intrinsics.from_fov(96, 64, 110.0)]
        try:
            assert remote.tasks == local.tasks and not remote.mirror_average    # as the experts run in-process
            answers = remote.decode(remote.forward(images, remote.tasks, cameras), remote.tasks, cameras)
        finally:
            remote.close()
    expected = local.decode(local.forward(images, local.tasks), local.tasks, cameras)
    assert (answers.labels == expected.labels).float().mean() >= 0.999
    finite = torch.isfinite(expected.depth)
    assert torch.allclose(answers.depth[finite], expected.depth[finite], rtol=2e-3)    # painted along the walk
    assert torch.equal(torch.isnan(answers.depth), torch.isnan(expected.depth))        # unknown is not far
    cosine = (answers.normals * expected.normals).sum(1)
    valid = torch.isfinite(expected.normals).all(1)
    assert torch.equal(torch.isfinite(cosine), valid)
    assert torch.rad2deg(torch.arccos(cosine[valid].clamp(-1, 1))).max() < 0.5
    # the cameras reached the server: normals of the wide and the narrow lens differ as in-process
    both = valid[1] & valid[2]
    assert not torch.allclose(answers.normals[1][:, both], answers.normals[2][:, both], atol=1e-2)


def test_one_nodes_absurd_camera_costs_no_other_frame_of_the_served_batch(tmp_path):
    """The server batches several nodes' requests into one call: a camera with a focal length <= 0 from one of them
    is taken as unknown, and the other frames are answered as they would be alone.
    """
    from tiny_experts import save

    from vision_banana_ros.backends.experts import ExpertsBackend
    from vision_banana_ros.model.served import ExpertAnswers
    served = ExpertAnswers(ExpertsBackend(depth=str(save('depth_anything', tmp_path / 'depth'))))
    images = torch.rand(2, 3, 48, 64)
    good = [60.0, 60.0, 31.5, 23.5]
    together = served(images, torch.tensor([good, [-1.0, 60.0, 31.5, 23.5]]))
    torch.testing.assert_close(together[:1], served(images[:1], torch.tensor([good])), equal_nan=True)
    torch.testing.assert_close(together[1:], served(images[1:], torch.full((1, 4), torch.nan)), equal_nan=True)


def test_one_served_expert_leaves_the_other_checkpoint_empty(tmp_path):
    from tiny_experts import save

    from vision_banana_ros.model.served import experts_identity
    segmentation = str(save('segformer', tmp_path / 'seg'))
    served = TritonServer(size=(96, 64), segmentation_model=segmentation)   # configured, not started
    assert served.parameters['vision_banana.identity'] == experts_identity(segmentation, None)
    assert served.parameters['vision_banana.tasks'] == 'segmentation'
    from google.protobuf import text_format
    from tritonclient.grpc import model_config_pb2
    config = text_format.Parse(served._config, model_config_pb2.ModelConfig())
    assert 'vision_banana.depth_model' in config.parameters
    assert config.parameters['vision_banana.depth_model'].string_value == ''     # python_model reads None
    assert config.parameters['vision_banana.segmentation_model'].string_value == segmentation


def test_another_model_is_refused(server, tmp_path):
    other = save_tiny(tmp_path / 'other.safetensors', seed=1)
    with pytest.raises(ValueError, match='triton_model .*is another model'):
        TritonBackend(server.url, server.name, identity(other), connect_timeout_s=0)
    with pytest.raises(ValueError, match="model 'nothing'"):
        TritonBackend(server.url, 'nothing', identity(other), connect_timeout_s=0)


def test_a_server_that_cannot_start_says_why(server, tiny_weights, tmp_path):
    taken = int(server.url.rsplit(':', 1)[1])
    http, metrics = free_ports(2)
    with pytest.raises(RuntimeError, match=f'grpc port {taken} on 127.0.0.1 is taken .*: give another --grpc-port'):
        TritonServer(tiny_weights, grpc_port=taken, http_port=http, metrics_port=metrics).start()
    broken = tmp_path / 'broken.safetensors'   # loads here, fails in the server: its log says why
    broken.write_bytes(tiny_weights.read_bytes())
    server_of_broken = TritonServer(broken, grpc_port=free_ports(1)[0], http_port=http, metrics_port=metrics)
    broken.write_bytes(b'not safetensors')
    with pytest.raises(RuntimeError, match="(?s)serving 'vision_banana' exited with code 1:.*broken.safetensors"):
        server_of_broken.start()


def test_the_node_configuration_names_what_does_not_fit(server, tiny_weights, tmp_path):
    from vision_banana_ros.config import build_backend, load_config_file
    path = tmp_path / 'params.yaml'
    shipped = (Path(__file__).resolve().parents[1] / 'config' / 'triton.yaml').read_text()
    assert '    triton_url: 127.0.0.1:8001\n' in shipped
    common = shipped.replace('127.0.0.1:8001', server.url) + f'    weights: {tiny_weights}\n'
    path.write_text(common + '    processing_width: 640\n    processing_height: 480\n')
    with pytest.raises(ValueError, match='processing_width: 640x480: the served model takes 320x240'):
        build_backend(load_config_file(path))
    path.write_text(common.replace(str(tiny_weights), str(save_tiny(tmp_path / 'other.safetensors', seed=1))))
    with pytest.raises(ValueError, match=f'^parameter triton_url: {server.url}: .* is another model'):
        build_backend(load_config_file(path))
    path.write_text(common)
    backend = build_backend(load_config_file(path))
    assert backend.name == 'triton' and backend.processing_size == (240, 320)
    backend.close()


def _fleet_commands() -> list[str]:
    from test_docs import shown_commands
    lines = [line for page, line in shown_commands('vision_banana') if page == 'docs/fleet.md']
    assert lines == ['vision_banana serve', 'vision_banana bench --triton'], lines   # both run below
    return lines


@pytest.mark.parametrize('signum', [signal.SIGTERM, signal.SIGHUP, signal.SIGKILL])
def test_the_fleet_page_serve_command_serves_until_stopped_and_takes_its_server_along(tiny_weights, signum):
    """SIGTERM and SIGHUP (the ssh session that ran it closed) stop it cleanly; even SIGKILL takes the server."""
    grpc, http, metrics = free_ports(3)
    words = shlex.split(_fleet_commands()[0])
    command = [str(Path(sys.executable).parent / words[0]), *words[1:], '--weights', str(tiny_weights),
               '--grpc-port', str(grpc), '--http-port', str(http), '--metrics-port', str(metrics)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = process.stdout.readline()
        assert line.startswith('vision_banana serve: model vision_banana (unified, 320x240, identity '
                               f'{identity(tiny_weights)}) on grpc://127.0.0.1:{grpc}'), line
        TritonBackend(f'127.0.0.1:{grpc}', 'vision_banana', identity(tiny_weights), connect_timeout_s=0).close()
        process.send_signal(signum)
        assert process.wait(timeout=60) == (-signal.SIGKILL if signum == signal.SIGKILL else 0)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and grpc not in free_ports_now([grpc]):
            time.sleep(0.2)
        assert grpc in free_ports_now([grpc]), 'the server still listens'
    finally:
        if process.poll() is None:
            process.kill()


def free_ports_now(ports):
    """Those of `ports` nothing listens on."""
    import socket
    free = []
    for port in ports:
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(('127.0.0.1', port))
                free.append(port)
            except OSError:
                pass
    return free


@pytest.mark.slow
def test_the_fleet_page_bench_command_combines_requests(tiny_weights, capsys):
    from vision_banana_ros.cli import main
    words = shlex.split(_fleet_commands()[1])[1:]
    assert main([*words, '--weights', str(tiny_weights), '--frames', '3', '--camera', '64x48', '--device',
                 'cpu']) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert [r['run'] for r in report['triton']] == ['in-process', 'triton x1', 'triton x2', 'triton x4']
    assert all(r['frames_per_s'] > 0 for r in report['triton'])
    assert all(r['requests_per_execution'] >= 1 for r in report['triton'][1:])
    assert isinstance(report['overhead_ms_per_frame'], float)
    in_process, served = report['triton'][0]['p50_ms'], report['triton'][1]['p50_ms']
    assert report['served_vs_in_process_p50'] == pytest.approx(served / in_process)


def test_an_ipv6_host_is_refused_with_what_to_give(capsys):
    from vision_banana_ros.cli import main
    with pytest.raises(SystemExit):
        main(['serve', '--host', '::1'])
    assert 'IPv6 addresses are not served; give an IPv4 address or a host name' in capsys.readouterr().err


def test_a_server_that_goes_away_is_retried_with_a_doubling_back_off_reset_by_an_answer(tiny_weights):
    """fleet.md: failed batches back off 0.5 s, 1 s, ... up to 10 s, calls inside the wait fail at once without a
    request, and the first answer after the server is back resets the wait.
    """
    from vision_banana_ros.backends.triton import ServerUnavailable
    grpc, http, metrics = free_ports(3)
    server = TritonServer(tiny_weights, grpc_port=grpc, http_port=http, metrics_port=metrics, max_batch=8).start()
    remote = TritonBackend(server.url, server.name, identity(tiny_weights), timeout_s=5)
    images = torch.rand(1, 3, *remote.processing_size)
    try:
        remote.forward(images, remote.tasks)
        server.stop()
        waits = []
        for _ in range(3):
            with pytest.raises(ServerUnavailable):
                remote.forward(images, remote.tasks)
            failed = remote.failed_requests
            with pytest.raises(ServerUnavailable, match='next try in'):     # inside the wait: no request
                remote.forward(images, remote.tasks)
            assert remote.failed_requests == failed
            waits.append(float(remote.diagnostics()['triton_retry_in_s']))
            time.sleep(waits[-1] + 0.05)
        assert [round(w * 2) / 2 for w in waits] == [0.5, 1.0, 2.0]
        server.start()
        remote.forward(images, remote.tasks)                     # back: answered, and the wait starts again at 0.5
        assert remote.diagnostics()['triton_state'] == 'ready' and remote._backoff == 0.5
    finally:
        remote.close()
        server.stop()

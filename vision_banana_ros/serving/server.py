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

"""`vision_banana serve`: the unified network behind Triton Inference Server's dynamic batcher, on this machine.

The `tritonserver` the `nvidia-pytriton` wheel bundles runs a model repository written here: the network in
Triton's Python backend (`python_model`), with the served contract and parameters of `model.served`, so that a
node's `backend: triton` cannot tell it from a stock server running `export --format triton`. Triton combines the
requests of all clients into executions of up to `max_batch` images (waiting at most `queue_delay_us` for more).

It listens on 127.0.0.1 unless told otherwise: a server for other machines belongs on a private network or behind a
TLS-terminating proxy (docs/fleet.md). The Python backend's stub process links libpython: it must find the library
of the interpreter running this (a venv of one Python 3.11 build next to a system 3.11 of another otherwise fails
with `RLock._recursion_count`), so that folder leads LD_LIBRARY_PATH, and the interpreter's folder leads PATH (the
stub takes its Python environment from there). PyTriton's own Python side is not used: it needs numpy < 2.
"""
from __future__ import annotations

import argparse
import ctypes
import ipaddress
import os
from pathlib import Path
import re
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time

PACKAGE_ROOT = Path(__file__).resolve().parents[2]   # the folder holding vision_banana_ros, for the stub's path
MODEL_PY = 'from vision_banana_ros.serving.python_model import TritonPythonModel  # noqa: F401\n'


def free_ports(count: int) -> list[int]:
    """`count` distinct TCP ports free on localhost now (for servers of tests and benchmarks)."""
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(('127.0.0.1', 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def _bundled_triton() -> tuple[Path, Path]:
    """The nvidia-pytriton wheel's tritonserver folder and its shared libraries' folder."""
    import importlib.util
    spec = importlib.util.find_spec('pytriton')
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError('vision_banana serve needs the nvidia-pytriton wheel (it bundles tritonserver): '
                           'pip install --no-deps nvidia-pytriton==0.7.0')
    root = Path(next(iter(spec.submodule_search_locations)))
    return root / 'tritonserver', root.parent / 'nvidia_pytriton.libs'


def _environment() -> dict[str, str]:
    """The server's environment: this interpreter's libpython and folder first, this package importable."""
    env = dict(os.environ)
    _, libs = _bundled_triton()
    library_paths = [sysconfig.get_config_var('LIBDIR') or '', str(libs), env.get('LD_LIBRARY_PATH', '')]
    env['LD_LIBRARY_PATH'] = ':'.join(p for p in library_paths if p)
    env['PATH'] = ':'.join([str(Path(sys.executable).parent), env.get('PATH', '')])
    env['PYTHONPATH'] = ':'.join(p for p in [str(PACKAGE_ROOT), env.get('PYTHONPATH', '')] if p)
    return env


class TritonServer:
    """A tritonserver process serving, as `name` version 1, the unified network (the embedded weights, or
    `weights`) at `size` (width, height; default: the weights' trained size), or the experts backend
    (`segmentation_model` and/or `depth_model`: hub ids pulled before, or directories; default size 640x480).
    `start()` returns once the model is ready.
    """

    def __init__(self, weights: str | Path | None = None, name: str = 'vision_banana', host: str = '127.0.0.1',
                 grpc_port: int = 8001, http_port: int = 8000, metrics_port: int = 8002, max_batch: int = 8,
                 queue_delay_us: int = 2000, device: str = 'cpu', size: tuple[int, int] | None = None,
                 segmentation_model: str | None = None, depth_model: str | None = None):
        from ..model import served
        self.name, self.host, self.device = name, host, device
        self.ports = {'grpc': grpc_port, 'http': http_port, 'metrics': metrics_port}
        if segmentation_model or depth_model:
            from ..backends.checkpoints import resolve
            width, height = size or (640, 480)
            tasks = ['segmentation'] * bool(segmentation_model) + ['depth', 'normals'] * bool(depth_model)
            folders = [str(resolve(model)) if model else None for model in (segmentation_model, depth_model)]
            self.parameters = {served.IDENTITY: served.experts_identity(*folders),
                               served.TASKS: ','.join(tasks), served.CANONICAL_FOCAL: 'none',
                               served.BACKEND: 'experts'}
            # Triton's config parameters are strings: a missing checkpoint is '' (python_model reads it as None)
            checkpoints = dict(zip(('vision_banana.segmentation_model', 'vision_banana.depth_model'),
                                   (folder or '' for folder in folders)))
        else:
            from ..backends.unified import DEFAULT_PROCESSING_SIZE
            from ..model.weights import load_network, trained_size
            network = load_network(weights)
            height, width = (size[1], size[0]) if size else (trained_size(weights) or DEFAULT_PROCESSING_SIZE)
            tasks = network.config.tasks
            self.parameters = served.parameters(network, weights, width)
            checkpoints = {'vision_banana.weights': str(Path(weights).resolve()) if weights else ''}
        self.size = (width, height)
        self._config = served.model_config(
            name, len(tasks), height, width, {**self.parameters, **checkpoints, 'vision_banana.device': device},
            max_batch, queue_delay_us, backend='python', device=device,
            intrinsics=self.parameters[served.BACKEND] == 'experts')
        self.process: subprocess.Popen | None = None
        self.workspace: Path | None = None

    @property
    def url(self) -> str:
        """The gRPC address nodes are pointed at (`triton_url`)."""
        return f'{self.host}:{self.ports["grpc"]}'

    @property
    def log(self) -> Path:
        """The server's log file (in its workspace)."""
        return self.workspace / 'tritonserver.log'

    def _prepare(self) -> list[str]:
        """Workspace with the server's binaries, this Python's backend stub and the repository; the command."""
        dist, _ = _bundled_triton()
        self.workspace = Path(tempfile.mkdtemp(prefix='vision_banana_serve_'))
        server = self.workspace / 'tritonserver'
        shutil.copytree(dist, server, ignore=shutil.ignore_patterns('python_backend_stubs'))
        stub = dist / 'python_backend_stubs' / f'{sys.version_info[0]}.{sys.version_info[1]}'
        shutil.copy(stub / 'triton_python_backend_stub', server / 'backends' / 'python')
        model = self.workspace / 'models' / self.name
        (model / '1').mkdir(parents=True)
        (model / 'config.pbtxt').write_text(self._config)
        (model / '1' / 'model.py').write_text(MODEL_PY)
        answers = 64 << 20   # the stub's shared memory: a batch of answers is tens of MB
        return [str(server / 'bin' / 'tritonserver'), '--model-repository', str(self.workspace / 'models'),
                '--backend-directory', str(server / 'backends'), '--cache-directory', str(server / 'caches'),
                '--grpc-address', self.host, '--grpc-port', str(self.ports['grpc']),
                '--http-address', self.host, '--http-port', str(self.ports['http']),
                '--metrics-address', self.host, '--metrics-port', str(self.ports['metrics']),
                '--backend-config', f'python,shm-region-prefix-name=vision_banana_{os.getpid()}_{id(self)}',
                '--backend-config', f'python,shm-default-byte-size={answers}',
                '--backend-config', f'python,shm-growth-byte-size={answers}',
                '--exit-timeout-secs', '5']

    def start(self, timeout: float = 180.0) -> 'TritonServer':
        """Start the server; return once the model is ready. RuntimeError with the log's end when it is not."""
        import tritonclient.grpc as grpc
        for kind, port in self.ports.items():   # another server there would answer the readiness checks below
            with socket.socket() as probe:
                # a listener refuses the bind; connections of a server stopped a moment ago (TIME_WAIT) must not
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    probe.bind((self.host, port))
                except OSError as exc:
                    raise RuntimeError(f'{kind} port {port} on {self.host} is taken ({exc.strerror}): give another '
                                       f'--{kind}-port') from None
        command = self._prepare()
        with open(self.log, 'wb') as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=_environment(),
                                            start_new_session=True, preexec_fn=_die_with_parent)
        client = grpc.InferenceServerClient(self.url)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                if client.is_model_ready(self.name):
                    return self
            except Exception:  # not listening yet
                pass
            time.sleep(0.2)
        # Triton's error lines start with E and the date (E1205 ...), after a wide table of its options
        lines = self.log.read_text(errors='replace').splitlines()
        errors = [line for line in lines if re.match(r'E\d{4} |error:', line)] or lines[-5:]
        why = (f'exited with code {self.process.returncode}' if self.process.poll() is not None
               else f'was not ready within {timeout:.0f} s')
        self.stop()
        raise RuntimeError(f'tritonserver serving {self.name!r} {why}:\n' + '\n'.join(errors[-10:]))

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the server (in-flight requests finish) and remove its workspace."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        if self.workspace is not None:
            shutil.rmtree(self.workspace, ignore_errors=True)
            self.workspace = None

    def __enter__(self) -> 'TritonServer':
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def add_parser(sub) -> argparse.ArgumentParser:
    """The `serve` subcommand and its arguments."""
    from ..cli_arguments import device_name, positive, size_wh
    serve = sub.add_parser('serve', help='serve the unified network (or the experts) with Triton Inference Server '
                                         'on this machine, for backend: triton nodes')
    what = serve.add_mutually_exclusive_group()
    what.add_argument('--weights', help='safetensors weights of the unified network (default: the embedded model)')
    what.add_argument('--segmentation-model', help='serve the experts backend: Cityscapes segmentation checkpoint '
                                                   '(hub id pulled before, or directory)')
    serve.add_argument('--depth-model', help='serve the experts backend: metric depth checkpoint')
    serve.add_argument('--model', default='vision_banana', help='served model name (default: %(default)s)')
    serve.add_argument('--host', type=_ipv4_or_name, default='127.0.0.1',
                       help='address to listen on (default: %(default)s; 0.0.0.0 for other machines, on a private '
                            'network or behind TLS only)')
    serve.add_argument('--grpc-port', type=positive, default=8001, help='gRPC port (default: %(default)s)')
    serve.add_argument('--http-port', type=positive, default=8000, help='HTTP port (default: %(default)s)')
    serve.add_argument('--metrics-port', type=positive, default=8002, help='metrics port (default: %(default)s)')
    serve.add_argument('--max-batch', type=positive, default=8,
                       help='most images in one execution (default: %(default)s)')
    serve.add_argument('--queue-delay-us', type=positive, default=2000,
                       help="dynamic batcher's longest wait for more requests (default: %(default)s)")
    serve.add_argument('--device', type=device_name, default='cpu', help='cpu or cuda[:N] (default: %(default)s)')
    serve.add_argument('--size', type=size_wh, help="served image size WxH (default: the weights' trained size; "
                                                    'experts: 640x480)')
    return serve


def _die_with_parent() -> None:
    """In the server's process before it starts: it gets SIGTERM when `serve` ends, however that ends (SIGKILL,
    the OOM killer), rather than staying on its ports.
    """
    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def _interrupt(signum, frame):
    raise KeyboardInterrupt   # SIGTERM (and SIGHUP: the terminal or ssh session closed) stop it as Ctrl-C does


def _ipv4_or_name(text: str) -> str:
    try:
        if ipaddress.ip_address(text).version == 6:
            raise argparse.ArgumentTypeError(f'{text}: IPv6 addresses are not served; give an IPv4 address or a host '
                                             'name')
    except ValueError:      # a host name
        pass
    return text


def run(args: argparse.Namespace) -> int:
    """Serve until SIGINT/SIGTERM; 0 after a clean stop, 1 when the server exits by itself."""
    if args.weights and args.depth_model:
        raise ValueError('--weights (the unified network) or the experts (--segmentation-model, --depth-model), not '
                         'both')
    server = TritonServer(args.weights, args.model, args.host, args.grpc_port, args.http_port, args.metrics_port,
                          args.max_batch, args.queue_delay_us, args.device, args.size, args.segmentation_model,
                          args.depth_model)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _interrupt)
    try:
        server.start()
        print(f'vision_banana serve: model {server.name} ({server.parameters["vision_banana.backend"]}, '
              f'{server.size[0]}x{server.size[1]}, identity {server.parameters["vision_banana.identity"]}) on '
              f'grpc://{server.url}; log {server.log}', flush=True)
        return 0 if server.process.wait() == 0 else 1
    except KeyboardInterrupt:
        return 0
    finally:
        server.stop()

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

"""`vision_banana <subcommand>`: the command-line entry point (subcommands import their modules lazily)."""
from __future__ import annotations

import argparse
from collections import Counter
import itertools
import json
from pathlib import Path
import sys

from . import cli_arguments
from .cli_arguments import (
    camera_setting,
    device_name,
    field_of_view,
    list_of,
    pairing,
    parameter_range,
    positive,
    positive_number,
    precision,
    size_wh,
)
from .parameters import BY_NAME

# world.presets.PRESETS by name: spelt out so that parsing arguments loads no world code
WORLD_PRESETS = ('street', 'wide', 'holdout', 'indoor', 'reach')


def _demo(args: argparse.Namespace) -> int:
    from .demo import run_demo
    return run_demo(args.out)


def _bench(args: argparse.Namespace) -> int:
    if args.codecs:
        from .benchmarks import codecs
        return codecs.main(args.sizes or [(640, 480), (1024, 1024)])
    if args.cloud:
        from .benchmarks import cloud
        return cloud.main(args)
    if args.soak:
        from .benchmarks import soak
        return soak.main(args)
    if args.triton:
        from .benchmarks import triton
        return triton.main(args)
    if args.world:
        from .benchmarks import world
        return world.main(args.sizes or [(160, 120), (320, 240), (640, 480)])
    from .benchmarks import engine
    return engine.main(args)


def _train(args: argparse.Namespace) -> int:
    from .model.experiment import run_training
    return run_training(args)


def _distill(args: argparse.Namespace) -> int:
    from .model.distill import run
    return run(args)


def _serve(args: argparse.Namespace) -> int:
    from .serving.server import run
    return run(args)


def _ask(args: argparse.Namespace) -> int:
    from .ask import ask
    print(json.dumps(ask(args.image, args.instruction, args.out, _backend(args, mirror_average=False),
                         hfov_deg=args.hfov_deg)))
    return 0


def _backend(args: argparse.Namespace, mirror_average: bool):
    """The backend `--backend` names: the unified model (`--weights`) or the experts (`--segmentation-model`,
    `--depth-model`, hub ids resolved offline in `--cache`), at `--size` or its own processing size.
    """
    size = args.size[::-1] if getattr(args, 'size', None) else None   # (H, W)
    if args.backend == 'experts':
        from .backends.experts import ExpertsBackend
        if args.weights:
            raise ValueError('--weights is for the unified backend; the experts take --segmentation-model and '
                             '--depth-model')
        return ExpertsBackend(args.segmentation_model, args.depth_model, args.device, size,
                              cache_dir=args.cache)
    from .backends.unified import UnifiedBackend
    if args.segmentation_model or args.depth_model:
        raise ValueError('--segmentation-model and --depth-model need --backend experts')
    weights = args.weights.split(',') if args.weights else None
    return UnifiedBackend(weights, device=args.device, processing_size=size, mirror_average=mirror_average)


def _add_backend_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('--backend', choices=['unified', 'experts'], default='unified',
                        help='(default: %(default)s)')
    parser.add_argument('--segmentation-model', help='experts: Cityscapes segmentation checkpoint (hub id or '
                                                     'directory; see `vision_banana models list`)')
    parser.add_argument('--depth-model', help='experts: metric depth checkpoint (hub id or directory)')
    parser.add_argument('--cache', help='experts: Hugging Face cache holding pulled hub ids (default: the '
                                        'standard one, $HF_HUB_CACHE)')


def _models(args: argparse.Namespace) -> int:
    from .backends import checkpoints
    if args.models_command == 'list':
        print(checkpoints.table())
        return 0
    for name, path in zip(args.ids, checkpoints.pull(args.ids, args.cache)):
        print(f'{name}: {path}')
    return 0


def _eval(args: argparse.Namespace) -> int:
    from .evaluation.run import evaluate, format_report, to_json
    if args.upright and args.no_intrinsics:
        raise ValueError("--upright needs the frames' intrinsics: a turned image is shown smaller than its canvas")
    read = Counter()        # --bag: frames read, paired with ground truth, and left out and why
    if args.bag:
        if args.upright:
            raise ValueError("--upright takes each frame's roll from a data set's camera poses (--data); a bag's "
                             'frames have none')
        from .evaluation.bag_samples import bag_samples
        samples = bag_samples(args.bag, args.image_topic, args.labels_topic, args.depth_topic, read,
                              rectified=args.rectified, fallback_hfov_deg=args.fallback_hfov_deg)
        first = next(samples)   # a bag without ground truth fails here, before the model loads
        samples = itertools.chain([first], samples)
    else:
        from .world.dataset import iter_samples, read_dataset
        read_dataset(args.data)  # a folder that is not a data set: one line before any progress bar or model load
        samples = iter_samples(args.data)
    backend = _backend(args, mirror_average=not args.no_mirror_average)
    result = evaluate(backend, samples, batch_size=args.batch, progress=not args.json,
                      intrinsics=not args.no_intrinsics,
                      upright_min_roll_deg=args.upright_min_roll_deg if args.upright else None)
    print(to_json(result) if args.json else format_report(result))
    for what, count in sorted(read.items()):
        print(f'vision_banana eval: {args.bag}: {what}: {count}', file=sys.stderr)
    return 0


def _sweep(args: argparse.Namespace) -> int:
    from .evaluation.run import to_json
    from .evaluation.sweep import format_sweep, pose_sweep
    backend = _backend(args, mirror_average=not args.no_mirror_average)
    rows = pose_sweep(backend, args.heights, args.pitches, args.fovs, args.frames, args.seed, args.frame_size,
                      args.preset, progress=not args.json, ground_lock=args.ground_lock,
                      level_floor_deg=args.level_floor_deg)
    print(json.dumps([json.loads(to_json(row)) for row in rows]) if args.json else format_sweep(rows))
    return 0


def _export(args: argparse.Namespace) -> int:
    import warnings

    if args.size is None:       # the size the weights were trained at, as the node runs them
        from .backends.unified import DEFAULT_PROCESSING_SIZE
        from .model.weights import trained_size
        height, width = trained_size(args.weights) or DEFAULT_PROCESSING_SIZE
    else:
        width, height = args.size
    if args.format == 'triton':
        from .model.served import export_repository
        print(json.dumps(export_repository(args.weights, args.out or 'model_repository', height, width,
                                           max_batch=args.max_batch, tensorrt=args.tensorrt)))
        return 0
    from .model.export import export_onnx
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # tracer chatter about the fixed input size
        print(json.dumps(export_onnx(args.weights, args.out or 'vision_banana.onnx', height, width)))
    return 0


def _world(args: argparse.Namespace) -> int:
    from .world import write_dataset
    names = write_dataset(args.out, args.count, args.seed, size=args.size, workers=args.workers,
                          preset=args.preset, **dict(args.camera))
    print(f'wrote {len(names)} frames to {args.out}')
    return 0


def _bag(args: argparse.Namespace) -> int:
    from .bag.cli import run
    return run(args)


def main(argv: list[str] | None = None) -> int:
    """Run the `vision_banana` command line; return its exit status."""
    parser = argparse.ArgumentParser(prog='vision_banana', description=__doc__.split(':')[0])
    sub = parser.add_subparsers(dest='command', required=True)

    demo = sub.add_parser('demo', help='the sample drive processed by the embedded model: bag, montages, cloud')
    demo.add_argument('--out', default='demo_output',
                      help='output directory, new or empty or an earlier demo output (default: %(default)s)')
    demo.set_defaults(func=_demo)

    bench = sub.add_parser('bench', help='benchmarks that print numbers (default: the engine per backend, '
                                         'precision and batch size)')
    what = bench.add_mutually_exclusive_group()
    what.add_argument('--codecs', action='store_true', help='codec decode throughput (megapixels/s)')
    what.add_argument('--cloud', action='store_true', help='PointCloud2 payload build time against baselines')
    what.add_argument('--world', action='store_true', help='procedural world render time per frame')
    what.add_argument('--triton', action='store_true', help='1, 2 and 4 client nodes against one Triton server '
                                                            '(vision_banana serve), beside the in-process engine')
    bench.add_argument('--frames', type=positive, default=20, help='--triton: frames per client (default: 20)')
    what.add_argument('--soak', action='store_true', help='the node in this process, 2 cameras at 2x the rate it '
                                                          'sustains, poison frames, parameter and CameraInfo changes')
    bench.add_argument('--minutes', type=positive_number, default=10.0, help='--soak: duration (default: %(default)s)')
    bench.add_argument('--interval', type=positive_number, default=60.0,
                       help='--soak: seconds between report lines (default: %(default)s)')
    bench.add_argument('--rate', type=positive_number,
                       help="--soak: each camera's frames/s (default: twice what the engine sustains, at most 60)")
    bench.add_argument('--sizes', type=list_of(size_wh),
                       help='--codecs, --world: WxH list (default: 640x480,1024x1024; world 160x120,320x240,640x480)')
    bench.add_argument('--device', type=device_name, default='auto',
                       help='engine: auto, cpu, cuda, cuda:N (default: %(default)s)')
    bench.add_argument('--batches', type=list_of(positive), default='1,2,4,8',
                       help='engine: batch sizes (default: %(default)s)')
    bench.add_argument('--precisions', type=list_of(precision),
                       help='engine: e.g. fp32,bf16 (default: fp32,bf16 on CPU; +fp16 on CUDA)')
    bench.add_argument('--camera', type=size_wh, default=(640, 480), help='engine: camera image WxH (default: 640x480)')
    bench.add_argument('--repeats', type=positive, default=5, help='engine: timed runs per row (default: %(default)s)')
    bench.add_argument('--weights', help='engine: unified weights (default: the embedded model)')
    bench.add_argument('--compare-weights', help='engine: also measure these unified weights as the node runs them '
                                                 "(row 'unified-compared'), e.g. an earlier model")
    bench.add_argument('--no-experts', action='store_true', help='engine: skip the experts backend')
    bench.add_argument('--pairings', type=list_of(pairing), default='fast',
                       help='engine: recommended expert pairings to measure (default: %(default)s; also '
                            'accurate, commercial)')
    bench.set_defaults(func=_bench)

    train = sub.add_parser('train', help='train the unified model (or the single-task experts) on rendered scenes')
    data = train.add_mutually_exclusive_group(required=True)
    data.add_argument('--data', help='data set directory, or several separated by commas (docs/world.md: '
                                     'dataset format)')
    data.add_argument('--render', type=positive, metavar='N', help='render N frames into memory instead')
    train.add_argument('--render-seed', type=int, default=1000,
                       help='seed of the rendered frames (default: %(default)s)')
    train.add_argument('--size', type=size_wh, default=(320, 240), help='training resolution WxH (default: 320x240)')
    train.add_argument('--out', required=True, help='output directory (weights, checkpoint)')
    budget = train.add_mutually_exclusive_group(required=True)
    budget.add_argument('--minutes', type=positive_number, help='wall-clock budget')
    budget.add_argument('--steps', type=positive, help='optimizer steps')
    train.add_argument('--experts', action='store_true',
                       help='train one single-task network per task instead, splitting the budget equally and '
                            'scaling widths so that together they have the unified parameter count')
    train.add_argument('--crop', type=size_wh,
                       help='train on random WxH windows of the samples (the same focal length on a smaller sensor: '
                            'depth stays right, steps cost less; both sides multiples of 32, which the network needs '
                            'unpadded)')
    train.add_argument('--no-augment', action='store_true',
                       help='only brightness/contrast/colour jitter, none of the camera effects (zoom, grey, blur, '
                            'noise, JPEG, cut-outs)')
    train.add_argument('--metric-depth', action='store_true',
                       help='teach depth in metres as each frame shows it instead of for the canonical camera')
    train.add_argument('--batch', type=positive, default=8)
    train.add_argument('--lr', type=float, default=2e-3)
    train.add_argument('--seed', type=int, default=0)
    train.add_argument('--resume', action='store_true', help='continue from OUT/checkpoint')
    train.add_argument('--init', type=Path, help='start from these weights instead of random ones (fine-tuning, '
                                                 'e.g. the embedded model on your own data)')
    train.add_argument('--encoder-blocks', type=list_of(cli_arguments.count), metavar='N,N,N,N,N',
                       help='residual blocks per encoder stage (default: 0,1,2,2,2, or those of --init); with --init, '
                            'more than its network has adds blocks that start as identities, so training resumes '
                            'from its answers with more capacity')
    train.add_argument('--device', type=device_name, default='cpu', help='(default: %(default)s)')
    cli_arguments.add_training_precision(train)
    train.set_defaults(func=_train)

    evaluation = sub.add_parser('eval', help='metrics of a model on a data set directory or a bag with ground truth')
    source = evaluation.add_mutually_exclusive_group(required=True)
    source.add_argument('--data', help='data set directory')
    source.add_argument('--bag', help='rosbag2 with ground truth: label and/or depth images of its cameras')
    evaluation.add_argument('--image-topic', action='append', help='--bag: camera image topic (repeatable; default: '
                                                                   'every <ns>/image* topic, one per namespace)')
    evaluation.add_argument('--labels-topic', action='append',
                            help='--bag: mono8 train-id images (default: <ns>/ground_truth/labels where present)')
    evaluation.add_argument('--depth-topic', action='append',
                            help='--bag: depth images registered to the camera, 16UC1 or 32FC1 (default: '
                                 '<ns>/ground_truth/depth where present)')
    evaluation.add_argument('--weights', help='weights file(s), comma-separated (default: the embedded model)')
    _add_backend_arguments(evaluation)
    evaluation.add_argument('--batch', type=positive, default=4, help='frames per forward pass')
    evaluation.add_argument('--size', type=size_wh,
                            help='processing size WxH (default: the size the weights were trained at; each '
                                 "expert's processor size)")
    evaluation.add_argument('--device', type=device_name, default='cpu', help='(default: %(default)s)')
    evaluation.add_argument('--no-mirror-average', action='store_true',
                            help="score the network's single answers, as the node with mirror_average false")
    evaluation.add_argument('--rectified', action='store_true',
                            help="--bag: the images are rectified: intrinsics from CameraInfo's P, not its K (the "
                                 "node's rectified parameter); a CameraInfo without a P takes --fallback-hfov-deg")
    evaluation.add_argument('--fallback-hfov-deg', type=parameter_range('fallback_hfov_deg'),
                            default=BY_NAME['fallback_hfov_deg'].default,
                            help="--bag: the field of view of a camera without CameraInfo, as the node's "
                                 'fallback_hfov_deg (default: %(default)s)')
    evaluation.add_argument('--no-intrinsics', action='store_true',
                            help="withhold the frames' intrinsics (camera-aware depth then assumes the canonical 70 "
                                 'deg field of view, unlike the node, which uses fallback_hfov_deg for a camera '
                                 'without CameraInfo)')
    evaluation.add_argument('--upright', action='store_true',
                            help="--data: turn each frame upright whose camera (its camera/<name>.json) is rolled at "
                                 "least --upright-min-roll-deg, as the node's upright does with the mounting from tf")
    evaluation.add_argument('--upright-min-roll-deg', type=parameter_range('upright_min_roll_deg'),
                            default=BY_NAME['upright_min_roll_deg'].default,
                            help="--upright: the node's upright_min_roll_deg (default: %(default)s)")
    evaluation.add_argument('--json', action='store_true', help='print one JSON object')
    evaluation.set_defaults(func=_eval)

    sweep = sub.add_parser('sweep', help='metric depth (delta1) over a grid of camera heights, pitches and fields '
                                         'of view, on rendered frames')
    sweep.add_argument('--weights', help='weights file(s), comma-separated (default: the embedded model)')
    sweep.add_argument('--heights', type=list_of(positive_number), default='0.3,1,2,3',
                       help='camera heights in metres (default: %(default)s)')
    sweep.add_argument('--pitches', type=list_of(float), default='-30,-15,0,10',
                       help='pitches in degrees, positive looks up; write --pitches=-30,0 when the list starts '
                            'with a minus (default: %(default)s)')
    sweep.add_argument('--fovs', type=list_of(field_of_view), default='60,100',
                       help='horizontal fields of view in degrees (default: %(default)s)')
    sweep.add_argument('--frames', type=positive, default=4, help='frames per cell (default: %(default)s)')
    sweep.add_argument('--seed', type=int, default=40, help='world seed (default: %(default)s)')
    sweep.add_argument('--preset', choices=WORLD_PRESETS, default='street',
                       help='world preset the frames come from (default: %(default)s)')
    sweep.add_argument('--frame-size', type=size_wh, default=(320, 240),
                       help='rendered frame size WxH (default: 320x240)')
    sweep.add_argument('--size', type=size_wh, help="processing size WxH (default: the backend's own)")
    sweep.add_argument('--device', type=device_name, default='cpu', help='(default: %(default)s)')
    sweep.add_argument('--no-mirror-average', action='store_true', help="score the network's single answers")
    sweep.add_argument('--ground-lock', action='store_true',
                       help='also score the depth ground-locked to the true camera height (as scale_lock ground '
                            'with camera_height_m), to the true height and tilt (as with tf; the tilt is to the '
                            'horizontal, the ground only where it is flat, as in the street preset) and, for '
                            'reference, scaled per frame to the true median')
    sweep.add_argument('--level-floor-deg', type=parameter_range('level_floor_deg'),
                       default=BY_NAME['level_floor_deg'].default,
                       help="--ground-lock: the node's level_floor_deg for the lock to the mounting, where the "
                            'labelled ground does not lock (0: labelled ground only; default: %(default)s)')
    sweep.add_argument('--json', action='store_true', help='print one JSON list of cells')
    _add_backend_arguments(sweep)
    sweep.set_defaults(func=_sweep)

    from .model.distill import add_parser as add_distill  # light: the module imports its work lazily
    add_distill(sub).set_defaults(func=_distill)
    from .serving.server import add_parser as add_serve
    add_serve(sub).set_defaults(func=_serve)

    ask = sub.add_parser('ask', help='answer text instructions about one image file, as the model does: the painted '
                                     'RGB answer and its decoded labels / depth / normals')
    ask.add_argument('image', help='image file (PNG, JPEG, ...)')
    ask.add_argument('instruction', nargs='+', help='e.g. "paint metric depth" "segment the scene" (one per task)')
    ask.add_argument('--out', default='.', help='output directory (default: the current one)')
    ask.add_argument('--weights', help='weights file (default: the embedded model)')
    ask.add_argument('--hfov-deg', type=field_of_view,
                     help="horizontal field of view in degrees of the lens that took the picture (as shown, after "
                          "its EXIF rotation): depth in that camera's metres, and the normals' camera (default: "
                          "none; the unified model reads the picture as its canonical 70° camera's, the experts "
                          "as a 90° one or Depth Pro's own estimate; depth experts other than Depth Pro ignore it)")
    _add_backend_arguments(ask)
    ask.add_argument('--device', type=device_name, default='cpu', help='(default: %(default)s)')
    ask.set_defaults(func=_ask)

    models = sub.add_parser('models', help='the public expert checkpoints: list them, pull them into the cache')
    models_sub = models.add_subparsers(dest='models_command', required=True)
    models_sub.add_parser('list', help='supported checkpoints: task, licence, parameters, native input size')
    pull = models_sub.add_parser('pull', help='download safetensors snapshots into the Hugging Face cache '
                                              '(needs internet; resumable)')
    pull.add_argument('ids', nargs='+', help='hub ids, e.g. nvidia/segformer-b0-finetuned-cityscapes-1024-1024')
    pull.add_argument('--cache', help='cache directory (default: the standard one, $HF_HUB_CACHE)')
    models.set_defaults(func=_models)

    export = sub.add_parser('export', help='export the unified network (ONNX or a Triton model repository, dynamic '
                                           'batch, checked by onnxruntime)')
    export.add_argument('--format', choices=['onnx', 'triton'], default='onnx',
                        help='onnx: one graph file; triton: a Triton Inference Server model repository (default: '
                             '%(default)s)')
    export.add_argument('--weights', help='weights file (default: the embedded model)')
    export.add_argument('--size', type=size_wh, help="processing resolution WxH (default: the weights' trained size, "
                                                     'as the node runs them; 320x240 where the file does not say)')
    export.add_argument('--out', help='ONNX file, or the repository folder (default: vision_banana.onnx, '
                                      'model_repository)')
    export.add_argument('--max-batch', type=positive, default=8, help='triton: max_batch_size (default: %(default)s)')
    export.add_argument('--tensorrt', action='store_true', help='triton: TensorRT FP16 optimisation for GPU servers')
    export.set_defaults(func=_export)

    world = sub.add_parser('world', help='the procedural training world').add_subparsers(dest='action', required=True)
    render = world.add_parser('render', help='render a dataset (rgb/, labels/, depth/, normals/, intrinsics/)')
    render.add_argument('--out', required=True, help='output directory')
    render.add_argument('--count', type=positive, required=True, help='number of frames')
    render.add_argument('--seed', type=int, default=0, help='dataset seed (default: %(default)s)')
    render.add_argument('--size', default='320x240', help="WxH or 'random' (default: %(default)s)")
    render.add_argument('--workers', type=positive, default=1, help='rendering processes (default: %(default)s)')
    render.add_argument('--preset', choices=WORLD_PRESETS, default='street',
                        help='street: the original distribution; wide: the broad training distribution; holdout: '
                             'appearance the wide preset never shows, for evaluation; indoor: the wide preset '
                             "indoors only, with things within the camera's reach; reach: the indoor preset seen "
                             'from 0.2-1.5 m up, looking down at the floor or up (default: %(default)s)')
    render.add_argument('--camera', type=camera_setting, action='append', default=[], metavar='NAME=VALUE|LOW:HIGH',
                        help="fix one of the preset's camera parameters (fov_deg, height_m, pitch_deg, roll_deg, "
                             'yaw_deg) or draw it from another range, e.g. height_m=0.2:0.5 for a small robot '
                             "(repeatable); giving pitch_deg or roll_deg turns off the preset's freely turned "
                             'cameras')
    render.set_defaults(func=_world)

    from .bag.cli import add_parser as add_bag  # light: the module imports its work lazily
    add_bag(sub).set_defaults(func=_bag)

    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, OSError) as exc:
        print(f'vision_banana {args.command}: error: {exc}', file=sys.stderr)
        return 2


if __name__ == '__main__':
    sys.exit(main())

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

"""`vision_banana distill`: teach the unified model a robot's own world from teachers' answers on its own bags.

The teachers (open experts, or our own unified model) label the bags' camera frames once (`distill_cache`); the
student (the embedded weights by default) then learns them — soft cross-entropy on the teachers' class
probabilities, metric depth along the walk and in log space, normals — with a share of procedural frames with
exact ground truth mixed in. Whole time spans of each bag are held out (neighbouring frames are near-copies, so
random frames would leak): the student's agreement with the teachers is measured there, with both sides' frames/s.
The weights record the teachers and their licences, the bags, frame counts, budget and agreement.
"""
from __future__ import annotations

import argparse
from collections import Counter
import json
from pathlib import Path
import sys
import time

SPANS = 20          # each bag's time range is cut into this many spans; whole ones are held out
PROGRESS_FRAMES = 16  # held-out frames scored at each checkpoint for the progress bar (all of them at the end)


def split_spans(frames: list[dict], holdout: float, spans: int = SPANS) -> tuple[list[str], list[str]]:
    """(training names, held-out names): each bag's time range cut into `spans` equal spans, of which
    round(holdout x spans) (at least one where holdout > 0) spread evenly over the range are held out whole.
    """
    if not 0.0 <= holdout < 1.0:
        raise ValueError(f'--holdout must lie in [0, 1), got {holdout}')
    held = 0 if holdout == 0 else max(1, round(holdout * spans))
    held_spans = {int((j + 0.5) * spans / held) for j in range(held)}
    train, test = [], []
    for bag in dict.fromkeys(f['bag'] for f in frames):
        mine = [f for f in frames if f['bag'] == bag]
        first, last = min(f['stamp_ns'] for f in mine), max(f['stamp_ns'] for f in mine)
        for f in mine:
            span = min(spans - 1, int((f['stamp_ns'] - first) / max(last - first, 1) * spans))
            (test if span in held_spans and last > first else train).append(f['name'])
    if not train:
        raise ValueError('no frames left to train on after holding out: lower --holdout or give a longer bag')
    if held and not test:
        raise ValueError("nothing to hold out: every bag's kept frames share one stamp; give longer bags (or "
                         '--holdout 0 to train without measuring agreement)')
    return train, test


def _procedural(work: Path, count: int, size: tuple[int, int], seed: int) -> tuple[Path, list[str]]:
    """`count` frames of the wide world at `size` (w, h), rendered once into `work`, and again once the world's
    code has changed (the folder is named by its `source_digest`; the same frames from an older world are removed).
    """
    import shutil

    from ..world.dataset import read_dataset, source_digest, write_dataset
    name = f'procedural-wide-{size[0]}x{size[1]}-{count}-seed{seed}'
    folder = work / f'{name}-world{source_digest()}'
    if not (folder / 'rgb').is_dir() or len(read_dataset(folder)) != count:
        for stale in [work / name, *work.glob(f'{name}-world*')]:
            if stale.exists():
                shutil.rmtree(stale)
        write_dataset(folder, count, seed, size=size, preset='wide', progress=False)
    return folder, read_dataset(folder)


def student_size(trained: tuple[int, int], bags: list, image_topics, stride: int) -> tuple[int, int]:
    """(H, W) the student learns at by default: the size the node runs the first camera of the bags at (the
    trained pixel count in its aspect ratio, `matched_size`), so that it learns frames as it will be shown them.
    """
    from ..backends.unified import matched_size
    from ..bag.frames import camera_frames
    first = next(iter(camera_frames(bags, image_topics, [], 0.0, -1.0, Counter())), None)
    return trained if first is None else matched_size(tuple(trained), first.rgb.shape[:2], stride)


def agreement(network, folder: Path, names: list[str], size: tuple[int, int]) -> dict:
    """The student against the teachers on held-out frames (as the node runs it, mirror-averaged) and its
    frames/s there.
    """
    from .distill_cache import load_labelled
    from ..backends.unified import UnifiedBackend
    from ..evaluation.run import evaluate
    backend = UnifiedBackend(network, device=next(network.parameters()).device, processing_size=size[::-1])
    started = time.perf_counter()
    result = evaluate(backend, (load_labelled(folder, n) for n in names))
    seconds = time.perf_counter() - started
    return {'miou': result['miou'], 'pixel_agreement': result['pixel_accuracy'], 'delta1': result['delta1'],
            'abs_rel': result['abs_rel'], 'normals_mean_deg': result['normals_mean_deg'],
            'per_class_iou': result['per_class_iou'], 'frames': len(names),
            'student_fps': round(len(names) / seconds, 2)}


def distill(args: argparse.Namespace) -> dict:
    """Label, train and score as the arguments say; write the weights; return the summary."""
    import numpy as np

    from .distill_cache import cache_folder, cache_key, label_bags, load_labelled
    from .network import NetworkConfig
    from .teachers import describe, DISTILLATION_KEY, inherited_restriction, SOFT_K
    from .train import check_crop, train, TrainingSet, TrainOptions
    from .weights import DEFAULT_WEIGHTS, load_network, read_metadata, save_network, trained_size, TRAINING_KEY
    from ..backends.unified import DEFAULT_PROCESSING_SIZE
    out = Path(args.out)
    if out.suffix != '.safetensors':
        raise ValueError(f'--out {out}: weights are written as a .safetensors file')
    work = Path(args.work) if args.work else out.with_name(out.stem + '.distill')
    scratch = args.init == 'scratch'
    init = None if scratch else Path(args.init) if args.init else DEFAULT_WEIGHTS
    config = NetworkConfig() if scratch else load_network(init).config
    if args.size:
        size = tuple(args.size)                                  # (w, h)
    else:
        size = student_size((trained_size(init) if init else None) or DEFAULT_PROCESSING_SIZE, args.bag,
                            args.image_topic, config.stride)[::-1]
    check_crop(args.crop, config.stride, size)   # before labelling, which may take hours
    unified = None if args.teacher is None else args.teacher.partition(':')[2]
    teachers = describe(args.segmentation_model, args.depth_model, unified)
    key = cache_key(args.bag, args.image_topic, args.depth_topic, args.min_interval, args.min_change,
                    size[::-1], teachers)
    folder = cache_folder(work, key)
    manifest = label_bags(folder, key, {'segmentation_model': args.segmentation_model,
                                        'depth_model': args.depth_model, 'unified': unified,
                                        'device': args.device, 'hf_cache': args.cache},
                          progress=not args.quiet)
    train_names, held_names = split_spans(manifest['frames'], args.holdout)
    share = args.procedural_share
    procedural = round(share / (1.0 - share) * len(train_names)) if share else 0
    samples = [lambda n=n: load_labelled(folder, n) for n in train_names]
    if procedural:
        from ..world.dataset import load_sample
        proc_folder, proc_names = _procedural(work, procedural, size, args.seed)
        samples += [lambda n=n: load_sample(proc_folder, n) for n in proc_names]
    data = TrainingSet.from_frames((load() for load in samples), len(samples), soft_k=SOFT_K)
    spread = [held_names[int(i)] for i in np.linspace(0, len(held_names) - 1, min(PROGRESS_FRAMES, len(held_names)))]

    def progress_agreement(network):
        scored = agreement(network, folder, spread, size)
        return {'agree_miou': scored['miou'], 'agree_pixels': scored['pixel_agreement'],
                'agree_delta1': scored['delta1']}
    network = train(data, config, TrainOptions(
        out=work / 'student', minutes=args.minutes, steps=args.steps, batch=args.batch,
        lr=args.lr or (2e-3 if scratch else 3e-4), seed=args.seed, resume=args.resume, init=init, device=args.device,
        progress=not args.quiet, checkpoint_every=args.checkpoint_every, crop=args.crop, precision=args.precision,
        evaluate=progress_agreement if spread else None))
    scored = agreement(network, folder, held_names, size) if held_names else None
    summary = {
        'teachers': teachers, 'use': inherited_restriction(teachers),
        'bags': [b['path'] for b in key['bags']],
        'frames': {'labelled': len(manifest['frames']), 'train': len(train_names), 'held_out': len(held_names),
                   'procedural': procedural, **manifest['counts']},
        'init': 'scratch' if scratch else str(init), 'size': f'{size[0]}x{size[1]}',
        'training': json.loads(read_metadata(work / 'student' / 'weights.safetensors')[TRAINING_KEY]),
        'agreement_held_out': scored, 'teacher_fps': manifest['teacher_fps'],
    }
    save_network(network, out, trained_size=size[::-1],
                 extra_metadata={TRAINING_KEY: json.dumps(summary['training']),
                                 DISTILLATION_KEY: json.dumps(summary)})
    summary['weights'] = str(out)
    summary['run'] = f'ros2 run vision_banana_ros vision_banana_node --ros-args -p weights:={out.resolve()}'
    return summary


def add_parser(sub) -> argparse.ArgumentParser:
    """The `distill` subcommand and its arguments."""
    from ..cli_arguments import add_training_precision, device_name, positive, positive_number, size_wh
    distill_parser = sub.add_parser('distill', help="teach the unified model a robot's own world from teachers' "
                                                    'answers on its bags')
    distill_parser.add_argument('--bag', action='append', required=True, help='rosbag2 to learn from (repeatable)')
    distill_parser.add_argument('--image-topic', action='append',
                                help='camera image topic (repeatable; default: every <ns>/image* topic, one per '
                                     'namespace)')
    distill_parser.add_argument('--segmentation-model', help='segmentation teacher: Cityscapes checkpoint (hub id '
                                                             'pulled before, or directory)')
    distill_parser.add_argument('--depth-model', help='depth teacher: metric depth checkpoint (hub id or directory)')
    distill_parser.add_argument('--depth-topic', action='append',
                                help='measured depth image in the bag (16UC1/32FC1, registered to the colour '
                                     'camera), the depth teacher where it has values (repeatable)')
    distill_parser.add_argument('--teacher', metavar='unified[:WEIGHTS]', type=_unified_teacher,
                                help='our unified model (the embedded weights, or WEIGHTS) as the teacher of what '
                                     '--segmentation-model / --depth-model leave out')
    distill_parser.add_argument('--init', help="student's starting weights, or 'scratch' (default: the embedded "
                                               'weights)')
    distill_parser.add_argument('--out', required=True, help='student weights file (.safetensors)')
    budget = distill_parser.add_mutually_exclusive_group(required=True)
    budget.add_argument('--minutes', type=positive_number, help='training wall-clock budget')
    budget.add_argument('--steps', type=positive, help='training optimizer steps')
    distill_parser.add_argument('--holdout', type=float, default=0.1,
                                help='share of each bag held out, as whole time spans (default: %(default)s)')
    distill_parser.add_argument('--procedural-share', type=_share, default=0.2,
                                help='share of training frames rendered with exact ground truth (default: '
                                     '%(default)s; 0: teachers only)')
    distill_parser.add_argument('--size', type=size_wh, help="student's size WxH (default: the --init weights' "
                                                             "trained pixel count in the first camera's aspect ratio, "
                                                             'as the node runs it)')
    distill_parser.add_argument('--crop', type=size_wh,
                                help='train on random WxH windows of the frames (steps cost less; both sides '
                                     'multiples of 32); the student still runs, and is scored, at --size')
    distill_parser.add_argument('--min-interval', type=positive_number, default=0.5,
                                help='seconds between kept frames of a camera (default: %(default)s)')
    distill_parser.add_argument('--min-change', type=float, default=0.02,
                                help='mean picture change from the last kept frame, 0..1 (default: %(default)s)')
    distill_parser.add_argument('--work', help="folder of the teachers' cache and the training checkpoint (default: "
                                               'OUT without .safetensors, plus .distill)')
    distill_parser.add_argument('--resume', action='store_true', help='continue the training checkpoint in --work')
    distill_parser.add_argument('--batch', type=positive, default=8)
    distill_parser.add_argument('--lr', type=positive_number,
                                help='learning rate (default: 3e-4 from weights, 2e-3 from scratch)')
    distill_parser.add_argument('--seed', type=int, default=0)
    distill_parser.add_argument('--checkpoint-every', type=positive, default=200,
                                help='steps between checkpoints and agreement readings (default: %(default)s)')
    distill_parser.add_argument('--cache', help='Hugging Face cache holding pulled hub ids (default: the standard '
                                                'one)')
    distill_parser.add_argument('--device', type=device_name, default='cpu', help='(default: %(default)s)')
    add_training_precision(distill_parser)
    distill_parser.add_argument('--quiet', action='store_true', help='no progress bars')
    return distill_parser


def _unified_teacher(value: str) -> str:
    if value != 'unified' and not value.startswith('unified:'):
        raise argparse.ArgumentTypeError(f"expected 'unified' or 'unified:WEIGHTS', got {value!r}")
    return value


def _share(value: str) -> float:
    share = float(value)
    if not 0.0 <= share < 1.0:
        raise argparse.ArgumentTypeError(f'must lie in [0, 1), got {value}')
    return share


def run(args: argparse.Namespace) -> int:
    """Run `distill` and print its summary; return 0."""
    summary = distill(args)
    print(json.dumps(summary))
    print(f'run the node with the student: {summary["run"]}', file=sys.stderr)
    return 0

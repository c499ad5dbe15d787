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

"""`vision_banana bag`: process, make-sample, play and record (each imports its work only when it runs)."""
from __future__ import annotations

import argparse
import json
import signal

from ..cli_arguments import not_negative, positive, positive_number, size_wh, topic_prefix


def run(args: argparse.Namespace) -> int:
    """Run the `bag` subcommand the arguments name."""
    if args.bag_command == 'process':
        from .process import process_bag
        summary = process_bag(args.input, args.output, args.config, args.image_topic, args.storage,
                              output_prefix=args.output_prefix or '')
        print(json.dumps(summary))
        if summary['interrupted']:
            return 128 + getattr(signal, summary['interrupted'])
    elif args.bag_command == 'make-sample':
        from .sample import make_sample
        width, height = args.size
        print(make_sample(args.output, args.frames, args.rate, (width, height), args.seed,
                          not args.no_ground_truth, args.storage, scenes=args.scenes))
    elif args.bag_command == 'play':
        from .play import play
        return play(args.input, args.rate, args.clock, args.loop, args.delay)
    else:
        from .record import record
        return record(args.output, args.topics, args.storage, args.duration)
    return 0


def add_parser(sub) -> argparse.ArgumentParser:
    """The `bag` subcommand and its own subcommands."""
    bag = sub.add_parser('bag', help='rosbag2 tools (sqlite3 and mcap, no ROS distro needed)')
    bag_sub = bag.add_subparsers(dest='bag_command', required=True)
    process = bag_sub.add_parser('process', help='run every camera image of a bag through the engine, at full speed')
    process.add_argument('input')
    process.add_argument('output')
    process.add_argument('--config', help='node parameter file (default: the defaults)')
    process.add_argument('--image-topic', action='append',
                         help='camera image topic (repeatable; default: every <ns>/image* topic, one per namespace)')
    process.add_argument('--storage', choices=['mcap', 'sqlite3'], default='mcap')
    process.add_argument('--output-prefix', type=topic_prefix,
                         help="write each camera's outputs under <ns>/PREFIX/ (for a bag that has topics of their "
                              "names already, e.g. an RGB-D camera's <ns>/depth/camera_info; default: <ns>/)")
    sample = bag_sub.add_parser('make-sample', help='a short drive through the procedural world as a bag')
    sample.add_argument('output')
    sample.add_argument('--frames', type=positive, default=30)
    sample.add_argument('--rate', type=float, default=10.0, help='Hz (default: %(default)s)')
    sample.add_argument('--size', type=size_wh, default=(640, 480), help='WxH (default: 640x480)')
    sample.add_argument('--seed', type=int, default=7)
    sample.add_argument('--scenes', type=positive, default=1,
                        help='streets driven through in turn, the frames shared among them (default: %(default)s)')
    sample.add_argument('--no-ground-truth', action='store_true', help='leave out the ground-truth topics')
    sample.add_argument('--storage', choices=['mcap', 'sqlite3'], default='mcap')
    play = bag_sub.add_parser('play', help='publish a bag with rclpy (like ros2 bag play)')
    play.add_argument('input')
    play.add_argument('--rate', type=float, default=1.0)
    play.add_argument('--clock', action='store_true', help='publish /clock from the bag timestamps')
    play.add_argument('--loop', action='store_true')
    play.add_argument('--delay', type=not_negative, default=1.0,
                      help='seconds for discovery before the first message')
    record = bag_sub.add_parser('record', help='record topics with rclpy (like ros2 bag record)')
    record.add_argument('output')
    record.add_argument('topics', nargs='+')
    record.add_argument('--storage', choices=['mcap', 'sqlite3'], default='mcap')
    record.add_argument('--duration', type=positive_number, help='seconds, then stop (default: until Ctrl-C)')
    return bag

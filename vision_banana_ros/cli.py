"""`vision_banana <subcommand>`: the command-line entry point (subcommands import their modules lazily)."""
from __future__ import annotations

import argparse
import sys


def _demo(args: argparse.Namespace) -> int:
    from .demo import run_demo
    return run_demo(args.out)


def _bench(args: argparse.Namespace) -> int:
    if args.codecs:
        from .benchmarks import codecs
        return codecs.main(args.sizes)
    if args.cloud:
        from .benchmarks import cloud
        return cloud.main(args)
    raise ValueError('choose what to benchmark: --codecs or --cloud')


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog='vision_banana', description=__doc__.split(':')[0])
    sub = parser.add_subparsers(dest='command', required=True)

    demo = sub.add_parser('demo', help='encode/decode a synthetic scene and write a montage of the encodings')
    demo.add_argument('--out', default='demo_output', help='output directory (default: %(default)s)')
    demo.set_defaults(func=_demo)

    bench = sub.add_parser('bench', help='micro-benchmarks that print numbers')
    bench.add_argument('--codecs', action='store_true', help='codec decode throughput (megapixels/s)')
    bench.add_argument('--cloud', action='store_true', help='PointCloud2 payload build time against baselines')
    bench.add_argument('--sizes', default='640x480,1024x1024', help='WxH list (default: %(default)s)')
    bench.set_defaults(func=_bench)

    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, OSError) as exc:
        print(f'vision_banana {args.command}: error: {exc}', file=sys.stderr)
        return 2


if __name__ == '__main__':
    sys.exit(main())

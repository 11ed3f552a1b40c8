"""Write MNIST or Fashion-MNIST as JPEG class folders (OUT/<class>/<nnnnn>.jpg) for image readers.

Run from the repository root (or anywhere NeuroFlow is installed)::

    python tools/make_image_folder.py OUT --dataset digits|fashion --size N --color rgb|grayscale \\
        --per-class N [--split train|test] [--seed S] [--csv] [--quality Q]

``--color rgb`` writes real colour images (a seeded foreground and background hue per image,
3-component JPEGs); ``grayscale`` writes 1-component JPEGs. ``--csv`` adds OUT/labels.csv with
``path,label,split`` (paths relative to the CSV). Fashion-MNIST is found where the MNIST Reader
finds it and downloaded the same way when missing. Prints one summary line; every error is one
line. The work is done by :func:`neuroflow.datasets.image_folder_export.export_image_folder`.
"""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

from neuroflow.core.errors import NeuroFlowError
from neuroflow.datasets.image_folder_export import COLORS, SPLITS, export_image_folder

PROG = "make_image_folder"


class _OneLineParser(argparse.ArgumentParser):
    """argparse, but a bad argument is one line (no usage block): the house style for errors."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{PROG}: error: {message} (see --help)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(prog=PROG, description=__doc__.split("\n\n")[0])
    parser.add_argument("out", metavar="OUT", help="the folder to create (must not exist or be empty)")
    parser.add_argument("--dataset", required=True, choices=("digits", "fashion"))
    parser.add_argument("--size", required=True, type=int, metavar="N", help="images are resized to N x N")
    parser.add_argument("--color", required=True, choices=COLORS)
    parser.add_argument("--per-class", required=True, type=int, metavar="N", help="images per class")
    parser.add_argument("--split", default="train", choices=SPLITS)
    parser.add_argument("--seed", type=int, default=0, help="picks the images and their colours (default 0)")
    parser.add_argument("--csv", action="store_true", help="also write OUT/labels.csv (path,label,split)")
    parser.add_argument("--quality", type=int, default=90, metavar="Q", help="JPEG quality 1-100 (default 90)")
    return parser


def main(argv: list[str] | None = None) -> int:
    options = _parser().parse_args(argv)
    shown: set[str] = set()

    def progress(fraction: float | None, message: str) -> None:
        topic = message.partition(":")[0]
        if topic.startswith("downloading") and topic not in shown:  # only a download is worth a line
            shown.add(topic)
            print(f"{PROG}: {topic}", file=sys.stderr)

    try:
        summary = export_image_folder(
            options.out, dataset=options.dataset, size=options.size, color=options.color,
            per_class=options.per_class, split=options.split, seed=options.seed, write_csv=options.csv,
            quality=options.quality, progress=progress,
        )
    except NeuroFlowError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    print(summary.line())
    return 0


if __name__ == "__main__":
    sys.exit(main())

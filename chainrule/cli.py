"""The ``chainrule`` command line (placeholder until the training job lands)."""

from __future__ import annotations

import sys


def main(argv=None) -> int:
    print("chainrule: the training job is not available yet", file=sys.stderr)
    return 1

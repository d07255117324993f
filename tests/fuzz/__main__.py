"""``python -m tests.fuzz --seed N --cases M``: a fuzzing campaign with a progress bar.

Each case is the random program for seed ``N + k``; every difference from PyTorch is shrunk and
printed as a runnable script, and the differences are summed up by kind at the end.
"""

from __future__ import annotations

import argparse
import sys

from tqdm import tqdm

from .campaign import campaign


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=0, help="first seed (case k uses seed + k)")
    parser.add_argument("--cases", type=int, default=200, help="number of random programs")
    parser.add_argument("--no-shrink", action="store_true", help="report failures without shrinking them")
    parser.add_argument("--show", type=int, default=3, help="reproductions printed per kind of difference")
    parser.add_argument("--include-known", action="store_true",
                        help="also generate the known, reported differences (generate.KNOWN_OPEN)")
    args = parser.parse_args(argv)
    bar = tqdm(total=args.cases, unit="prog", file=sys.stderr)
    result = campaign(args.seed, args.cases, shrink_failures=not args.no_shrink, progress=bar.update,
                      include_known=args.include_known)
    bar.close()
    print(result.summary(show=args.show))
    return 1 if result.failures else 0


if __name__ == "__main__":
    sys.exit(main())

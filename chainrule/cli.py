"""The ``chainrule`` command line: ``chainrule train`` (the main job) and ``chainrule examples``.

>>> main(["train", "--epochs", "1", "--out", "/tmp/cr-run"])  # doctest: +SKIP
0
"""

from __future__ import annotations

import argparse
import ast
import importlib.metadata
import runpy
import subprocess
import sys
import textwrap
from pathlib import Path

import chainrule
from chainrule import distributed as dist

from .torch_alias import run_script
from .train import DATASETS, MODELS, OPTIMIZERS, SCHEDULES, TrainConfig, TrainingInterrupted, train

__all__ = ["main"]

_DEFAULTS = TrainConfig()


class _UsageError(Exception):
    """A bad command line: reported as one line on stderr, exit status 2 (as argparse does)."""


class _Parser(argparse.ArgumentParser):
    # argparse prints the usage block and exits; one line that names the fix reads better in a
    # terminal, and raising lets main() decide the exit status (and keeps tests in-process).
    def error(self, message: str):
        raise _UsageError(f"{self.prog}: error: {message} (see '{self.prog} --help')")


def _number(convert, ok, expected: str):
    """An argparse type: ``convert`` the text, then require ``ok(value)``; the error says ``expected``."""
    def parse(text: str):
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
        if not ok(value):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text}")
        return value
    return parse


_positive_int = _number(int, lambda v: v >= 1, "a positive integer")
_non_negative_int = _number(int, lambda v: v >= 0, "an integer >= 0")
_learning_rate = _number(float, lambda v: 0 < v < float("inf"), "a finite number > 0")


def _parser() -> _Parser:
    parser = _Parser(prog="chainrule", description="chainrule: backpropagation is the chain rule applied to a "
                     "computational graph. Train a model, or run the example scripts.")
    parser.add_argument("--version", action="version", version=f"chainrule {chainrule.__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    train = commands.add_parser(
        "train", help="train a classifier and write model.safetensors, metrics.json and training.png",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=textwrap.dedent("""\
            Train a classifier with mini-batch gradient descent and report its accuracy
            on held-out data.

            The defaults train a small ConvNet (two 3x3 conv layers, max-pooling, one
            hidden dense layer) on the 8x8 handwritten digits bundled with chainrule
            (1,438 training / 359 held-out test images), with Adam and a cosine
            learning-rate schedule.

            While training, a progress bar per epoch (on stderr) shows the running loss
            and accuracy. At the end the held-out test accuracy is printed and three
            files are written into --out:
              model.safetensors  the trained weights (chainrule.load, or
                                 safetensors.torch.load_file for PyTorch)
              metrics.json       per-epoch train/test loss and accuracy, the
                                 arguments, timing
              training.png       loss and accuracy curves
              decision_boundary.png  (xor, circles) the learned boundary

            Ctrl-C stops after the current batch and saves the last finished epoch
            (exit status 130)."""),
        epilog="examples:\n  chainrule train\n  chainrule train --model mlp --epochs 20\n"
               "  chainrule train --dataset circles --optimizer sgd --lr 0.1\n"
               "  chainrule train --dataset mnist --data-dir ~/data/mnist --download --epochs 3")
    train.add_argument("--dataset", choices=DATASETS, default=_DEFAULTS.dataset,
                       help="digits: bundled 8x8 images (default); mnist: 28x28 images from --data-dir; "
                            "xor, circles: 2-D toy point sets")
    train.add_argument("--model", choices=MODELS, default=None,
                       help="cnn (default for images) or mlp (default for the 2-D point sets)")
    train.add_argument("--epochs", type=_positive_int, default=_DEFAULTS.epochs, metavar="N",
                       help=f"passes over the training set (default {_DEFAULTS.epochs})")
    train.add_argument("--lr", type=_learning_rate, default=_DEFAULTS.lr, metavar="X",
                       help=f"initial learning rate (default {_DEFAULTS.lr})")
    train.add_argument("--batch-size", type=_positive_int, default=_DEFAULTS.batch_size, metavar="N",
                       help=f"samples per gradient step (default {_DEFAULTS.batch_size})")
    train.add_argument("--optimizer", choices=OPTIMIZERS, default=_DEFAULTS.optimizer,
                       help="adam (default) or sgd (with momentum 0.9)")
    train.add_argument("--schedule", choices=SCHEDULES, default=_DEFAULTS.schedule,
                       help="learning rate: cosine annealing to 0 over the run (default) or none (constant)")
    train.add_argument("--seed", type=_non_negative_int, default=_DEFAULTS.seed, metavar="N",
                       help="seed for weight initialisation and shuffling; same seed, same run (default 0)")
    train.add_argument("--out", default=_DEFAULTS.out, metavar="DIR",
                       help=f"directory for the three output files (default {_DEFAULTS.out}/)")
    train.add_argument("--data-dir", default=None, metavar="DIR",
                       help="where the MNIST IDX files are (default $CHAINRULE_DATA/mnist or "
                            "~/.cache/chainrule/mnist)")
    train.add_argument("--download", action="store_true",
                       help="download missing MNIST files into --data-dir (needs network access)")
    train.add_argument("--threads", type=_positive_int, default=_DEFAULTS.threads, metavar="N",
                       help="threads NumPy's BLAS may use (default %(default)s: these models are small, and "
                            "on a busy machine extra threads mostly wait for each other)")
    train.add_argument("--quiet", action="store_true", help="no progress bars")
    train.add_argument("--no-compile", action="store_true",
                       help="run every step eagerly instead of replaying the recorded step (chainrule.compile; "
                            "the results are the same bit for bit)")
    train.add_argument("--nproc", type=_positive_int, default=None, metavar="N",
                       help="train data-parallel on N processes: runs this command under 'mpiexec -n N' "
                            '(needs pip install "chainrule[mpi]"; --batch-size is then per process)')

    examples = commands.add_parser("examples", help="list the example scripts, or run one by name",
                                   description="Without NAME: list the scripts in the repository's examples/ "
                                               "directory with their one-line descriptions. With NAME: run that "
                                               "script (extra arguments are passed on to it).")
    examples.add_argument("name", nargs="?", metavar="NAME", help="a script name, with or without .py")
    examples.add_argument("args", nargs=argparse.REMAINDER, help="arguments for the script")

    run = commands.add_parser("run", help="run an unmodified PyTorch script with 'import torch' giving chainrule",
                              description="Run SCRIPT with 'import torch' (and torch.nn, torch.optim, "
                                          "torch.utils.data, ...) resolving to chainrule for this run only; a "
                                          "one-line note on stderr says so. Extra arguments go to the script.")
    run.add_argument("script", metavar="SCRIPT", help="a Python file written for PyTorch")
    run.add_argument("args", nargs=argparse.REMAINDER, help="arguments for the script")
    return parser


# --------------------------------------------------------------------------------------- train

def _launch_processes(args: argparse.Namespace, argv: list[str] | None) -> int | None:
    """``--nproc N`` outside an MPI launcher: run this command as ``mpiexec -n N`` and return its exit
    status. None means: train in this process (no --nproc, N = 1, or already launched by mpiexec)."""
    launched = dist.launched_world_size()
    if launched is not None:
        if args.nproc is not None and args.nproc != launched:
            raise _UsageError(f"chainrule train: error: --nproc {args.nproc}, but mpiexec started {launched} "
                              "processes; leave out --nproc when launching with mpiexec")
        return None
    if args.nproc is None or args.nproc == 1:
        return None
    if not dist.is_available():
        raise _UsageError(f"chainrule train: error: --nproc {args.nproc} needs MPI: pip install "
                          '"chainrule[mpi]"')
    try:
        argv = sys.argv[1:] if argv is None else argv
        cmd = dist.mpiexec_command(args.nproc, ["-m", "chainrule.cli", *argv])
    except RuntimeError as e:
        raise _UsageError(f"chainrule train: error: --nproc {args.nproc}: {e}") from None
    with subprocess.Popen(cmd) as job:
        while True:
            try:
                return job.wait()
            except KeyboardInterrupt:   # mpiexec got the Ctrl-C too and passes it on to the ranks
                continue


def _train(args: argparse.Namespace, argv: list[str] | None = None) -> int:
    status = _launch_processes(args, argv)
    if status is not None:
        return status
    world, rank = dist.launched_world_size() or 1, dist.launched_rank()
    config = TrainConfig(dataset=args.dataset, model=args.model, epochs=args.epochs, lr=args.lr,
                         batch_size=args.batch_size, optimizer=args.optimizer, schedule=args.schedule,
                         seed=args.seed, out=args.out, data_dir=args.data_dir, download=args.download,
                         threads=args.threads, compile=not args.no_compile)
    try:
        config = config.checked()
    except ValueError as e:
        raise _UsageError(f"chainrule train: error: {e}") from None
    if rank == 0:
        print(f"chainrule train: {config.model} on {config.dataset}, {config.epochs} epochs, "
              f"{config.optimizer} lr {config.lr:g}, batch size {config.batch_size}, seed {config.seed}",
              flush=True)
    if rank == 0 and world > 1:
        print(f"data-parallel on {world} processes (MPI): global batch {world * config.batch_size} = "
              f"{world} x batch size {config.batch_size}", flush=True)
    try:
        metrics = train(config, progress=not args.quiet)
    except TrainingInterrupted as e:
        print(f"chainrule train: {e}", file=sys.stderr)
        return 130
    except (RuntimeError, ValueError, OSError) as e:
        # Missing MNIST files, no network, an unwritable --out, a diverging loss: the message says it all.
        hint = " (on the command line: --download, or --data-dir DIR)" if isinstance(e, FileNotFoundError) \
            and config.dataset == "mnist" else ""
        if world > 1:   # the other ranks may be waiting for this one: end them all
            dist.abort_job(f"chainrule train: error: {e}{hint}")
            return 1
        print(f"chainrule train: error: {e}{hint}", file=sys.stderr)
        return 1
    if rank != 0:
        return 130 if metrics.get("interrupted") else 0
    timing, files = metrics["timing"], metrics["files"]
    print(f"held-out test accuracy: {metrics['test_acc']:.2%} ({metrics['test_correct']}/"
          f"{metrics['data']['test_size']}), test loss {metrics['test_loss']:.4f}")
    print(f"trained {metrics['model']['parameters']:,} parameters in {timing['train_seconds']:.1f} s "
          f"({timing['train_samples_per_second']:,.0f} samples/s)")
    print(f"wrote {', '.join(files.values())}")
    return _interrupted(metrics)


def _interrupted(metrics: dict) -> int:
    """Exit status 130 (as for SIGINT) after saying which epoch a Ctrl-C left in the files."""
    stopped = metrics.get("interrupted")
    if not stopped:
        return 0
    print(f"chainrule train: interrupted (Ctrl-C) after epoch {stopped['finished_epochs']} of {stopped['of']}: "
          f"stopped after the current batch; the files hold the model and metrics of epoch "
          f"{stopped['finished_epochs']}", file=sys.stderr)
    return 130


# ------------------------------------------------------------------------------------ examples

def examples_dir() -> Path:
    """Where the example scripts and notebooks are: ``examples/`` next to the package in a source checkout,
    else the copy a wheel installs (``share/chainrule/examples`` under the environment, found through the
    installed package's file list)."""
    checkout = Path(chainrule.__file__).resolve().parent.parent / "examples"
    if any(checkout.glob("seed*.py")):
        return checkout
    try:
        files = importlib.metadata.distribution("chainrule").files or []
    except importlib.metadata.PackageNotFoundError:
        files = []
    for f in files:
        if f.parent.name == "examples" and f.parent.parent.name == "chainrule" and f.suffix == ".py":
            return Path(f.locate()).resolve().parent
    return checkout


def _summary(path: Path) -> str:
    # Parse, never import: listing must not run the scripts.
    try:
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    except (SyntaxError, UnicodeDecodeError, OSError):
        doc = None
    return doc.strip().splitlines()[0] if doc else "(no description)"


def _examples(args: argparse.Namespace) -> int:
    folder = examples_dir()
    scripts = sorted(p for p in folder.glob("*.py") if not p.name.startswith("_")) if folder.is_dir() else []
    if not scripts:
        print(f"chainrule examples: no example scripts found in {folder}. They ship with the package (under "
              "share/chainrule/examples) and with the source repository; reinstall chainrule, or clone the "
              "repository and run 'pip install -e .'", file=sys.stderr)
        return 1
    if args.name is None:
        width = max(len(p.stem) for p in scripts)
        for p in scripts:
            print(f"{p.stem:<{width}}  {_summary(p)}")
        print(f"\nrun one with: chainrule examples NAME   (scripts in {folder})")
        if any(folder.glob("*.ipynb")):
            print(f"the same as Jupyter notebooks, with pictures: {folder}/NAME.ipynb")
        return 0
    stem = args.name.removesuffix(".py")
    matches = [p for p in scripts if p.stem == stem] or [p for p in scripts if p.stem.startswith(stem)]
    if len(matches) != 1:
        problem = "is ambiguous" if matches else "is not an example"
        names = ", ".join(p.stem for p in (matches or scripts))
        raise _UsageError(f"chainrule examples: error: {args.name!r} {problem}; choose from: {names}")
    script = matches[0]
    saved_argv = sys.argv
    sys.argv = [str(script), *args.args]
    try:
        runpy.run_path(str(script), run_name="__main__")
    except SystemExit as e:  # a script's own sys.exit(code) is its exit status
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    finally:
        sys.argv = saved_argv
    return 0


# ------------------------------------------------------------------------------------------ main

def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``chainrule`` console script; returns the exit status.

    >>> main(["--version"])  # doctest: +SKIP
    chainrule 0.1.0
    """
    parser = _parser()
    try:
        args = parser.parse_args(argv)
        if args.command == "train":
            return _train(args, argv)
        if args.command == "examples":
            return _examples(args)
        if args.command == "run":
            try:
                return run_script(args.script, args.args)
            except FileNotFoundError as e:
                raise _UsageError(str(e)) from None
        parser.print_help()
        return 0
    except _UsageError as e:
        print(e, file=sys.stderr)
        return 2
    except SystemExit as e:  # --help and --version exit through argparse
        return e.code if isinstance(e.code, int) else 0
    except KeyboardInterrupt:
        print("chainrule: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

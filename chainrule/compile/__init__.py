"""``chainrule.compile``: record a training step once, then replay it as a straight-line program.

The first call of ``step = chainrule.compile(fn)`` runs ``fn`` eagerly while a recorder watches:
every op (the same ``Op`` classes, so their forward and backward formulas stay the single source
of truth), the backward pass in the engine's order with its shape reductions and route sums, and
the optimizer / scheduler calls. The program is then written out as one Python function (see
``replay``): later calls with the same signature run it on the new inputs — each op's ``forward``
and ``backward`` on raw arrays, one line after another, with no Tensors, graph nodes, dependency
counts or heap; ``optimizer.step()`` and friends run live, so hyperparameters such as the learning
rate are read at every call and schedulers work. Results are bit-identical to eager.

A call replays only when its **guards** hold: the same input shapes, dtypes and ``requires_grad``
(other arguments equal), the same parameters (objects, shapes, dtypes, ``requires_grad``), the
same train/eval mode of every module called, embedding ids in range (``F.embedding`` checks them
in Python), grad mode on, and no observers (anomaly mode, teaching lint, inspect). Otherwise the
call runs eagerly and, for a new signature, is recorded.

What the step computes in Python is baked into the program as constants: tensors made by factories
(``arange`` positions, ``zeros``, ``ones``, ``full``, ``eye``, ``tensor([...])``, a ``tril`` mask
of them), numbers passed to ops, and which captured tensors it reads. Input shapes are guarded, so
values derived from them are safe; to catch values taken from other Python state (a step counter,
a loss weight that changes, a batch picked from a list), each signature is **recorded twice** (the
first two calls run eagerly) and replays only if both recordings agree — otherwise it stays eager,
with the reason. A value that changes more rarely (once per epoch) is not caught: pass it as an
argument. Random numbers from ``rand``/``randn``/``randint`` (and their ``_like`` forms) are drawn
again on every replay, from the same generator in the same order, so a seeded step replays exactly
as eager.

Some steps cannot be replayed exactly; they always run eagerly, with the reason in
``step.fallback_reason`` (and a warning when ``explain=True``):

- reading tensor values in Python (``.item()``, ``bool(t)``, ``.numpy()``, ``.tolist()``):
  the Python code that depends on them would not run again; return the tensor instead;
- random numbers drawn other than by ``rand``/``randn``/``randint`` (``F.dropout``, ``bernoulli``,
  ``randperm`` …): a replay would reuse them;
- in-place changes outside the optimizer (``p -= lr * p.grad``, BatchNorm's running statistics,
  ``clip_grad_norm_``, which scales the gradients in place);
- ``autograd.grad``, ``retain_graph``, ``create_graph``, tensor hooks, custom ``autograd.Function``s;
- an op argument that is neither an input, a parameter, an op's result nor a constant made
  inside the step (an array computed from tensor data outside the ops: a comparison such as
  ``mask == 0``, ``logical_not``, ``F.one_hot``, an ``attn_mask`` turned into a bias — these are
  not ops yet).

Python side effects other than these (``print``, appending to a list) happen only on the calls
that run eagerly, as with ``jax.jit``. Returned tensors are detached: the step already ran backward.

>>> import chainrule as cr
>>> _ = cr.manual_seed(0)
>>> model = cr.nn.Linear(3, 1)
>>> opt = cr.optim.SGD(model.parameters(), lr=0.1)
>>> @cr.compile
... def step(x, y):
...     opt.zero_grad()
...     loss = ((model(x) - y) ** 2).mean()
...     loss.backward()
...     opt.step()
...     return loss
>>> x, y = cr.ones(4, 3), cr.zeros(4, 1)
>>> losses = [round(step(x, y).item(), 6) for _ in range(4)]   # recorded twice, then replayed
>>> step.replays, step.fallback_reason
(2, None)
"""

from __future__ import annotations

import functools
import warnings

from ..autograd import engine
from ..autograd.function import add_forward_observer, remove_forward_observer
from ..autograd.grad_mode import state
from ..backend import default_generator, xp
from ..tensor import Tensor
from .listing import _listing
from .record import _fingerprint, _Recorder, _structure
from .replay import Fallback, build, source

__all__ = ["CompiledStep", "compile"]

_MAX_PROGRAMS = 8          # recorded signatures kept per function


def _signature(flat: tuple, kwargs: dict):
    """The guard key of a call (``flat``: its arguments, keyword ones in name order): tensors by
    (shape, dtype, requires_grad), other values by themselves."""
    key = []
    for a in flat:
        if isinstance(a, Tensor):
            key.append(("T", a._data.shape, a._data.dtype.str, a.requires_grad))
        else:
            try:
                hash(a)
                key.append(("V", type(a), a))
            except TypeError:
                key.append(("I", id(a)))
    return tuple(key) + tuple(sorted(kwargs)) if kwargs else tuple(key)


def _draws_explain_rng(before, draws) -> bool:
    """Did the default generator move only by the recorded draws? Run them again from ``before``:
    they must end where the step left it (then it is put back there). Draws from other generators
    leave the default one alone."""
    after = default_generator.get_state()
    if xp.array_equal(xp.asarray(before), xp.asarray(after)):
        return True
    default_generator.set_state(before)
    try:
        for draw, generator in draws:
            if generator is default_generator:
                draw()
        return bool(xp.array_equal(xp.asarray(default_generator.get_state()), xp.asarray(after)))
    finally:
        default_generator.set_state(after)


def _first_difference(a: list, b: list):
    """The first item of fingerprint ``a`` that ``b`` does not repeat (None if they agree)."""
    for x, y in zip(a, b):
        try:
            if x is not y and not bool(x == y):
                return x if isinstance(x, tuple) else ("value", x)
        except (TypeError, ValueError):    # a value whose == is not a plain truth value
            return ("value", x)
    return None if len(a) == len(b) else ("value", None)


class CompiledStep:
    """A function that replays its recorded program when the guards hold (see the module docstring)."""

    def __init__(self, fn, explain: bool = False):
        functools.update_wrapper(self, fn)
        self.fn = fn
        self.explain = explain
        self.programs: dict = {}
        self.eager_only: dict = {}      # signature -> why it cannot be replayed
        self._first: dict = {}          # signature -> fingerprint of its first recording (see _record)
        self.replays = 0
        self.fallback_reason = None     # why the last call ran eagerly (None if it replayed)
        self._last = None

    # --- calling ------------------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        if not state.enabled or state.observed or engine.observers:
            return self._eager(self._unguarded(), args, kwargs)
        flat = (*args, *(kwargs[k] for k in sorted(kwargs))) if kwargs else args
        key = _signature(flat, kwargs)
        prog = self.programs.get(key)
        if prog is not None:
            out = prog.run(flat)
            if type(out) is Fallback:       # a guard failed: nothing ran
                return self._eager(out.reason, args, kwargs)
            self.fallback_reason = None
            self.replays += 1
            self._last = prog
            return out
        if key in self.eager_only:
            return self._eager(self.eager_only[key], args, kwargs)
        return self._record(key, args, kwargs)

    def _unguarded(self) -> str:
        if not state.enabled:
            return "grad mode is off"
        return "an observer is active (anomaly mode, teaching lint or inspect)"

    def _eager(self, why: str, args, kwargs):
        self.fallback_reason = why
        if self.explain:
            warnings.warn(f"chainrule.compile: {self.__name__} ran eagerly: {why}", stacklevel=3)
        return self.fn(*args, **kwargs)

    def _record(self, key, args, kwargs):
        inputs = [(i, a) for i, a in enumerate(list(args) + [kwargs[k] for k in sorted(kwargs)])
                  if isinstance(a, Tensor)]
        rec = _Recorder(inputs)
        rng_before = default_generator.get_state()
        add_forward_observer(rec)
        engine.observers.append(rec)
        try:
            result = self.fn(*args, **kwargs)
        finally:
            remove_forward_observer(rec)
            engine.observers.remove(rec)
        if not _draws_explain_rng(rng_before, rec.draws):
            rec.fail("the step draws random numbers outside rand/randn/randint (dropout, bernoulli, randperm, "
                     "...); a replay would reuse them")
        rec.prog.returned = _structure(result, rec)
        rec.finish()
        if not rec.prog.backwards and rec.reason is None:
            rec.fail("the step has no backward(); compile a whole training step (forward-only functions "
                     "run eagerly)")
        if rec.reason is not None:
            self._first.pop(key, None)
            self.eager_only[key] = rec.reason
            self.fallback_reason = rec.reason
            if self.explain:
                warnings.warn(f"chainrule.compile: {self.__name__} will run eagerly: {rec.reason}", stacklevel=2)
            return result
        # Recorded twice before it replays: constants the step computes in Python (factory arguments,
        # scalars passed to ops) are baked into the program, so both recordings must agree on them.
        fingerprint = _fingerprint(rec.prog)
        first = self._first.pop(key, None)
        if first is None:
            self._first[key] = fingerprint
            self._last = rec.prog           # what code() and source() show; built on the next call
            self.fallback_reason = "recorded on this call (it ran eagerly); the next call records again to check " \
                                   "the step's constants"
            return result
        differs = _first_difference(first, fingerprint)
        if differs is not None:
            why = ("the step reads a different captured tensor on two calls with the same input shapes (a batch "
                   "picked from a list?); pass it as an argument" if differs[0] == "live" else
                   "the step computes different constants or ops on two calls with the same input shapes (a value "
                   "taken from Python state such as a step counter, baked into the program); pass it as a tensor "
                   "argument")
            self.eager_only[key] = self.fallback_reason = why
            if self.explain:
                warnings.warn(f"chainrule.compile: {self.__name__} will run eagerly: {why}", stacklevel=2)
            return result
        prog = rec.prog
        prog.run = build(prog)
        if len(self.programs) >= _MAX_PROGRAMS:
            self.programs.pop(next(iter(self.programs)))
        self.programs[key] = rec.prog
        self._last = rec.prog
        self.fallback_reason = "recorded on this call (it ran eagerly)"
        return result

    # --- teaching -----------------------------------------------------------------------------
    def code(self) -> str:
        """The last recorded program as readable code: the training step as the chain rule unrolled."""
        prog = self._last or next(iter(self.programs.values()), None)
        if prog is None:
            return f"# {self.__name__}: nothing recorded ({self.fallback_reason or 'not called yet'})"
        return _listing(prog)

    def source(self) -> str:
        """The Python function generated for the last recorded program: what a replay runs."""
        prog = self._last or next(iter(self.programs.values()), None)
        if prog is None:
            return f"# {self.__name__}: nothing recorded ({self.fallback_reason or 'not called yet'})"
        return source(prog)


def compile(fn=None, *, explain: bool = False, **_options):
    """Record ``fn`` (a training step) once and replay it: PyTorch's ``torch.compile`` name.

    Usable as ``step = chainrule.compile(step)`` or as a decorator (``@chainrule.compile`` or
    ``@chainrule.compile(explain=True)``). Other keyword arguments of ``torch.compile`` (``mode``,
    ``fullgraph``, ``backend`` …) are accepted and ignored. See the module docstring for what replays.
    """
    if fn is None:
        return lambda f: CompiledStep(f, explain)
    return CompiledStep(fn, explain)

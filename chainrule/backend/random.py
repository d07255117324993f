"""PyTorch's CPU random streams, bit for bit, on NumPy.

PyTorch's CPU generator is a 32-bit Mersenne Twister (MT19937) seeded like the reference
``init_genrand``; NumPy's ``MT19937`` bit generator with its legacy seeding produces the very same
32-bit words, so chainrule draws those words in bulk and repeats, vectorised, what each PyTorch
kernel does with them:

==========================  ====================================================================
``random()``                one 32-bit word; ``random64()`` is two words, the first one high
uniform float32 / float64   ``(word & (2**24 - 1)) * 2**-24`` / ``(word64 & (2**53 - 1)) * 2**-53``,
                            then ``fma(x, to - from, from)``
normal, >= 16 contiguous    all uniforms first, then Box-Muller on blocks of 16 (float32: the AVX2
                            polynomial kernel); a ragged end redraws 16 uniforms for the last block
normal, otherwise           one double Box-Muller pair per two elements; the spare sine value is
                            cached *in the generator* and used by the next draw
randint / random\\_          ``word % range + low`` (64-bit words once ``range >= 2**28``)
randperm(n)                 Fisher-Yates swaps with ``word % (n - i)``
bernoulli, exponential      one double uniform per element (``u < p``; ``-log1p(-u) / lambda``)
multinomial                 one sample without replacement: ``argmax(p / Exp(1))``; several with
                            replacement: binary search of a float cumulative sum per double uniform
==========================  ====================================================================

Exact for float32 and float64 against PyTorch's AVX2 kernels, which x86-64 CPUs with AVX2 and also
AVX-512 machines run. Where PyTorch runs its default build instead (no AVX2, ``ATEN_CPU_CAPABILITY=default``;
see ``random_math.TORCH_KERNELS``) a float32 ``randn`` of >= 16 values can differ in the last bit of a
few values; the other samplers still match. float16 is not reproduced exactly (PyTorch computes
its normals in half precision); ARM builds of PyTorch have not been compared.

>>> g = Generator().manual_seed(2147483647)
>>> out = np.empty(3, np.float32)
>>> uniform_(out, 0.0, 1.0, g).tolist()                                   # torch.rand(3, generator=g)
[0.7081288695335388, 0.3542391061782837, 0.10543233156204224]
"""

from __future__ import annotations

import math
import numbers
import os

import numpy as np

from .random_math import affine32, affine64, box_muller_fill32, box_muller_fill64, libm

_N = 624  # words of Mersenne Twister state
_DEFAULT_SEED = 67280421310721  # PyTorch's default_rng_seed_val
_RANDPERM_SMALL = (2 ** 32 - 1) // 20  # below this n, randperm uses 32-bit words
# torch.get_rng_state()'s 5056 bytes: the legacy THGenerator struct, then the float normal cache
_STATE = np.dtype({
    "names": ["seed", "left", "seeded", "next", "key", "normal_x", "normal_y", "normal_rho",
              "normal_is_valid", "float_normal", "float_normal_is_valid"],
    "formats": ["<u8", "<i4", "<i4", "<u8", ("<u8", _N), "<f8", "<f8", "<f8", "<i4", "<f4", "u1"],
    "offsets": [0, 8, 12, 16, 24, 5016, 5024, 5032, 5040, 5048, 5052],
    "itemsize": 5056,
})


def _seed_value(seed, op: str) -> int:
    """PyTorch's seed rules: any integer in [-2**63, 2**64), negatives taken modulo 2**64."""
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise RuntimeError(  # noqa: TRY004  (PyTorch raises RuntimeError here)
            f"{op} expected a long, but got {type(seed).__name__}")
    seed = int(seed)
    if not -2 ** 63 <= seed < 2 ** 64:
        raise ValueError(f"{op}: seed {seed} does not fit in 64 bits (expected -2**63 <= seed < 2**64)")
    return seed % 2 ** 64


def _seeded_key(seed: int) -> np.ndarray:
    bits = np.random.MT19937(0)
    bits._legacy_seeding(seed & 0xFFFFFFFF)
    return bits.state["state"]["key"]


class Generator:
    """A seeded random stream that produces the numbers ``torch.Generator`` (CPU) produces.

    Same seed, same calls, same values: ``torch.rand``, ``randn``, ``randint``, ``randperm``,
    ``multinomial``, ``bernoulli``, ``nn.init`` and dropout masks match PyTorch 2.13 bit for bit
    (float32 and float64). ``Generator(5)`` is chainrule's shorthand for ``Generator().manual_seed(5)``.

    >>> g = Generator().manual_seed(42)
    >>> g.initial_seed(), g.get_state().shape
    (42, (5056,))
    """

    def __init__(self, device=None):
        if device is not None and not isinstance(device, numbers.Integral):
            if str(device) != "cpu":
                raise RuntimeError(f"Generator: chainrule only has CPU generators, got device={device!r}")
            device = None
        self._bits = np.random.MT19937(0)
        self._rng = None
        self.manual_seed(_DEFAULT_SEED if device is None else device)

    @property
    def device(self) -> str:
        return "cpu"

    def manual_seed(self, seed: int) -> Generator:
        """Restart the stream from ``seed`` (only its low 32 bits reach the twister, as in PyTorch)."""
        self._seed = _seed_value(seed, "manual_seed")
        self._bits._legacy_seeding(self._seed & 0xFFFFFFFF)
        self._normal = None  # the cached second Box-Muller value (double), see normal_
        self._float_normal = None  # PyTorch keeps a float cache too; no CPU kernel fills it
        return self

    def initial_seed(self) -> int:
        return self._seed

    def seed(self) -> int:
        """Seed from the operating system's entropy and return that seed."""
        seed = int.from_bytes(os.urandom(8), "little")
        self.manual_seed(seed)
        return seed

    def get_state(self) -> np.ndarray:
        """The state as the 5056 bytes ``torch.Generator.get_state()`` returns (uint8)."""
        inner = self._bits.state["state"]
        state = np.zeros((), _STATE)
        state["seed"], state["seeded"], state["key"] = self._seed, 1, inner["key"]
        if inner["pos"] >= _N:  # the next draw regenerates the key; PyTorch says next=0 if unused since seeding
            fresh = np.array_equal(inner["key"], _seeded_key(self._seed))
            state["left"], state["next"] = 1, 0 if fresh else _N
        else:
            state["left"], state["next"] = _N + 1 - inner["pos"], inner["pos"]
        if self._normal is not None:
            state["normal_is_valid"], state["normal_y"] = 1, self._normal
        if self._float_normal is not None:
            state["float_normal_is_valid"], state["float_normal"] = 1, self._float_normal
        return state.reshape(1).view(np.uint8).copy()

    def set_state(self, new_state) -> Generator:
        """Restore a state from ``get_state()`` (chainrule's or PyTorch's: the bytes are the same)."""
        data = np.asarray(new_state)
        if data.dtype != np.uint8 or data.ndim != 1:
            raise TypeError(f"set_state: expected a 1-D uint8 (byte) tensor, got {data.dtype} of shape {data.shape}")
        if data.size != _STATE.itemsize:
            raise RuntimeError(f"set_state: expected a CPUGeneratorImplState of size {_STATE.itemsize} "
                               f"but found the input RNG state size to be {data.size}")
        state = np.ascontiguousarray(data).view(_STATE)[0]
        left, nxt = int(state["left"]), int(state["next"])
        if state["seeded"] != 1 or not 0 < left <= _N or nxt > _N:
            raise RuntimeError("set_state: invalid mt19937 state (seeded, left or next out of range)")
        pos = _N if left == 1 else nxt
        key = state["key"].astype(np.uint32)
        self._bits.state = {"bit_generator": "MT19937", "state": {"key": key, "pos": pos}}
        self._seed = int(state["seed"])
        self._normal = float(state["normal_y"]) if state["normal_is_valid"] else None
        self._float_normal = float(state["float_normal"]) if state["float_normal_is_valid"] else None
        return self

    @property
    def rng(self) -> np.random.Generator:
        """A NumPy Generator drawing from this same Mersenne Twister state.

        Its methods (``integers``, ``permutation`` …) have NumPy's algorithms, not PyTorch's; use the
        samplers in this module where PyTorch's values matter.
        """
        if self._rng is None:
            self._rng = np.random.Generator(self._bits)
        return self._rng

    def random(self, n: int) -> np.ndarray:
        """The next ``n`` 32-bit words (PyTorch's ``generator->random()``), as uint64."""
        return self._bits.random_raw(n)

    def random64(self, n: int) -> np.ndarray:
        """The next ``n`` 64-bit words, each made of two 32-bit words (first = high half)."""
        words = self._bits.random_raw(2 * n)
        return (words[0::2] << np.uint64(32)) | words[1::2]

    def uniform_float(self, n: int) -> np.ndarray:
        """``n`` float32 uniforms in [0, 1) from 24 bits of one word each."""
        return (self.random(n) & np.uint64(0xFFFFFF)).astype(np.float32) * np.float32(2.0 ** -24)

    def uniform_double(self, n: int) -> np.ndarray:
        """``n`` float64 uniforms in [0, 1) from 53 bits of two words each."""
        return (self.random64(n) & np.uint64(2 ** 53 - 1)).astype(np.float64) * 2.0 ** -53


# --- writing in PyTorch's element order ---------------------------------------------------

def _memory_axes(out: np.ndarray) -> list[int]:
    """Axes ordered so that C order walks ``out`` in memory order (TensorIterator walks strides, not indices)."""
    if out.flags.c_contiguous:
        return list(range(out.ndim))
    return sorted(range(out.ndim), key=lambda axis: -abs(out.strides[axis]))


def _write(out: np.ndarray, values: np.ndarray) -> np.ndarray:
    view = out.transpose(_memory_axes(out))
    view[...] = values.reshape(view.shape)
    return out


def _check_float(out: np.ndarray, op: str) -> None:
    if out.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating-point tensor, got dtype {out.dtype}")


# --- the samplers: each fills ``out`` in place, as the PyTorch kernel of the same name -------

def uniform_(out: np.ndarray, low: float, high: float, gen: Generator) -> np.ndarray:
    """``Tensor.uniform_(low, high)``: float32 uses one 32-bit word per value, float64 two."""
    _check_float(out, "uniform_")
    if not low <= high:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={low} > to={high}")
    n = out.size
    if out.dtype == np.float64:
        return _write(out, affine64(gen.uniform_double(n), high - low, low))
    low_t, high_t = np.float32(out.dtype.type(low)), np.float32(out.dtype.type(high))  # float16 computes in float32
    return _write(out, affine32(gen.uniform_float(n), high_t - low_t, low_t).astype(out.dtype))


def normal_(out: np.ndarray, mean: float, std: float, gen: Generator) -> np.ndarray:
    """``Tensor.normal_(mean, std)``: the vectorised fill for >= 16 contiguous values, else the scalar path."""
    _check_float(out, "normal_")
    if not std >= 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    n = out.size
    if n < 16 or not out.flags.c_contiguous:
        return _write(out, _normal_scalar(n, mean, std, gen).astype(out.dtype))
    double = out.dtype == np.float64
    draw = gen.uniform_double if double else gen.uniform_float
    fill = box_muller_fill64 if double else box_muller_fill32
    u = draw(n)
    full = n - n % 16
    values = np.empty(n, np.float64 if double else np.float32)
    values[:full] = fill(u[:full].reshape(-1, 16), mean, std).reshape(-1)
    if full < n:  # PyTorch redraws 16 uniforms for the last, overlapping block
        values[full:] = u[full:]
        values[n - 16:] = fill(draw(16).reshape(1, 16), mean, std).reshape(-1)
    out.reshape(-1)[...] = values.astype(out.dtype)
    return out


def _normal_scalar(n: int, mean: float, std: float, gen: Generator) -> np.ndarray:
    """``at::normal_distribution<double>`` element by element, with the generator's cached value."""
    values = np.empty(n, np.float64)
    start = 0
    if n and gen._normal is not None:
        values[0], gen._normal, start = gen._normal, None, 1
    pairs = (n - start + 1) // 2
    u = gen.uniform_double(2 * pairs).reshape(-1, 2)  # per pair: u1 (angle), then u2 (radius)
    radius = np.sqrt(-2.0 * libm(math.log1p, -u[:, 1]))
    theta = (2.0 * np.pi) * u[:, 0]
    pair_values = np.stack([radius * libm(math.cos, theta), radius * libm(math.sin, theta)], axis=1).reshape(-1)
    if (n - start) % 2:  # the last sine waits in the generator for the next call
        gen._normal = float(pair_values[-1])
    values[start:] = pair_values[:n - start]
    return affine64(values, std, mean)


def random_(out: np.ndarray, low: int, high: int, gen: Generator) -> np.ndarray:
    """``Tensor.random_(low, high)`` / ``randint``: ``word % (high - low) + low``."""
    low, high = int(low), int(high)
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    if out.dtype.kind == "f":  # keep [low, high) after rounding to the float type
        low, high = _float_safe_bounds(low, high, out.dtype)
    elif out.dtype != np.bool_:
        info = np.iinfo(out.dtype)
        for name, value in (("from", low), ("to - 1", high - 1)):
            if not info.min <= value <= info.max:
                raise RuntimeError(f"random_: {name} is out of bounds for {out.dtype}")
    span = high - low
    words = gen.random64(out.size) if span >= 2 ** 28 else gen.random(out.size)
    values = ((words % np.uint64(span)).astype(np.int64) + np.int64(low))
    return _write(out, values.astype(out.dtype))


def _float_safe_bounds(low: int, high: int, dtype) -> tuple[int, int]:
    """PyTorch's update_from/update_to: move the bounds inwards to values the float type can hold."""
    digits = np.finfo(dtype).nmant + 1
    as_float = dtype.type
    if int(as_float(low + 1)) < low:
        low = int(as_float(low + 1)) + (1 << ((abs(low + 1).bit_length() - 1) - digits + 1))
    if int(as_float(high - 1)) >= high:
        high = int(as_float(high - 1)) - (1 << ((abs(high - 1).bit_length() - 1) - digits + 1))
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' casted to dtype to be less than 'to' casted to dtype, "
                           f"but got from={low} >= to={high}")
    return low, high


def random_bits_(out: np.ndarray, gen: Generator) -> np.ndarray:
    """``Tensor.random_()`` without bounds: [0, 2**mantissa] for floats, [0, max] for integers."""
    kind, bits = out.dtype.kind, out.dtype.itemsize * 8
    if out.dtype == np.bool_:
        values = gen.random(out.size) & np.uint64(1)
    elif kind == "f":
        span = 2 ** (np.finfo(out.dtype).nmant + 1) + 1
        values = (gen.random64(out.size) if bits == 64 else gen.random(out.size)) % np.uint64(span)
    else:
        top = np.iinfo(out.dtype).max + 1
        values = (gen.random64(out.size) if bits == 64 else gen.random(out.size)) % np.uint64(top)
    return _write(out, values.astype(out.dtype))


def bernoulli_(out: np.ndarray, p, gen: Generator) -> np.ndarray:
    """``Tensor.bernoulli_(p)``: ``u < p`` per element.

    A float ``p`` (or a float64 tensor of them) compares double uniforms; a float32 tensor of
    probabilities compares float32 uniforms, one 32-bit word each, as PyTorch does.
    """
    if isinstance(p, np.ndarray):
        if p.dtype.kind != "f":
            raise TypeError(f"bernoulli_: expected a floating-point probability tensor, got dtype {p.dtype}")
        if p.size and not ((p >= 0) & (p <= 1)).all():
            raise RuntimeError("bernoulli_: all probabilities must be in [0, 1]")
        axes = _memory_axes(out)
        probs = np.broadcast_to(p, out.shape).transpose(axes).reshape(-1)
        u = gen.uniform_double(out.size) if p.dtype == np.float64 else gen.uniform_float(out.size)
        return _write(out, (u < probs).astype(out.dtype))
    if not 0 <= p <= 1:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")
    return _write(out, (gen.uniform_double(out.size) < p).astype(out.dtype))


def exponential_(out: np.ndarray, lambd: float, gen: Generator) -> np.ndarray:
    """``Tensor.exponential_(lambd)``: ``-1/lambd * log1p(-u)`` with double uniforms."""
    _check_float(out, "exponential_")
    if not lambd > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
    return _write(out, ((-1.0 / lambd) * libm(math.log1p, -gen.uniform_double(out.size))).astype(out.dtype))


def randperm(n: int, gen: Generator) -> np.ndarray:
    """``torch.randperm(n)``: Fisher-Yates, step i swapping positions i and ``j[i] = i + word % (n - i)``."""
    if n >= _RANDPERM_SMALL:  # PyTorch's "inside-out" variant with 64-bit words; a plain loop here
        perm = list(range(n))
        for i, z in enumerate((gen.random64(n) % np.arange(1, n + 1, dtype=np.uint64)).tolist()):
            perm[i], perm[z] = perm[z], i
        return np.array(perm, dtype=np.int64)
    steps = np.arange(n, dtype=np.int64)
    targets = steps.copy()  # the last position swaps with itself
    targets[:-1] += (gen.random(max(n - 1, 0)) % np.arange(n, 1, -1, dtype=np.uint64)).astype(np.int64)
    return _fisher_yates(targets)


def _fisher_yates(j: np.ndarray) -> np.ndarray:
    """The result of ``for i: swap(a[i], a[j[i]])`` on ``a = arange(n)``, given ``j[i] >= i``, without a loop.

    Step i fixes position i for good. Position i then holds V[i], "the value position i had at
    time i", and position j[i] receives V[i]. So position p, before step t, holds V[k] for the last
    step k < t with j[k] == p, or p itself if no earlier step chose p. Hence
    V[i] = V[last k < i with j[k] == i] (a chain, resolved by pointer jumping) and
    out[i] = V[last k < i with j[k] == j[i]], or j[i].
    """
    n = len(j)
    if n == 0:
        return j.copy()
    i = np.arange(n, dtype=np.int64)
    key = np.sort(j * n + i)  # steps grouped by target, in time order (keys are unique)
    target, step = key // n, key % n
    same = target[1:] == target[:-1]
    prev_same = np.full(n, -1, np.int64)  # last earlier step with the same target
    prev_same[step[1:][same]] = step[:-1][same]
    last_to = np.full(n, -1, np.int64)  # last step that targeted each position
    group_end = np.append(~same, True)
    last_to[target[group_end]] = step[group_end]
    came_from = np.where(j == i, prev_same, last_to)  # last k < i with j[k] == i
    root = np.where(came_from >= 0, came_from, i)
    while True:  # pointer jumping: log2(longest chain) rounds
        next_root = root[root]
        if np.array_equal(next_root, root):
            break
        root = next_root
    return np.where(prev_same >= 0, root[np.maximum(prev_same, 0)], j)


def _check_multinomial(probs: np.ndarray, num_samples: int, replacement: bool) -> None:
    if probs.ndim not in (1, 2):
        raise RuntimeError(f"multinomial: prob_dist must be 1 or 2 dim, got shape {probs.shape}")
    if probs.dtype.kind != "f":
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: {probs.dtype}")
    if num_samples <= 0:
        raise RuntimeError(f"multinomial: cannot sample num_samples={num_samples} <= 0 samples")
    if not replacement and num_samples > probs.shape[-1]:
        raise RuntimeError(f"multinomial: cannot sample num_samples={num_samples} > prob_dist.size(-1)="
                           f"{probs.shape[-1]} samples without replacement")
    if probs.shape[-1] > 2 ** 24:
        raise RuntimeError("multinomial: number of categories cannot exceed 2^24")
    if not (np.isfinite(probs) & (probs >= 0)).all():
        raise RuntimeError("multinomial: probability tensor contains either `inf`, `nan` or element < 0")
    if (probs.sum(axis=-1) == 0).any():
        raise RuntimeError("multinomial: invalid multinomial distribution (sum of probabilities <= 0)")


def multinomial(probs: np.ndarray, num_samples: int, replacement: bool, gen: Generator) -> np.ndarray:
    """``torch.multinomial`` on a 1-D or 2-D array of non-negative weights (rows need not sum to 1)."""
    _check_multinomial(probs, num_samples, replacement)
    rows = probs.reshape(-1, probs.shape[-1])
    if not replacement or num_samples == 1:
        # Exponential race: category k wins with probability p_k / sum(p).
        q = exponential_(np.empty(rows.shape, rows.dtype), 1.0, gen)
        keys = rows / q
        if num_samples == 1:
            picked = np.argmax(keys, axis=-1)[:, None]
        else:
            picked = np.argsort(-keys, axis=-1, kind="stable")[:, :num_samples]
    else:
        picked = np.empty((rows.shape[0], num_samples), np.int64)
        for r, row in enumerate(rows):
            cum = np.cumsum(row)  # running sum in the input's dtype, like PyTorch's loop
            cum = cum / cum[-1]
            cum[-1] = 1
            u = gen.uniform_double(num_samples)
            picked[r] = np.searchsorted(cum.astype(np.float64), u, side="left")
    return picked.astype(np.int64).reshape(probs.shape[:-1] + (num_samples,))

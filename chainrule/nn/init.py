"""``nn.init``: fill weights in place (under ``no_grad``) with PyTorch's initialisation schemes.

The scale of a good initialisation depends on the layer's fan (how many inputs feed one output,
and vice versa) and on the gain of the nonlinearity that follows, so activations neither blow up
nor vanish through depth (Glorot & Bengio 2010; He et al. 2015).
"""

from __future__ import annotations

import math
import numbers
import warnings

from ..autograd.grad_mode import no_grad
from ..backend import Generator, default_generator, random, xp
from ..tensor import Tensor

_LINEAR_FNS = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
               "conv_transpose3d")


def _numbers(fn: str, **values) -> None:
    """PyTorch's check of the numbers an init takes (``constant_(w, 'a')`` is a TypeError naming the
    argument, not NumPy's ValueError; ``None`` is not NaN)."""
    for name, value in values.items():
        if isinstance(value, Tensor) and value.ndim == 0:
            continue
        if not isinstance(value, numbers.Real):
            raise TypeError(f"{fn}(): argument '{name}' must be a number, not {type(value).__name__} ({value!r})"
                            + (f"; a tensor of shape {tuple(value.shape)} holds more than one number"
                               if isinstance(value, Tensor) else ""))


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended std multiplier for a nonlinearity (tanh 5/3, relu √2, ...).

    >>> from chainrule.nn import init
    >>> round(init.calculate_gain("relu"), 4)
    1.4142
    """
    if nonlinearity in _LINEAR_FNS or nonlinearity == "sigmoid":
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight (out, in, *kernel): in·k and out·k, k the receptive field size."""
    if tensor.dim() < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 dimensions "
                         f"(got shape {tuple(tensor.shape)})")
    receptive = math.prod(tensor.shape[2:]) if tensor.dim() > 2 else 1
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _calculate_correct_fan(tensor: Tensor, mode: str) -> int:
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator: Generator | None = None) -> Tensor:
    """Fill with U(a, b).

    >>> import chainrule as cr
    >>> w = cr.nn.init.uniform_(cr.empty(3), -1, 1)
    >>> bool((w.abs() <= 1).all())
    True
    """
    _numbers("uniform_", a=a, b=b)
    with no_grad():
        return tensor.uniform_(a, b, generator=generator)


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator: Generator | None = None) -> Tensor:
    """Fill with N(mean, std²)."""
    _numbers("normal_", mean=mean, std=std)
    with no_grad():
        return tensor.normal_(mean, std, generator=generator)


def trunc_normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0, b: float = 2.0,
                  generator: Generator | None = None) -> Tensor:
    """Fill with N(mean, std²) restricted to [a, b], by PyTorch's rejection scheme (same values).

    When [a, b] holds more than 30 % of the mass, whole normal tensors are drawn and out-of-range
    entries replaced until none is left; otherwise candidates are uniform on [a, b] and accepted
    with probability pdf/peak. (That second branch compares against a float32 ``log``; a value one
    ulp from the acceptance boundary could be decided differently from PyTorch's vectorised log.)

    >>> import chainrule as cr
    >>> w = cr.nn.init.trunc_normal_(cr.empty(1000), std=2.0)
    >>> bool((w.abs() <= 2).all())
    True
    """
    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. "
                      "The distribution of values may be incorrect.", stacklevel=2)
    gen = generator or default_generator
    data = tensor._data
    low, high = data.dtype.type(a), data.dtype.type(b)  # the bounds as the tensor's dtype
    mass = _norm_cdf((b - mean) / std) - _norm_cdf((a - mean) / std)
    if mass > 0.3:
        result = random.normal_(xp.empty_like(data), mean, std, gen)
        while True:
            redraw = (result < low) | (result > high)
            if not redraw.any():
                break
            result = xp.where(redraw, random.normal_(xp.empty_like(data), mean, std, gen), result)
    else:
        mode = max(a, min(mean, b))
        log_peak = -0.5 * ((mode - mean) / std) ** 2
        one = data.dtype.type(1)

        def log_density(x):  # PyTorch's in-place chain: sub_(mean).div_(std).pow_(2).mul_(-0.5).sub_(log_peak)
            z = (x - data.dtype.type(mean)) / data.dtype.type(std)
            return z * z * data.dtype.type(-0.5) - data.dtype.type(log_peak)

        result = random.uniform_(xp.empty_like(data), a, b, gen)
        pending = xp.log(random.uniform_(xp.empty_like(data), 0.0, one, gen)) > log_density(result)
        while pending.any():
            candidates = random.uniform_(xp.empty_like(data), a, b, gen)
            result = xp.where(pending, candidates, result)
            accept_log = xp.log(random.uniform_(xp.empty_like(data), 0.0, one, gen))
            pending = xp.where(pending, accept_log > log_density(candidates), pending)
    with no_grad():
        return tensor.copy_(Tensor._make(result))


def _norm_cdf(x: float) -> float:
    return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill with ``val``."""
    _numbers("constant_", val=val)
    with no_grad():
        return tensor.fill_(val)


def ones_(tensor: Tensor) -> Tensor:
    return constant_(tensor, 1.0)


def zeros_(tensor: Tensor) -> Tensor:
    return constant_(tensor, 0.0)


def eye_(tensor: Tensor) -> Tensor:
    """Fill a 2-D tensor with the identity (ones on the diagonal)."""
    if tensor.ndim != 2:
        raise ValueError(f"Only tensors with 2 dimensions are supported (got shape {tuple(tensor.shape)})")
    with no_grad():
        return tensor.copy_(Tensor._make(xp.eye(*tensor.shape)))


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator: Generator | None = None) -> Tensor:
    """Glorot uniform: U(-a, a) with a = gain·√(6 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    a = math.sqrt(3.0) * std  # PyTorch's order of operations, so the bound is the same double
    return uniform_(tensor, -a, a, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator: Generator | None = None) -> Tensor:
    """Glorot normal: N(0, std²) with std = gain·√(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / float(fan_in + fan_out)), generator)


def kaiming_uniform_(tensor: Tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                     generator: Generator | None = None) -> Tensor:
    """He uniform: U(-b, b) with b = gain·√(3 / fan); ``a`` is the leaky_relu slope.

    ``nn.Linear`` uses ``a=√5``, which gives b = 1/√fan_in.
    """
    if 0 in tensor.shape:
        return tensor   # PyTorch warns and leaves a zero-element tensor alone
    fan = _calculate_correct_fan(tensor, mode)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    bound = math.sqrt(3.0) * std  # PyTorch's order of operations, so the bound is the same double
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor: Tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                    generator: Generator | None = None) -> Tensor:
    """He normal: N(0, std²) with std = gain / √fan."""
    if 0 in tensor.shape:
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    return normal_(tensor, 0.0, calculate_gain(nonlinearity, a) / math.sqrt(fan), generator)


def orthogonal_(tensor: Tensor, gain: float = 1.0, generator: Generator | None = None) -> Tensor:
    """Fill with a (semi-)orthogonal matrix (Saxe et al. 2013): Q of the QR of a Gaussian matrix.

    The Gaussian matrix is PyTorch's (same generator, same values); the QR factorisation is NumPy's
    LAPACK, not PyTorch's MKL, so Q agrees with PyTorch to rounding, not bit for bit.
    """
    if tensor.ndim < 2:
        raise ValueError(f"Only tensors with 2 or more dimensions are supported (got shape {tuple(tensor.shape)})")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    flat = random.normal_(xp.empty((rows, cols), tensor._data.dtype), 0.0, 1.0, generator or default_generator)
    if rows < cols:
        flat = flat.T
    q, r = xp.linalg.qr(flat)
    q = q * xp.sign(xp.diag(r))   # fixes the signs so Q is uniformly distributed (Mezzadri 2007)
    if rows < cols:
        q = q.T
    with no_grad():
        return tensor.copy_(Tensor._make(q.reshape(tensor.shape) * gain))


def _default_layer_init_(weight: Tensor, bias: Tensor | None) -> None:
    """PyTorch's default for Linear and Conv layers: kaiming_uniform(a=√5) on the weight, which is
    U(±1/√fan_in), and the same bound for the bias."""
    kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = _calculate_fan_in_and_fan_out(weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        uniform_(bias, -bound, bound)

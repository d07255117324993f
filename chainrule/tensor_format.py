"""PyTorch-style printing: ``tensor([1.0000, 2.5000], requires_grad=True)``."""

from __future__ import annotations

from .backend import xp

_DEFAULT_DTYPES = ("float32", "int64", "bool")


def _float_formatter(values):
    finite = values[xp.isfinite(values)]
    if finite.size and xp.all(finite == xp.round(finite)) and xp.abs(finite).max() < 1e8:
        return lambda v: f"{v:.0f}." if xp.isfinite(v) else str(v)
    nonzero = xp.abs(finite[finite != 0])
    if nonzero.size and (nonzero.max() >= 1e8 or nonzero.min() < 1e-4 or nonzero.max() / nonzero.min() > 1000):
        return lambda v: f"{v:.4e}"
    return lambda v: f"{v:.4f}" if xp.isfinite(v) else str(v)


def format_array(a, prefix: str = "tensor(") -> str:
    if a.size == 0:
        return "[]" if a.ndim == 1 else f"[], size={tuple(a.shape)}"
    kind = a.dtype.kind
    if kind == "f":
        fmt = _float_formatter(a.astype(xp.float64))
        formatter = {"float_kind": fmt}
    elif kind == "b":
        formatter = {"bool": lambda v: "True" if v else "False"}
    else:
        formatter = {"int": lambda v: str(v)}
    if a.ndim == 0:
        return next(iter(formatter.values()))(a.item())
    return xp.array2string(a, separator=", ", prefix=prefix, formatter=formatter, max_line_width=80,
                           threshold=1000, edgeitems=3)


def format_tensor(t) -> str:
    a = t._data
    body = format_array(a)
    extras = []
    if a.size == 0 and a.ndim != 1:
        body, size = body.split(", size=")
        extras.append(f"size={size}")
    name = t.dtype.name
    if name not in _DEFAULT_DTYPES or (a.size == 0 and name != "float32"):
        extras.append(f"dtype=chainrule.{name}")
    if t.grad_fn is not None:
        extras.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t.requires_grad:
        extras.append("requires_grad=True")
    inner = body if not extras else body + ", " + ", ".join(extras)
    return f"tensor({inner})"

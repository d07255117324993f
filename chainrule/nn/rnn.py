"""Recurrent layers: ``RNN``, ``LSTM``, ``GRU`` and their one-step ``*Cell`` forms, as ``torch.nn``.

One step of each, with the input part ``Wᵢ x + bᵢ`` computed for all time steps at once (one big
matrix product) and only the hidden part inside the time loop:

    RNN:  h' = tanh(W_ih x + b_ih + W_hh h + b_hh)                   (or relu)
    LSTM: i, f, g, o = σ, σ, tanh, σ of the four row-blocks of (W_ih x + b_ih + W_hh h + b_hh)
          c' = f·c + i·g;   h' = o·tanh(c')                          (then h' W_hrᵀ with proj_size)
    GRU:  r, z = σ(first two blocks);  n = tanh(W_in x + b_in + r·(W_hn h + b_hn))
          h' = (1 - z)·n + z·h

Autograd runs backpropagation through time over the recorded steps. Parameters and state_dict
keys are PyTorch's (``weight_ih_l0``, ``bias_hh_l1_reverse``, ``weight_hr_l0`` …), gate blocks in
PyTorch's order, so weights load in either direction. PackedSequence inputs run in rnn_packed.py.
"""

from __future__ import annotations

import math
import warnings

from .. import backend
from ..backend import xp
from ..tensor import Tensor
from ..tensor.device import require_cpu
from ..tensor.functions import cat, stack
from . import functional as F
from . import init
from .linear import layer_sizes
from .module import Module
from .parameter import Parameter
from .rnn_packed import run_packed
from .utils.rnn import PackedSequence

__all__ = ["GRU", "LSTM", "RNN", "GRUCell", "LSTMCell", "RNNBase", "RNNCell", "RNNCellBase"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _rnn_step(gi: Tensor, h: Tensor, w_hh: Tensor, b_hh: Tensor | None, relu: bool) -> Tensor:
    pre = gi + F.linear(h, w_hh, b_hh)
    return pre.relu() if relu else pre.tanh()


def _lstm_step(gi: Tensor, h: Tensor, c: Tensor, w_hh: Tensor, b_hh: Tensor | None, w_hr: Tensor | None):
    i, f, g, o = (gi + F.linear(h, w_hh, b_hh)).chunk(4, -1)
    c = f.sigmoid() * c + i.sigmoid() * g.tanh()
    h = o.sigmoid() * c.tanh()
    if w_hr is not None:
        h = F.linear(h, w_hr)
    return h, c


def _gru_step(gi: Tensor, h: Tensor, w_hh: Tensor, b_hh: Tensor | None) -> Tensor:
    i_r, i_z, i_n = gi.chunk(3, -1)
    h_r, h_z, h_n = F.linear(h, w_hh, b_hh).chunk(3, -1)
    r = (i_r + h_r).sigmoid()
    z = (i_z + h_z).sigmoid()
    n = (i_n + r * h_n).tanh()
    return n + z * (h - n)          # = (1 - z)·n + z·h


def _new_param(shape: tuple, dtype) -> Parameter:
    return Parameter(Tensor._make(xp.empty(shape, backend.to_dtype(dtype or backend.default_float).np)))


class RNNBase(Module):
    """The common machinery of RNN, LSTM and GRU: parameters per layer and direction, the time loop."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, proj_size: int = 0,
                 device=None, dtype=None) -> None:
        super().__init__()
        require_cpu(device, type(self).__name__)
        layer_sizes(type(self).__name__, input_size=input_size, hidden_size=hidden_size, num_layers=num_layers,
                    proj_size=proj_size, only_types=True)   # the ranges: PyTorch's ValueErrors below
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        if not isinstance(dropout, (int, float)) or isinstance(dropout, bool) or not 0 <= dropout <= 1:
            raise ValueError("dropout should be a number in range [0, 1] representing the probability of an "
                             f"element being zeroed, got {dropout!r}")
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so non-zero dropout "
                          f"expects num_layers greater than 1, but got dropout={dropout} and num_layers={num_layers}",
                          UserWarning, stacklevel=2)
        for name, size in (("input_size", input_size), ("hidden_size", hidden_size), ("num_layers", num_layers)):
            if size <= 0:
                raise ValueError(f"{name} must be greater than zero, got {size!r}")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if proj_size and mode != "LSTM":
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        gate_size = _GATES[mode] * hidden_size
        out_size = proj_size or hidden_size
        self._flat_weights_names: list[str] = []
        for layer in range(num_layers):
            for direction in range(2 if bidirectional else 1):
                layer_in = input_size if layer == 0 else out_size * (2 if bidirectional else 1)
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                shapes = [("weight_ih", (gate_size, layer_in)), ("weight_hh", (gate_size, out_size))]
                if bias:
                    shapes += [("bias_ih", (gate_size,)), ("bias_hh", (gate_size,))]
                if proj_size:
                    shapes.append(("weight_hr", (proj_size, hidden_size)))
                for name, shape in shapes:
                    setattr(self, name + suffix, _new_param(shape, dtype))
                    self._flat_weights_names.append(name + suffix)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every weight and bias ~ U(-1/√hidden_size, 1/√hidden_size), as PyTorch."""
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def flatten_parameters(self) -> None:
        """A no-op kept for PyTorch code (cuDNN packs weights into one buffer; NumPy has nothing to pack)."""

    @property
    def _flat_weights(self) -> list:
        return [getattr(self, name) for name in self._flat_weights_names]

    @property
    def all_weights(self) -> list[list[Parameter]]:
        per = len(self._flat_weights_names) // (self.num_layers * (2 if self.bidirectional else 1))
        w = self._flat_weights
        return [w[i:i + per] for i in range(0, len(w), per)]

    def _weights(self, layer: int, direction: int):
        suffix = f"_l{layer}" + ("_reverse" if direction else "")
        get = self._parameters.get
        return (get("weight_ih" + suffix), get("weight_hh" + suffix), get("bias_ih" + suffix),
                get("bias_hh" + suffix), get("weight_hr" + suffix))

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    # --- forward ---------------------------------------------------------------------------------
    def _check_input(self, input) -> bool:
        name = type(self).__name__
        if not isinstance(input, Tensor):
            raise NotImplementedError(f"{name}: input must be a Tensor or a PackedSequence (see "
                                      f"nn.utils.rnn.pack_sequence), got {type(input).__name__}")
        if input.ndim not in (2, 3):
            raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.ndim}D tensor instead "
                             f"(shape {tuple(input.shape)})")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected {self.input_size}, "
                               f"got {input.shape[-1]}")
        w = self.weight_ih_l0
        if input.dtype != w.dtype:
            raise ValueError(f"{name} input dtype ({input.dtype}) does not match weight dtype ({w.dtype}). "
                             f"Convert input: input.to({w.dtype}), or convert model: model.to({input.dtype})")
        return input.ndim == 3

    def _initial(self, hx, batch: int, size: int, batched: bool, dtype, what: str = "hidden") -> Tensor:
        D = 2 if self.bidirectional else 1
        expected = (self.num_layers * D, batch, size)
        if hx is None:
            return Tensor._make(xp.zeros(expected, dtype))
        if not batched:
            if hx.ndim != 2:
                raise RuntimeError(f"For unbatched 2-D input, hx should also be 2-D but got {hx.ndim}-D tensor")
            hx = hx.unsqueeze(1)
        elif hx.ndim != 3:
            raise RuntimeError(f"For batched 3-D input, hx should also be 3-D but got {hx.ndim}-D tensor")
        if tuple(hx.shape) != expected:
            raise RuntimeError(f"Expected {what} size {expected}, got {list(hx.shape)}")
        return hx

    def _run(self, input: Tensor, states: list[Tensor]):
        """The time loop over layers and directions. ``states`` (h, or h and c) are (layers·D, N, H)."""
        D = 2 if self.bidirectional else 1
        steps = input.shape[0]
        layer_input = input
        finals = [[] for _ in states]
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(D):
                w_ih, w_hh, b_ih, b_hh, w_hr = self._weights(layer, direction)
                gi = F.linear(layer_input, w_ih, b_ih).unbind(0)   # the input part, all steps at once
                state = [s[layer * D + direction] for s in states]
                order = range(steps - 1, -1, -1) if direction else range(steps)
                out = [None] * steps
                for t in order:
                    state = self._step(gi[t], state, w_hh, b_hh, w_hr)
                    out[t] = state[0]
                outputs.append(stack(out, 0))
                for k, s in enumerate(state):
                    finals[k].append(s)
            layer_input = outputs[0] if D == 1 else cat(outputs, -1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_input = F.dropout(layer_input, self.dropout, True)
        return layer_input, [stack(f, 0) for f in finals]

    def _forward(self, input: Tensor, hx: list):
        """Shared by RNN/GRU (one state) and LSTM (two): shapes in, shapes out, batch_first."""
        if isinstance(input, PackedSequence):
            return run_packed(self, input, hx)
        batched = self._check_input(input)
        if not batched:
            input = input.unsqueeze(1)
        elif self.batch_first:
            input = input.transpose(0, 1)
        batch, dtype = input.shape[1], input._data.dtype
        out_size = self.proj_size or self.hidden_size
        sizes = [out_size, self.hidden_size][:len(hx)]
        whats = ["hidden[0]", "hidden[1]"] if len(hx) == 2 else ["hidden"]   # PyTorch's names in its errors
        states = [self._initial(h, batch, size, batched, dtype, what) for h, size, what in zip(hx, sizes, whats)]
        output, finals = self._run(input, states)
        if not batched:
            return output.squeeze(1), [f.squeeze(1) for f in finals]
        if self.batch_first:
            output = output.transpose(0, 1)
        return output, finals


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(W_ih x_t + b_ih + W_hh h_(t-1) + b_hh) (or relu), stacked and/or bidirectional.

    Returns ``(output, h_n)``: output (L, N, D·H) (batch first if asked), h_n (num_layers·D, N, H).

    >>> import chainrule as cr
    >>> rnn = cr.nn.RNN(3, 5, num_layers=2, batch_first=True)
    >>> out, h = rnn(cr.randn(4, 7, 3))
    >>> out.shape, h.shape
    (chainrule.Size([4, 7, 5]), chainrule.Size([2, 4, 5]))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, nonlinearity: str = "tanh",
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device=None, dtype=None, *, proj_size: int = 0) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        self.nonlinearity = nonlinearity
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size, hidden_size, num_layers,
                         bias, batch_first, dropout, bidirectional, proj_size, device=device, dtype=dtype)

    def _step(self, gi, state, w_hh, b_hh, w_hr):
        return [_rnn_step(gi, state[0], w_hh, b_hh, self.nonlinearity == "relu")]

    def forward(self, input: Tensor, hx: Tensor | None = None):
        output, (h,) = self._forward(input, [hx])
        return output, h


class GRU(RNNBase):
    """Gated recurrent unit (Cho et al., 2014), gates in PyTorch's order r, z, n.

    >>> import chainrule as cr
    >>> out, h = cr.nn.GRU(3, 5, bidirectional=True)(cr.randn(7, 2, 3))
    >>> out.shape, h.shape
    (chainrule.Size([7, 2, 10]), chainrule.Size([2, 2, 5]))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device=None, dtype=None, *, proj_size: int = 0) -> None:
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         proj_size, device=device, dtype=dtype)

    def _step(self, gi, state, w_hh, b_hh, w_hr):
        return [_gru_step(gi, state[0], w_hh, b_hh)]

    def forward(self, input: Tensor, hx: Tensor | None = None):
        output, (h,) = self._forward(input, [hx])
        return output, h


class LSTM(RNNBase):
    """Long short-term memory (Hochreiter & Schmidhuber, 1997), gates in PyTorch's order i, f, g, o.

    ``forward(input, (h_0, c_0))`` returns ``(output, (h_n, c_n))``; with ``proj_size > 0`` the hidden
    state is projected by ``weight_hr_l*`` to proj_size features.

    >>> import chainrule as cr
    >>> out, (h, c) = cr.nn.LSTM(3, 5, num_layers=2)(cr.randn(7, 2, 3))
    >>> out.shape, h.shape, c.shape
    (chainrule.Size([7, 2, 5]), chainrule.Size([2, 2, 5]), chainrule.Size([2, 2, 5]))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, proj_size: int = 0,
                 device=None, dtype=None) -> None:
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         proj_size, device=device, dtype=dtype)

    def _step(self, gi, state, w_hh, b_hh, w_hr):
        return list(_lstm_step(gi, state[0], state[1], w_hh, b_hh, w_hr))

    def forward(self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None):
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise RuntimeError("LSTM: hx must be a tuple (h_0, c_0) of two Tensors, got "
                               f"{type(hx).__name__}")
        output, (h, c) = self._forward(input, list(hx) if hx is not None else [None, None])
        return output, (h, c)


class RNNCellBase(Module):
    """One time step: ``weight_ih`` (gates·H, input), ``weight_hh`` (gates·H, H), ``bias_ih``, ``bias_hh``."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int, device=None,
                 dtype=None) -> None:
        super().__init__()
        require_cpu(device, type(self).__name__)
        layer_sizes(type(self).__name__, input_size=input_size, hidden_size=hidden_size)
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = _new_param((num_chunks * hidden_size, input_size), dtype)
        self.weight_hh = _new_param((num_chunks * hidden_size, hidden_size), dtype)
        if bias:
            self.bias_ih = _new_param((num_chunks * hidden_size,), dtype)
            self.bias_hh = _new_param((num_chunks * hidden_size,), dtype)
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    reset_parameters = RNNBase.reset_parameters

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def _prepare(self, input: Tensor, hx, n_states: int):
        name = type(self).__name__
        if input.ndim not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.ndim}D instead")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"{name}: input has inconsistent input_size: got {input.shape[-1]} expected "
                               f"{self.input_size}")
        batched = input.ndim == 2
        x = input if batched else input.unsqueeze(0)
        if hx is None:
            zeros = Tensor._make(xp.zeros((x.shape[0], self.hidden_size), x._data.dtype))
            states = [zeros] * n_states
        else:
            if n_states > 1 and (isinstance(hx, Tensor) or len(hx) != n_states):
                got = "a Tensor" if isinstance(hx, Tensor) else f"{len(hx)} item(s)"
                raise TypeError(f"{name}: hx must be a tuple (h, c) of two Tensors, got {got}; "
                                f"pass {name.lower()}(x, (h, c))")
            states = list(hx) if n_states > 1 else [hx]
            for s in states:
                if s.ndim != input.ndim:
                    raise ValueError(f"{name}: Expected hidden to be {input.ndim}D, got {s.ndim}D instead")
            states = states if batched else [s.unsqueeze(0) for s in states]
            for s in states:
                if tuple(s.shape) != (x.shape[0], self.hidden_size):
                    raise RuntimeError(f"{name}: hidden state of shape {tuple(s.shape)} does not fit: expected "
                                       f"{(x.shape[0], self.hidden_size)}")
        gi = F.linear(x, self.weight_ih, self.bias_ih)
        return gi, states, batched


class RNNCell(RNNCellBase):
    """h' = tanh(W_ih x + b_ih + W_hh h + b_hh) (or relu), one step.

    >>> import chainrule as cr
    >>> cr.nn.RNNCell(3, 4)(cr.randn(2, 3)).shape
    chainrule.Size([2, 4])
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh",
                 device=None, dtype=None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, bias, 1, device=device, dtype=dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        gi, (h,), batched = self._prepare(input, hx, 1)
        h = _rnn_step(gi, h, self.weight_hh, self.bias_hh, self.nonlinearity == "relu")
        return h if batched else h.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step: returns ``(h', c')``.

    >>> import chainrule as cr
    >>> h, c = cr.nn.LSTMCell(3, 4)(cr.randn(2, 3))
    >>> h.shape, c.shape
    (chainrule.Size([2, 4]), chainrule.Size([2, 4]))
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, 4, device=device, dtype=dtype)

    def forward(self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None):
        gi, (h, c), batched = self._prepare(input, hx, 2)
        h, c = _lstm_step(gi, h, c, self.weight_hh, self.bias_hh, None)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """One GRU step: returns h'.

    >>> import chainrule as cr
    >>> cr.nn.GRUCell(3, 4)(cr.randn(3)).shape
    chainrule.Size([4])
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, 3, device=device, dtype=dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        gi, (h,), batched = self._prepare(input, hx, 1)
        h = _gru_step(gi, h, self.weight_hh, self.bias_hh)
        return h if batched else h.squeeze(0)

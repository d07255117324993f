"""``nn.RNN``/``LSTM``/``GRU`` on a ``PackedSequence``: the time loop runs only over real steps.

Packed data is sorted by length (longest first), so at step t the running sequences are the first
``batch_sizes[t]`` rows. Each step updates those rows and leaves the others as they are: a finished
sequence keeps its last state (its h_n), and in the reverse direction a sequence that has not started
yet still holds h_0 when its last element comes up.
"""

from __future__ import annotations

from ..tensor import Tensor
from ..tensor.functions import cat, stack
from . import functional as F
from .utils.rnn import PackedSequence


def run_packed(rnn, packed: PackedSequence, hx: list) -> tuple[PackedSequence, list[Tensor]]:
    """``rnn._forward`` for packed input: (packed output, final states in the caller's batch order)."""
    name = type(rnn).__name__
    data, batch_sizes, sorted_indices, unsorted_indices = packed
    if data.ndim != 2 or data.shape[-1] != rnn.input_size:
        raise RuntimeError(f"{name}: packed input data must be (total steps, input_size={rnn.input_size}), got "
                           f"shape {tuple(data.shape)}")
    w = rnn.weight_ih_l0
    if data.dtype != w.dtype:
        raise ValueError(f"{name} input dtype ({data.dtype}) does not match weight dtype ({w.dtype}). Convert "
                         f"input: input.to({w.dtype}), or convert model: model.to({data.dtype})")
    sizes = batch_sizes.tolist()
    batch, dtype = sizes[0], data._data.dtype
    out_size = rnn.proj_size or rnn.hidden_size
    whats = ["hidden[0]", "hidden[1]"] if len(hx) == 2 else ["hidden"]
    states = [rnn._initial(h, batch, size, True, dtype, what)
              for h, size, what in zip(hx, [out_size, rnn.hidden_size], whats)]
    if sorted_indices is not None:   # the caller's h_0 rows, in packed (sorted) order
        states = [s.index_select(1, sorted_indices) for s in states]
    D = 2 if rnn.bidirectional else 1
    layer_input, finals = data, [[] for _ in states]
    for layer in range(rnn.num_layers):
        outputs = []
        for direction in range(D):
            w_ih, w_hh, b_ih, b_hh, w_hr = rnn._weights(layer, direction)
            gi = F.linear(layer_input, w_ih, b_ih).split(sizes, 0)   # the input part of every step at once
            state = [s[layer * D + direction] for s in states]
            out = [None] * len(sizes)
            for t in (range(len(sizes) - 1, -1, -1) if direction else range(len(sizes))):
                b = sizes[t]
                new = rnn._step(gi[t], [s[:b] for s in state], w_hh, b_hh, w_hr)
                out[t] = new[0]
                state = [n if b == s.shape[0] else cat([n, s[b:]], 0) for n, s in zip(new, state)]
            outputs.append(cat(out, 0))
            for k, s in enumerate(state):
                finals[k].append(s)
        layer_input = outputs[0] if D == 1 else cat(outputs, -1)
        if rnn.dropout and rnn.training and layer < rnn.num_layers - 1:
            layer_input = F.dropout(layer_input, rnn.dropout, True)
    finals = [stack(f, 0) for f in finals]
    if unsorted_indices is not None:
        finals = [f.index_select(1, unsorted_indices) for f in finals]
    return PackedSequence(layer_input, batch_sizes, sorted_indices, unsorted_indices), finals

"""``nn.utils.rnn``: batching sequences of different lengths, by padding or by packing.

A ``PackedSequence`` stores only the real time steps: ``data`` holds, time step by time step, the
elements of the sequences still running (longest first), and ``batch_sizes[t]`` says how many there
are at step t. ``nn.RNN``/``LSTM``/``GRU`` accept it and then never compute on padding; their final
states are each sequence's state at its own last step.

>>> import chainrule as cr
>>> pad_sequence([cr.ones(2), cr.ones(3)], batch_first=True)
tensor([[1., 1., 0.],
        [1., 1., 1.]])
>>> packed = pack_sequence([cr.tensor([1.0, 2.0, 3.0]), cr.tensor([4.0])])
>>> packed.data, packed.batch_sizes
(tensor([1., 4., 2., 3.]), tensor([2, 1, 1]))
"""

from __future__ import annotations

import itertools
from typing import NamedTuple

from ...tensor import Tensor
from ...tensor.creation import arange, empty_like, tensor
from ...tensor.functions import cat, stack
from ..functional import pad

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence", "pack_sequence", "pad_packed_sequence",
           "pad_sequence", "unpack_sequence", "unpad_sequence"]


def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Stack tensors of shapes (L_i, *) into (L_max, B, *) (or (B, L_max, *)), padding the short ones.

    Differentiable: the gradient of each sequence is its slice of the padded gradient.
    """
    if padding_side not in ("right", "left"):
        raise ValueError(f"Expected padding_side to be one of left or right, but got {padding_side}.")
    sequences = list(sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    if not all(isinstance(s, Tensor) for s in sequences):
        raise TypeError("pad_sequence: expected a list of Tensors, got "
                        f"{[type(s).__name__ for s in sequences]}")
    tail = tuple(sequences[0].shape[1:])
    for i, s in enumerate(sequences):
        if s.ndim == 0 or tuple(s.shape[1:]) != tail:
            raise RuntimeError(f"pad_sequence: sequence {i} has shape {tuple(s.shape)}; every sequence must be "
                               f"(L_i, *{tail}) with the same trailing dims as sequence 0")
    longest = max(s.shape[0] for s in sequences)
    padded = []
    for s in sequences:
        missing = longest - s.shape[0]
        widths = (0, 0) * len(tail) + ((0, missing) if padding_side == "right" else (missing, 0))
        padded.append(pad(s, widths, value=padding_value) if missing else s)
    return stack(padded, 0 if batch_first else 1)


def unpad_sequence(padded_sequences: Tensor, lengths, batch_first: bool = False) -> list[Tensor]:
    """Split a padded batch back into its sequences, the i-th cut to ``lengths[i]``.

    >>> import chainrule as cr
    >>> [t.shape[0] for t in unpad_sequence(cr.zeros(3, 2), [3, 1])]
    [3, 1]
    """
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    lengths = lengths.tolist() if isinstance(lengths, Tensor) else list(lengths)
    return [padded_sequences[i, :int(n)] for i, n in enumerate(lengths)]


class PackedSequence(NamedTuple):
    """Sequences of different lengths packed time step by time step (see the module docstring).

    ``sorted_indices``/``unsorted_indices`` are None when the batch was already sorted by decreasing length;
    otherwise they map between the caller's batch order and the packed (sorted) order.
    """

    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None = None
    unsorted_indices: Tensor | None = None

    def to(self, *args, **kwargs) -> PackedSequence:
        """The same packing with ``data`` converted by ``Tensor.to`` (the index tensors stay int64)."""
        return self._replace(data=self.data.to(*args, **kwargs))

    def cpu(self) -> PackedSequence:
        return self

    def double(self) -> PackedSequence:
        return self._replace(data=self.data.double())

    def float(self) -> PackedSequence:
        return self._replace(data=self.data.float())

    @property
    def is_cuda(self) -> bool:
        return False

    def is_pinned(self) -> bool:
        return False


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The permutation that undoes ``permutation`` (None stays None).

    >>> import chainrule as cr
    >>> invert_permutation(cr.tensor([2, 0, 1]))
    tensor([1, 2, 0])
    """
    if permutation is None:
        return None
    out = empty_like(permutation)
    out[permutation] = arange(permutation.numel(), dtype=permutation.dtype)
    return out


def _lengths(lengths, batch: int) -> list[int]:
    values = lengths.tolist() if isinstance(lengths, Tensor) else [int(n) for n in lengths]
    if isinstance(lengths, Tensor) and (lengths.ndim != 1 or lengths.is_floating_point()):
        raise RuntimeError(f"pack_padded_sequence: 'lengths' must be a 1D integer tensor, got shape "
                           f"{tuple(lengths.shape)} and dtype {lengths.dtype}")
    if len(values) != batch:
        raise RuntimeError(f"pack_padded_sequence: Expected `len(lengths)` to be equal to batch_size, but got "
                           f"{len(values)} (batch_size={batch})")
    if any(n <= 0 for n in values):
        raise RuntimeError(f"pack_padded_sequence: Length of all samples has to be greater than 0, but found an "
                           f"element in 'lengths' that is <= 0: {values}")
    return [int(n) for n in values]


def pack_padded_sequence(input: Tensor, lengths, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded batch (T, B, *) (or (B, T, *)) whose i-th sequence has ``lengths[i]`` real steps.

    With ``enforce_sorted=False`` the sequences may come in any order: they are sorted by length here and
    ``sorted_indices`` records how (``pad_packed_sequence`` restores the order). Differentiable.

    >>> import chainrule as cr
    >>> pack_padded_sequence(cr.tensor([[1.0, 4.0], [2.0, 0.0]]), [2, 1]).batch_sizes
    tensor([2, 1])
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"pack_padded_sequence: input must be a Tensor, got {type(input).__name__}")
    batch_dim = 0 if batch_first else 1
    if input.ndim < 2:
        raise RuntimeError(f"pack_padded_sequence: input must have at least 2 dims (time and batch), got shape "
                           f"{tuple(input.shape)}")
    values = _lengths(lengths, input.shape[batch_dim])
    sorted_indices = None
    if enforce_sorted:
        if any(a < b for a, b in itertools.pairwise(values)):
            raise RuntimeError("pack_padded_sequence: `lengths` array must be sorted in decreasing order when "
                               "`enforce_sorted` is True. You can pass `enforce_sorted=False` to "
                               "pack_padded_sequence and/or pack_sequence to sidestep this requirement if you do "
                               f"not need ONNX exportability (got lengths {values})")
    else:
        values_t, sorted_indices = tensor(values).sort(descending=True)
        values = values_t.tolist()
        input = input.index_select(batch_dim, sorted_indices)
    if batch_first:
        input = input.transpose(0, 1)
    if values[0] > input.shape[0]:
        raise RuntimeError(f"pack_padded_sequence: a length of {values[0]} is longer than the {input.shape[0]} "
                           f"time steps of the padded input")
    sizes = [sum(1 for n in values if n > t) for t in range(values[0])]
    data = cat([input[t, :b] for t, b in enumerate(sizes)], 0)
    return PackedSequence(data, tensor(sizes), sorted_indices, invert_permutation(sorted_indices))


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False, padding_value: float = 0.0,
                        total_length: int | None = None) -> tuple[Tensor, Tensor]:
    """Unpack to a padded batch (T, B, *) (or (B, T, *)) and the int64 lengths, in the caller's batch order.

    >>> import chainrule as cr
    >>> padded, lengths = pad_packed_sequence(pack_sequence([cr.ones(2), cr.ones(1)]), batch_first=True)
    >>> padded, lengths
    (tensor([[1., 1.],
            [1., 0.]]), tensor([2, 1]))
    """
    sizes = sequence.batch_sizes.tolist()
    steps, batch = len(sizes), sizes[0] if sizes else 0
    if total_length is not None and total_length < steps:
        raise ValueError(f"pad_packed_sequence: Expected total_length to be at least the length of the longest "
                         f"sequence in input, but got total_length={total_length} and max sequence length being "
                         f"{steps}")
    data, rows, start = sequence.data, [], 0
    tail = (0, 0) * (data.ndim - 1)
    for b in sizes:
        rows.append(pad(data[start:start + b], tail + (0, batch - b), value=padding_value))
        start += b
    padded = stack(rows, 0)
    if total_length is not None and total_length > steps:
        padded = pad(padded, tail + (0, 0, 0, total_length - steps), value=padding_value)
    lengths = tensor([sum(1 for b in sizes if b > i) for i in range(batch)])
    if sequence.unsorted_indices is not None:
        padded = padded.index_select(1, sequence.unsorted_indices)
        lengths = lengths[sequence.unsorted_indices]
    return (padded.transpose(0, 1) if batch_first else padded), lengths


def pack_sequence(sequences, enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of tensors (L_i, *) (longest first unless ``enforce_sorted=False``).

    >>> import chainrule as cr
    >>> pack_sequence([cr.ones(1), cr.ones(3)], enforce_sorted=False).batch_sizes
    tensor([2, 1, 1])
    """
    sequences = list(sequences)
    return pack_padded_sequence(pad_sequence(sequences), [s.shape[0] for s in sequences],
                                enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    """The list of sequences a PackedSequence holds, in the caller's order.

    >>> import chainrule as cr
    >>> [t.tolist() for t in unpack_sequence(pack_sequence([cr.ones(1), cr.ones(2)], enforce_sorted=False))]
    [[1.0], [1.0, 1.0]]
    """
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return [padded[i, :n] for i, n in enumerate(lengths.tolist())]

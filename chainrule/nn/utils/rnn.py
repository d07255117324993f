"""``nn.utils.rnn``: batching sequences of different lengths by padding (PackedSequence is not supported).

>>> import chainrule as cr
>>> pad_sequence([cr.ones(2), cr.ones(3)], batch_first=True)
tensor([[1., 1., 0.],
        [1., 1., 1.]])
"""

from __future__ import annotations

from ...tensor import Tensor
from ...tensor.functions import stack
from ..functional import pad

__all__ = ["PackedSequence", "pack_padded_sequence", "pack_sequence", "pad_packed_sequence", "pad_sequence",
           "unpad_sequence"]

_PACKED = ("PackedSequence is not supported by chainrule: pad the batch with pad_sequence and run the RNN on "
           "the padded tensor (mask or index the outputs by length), or use unpad_sequence to split it again")


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


class PackedSequence:
    """The name exists (so ``isinstance(x, PackedSequence)`` checks run), but making one raises."""

    def __new__(cls, *args, **kwargs):
        raise NotImplementedError(f"PackedSequence: {_PACKED}")


def pack_padded_sequence(*args, **kwargs):
    """Not supported (see the module docstring): raises NotImplementedError naming the alternative."""
    raise NotImplementedError(f"pack_padded_sequence: {_PACKED}")


def pad_packed_sequence(*args, **kwargs):
    """Not supported: raises NotImplementedError naming the alternative."""
    raise NotImplementedError(f"pad_packed_sequence: {_PACKED}")


def pack_sequence(*args, **kwargs):
    """Not supported: raises NotImplementedError naming the alternative."""
    raise NotImplementedError(f"pack_sequence: {_PACKED}")

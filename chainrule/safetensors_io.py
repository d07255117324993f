"""Reading safetensors bytes safely, and the low-precision dtypes NumPy lacks (used by ``serialization``).

* ``read_bytes``: a path must be a regular file (``/dev/zero`` or a FIFO would be read until memory runs
  out, or block forever), and the header size the file claims must fit in the file — both checked
  before anything large is allocated.
* ``upcast_low_precision``: BF16 and F8 (E4M3, E5M2) tensors — common in published weights — have no
  NumPy dtype. Their raw bits are read as unsigned integers and converted to float32 exactly (every
  BF16 and F8 value is a float32 value), so chainrule loads them as float32 tensors.
"""

from __future__ import annotations

import io
import json
import os
import stat

from .backend import xp

_RAW = {"BF16": "U16", "F8_E4M3": "U8", "F8_E5M2": "U8"}   # how safetensors should read the bits


def read_bytes(f: str | os.PathLike | io.IOBase) -> tuple[str, bytes]:
    """(name for messages, the file's bytes), refusing non-regular files and impossible headers."""
    if hasattr(f, "read"):
        where, data = getattr(f, "name", "the file object"), f.read()
        check_header_size(data, where, len(data))
        return where, data
    if not isinstance(f, str | os.PathLike):   # an int would be read as an open file descriptor
        raise TypeError(f"load: expected a file path (str or os.PathLike) or a binary file object, "
                        f"got {type(f).__name__} ({f!r})")
    where = str(f)
    try:
        st = os.stat(f)
    except FileNotFoundError:
        raise FileNotFoundError(f"load: no such file: {where}") from None
    if stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(f"load: {where} is a directory, expected a .safetensors file")
    if not stat.S_ISREG(st.st_mode):
        raise ValueError(f"load: {where} is not a regular file (a device, pipe or socket); a model file is a "
                         f".safetensors file on disk")
    with open(f, "rb") as fh:
        head = fh.read(8)
        check_header_size(head, where, st.st_size)
        return where, head + fh.read()


def check_header_size(data: bytes, where: str, size: int) -> None:
    """A safetensors file starts with a little-endian u64: the length of the JSON header after it."""
    if size < 8 or len(data) < 8:
        raise ValueError(f"load: {where} ({size} bytes) is too short to be a safetensors file")
    n = int.from_bytes(data[:8], "little")
    if n > size - 8:
        raise ValueError(f"load: {where} is not a valid safetensors file: its header claims {n} bytes but the "
                         f"file has only {size - 8} after the size field — truncated or corrupted? (Files "
                         f"written by torch.save, which pickles, cannot be read: save them with safetensors)")


def upcast_low_precision(data: bytes) -> tuple[bytes, dict]:
    """``data`` with BF16/F8 entries relabelled as unsigned integers, and {name: original dtype}."""
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + n])
    if not isinstance(header, dict):
        return data, {}
    low = {k: v["dtype"] for k, v in header.items()
           if k != "__metadata__" and isinstance(v, dict) and v.get("dtype") in _RAW}
    if not low:
        return data, {}
    for k, dtype in low.items():
        header[k]["dtype"] = _RAW[dtype]
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)                      # safetensors keeps the data 8-byte aligned
    return len(raw).to_bytes(8, "little") + raw + data[8 + n:], low


def to_float32(bits, dtype: str):
    """The float32 values of BF16 (uint16) or F8 (uint8) bit patterns."""
    if dtype == "BF16":
        return (bits.astype(xp.uint32) << 16).view(xp.float32)   # bf16 is the top half of a float32
    return _f8_table(dtype)[bits]


def _f8_table(dtype: str):
    """All 256 values of an 8-bit float: E4M3 (bias 7, no infinities, NaN = S.1111.111) or E5M2 (bias 15,
    IEEE-like: exponent 31 is inf or NaN)."""
    b = xp.arange(256)
    sign = xp.where(b >> 7, -1.0, 1.0)
    if dtype == "F8_E4M3":
        e, m, bias, mbits = (b >> 3) & 15, b & 7, 7, 3
    else:
        e, m, bias, mbits = (b >> 2) & 31, b & 3, 15, 2
    frac = m / (1 << mbits)
    value = xp.where(e == 0, frac * 2.0 ** (1 - bias), (1 + frac) * 2.0 ** (e - bias))
    if dtype == "F8_E4M3":
        value = xp.where((e == 15) & (m == 7), xp.nan, value)
    else:
        value = xp.where(e == 31, xp.where(m == 0, xp.inf, xp.nan), value)
    return (sign * value).astype(xp.float32)

"""chainrule: backpropagation is the chain rule applied to a computational graph — see it, and
train real models with it. A small PyTorch-compatible library on NumPy.

>>> import chainrule as torch          # PyTorch code runs with only the import changed
>>> x = torch.ones(2, 2, requires_grad=True)
>>> out = (3 * (x + 2) ** 2).mean()
>>> out.backward(); x.grad
tensor([[4.5000, 4.5000],
        [4.5000, 4.5000]])
"""

from . import (  # PyTorch's layout (issue 10)
    accelerator,
    amp,
    autograd,
    backend,
    backends,
    cuda,
    data,
    distributions,
    linalg,
    nn,
    optim,
    utils,
)
from .amp import autocast
from .autograd import (
    Function,
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from .backend import DType as dtype
from .backend import Generator, bfloat16, float16, float32, float64, int32, int64, uint8
from .backend import bool_ as bool
from .compile import compile
from .serialization import load, save
from .tensor import Size, Tensor, device
from .tensor.creation import (
    arange,
    as_tensor,
    empty,
    empty_like,
    eye,
    from_dlpack,
    from_numpy,
    full,
    full_like,
    linspace,
    ones,
    ones_like,
    tensor,
    zeros,
    zeros_like,
)
from .tensor.device import get_default_device, set_default_device
from .tensor.functions import *
from .tensor.random import (
    bernoulli,
    get_rng_state,
    initial_seed,
    manual_seed,
    multinomial,
    normal,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
    seed,
    set_rng_state,
)

float = float32
double = float64
half = float16
long = int64
int = int32
default_generator = backend.default_generator
set_num_threads = backend.set_num_threads
get_num_threads = backend.get_num_threads

__version__ = "0.1.0"


def get_default_dtype():
    """The float type of Python floats and float factories (float32 unless ``set_default_dtype`` changed it).

    >>> import chainrule as cr
    >>> cr.get_default_dtype()
    chainrule.float32
    """
    return backend.default_float


def set_default_dtype(d) -> None:
    """Make ``d`` (float16, float32 or float64) the default float type, as ``torch.set_default_dtype``:
    Python floats, ``torch.Tensor(data)``, float factories and int-to-float results then use it.
    ``bfloat16`` is rejected (NumPy cannot store it; see ``chainrule.bfloat16``).

    >>> import chainrule as cr
    >>> cr.set_default_dtype(cr.float64); cr.tensor([1.5]).dtype
    chainrule.float64
    >>> cr.set_default_dtype(cr.float32)
    """
    backend.set_default_float(d)


def set_printoptions(precision=None, **_):
    """Accepted for compatibility; chainrule prints with PyTorch's default 4 digits."""


def __getattr__(name: str):
    # chainrule.inspect and chainrule.plot load on first use: matplotlib is slow to import;
    # chainrule.distributed too: most programs never use it.
    if name in ("inspect", "plot", "distributed"):
        import importlib
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'chainrule' has no attribute {name!r}")

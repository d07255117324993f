"""gradcheck / gradgradcheck with PyTorch's semantics, and the op-by-op check that names a wrong op."""

from __future__ import annotations

import warnings

import pytest

import chainrule as cr
from chainrule.autograd import GradcheckError, gradcheck, gradgradcheck


class BadSquare(cr.autograd.Function):
    """x² with a deliberately wrong backward (x·g instead of 2x·g)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * x


class GoodSquare(cr.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return 2 * g * x


def inputs(*shapes):
    cr.manual_seed(0)
    return tuple(cr.randn(*s, dtype=cr.float64, requires_grad=True) for s in shapes)


def test_correct_functions_pass():
    x, w = inputs((2, 3), (3, 4))
    assert gradcheck(lambda a, b: (a @ b).tanh().softmax(dim=1), (x, w)) is True
    assert gradcheck(lambda a: GoodSquare.apply(a.exp()).sum(), (x,)) is True
    assert gradgradcheck(lambda a, b: (a @ b).sigmoid(), (x, w)) is True


def test_wrong_function_is_caught_and_named():
    (x,) = inputs((3,))
    assert gradcheck(lambda a: BadSquare.apply(a.exp()).sum(), (x,), raise_exception=False) is False
    with pytest.raises(GradcheckError, match="Jacobian mismatch for output 0 with respect to input 0") as err:
        gradcheck(lambda a: BadSquare.apply(a.exp()).sum(), (x,))      # named by default, with shapes
    assert "op #1 BadSquareBackward on inputs of shapes (3,) (created at " in str(err.value)
    assert "test_gradcheck.py" in str(err.value)
    failures = cr.inspect.check_graph(lambda a: BadSquare.apply(a.exp()).sum(), (x,))
    assert [f["op"] for f in failures] == ["BadSquareBackward"]
    assert isinstance(err.value, RuntimeError)


def test_float32_inputs_warn_like_pytorch():
    # at 0 the float32 central difference of a*2 is exact (random inputs make it fail in float32, in
    # PyTorch too, which is why it warns)
    x = cr.zeros(3, requires_grad=True)
    with pytest.warns(UserWarning, match="Input #0 requires gradient and is not a double precision"):
        gradcheck(lambda a: a * 2, (x,), atol=1e-2, rtol=1e-2)


def test_no_input_requires_grad_is_an_error():
    with pytest.raises(ValueError, match="at least one input tensor to require gradient"):
        gradcheck(lambda a: a * 2, (cr.ones(2, dtype=cr.float64),))


def test_second_derivative_bug_is_caught():
    class FirstOrderOnly(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.sin()

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * x.detach().cos()  # detach: the first derivative is right, its derivative is lost

    (x,) = inputs((3,))
    assert gradcheck(lambda a: FirstOrderOnly.apply(a), (x,)) is True
    assert gradgradcheck(lambda a: FirstOrderOnly.apply(a), (x,), raise_exception=False) is False


def test_agrees_with_pytorch_gradcheck(torch):
    (x,) = inputs((4,))
    tx = torch.tensor(x.detach().numpy(), requires_grad=True)

    class TorchBad(torch.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return a * a

        @staticmethod
        def backward(ctx, g):
            (a,) = ctx.saved_tensors
            return g * a

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = torch.autograd.gradcheck(lambda a: TorchBad.apply(a).sum(), (tx,), raise_exception=False)
        theirs_ok = torch.autograd.gradcheck(lambda a: (a * a).log1p().sum(), (tx,))
    assert gradcheck(lambda a: BadSquare.apply(a).sum(), (x,), raise_exception=False) is theirs is False
    assert gradcheck(lambda a: (a * a).log1p().sum(), (x,)) is theirs_ok is True

"""The autograd engine: graph shapes, accumulation, retain_graph, modes, hooks, higher order,
memory, custom Functions — checked against hand-derived values and, where it has the feature,
against PyTorch."""

from __future__ import annotations

import gc
import weakref

import pytest

import chainrule as cr
from chainrule.autograd.functional import hessian, hvp, jacobian, jvp, vjp


def test_diamond_graph_adds_routes():
    # seed 004: c = a + b, d = a * c -> dd/da = c + a = 11, dd/db = a = 4
    a = cr.tensor(4.0, requires_grad=True)
    b = cr.tensor(3.0, requires_grad=True)
    c = a + b
    d = a * c
    d.backward()
    assert a.grad.item() == 11.0
    assert b.grad.item() == 4.0


def test_non_leaf_reused_twice():
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    h = x * x                # dh/dx = 2x
    y = (h * h + h).sum()    # dy/dh = 2h + 1
    y.backward()
    expected = (2 * x._data ** 2 + 1) * 2 * x._data
    assert x.grad.tolist() == expected.tolist()


def test_chain_of_100000_ops_has_no_recursion_error():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]
    ref = weakref.ref(y.grad_fn)
    del y
    gc.collect()
    assert ref() is None  # deleting the output frees all 100,000 nodes, without recursion


def test_accumulation_across_backward_calls():
    w = cr.tensor([1.0, -2.0], requires_grad=True)
    (w * 3).sum().backward()
    (w * w).sum().backward()
    assert w.grad.tolist() == [3 + 2 * 1.0, 3 + 2 * -2.0]


def test_gradients_of_two_leaves_do_not_alias():
    a = cr.tensor([1.0, 2.0], requires_grad=True)
    b = cr.tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()          # AddBackward passes the same gradient to both inputs
    a.grad.zero_()
    assert b.grad.tolist() == [1.0, 1.0]


def test_second_backward_through_freed_graph_raises_pytorch_message():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = (x.tanh() * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        y.backward()


def test_retain_graph_allows_second_backward():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = (x.tanh() * x).sum()
    y.backward(retain_graph=True)
    first = x.grad.tolist()
    y.backward()
    assert x.grad.tolist() == pytest.approx([2 * v for v in first])


def test_non_scalar_backward_needs_gradient():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
        y.backward()
    y.backward(cr.tensor([1.0, 10.0]))
    assert x.grad.tolist() == [2.0, 20.0]


def test_backward_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        cr.tensor(1.0).backward()


def test_no_grad_and_modes():
    w = cr.ones(2, requires_grad=True)
    with cr.no_grad():
        assert not (w * 2).requires_grad
        with cr.enable_grad():
            assert (w * 2).requires_grad
    with cr.inference_mode():
        assert not (w * 2).requires_grad
    with cr.set_grad_enabled(False):
        assert not (w * 2).requires_grad
    assert (w * 2).requires_grad

    @cr.no_grad()
    def f(t):
        return t * 2
    assert not f(w).requires_grad
    assert cr.is_grad_enabled()


def test_grad_and_backward_agree(torch):
    rng = cr.randn(3, 4, dtype=cr.float64)
    x = cr.tensor(rng, requires_grad=True)
    w = cr.randn(4, 2, dtype=cr.float64, requires_grad=True)
    loss = ((x @ w).tanh() ** 2).mean()
    gx, gw = cr.autograd.grad(loss, [x, w], retain_graph=True)
    loss.backward()
    assert gx.allclose(x.grad, rtol=0, atol=0) and gw.allclose(w.grad, rtol=0, atol=0)
    tx = torch.tensor(x.numpy(force=True), requires_grad=True)
    tw = torch.tensor(w.numpy(force=True), requires_grad=True)
    ((tx @ tw).tanh() ** 2).mean().backward()
    assert gx.allclose(cr.tensor(tx.grad.numpy()), rtol=1e-12, atol=1e-14)
    assert gw.allclose(cr.tensor(tw.grad.numpy()), rtol=1e-12, atol=1e-14)


def test_grad_allow_unused():
    x = cr.tensor(1.0, requires_grad=True)
    z = cr.tensor(2.0, requires_grad=True)
    with pytest.raises(RuntimeError, match="allow_unused=True"):
        cr.autograd.grad(x * 2, [x, z])
    gx, gz = cr.autograd.grad(x * 2, [x, z], allow_unused=True)
    assert gx.item() == 2.0 and gz is None


def test_grad_wrt_non_leaf_input():
    x = cr.tensor(3.0, requires_grad=True)
    h = x * x
    y = h.sin()
    (gh,) = cr.autograd.grad(y, h)
    assert gh.item() == pytest.approx(float(cr.tensor(9.0).cos()))


def test_backward_inputs_restricts_accumulation():
    a = cr.tensor(2.0, requires_grad=True)
    b = cr.tensor(5.0, requires_grad=True)
    (a * b).backward(inputs=[a])
    assert a.grad.item() == 5.0 and b.grad is None


def test_retain_grad_and_non_leaf_grad_warning():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    h.retain_grad()
    h2 = x * 4
    (h * h2).sum().backward()
    assert h.grad.tolist() == [4.0, 8.0]
    with pytest.warns(UserWarning, match="not a leaf Tensor"):
        assert h2.grad is None


def test_tensor_hooks_observe_and_replace():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    h = x * 2
    h.register_hook(lambda g: seen.append(g.tolist()))
    handle = x.register_hook(lambda g: g * 10)
    (h * h).sum().backward()
    assert seen == [[4.0, 8.0]]
    assert x.grad.tolist() == [80.0, 160.0]
    handle.remove()
    x.grad = None
    (x * 1).sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]


def test_grad_setter_validates():
    x = cr.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="different size"):
        x.grad = cr.zeros(2)


def test_higher_order_gradients():
    x = cr.tensor(2.0, requires_grad=True)
    y = x ** 4
    (g1,) = cr.autograd.grad(y, x, create_graph=True)
    (g2,) = cr.autograd.grad(g1, x, create_graph=True)
    (g3,) = cr.autograd.grad(g2, x)
    assert (g1.item(), g2.item(), g3.item()) == (32.0, 48.0, 48.0)


def test_backward_create_graph_gives_differentiable_grad():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    (x ** 3).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    g = x.grad
    x.grad = None
    g.sum().backward()
    assert x.grad.tolist() == [6.0, 12.0]


def test_hessian_vector_product_matches_hessian(torch):
    A = cr.randn(3, 3, dtype=cr.float64)
    f = lambda x: (x.sin() * (A @ x)).sum()
    x = cr.randn(3, dtype=cr.float64)
    v = cr.randn(3, dtype=cr.float64)
    H = hessian(f, x)
    _, Hv = hvp(f, x, v)
    assert (H @ v).allclose(Hv, atol=1e-12)
    tA, tx = torch.tensor(A.numpy()), torch.tensor(x.numpy())
    tH = torch.autograd.functional.hessian(lambda t: (t.sin() * (tA @ t)).sum(), tx)
    assert H.allclose(cr.tensor(tH.numpy()), atol=1e-12)


def test_jacobian_of_linear_map_is_the_matrix():
    W = cr.randn(4, 3, dtype=cr.float64)
    x = cr.randn(3, dtype=cr.float64)
    assert jacobian(lambda t: W @ t, x).allclose(W)
    assert jacobian(lambda t: t @ W.T, x).allclose(W)       # y = x Wᵀ: rows of J are still W's rows
    _, jv = jvp(lambda t: W @ t, x, cr.ones(3, dtype=cr.float64))
    assert jv.allclose(W.sum(1))
    _, vj = vjp(lambda t: W @ t, x, cr.ones(4, dtype=cr.float64))
    assert vj.allclose(W.sum(0))


def test_func_grad_nests():
    from chainrule.func import grad
    f = lambda x: x.sin()
    x = cr.tensor(0.5, dtype=cr.float64)
    assert grad(f)(x).item() == pytest.approx(float(x.cos()))
    assert grad(grad(f))(x).item() == pytest.approx(-float(x.sin()))


def test_graph_freed_without_cycles_even_with_create_graph():
    gc.disable()
    try:
        x = cr.tensor([1.0, 2.0], requires_grad=True)
        y = (x.tanh() * x).sum()
        node = weakref.ref(y.grad_fn)
        y.backward(create_graph=True)
        del y
        assert node() is None or x.grad.grad_fn is not None  # the grad's graph may keep it
        x.grad = None
        assert node() is None  # with the grad gone, refcounting alone frees the graph
    finally:
        gc.enable()


class _Cube(cr.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * x ** 2


class _SplitSum(cr.autograd.Function):
    """Two outputs: (x + y, x * y)."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x + y, x * y

    @staticmethod
    def backward(ctx, g_sum, g_prod):
        x, y = ctx.saved_tensors
        return g_sum + g_prod * y, g_sum + g_prod * x


def test_custom_function_first_and_second_order():
    x = cr.tensor(2.0, requires_grad=True)
    y = _Cube.apply(x)
    assert y.grad_fn.name() == "_CubeBackward"
    (g,) = cr.autograd.grad(y, x, create_graph=True)
    (gg,) = cr.autograd.grad(g, x)
    assert (g.item(), gg.item()) == (12.0, 12.0)


def test_custom_function_needs_input_grad_and_multiple_outputs():
    x = cr.tensor(2.0, requires_grad=True)
    y = cr.tensor(5.0)
    s, p = _SplitSum.apply(x, y)
    assert s.grad_fn is p.grad_fn and s.grad_fn.needs_input_grad == (True, False)
    (3 * s + p).backward()
    assert x.grad.item() == 3 + 5
    x.grad = None
    _, p = _SplitSum.apply(x, y)
    p.backward()                     # the unused output's gradient is materialised as zeros
    assert x.grad.item() == 5.0


def test_version_counter_catches_modified_saved_tensor():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1
    z = y.exp()                       # saves its output
    z.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation.*ExpBackward0"):
        z.sum().backward()


def test_split_pieces_meeting_in_one_op_with_hook_and_retain_grad_match_torch(torch):
    """Two edges of one node into one multi-output node (both pieces of a chunk multiplied), a piece used
    again, a retained and a hooked non-leaf on the way: the engine routes each by its output number."""
    def run(lib):
        x = lib.tensor([[0.1, 0.2], [0.3, 0.4], [0.5, 0.6], [0.7, 0.8]], dtype=lib.float64, requires_grad=True)
        a, b = x.chunk(2, 0)
        c = a * b
        c.retain_grad()
        d = c.tanh() + b * 3
        d.register_hook(lambda g: g * 2)
        d.sum().backward()
        return x.grad, c.grad

    for ours, theirs in zip(run(cr), run(torch), strict=True):
        assert ours.allclose(cr.tensor(theirs.numpy()), rtol=1e-10, atol=1e-12)


def test_removed_hook_leaves_the_gradient_alone():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    h.register_hook(lambda g: g * 100).remove()     # the node stays marked; its hook list is empty
    (h * h).sum().backward()
    assert x.grad.tolist() == [18.0, 36.0]


def test_inplace_on_non_leaf_rebases_history(torch):
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.mul_(3)
    y.add_(x * x)                     # y = 6x + x^2
    y.sum().backward()
    tx = torch.tensor([1.0, 2.0], requires_grad=True)
    ty = tx * 2
    ty.mul_(3)
    ty.add_(tx * tx)
    ty.sum().backward()
    assert x.grad.tolist() == tx.grad.tolist() == [8.0, 10.0]
    assert y.grad_fn.name() == type(ty.grad_fn).__name__ == "AddBackward0"


def test_inplace_with_itself_as_operand():
    # As PyTorch: mul_ saved the tensor it overwrites, so its backward raises; add_ saves nothing.
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.mul_(y)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()
    y = x * 2
    y.add_(y)                         # y = 4x
    y.sum().backward()
    assert x.grad.tolist() == [4.0, 4.0]


def test_notes_sgd_update_in_no_grad():
    # seed 004's loop: w1 -= learning_rate * w1.grad inside no_grad, then w1.grad.zero_()
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    version = w._version
    (w * w).sum().backward()
    with cr.no_grad():
        w -= 0.5 * w.grad
        w.grad.zero_()
    assert w.tolist() == [0.0, 0.0] and w.grad.tolist() == [0.0, 0.0]
    assert w.is_leaf and w.requires_grad and w._version == version + 1


def test_engine_order_is_deterministic():
    def order():
        seen = []

        class Obs:
            def node_done(self, node, g, gi):
                seen.append(node.name())

            def leaf_done(self, t, g):
                seen.append("leaf")
        a = cr.tensor(1.0, requires_grad=True)
        h = [a * i for i in range(5)]
        s = h[0]
        for t in h[1:]:
            s = s + t.exp()
        cr.autograd.engine.observers.append(obs := Obs())
        try:
            s.backward()
        finally:
            cr.autograd.engine.observers.remove(obs)
        return seen
    first = order()
    assert first == order() and first[0] == "AddBackward0"


def test_ops_are_silent_on_ieee_specials_like_pytorch():
    # Run as a user script would (pytest resets warning filters around imports, so a subprocess).
    import subprocess
    import sys
    script = (
        "import chainrule as cr\n"
        "x = cr.tensor([0.0, -1.0], requires_grad=True)\n"
        "y = x.log() + x / 0 + x.sqrt()\n"
        "y.sum().backward()\n"
        "assert y.isnan().any().item() and x.grad.isinf().any().item()\n"
        "from chainrule.backend import xp\n"
        "xp.log(xp.zeros(1))  # the user's own NumPy code keeps its warning\n")
    run = subprocess.run([sys.executable, "-W", "default", "-c", script], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    warned = [line for line in run.stderr.splitlines() if "RuntimeWarning" in line]
    assert len(warned) == 1 and "<string>" in warned[0], run.stderr


def test_function_returning_a_one_tuple_backpropagates():
    import chainrule as cr

    class Double(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return (x * 2,)

        @staticmethod
        def backward(ctx, g):
            return g * 2

    x = cr.tensor([1.0, 2.0], requires_grad=True)
    (y,) = Double.apply(x)
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


def _random_dag(lib, leaves, seed: int):
    """The same seeded random program in chainrule or torch: a DAG with shared subexpressions,
    broadcasting, multi-output nodes (chunk, max with indices), a route that carries no gradient
    (integer indices) and a branch that no root depends on. Returns the two roots."""
    import random
    rng = random.Random(seed)
    pool = list(leaves)
    for _ in range(40):
        a, b = rng.choice(pool), rng.choice(pool[-6:])
        k = rng.randrange(7)
        if k == 0:
            pool.append(a + b)
        elif k == 1:
            pool.append(a * b.tanh())
        elif k == 2:
            pool.append((a - b).sin() + a.sum(0))          # (3, 4) + (4,): broadcast, summed back
        elif k == 3:
            p, q = a.chunk(2, 1)                            # one node, two outputs; q often unused
            pool.append((p * 2).repeat(1, 2) if rng.random() < 0.5 else (p + q).repeat(1, 2))
        elif k == 4:
            values, idx = a.max(1, keepdim=True)            # idx: an integer output, no gradient flows
            pool.append(b * values + idx.to(a.dtype))
        elif k == 5:
            pool.append((a * 0.5).tanh().exp() - b)
        else:
            pool.append(a.detach() * b)                     # a route cut out of the graph
    return pool[-1].sum(), (pool[-2] * pool[-3]).mean()


@pytest.mark.parametrize("seed", range(4))
def test_engine_walk_on_random_dags_matches_torch_and_runs_newest_first(torch, seed):
    """Each node runs once, after every node that sends it a gradient, newest first (creation order
    is a topological order), and the gradients are PyTorch's."""
    data = [cr.randn(3, 4, dtype=cr.float64) for _ in range(3)]
    xs = [d.clone().requires_grad_() for d in data]
    ts = [torch.tensor(d.numpy(), requires_grad=True) for d in data]
    runs, sent_to = [], {}

    class Watch:
        def node_done(self, node, g, grad_inputs):
            runs.append(node)
            for nxt, gi in zip(node._edges, grad_inputs, strict=True):
                if gi is not None:
                    assert nxt not in runs, f"{nxt.name()} ran before {node.name()} sent it a gradient"
                    sent_to.setdefault(nxt, []).append(node)

        def leaf_done(self, t, g):
            runs.append(t.grad_fn or t._acc)

    roots = _random_dag(cr, xs, seed)
    cr.autograd.engine.observers.append(watch := Watch())
    try:
        cr.autograd.backward(roots)
    finally:
        cr.autograd.engine.observers.remove(watch)
    assert len(runs) == len(set(runs))
    assert [n._seq for n in runs] == sorted((n._seq for n in runs), reverse=True)
    assert set(sent_to) <= set(runs)        # every node a gradient reached ran
    torch.autograd.backward(_random_dag(torch, ts, seed))
    for x, t in zip(xs, ts, strict=True):
        if t.grad is None:
            assert x.grad is None
        else:
            assert x.grad.allclose(cr.tensor(t.grad.numpy()), rtol=1e-10, atol=1e-12)

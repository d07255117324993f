"""Bad input gets an error that teaches, never a number: the mistakes students make, one row each.

Every row runs in PyTorch too (where PyTorch raises, chainrule must raise), and chainrule's error
must name the op and what was expected (the row's words), and must not be a raw NumPy error (the
innermost frame of the traceback is not inside NumPy). A row is an expression or a few statements
(separated by newlines), grouped by area: shapes, indexing, dtypes, creation and devices, losses,
autograd call order, optimizers, data, modules and state dicts. Where PyTorch only warns, chainrule
warns the same way (``WARNS``); an empty batch is not a mistake and runs as in PyTorch (``RUNS_AS_IN_TORCH``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import traceback
import warnings

import numpy as np
import pytest

import chainrule as cr

ERRORS = (RuntimeError, ValueError, TypeError, IndexError, ZeroDivisionError)

# (code run with m = torch or chainrule, words chainrule's message must contain)
MISTAKES = [
    ("F.binary_cross_entropy(m.tensor([1.5]), m.tensor([1.]))", ["binary_cross_entropy", "input", "0 and 1"]),
    ("F.binary_cross_entropy(m.tensor([-0.1, 0.5]), m.tensor([0., 1.]))", ["binary_cross_entropy", "input"]),
    ("F.binary_cross_entropy(m.tensor([float('nan')]), m.tensor([1.]))", ["binary_cross_entropy", "input"]),
    ("F.binary_cross_entropy(m.tensor([0.5]), m.tensor([1.5]))", ["binary_cross_entropy", "target", "0 and 1"]),
    ("m.nn.BCELoss()(m.tensor([0.5]), m.tensor([-2.]))", ["binary_cross_entropy", "target"]),
    ("m.tensor([3, 4]) // 0", ["division by zero"]),
    ("m.tensor([3, 4]) % 0", ["division by zero"]),
    ("m.tensor([3, 4]) // m.tensor([1, 0])", ["division by zero"]),
    ("m.tensor([3, 4]) % m.tensor([1, 0])", ["division by zero"]),
    ("m.tensor([3]).div(0, rounding_mode='floor')", ["division by zero"]),
    ("m.tensor([3]).div(m.tensor([0]), rounding_mode='trunc')", ["division by zero"]),
    ("m.tensor([[1, 2], [3]])", ["tensor", "length"]),
    ("m.tensor([[1.0, 2.0], 3.0])", ["tensor"]),
    ("m.ones(-1)", ["ones", "-1"]),
    ("m.zeros(2, -3)", ["zeros", "-3"]),
    ("m.empty((-2,))", ["empty", "-2"]),
    ("m.randn(-1, 2)", ["randn", "-1"]),
    ("m.full((-1,), 2.0)", ["full", "-1"]),
    ("m.nn.Linear(3, 2).load_state_dict({0: m.ones(2, 3)})", ["load_state_dict", "0"]),
    ("m.nn.Linear(3, 2)(np.ones((1, 3), dtype=np.float32))", ["linear", "Tensor", "ndarray"]),
    ("F.mse_loss(m.ones(2), m.ones(3))", ["mse_loss", "2", "3"]),
    ("F.binary_cross_entropy(m.ones(3, 1) / 2, m.ones(3))", ["binary_cross_entropy", "(3,)", "(3, 1)"]),
    ("F.binary_cross_entropy_with_logits(m.ones(3, 1), m.ones(3))", ["binary_cross_entropy_with_logits", "size"]),
    ("F.cross_entropy(m.ones(2, 3), m.tensor([0, 3]))", ["cross_entropy", "3"]),
    ("F.cross_entropy(m.ones(2, 3), m.tensor([0, -1]))", ["cross_entropy", "-1"]),
    ("F.nll_loss(m.ones(2, 3), m.tensor([[0], [1]]))", ["nll_loss"]),
    ("m.ones(2, 3) @ m.ones(2, 3)", ["matmul", "(2, 3)"]),
    ("m.ones(2, 3) + m.ones(4)", ["add", "3", "4"]),
    ("m.nn.Linear(3, 4)(m.ones(2, 5))", ["linear", "5", "3"]),
    ("m.nn.Conv2d(3, 8, 3)(m.ones(2, 1, 5, 5))", ["conv2d", "3", "1"]),
    ("m.nn.Conv2d(3, 8, 3)(m.ones(1, 3, 2, 2))", ["conv2d", "kernel"]),
    ("m.nn.Conv2d(3, 8, 3)(m.ones(5, 5))", ["conv2d"]),
    ("F.max_pool2d(m.ones(1, 1, 2, 2), 3)", ["max_pool2d"]),
    ("F.embedding(m.tensor([5]), m.ones(3, 2))", ["embedding", "5"]),
    ("F.embedding(m.tensor([0.5]), m.ones(3, 2))", ["embedding"]),
    ("m.nn.BatchNorm1d(3)(m.ones(1, 3))", ["batch_norm", "1"]),
    ("m.ones(2, 3).index_select(0, m.tensor([-1]))", ["index_select", "-1"]),
    ("m.ones(2, 3).sum(dim=2)", ["sum", "2"]),
    ("m.ones(2, 3).transpose(0, 2)", ["transpose", "2"]),
    ("m.ones(2, 3).permute(0, 0)", ["permute"]),
    ("m.ones(2, 3).expand(3, 3)", ["expand"]),
    ("m.ones(3)[5]", ["5", "3"]),
    ("m.ones(2, 3)[:, 4]", ["4", "3"]),
    ("m.cat([])", ["cat"]),
    ("m.cat([m.ones(2, 3), m.ones(2, 4)])", ["cat", "3", "4"]),
    ("m.stack([m.ones(2), m.ones(3)])", ["stack", "(2,)", "(3,)"]),
    ("m.tensor([1, 2]).mean()", ["mean", "float"]),
    ("m.ones(2).item()", ["item", "2"]),
    ("m.ones(2, requires_grad=True).numpy()", ["numpy", "requires grad"]),
    ("m.ones(2, dtype=m.int64, requires_grad=True)", ["float"]),
    ("m.ones(2, requires_grad=True).sum().backward() or m.ones(2, requires_grad=True).backward()", ["scalar"]),
    ("m.ones(2).sum().backward()", ["grad"]),
    ("m.optim.SGD([], lr=0.1)", ["empty"]),
    ("m.optim.SGD(m.nn.Linear(2, 2).parameters(), lr=-1)", ["learning rate", "-1"]),
    ("m.optim.Adam(m.nn.Linear(2, 2).parameters(), betas=(1.5, 0.9))", ["beta", "1.5"]),
    ("m.ones(2).to('cuda:0')", ["cuda"]),
    ("m.ones(2, 3).gather(1, m.tensor([[0, 5]]))", ["gather", "5"]),
    ("m.ones(2, 3).gather(1, m.tensor([0, 1]))", ["gather", "dimensions"]),
    ("m.ones(2, 3).gather(1, m.tensor([[0], [1], [2]]))", ["gather", "index"]),
    ("m.ones(2, 3).scatter(1, m.tensor([[0, 5]]), 1.0)", ["scatter", "5"]),
    ("m.ones(2, 3).index_select(0, m.tensor([2]))", ["index_select", "2"]),
    ("F.one_hot(m.tensor([3]), 2)", ["one_hot"]),
    ("F.linear(m.ones(2, 3), m.ones(3, 3, dtype=m.float64))", ["linear", "float64"]),
    ("m.ones(2, 3).masked_fill(m.ones(2, 3), 0.0)", ["masked_fill", "bool"]),
    ("m.where(m.ones(2) > 0, m.ones(3), m.ones(2))", ["where", "3"]),
    # --- shapes: products, layers given the wrong rank or sizes ---------------------------------------
    ("m.bmm(m.ones(2, 3, 4), m.ones(2, 5, 6))", ["bmm", "(2, 3, 4)", "(2, 5, 6)"]),
    ("m.bmm(m.ones(3, 4), m.ones(4, 5))", ["bmm", "3-D", "(3, 4)"]),
    ("m.ones(3).dot(m.ones(3, 1))", ["dot", "1-D", "(3, 1)"]),
    ("m.outer(m.ones(2, 2), m.ones(3))", ["outer", "1-D", "(2, 2)"]),
    ("F.linear(m.ones(2, 3), m.ones(3, 4))", ["linear", "(3, 4)", "(out_features, in_features)"]),
    ("F.conv2d(m.ones(1, 3, 5, 5), m.ones(8, 3, 3))", ["conv2d", "4-D weight", "(8, 3, 3)"]),
    ("m.nn.Conv1d(3, 8, 3)(m.ones(2, 3, 5, 5))", ["conv1d", "3-D", "(2, 3, 5, 5)"]),
    ("m.nn.ConvTranspose2d(3, 4, 3)(m.ones(1, 4, 5, 5))", ["conv_transpose2d", "4 channels", "expects 3"]),
    ("m.nn.Conv2d(3, 8, 3, stride=0)(m.ones(1, 3, 5, 5))", ["conv2d", "stride", "positive"]),
    ("m.nn.Conv2d(4, 8, 3, groups=3)", ["conv2d", "divisible by groups", "(4)"]),
    ("m.nn.Conv2d(3, 8, 3, padding='same', stride=2)", ["conv2d", "same", "strided"]),
    ("F.max_pool2d(m.ones(1, 1, 4, 4), 2, padding=2)", ["max_pool2d", "padding", "half"]),
    ("m.nn.MaxPool2d(2)(m.ones(4, 4))", ["max_pool2d", "4-D", "(4, 4)"]),
    ("F.interpolate(m.ones(1, 1, 4, 4))", ["interpolate", "size or scale_factor"]),
    ("F.pad(m.ones(2, 3), (1,))", ["pad", "even"]),
    ("m.nn.RNN(4, 8)(m.ones(5, 3, 6))", ["input_size", "Expected 4, got 6"]),
    ("m.nn.GRU(4, 8)(m.ones(2, 3, 4, 5))", ["GRU", "2D or 3D", "4D"]),
    ("m.nn.LSTM(4, 8, batch_first=True)(m.ones(3, 5, 4), (m.zeros(3, 1, 8), m.zeros(3, 1, 8)))",
     ["hidden[0]", "(1, 3, 8)", "[3, 1, 8]"]),
    ("m.nn.GRU(4, 8, num_layers=2)(m.ones(5, 3, 4), m.zeros(1, 3, 8))", ["hidden size", "(2, 3, 8)"]),
    ("m.nn.LSTM(4, 8)(m.ones(5, 3, 4), m.zeros(1, 3, 8))", ["LSTM", "tuple (h_0, c_0)"]),
    ("m.nn.LSTMCell(4, 8)(m.ones(3, 4), m.zeros(3, 8))", ["LSTMCell", "tuple (h, c)"]),
    ("m.nn.GRUCell(4, 8)(m.ones(3, 4), m.zeros(2, 8))", ["GRUCell", "(2, 8)", "(3, 8)"]),
    ("m.nn.MultiheadAttention(8, 3)", ["MultiheadAttention", "divisible", "num_heads=3"]),
    ("m.nn.MultiheadAttention(8, 2)(m.ones(5, 2, 6), m.ones(5, 2, 6), m.ones(5, 2, 6))",
     ["MultiheadAttention", "embedding dimension of 8", "got 6"]),
    (("m.nn.TransformerEncoderLayer(8, 2, batch_first=True)(m.ones(2, 5, 8), "
      "src_key_padding_mask=m.ones(5, 2, dtype=m.bool))"), ["key_padding_mask", "(2, 5)", "(5, 2)"]),
    ("m.nn.TransformerEncoderLayer(8, 2)(m.ones(5, 2, 8), src_mask=m.ones(4, 4, dtype=m.bool))",
     ["attn_mask", "(4, 4)", "(5, 5)"]),
    ("m.nn.Transformer(8, 2, 1, 1)(m.ones(5, 2, 8), m.ones(4, 3, 8))", ["batch number", "src", "tgt"]),
    ("F.scaled_dot_product_attention(m.ones(2, 4, 8), m.ones(2, 5, 7), m.ones(2, 5, 8))",
     ["scaled_dot_product_attention", "(2, 5, 7)"]),
    (("F.scaled_dot_product_attention(m.ones(2, 4, 8), m.ones(2, 4, 8), m.ones(2, 4, 8), "
      "attn_mask=m.ones(3, 3, dtype=m.bool))"), ["scaled_dot_product_attention", "attn_mask", "(3, 3)"]),
    ("m.nn.LayerNorm(4)(m.ones(2, 3))", ["layer_norm", "(2, 3)", "(4,)"]),
    ("m.nn.BatchNorm2d(3)(m.ones(2, 4, 5, 5))", ["BatchNorm2d", "4 channels", "expected 3"]),
    ("m.nn.BatchNorm2d(3)(m.ones(2, 3, 5))", ["BatchNorm2d", "4D", "(2, 3, 5)"]),
    ("m.nn.GroupNorm(3, 8)", ["GroupNorm", "(8)", "(3)"]),
    ("F.embedding(m.tensor([1]), m.ones(3))", ["embedding", "2-D", "(3,)"]),
    ("F.embedding(m.tensor([1]), m.ones(3, 2), padding_idx=5)", ["embedding", "padding_idx=5", "(3, 2)"]),
    ("m.nn.Bilinear(2, 3, 4)(m.ones(5, 2), m.ones(4, 3))", ["bilinear", "(5, 2)", "(4, 3)"]),
    ("m.nn.Flatten()(m.ones(3))", ["flatten", "out of range", "got 1"]),
    ("m.nn.Unflatten(1, (2, 2))(m.ones(3, 5))", ["unflatten", "(2, 2)", "(5)"]),
    ("m.ones(2, 3).t().view(6)", ["view", "stride", "reshape"]),
    ("m.ones(2, 3).reshape(4)", ["reshape", "(4,)", "6 elements"]),
    ("m.ones(2, 3).view(-1, -1)", ["view", "only one dimension"]),
    ("m.ones(2, 3).squeeze(2)", ["squeeze", "out of range", "got 2"]),
    ("m.ones(2, 3).unsqueeze(3)", ["unsqueeze", "out of range", "got 3"]),
    ("m.cat([m.ones(2, 3), m.ones(3)])", ["cat", "dimensions", "(3,)"]),
    ("m.cat(m.ones(2), m.ones(2))", ["cat", "list", "cat([a, b]"]),
    ("m.ones(2, 3).chunk(0)", ["chunk", "greater than 0", "0"]),
    ("m.ones(3, 2).split([1, 1])", ["split", "[1, 1]", "size 3"]),
    ("m.ones(2, 3).repeat(2)", ["repeat", "number of dimensions"]),
    ("m.ones(()).repeat()", ["repeat", "repeats"]),
    ("m.ones(2, 3).repeat(2, -1)", ["repeat", "negative", "(2, -1)"]),
    ("m.ones(2, 3).narrow(1, 2, 3)", ["narrow", "exceeds", "(2, 3)"]),
    ("m.ones(3).topk(5)", ["topk", "k = 5", "size 3"]),
    ("m.ones(2, 3).sum(dim=(0, 0))", ["sum", "dim 0 appears multiple times"]),
    ("m.broadcast_tensors(m.ones(3), m.ones(2, 2))", ["broadcast_tensors", "(3,)", "(2, 2)"]),
    ("m.einsum('ij,jk->ik', m.ones(2, 3), m.ones(4, 5))", ["einsum", "'j'", "4 and 3"]),
    ("m.linalg.inv(m.ones(2, 3))", ["linalg.inv", "square", "2 by 3"]),
    ("m.nn.utils.rnn.pad_sequence([m.ones(2, 3), m.ones(2, 4)])", ["pad_sequence", "(2, 4)", "trailing"]),
    # --- indexing -----------------------------------------------------------------------------------
    ("m.ones(3)[m.tensor([1.0])]", ["index", "long", "float32"]),
    ("m.ones(3)[m.tensor([True, False])]", ["index", "boolean", "(3,)", "(2,)"]),
    ("m.ones(2, 3)[m.tensor([0, 1]), m.tensor([0, 1, 2])]", ["index", "broadcast", "(2,)", "(3,)"]),
    ("m.tensor(3.)[0]", ["index", "0-dim", "item()"]),
    ("x = m.ones(3)\nx[m.tensor([0, 1])] = m.ones(3)", ["setitem", "value tensor of shape (3,)", "(2,)"]),
    ("m.ones(2, 3).masked_fill(m.ones(2, 3) > 0, m.ones(2))", ["masked_fill", "0-dimensional", "(2,)"]),
    ("m.ones(2, 3).index_select(0, m.tensor([0.0]))", ["index_select", "int64", "float32"]),
    ("m.ones(3).index_add_(0, m.tensor([0]), m.ones(2))", ["index_add", "(2,)", "(1,)"]),
    ("m.zeros(3).scatter_(0, m.tensor([0, 1]), m.tensor([1, 2]))", ["scatter", "dtype", "int64"]),
    ("m.where(m.ones(2), m.ones(2), m.zeros(2))", ["where", "boolean", "float32"]),
    # --- dtypes -------------------------------------------------------------------------------------
    ("F.cross_entropy(m.ones(2, 3), m.tensor([0, 1], dtype=m.int32))", ["cross_entropy", "int32", "long"]),
    ("F.nll_loss(m.ones(2, 3), m.tensor([0., 1.]))", ["nll_loss", "integer", "float32"]),
    ("F.cross_entropy(m.ones(2, 3), m.tensor([0., 1.]))", ["cross_entropy", "(2,)", "target.long()"]),
    ("m.nn.CrossEntropyLoss()(m.ones(2, 3), m.tensor([[0, 0, 1], [1, 0, 0]]))", ["cross_entropy", "one-hot",
                                                                                 "argmax"]),
    ("F.binary_cross_entropy(m.sigmoid(m.ones(2)), m.tensor([0, 1]))", ["binary_cross_entropy", "int64",
                                                                        "float32"]),
    ("F.binary_cross_entropy_with_logits(m.ones(2), m.tensor([0, 1]))", ["binary_cross_entropy_with_logits",
                                                                         "int64", "float()"]),
    ("F.mse_loss(m.ones(2, dtype=m.long), m.ones(2, dtype=m.long))", ["mse_loss", "floating", "int64"]),
    ("F.softmax(m.tensor([1, 2]), dim=0)", ["softmax", "int64", "float()"]),
    ("m.arange(5).std()", ["std", "floating point", "int64"]),
    ("m.ones(2, 3).mean(dim=1, dtype=m.int64)", ["mean", "optional dtype", "int64"]),
    ("m.nn.LayerNorm(3)(m.ones(2, 3, dtype=m.float64))", ["layer_norm", "float64", "float32"]),
    ("m.nn.RNN(4, 8)(m.ones(5, 3, 4).double())", ["RNN", "float64", "float32"]),
    ("m.nn.Linear(2, 2)(m.from_numpy(np.ones((3, 2))))", ["linear", "float64", "float32"]),
    ("m.ones(3) & m.ones(3)", ["bitwise_and", "float32", "bool or integer"]),
    ("m.arange(3) ** -1", ["pow", "negative integer powers", "int64"]),
    ("m.ones(3, dtype=m.int64).add_(0.5)", ["add_", "Float", "Long"]),
    ("F.one_hot(m.tensor([-1]))", ["one_hot", "non-negative", "-1"]),
    ("m.from_numpy(np.array(['a']))", ["from_numpy", "<U1"]),
    ("m.from_numpy([1, 2])", ["from_numpy", "ndarray", "list"]),
    # --- creation, devices, empty tensors -----------------------------------------------------------
    ("m.ones((2, 3), 4)", ["ones", "size", "((2, 3), 4)"]),
    ("m.randint(0, 5)", ["randint", "size"]),
    ("m.arange(0, 5, 0)", ["arange", "step must be nonzero"]),
    ("m.arange(5, 0)", ["arange", "step sign", "negative step"]),
    ("m.linspace(0, 1, -1)", ["linspace", "steps", "-1"]),
    ("m.eye(-1)", ["eye", "-1"]),
    ("m.ones(2).new_zeros(-1)", ["new_zeros", "negative dimension -1"]),
    ("m.nn.Linear(-1, 2)", ["Linear", "negative dimension -1"]),
    ("m.multinomial(m.tensor([0., 0.]), 1)", ["multinomial", "sum of probabilities"]),
    ("m.nn.Linear(2, 2).cuda()", ["cuda", "cpu"]),
    ("m.nn.Linear(2, 2, device='cuda')", ["Linear", "device='cuda'"]),
    ("m.ones(2).to('gpu')", ["device", "gpu"]),
    ("m.zeros(0).max()", ["max", "empty", "(0,)"]),
    ("m.zeros(0, 3).argmax(dim=0)", ["argmax", "dim 0", "(0, 3)"]),
    ("m.tensor([]).item()", ["item", "0 elements"]),
    ("m.stack([])", ["stack", "non-empty"]),
    # --- losses: targets, weights, reductions --------------------------------------------------------
    ("F.cross_entropy(m.ones(2, 5, 10), m.zeros(2, 5, dtype=m.long))", ["cross_entropy", "(2, 5, 10)", "(2, 10)"]),
    ("F.cross_entropy(m.ones(3), m.tensor([1, 2]))", ["cross_entropy", "1D target must have size 1", "(3,)"]),
    ("F.cross_entropy(m.ones(2, 3), m.tensor([0, 1, 2]))", ["cross_entropy", "batch_size (2)", "(3)"]),
    ("m.nn.CrossEntropyLoss(weight=m.ones(2))(m.ones(4, 3), m.tensor([0, 1, 2, 0]))",
     ["cross_entropy", "weight", "3 classes", "(2,)"]),
    ("m.nn.CrossEntropyLoss(reduction='avg')(m.ones(2, 3), m.tensor([0, 1]))", ["cross_entropy", "'avg'",
                                                                                "reduction"]),
    ("F.cross_entropy(m.ones(2, 3), m.tensor([0, 1]), label_smoothing=1.5)", ["label_smoothing", "1.5"]),
    ("m.nn.BCEWithLogitsLoss(pos_weight=m.ones(3))(m.ones(2, 2), m.ones(2, 2))",
     ["binary_cross_entropy_with_logits", "pos_weight", "(3,)", "(2, 2)"]),
    ("m.nn.L1Loss()(m.ones(2), m.ones(2, 3))", ["l1_loss", "(2,)", "(2, 3)"]),
    ("F.mse_loss(m.ones(2), [1., 2.])", ["mse_loss", "target", "list"]),
    ("F.cross_entropy(m.ones(2, 3), m.tensor([0, 1]), weight=m.ones(3, dtype=m.float64))",
     ["cross_entropy", "weight", "float64"]),
    ("F.binary_cross_entropy(m.tensor([0.5]), m.tensor([1.]), weight=m.ones(2))", ["binary_cross_entropy", "weight",
                                                                                  "(2,)", "(1,)"]),
    ("F.huber_loss(m.ones(2), m.ones(2), delta=-1.0)", ["huber_loss", "delta=-1.0"]),
    ("F.kl_div(m.ones(2, 3).log_softmax(1), m.ones(2, 4) / 4, reduction='batchmean')", ["kl_div", "(2, 3)",
                                                                                       "(2, 4)"]),
    # --- autograd: call order -----------------------------------------------------------------------
    ("x = m.ones(2, requires_grad=True)\ny = x.exp().sum()\ny.backward()\ny.backward()",
     ["backward through the graph a second time", "retain_graph=True"]),
    ("w = m.ones(2, requires_grad=True)\nw.sum().backward()\nw -= 0.1 * w.grad", ["leaf", "in-place", "no_grad"]),
    ("x = m.ones(2, requires_grad=True)\nx[0] = 5.0", ["setitem", "leaf", "in-place"]),
    ("x = m.ones(2, requires_grad=True)\ny = x.exp()\ny.add_(1)\ny.sum().backward()",
     ["ExpBackward0", "modified by an inplace operation", "version 1"]),
    ("x = m.ones(2, requires_grad=True)\nwith m.no_grad():\n    y = (x * 2).sum()\ny.backward()",
     ["does not require grad"]),
    ("x = m.ones(2, requires_grad=True)\nm.autograd.grad(x * 2, x)", ["scalar outputs", "(2,)"]),
    ("x = m.ones(2, requires_grad=True)\n(x * 2).backward(m.ones(3))", ["shape", "(3,)", "(2,)"]),
    ("x = m.ones(2, requires_grad=True)\nz = m.ones(2, requires_grad=True)\nm.autograd.grad((x * 2).sum(), z)",
     ["not have been used", "allow_unused"]),
    ("x = m.ones(2, requires_grad=True)\n(x * 2).requires_grad_(False)", ["requires_grad", "leaf", "detach"]),
    ("x = m.ones(2, requires_grad=True)\nx.grad = m.ones(3)", ["grad", "(3,)", "(2,)"]),
    ("m.ones(3).view(3, 1).expand(3, 2).add_(1)", ["add_", "memory location", "clone()"]),
    ("bool(m.tensor([True, False]))", ["ambiguous", "any()", "all()"]),
    ("float(m.ones(3))", ["float", "one-element", "(3,)"]),
    ("len(m.tensor(3.))", ["len", "0-d"]),
    # --- optimizers and schedulers ------------------------------------------------------------------
    ("m.optim.SGD(m.ones(2, requires_grad=True), lr=0.1)", ["iterable of Tensors", "[w]"]),
    ("m.optim.SGD(m.nn.Linear(2, 2), lr=0.1)", ["Linear", "model.parameters()"]),
    ("p = m.nn.Linear(2, 2).parameters()\nm.optim.SGD(p, lr=0.1)\nm.optim.Adam(p)", ["empty parameter list",
                                                                                   "used up"]),
    ("m.optim.SGD([m.ones(2, requires_grad=True) * 2], lr=0.1)", ["non-leaf", "MulBackward0"]),
    ("w = m.nn.Linear(2, 2)\nm.optim.SGD([{'params': w.parameters()}, {'params': w.parameters()}], lr=0.1)",
     ["more than one parameter group"]),
    ("m.optim.SGD(m.nn.Linear(2, 2).parameters(), lr=0.1, momentum=-0.9)", ["momentum", "-0.9"]),
    ("m.optim.SGD(m.nn.Linear(2, 2).parameters(), lr=0.1, nesterov=True)", ["Nesterov", "momentum"]),
    (("a = m.optim.SGD(m.nn.Linear(2, 2).parameters(), lr=0.1)\n"
      "b = m.optim.SGD(m.nn.Linear(2, 2, bias=False).parameters(), lr=0.1)\nb.load_state_dict(a.state_dict())"),
     ["parameter group", "2 saved params, 1 here"]),
    ("m.optim.lr_scheduler.StepLR(m.nn.Linear(2, 2), 1)", ["Linear", "Optimizer"]),
    # --- data ---------------------------------------------------------------------------------------
    ("m.utils.data.DataLoader([1, 2, 3], batch_size=0)", ["batch_size", "positive", "0"]),
    ("m.utils.data.DataLoader([1, 2, 3], shuffle=True, sampler=m.utils.data.SequentialSampler([1, 2, 3]))",
     ["sampler", "shuffle"]),
    ("list(m.utils.data.DataLoader([m.ones(2), m.ones(3)], batch_size=2))", ["collate", "(2,)", "(3,)"]),
    ("list(m.utils.data.DataLoader([(m.ones(2), 1), (m.ones(2),)], batch_size=2))", ["collate", "equal size"]),
    ("list(m.utils.data.DataLoader([1, 2], batch_size=2, collate_fn=m.stack))", ["stack", "Tensor", "int"]),
    ("m.utils.data.TensorDataset(m.ones(3, 2), m.ones(4))", ["TensorDataset", "(3, 2)", "(4,)"]),
    ("m.utils.data.random_split(range(10), [3, 3])", ["random_split", "6", "(10)"]),
    # --- modules and state dicts --------------------------------------------------------------------
    ("m.nn.Sequential(m.nn.Linear(2, 3), m.nn.ReLU, m.nn.Linear(3, 1))", ["ReLU", "ReLU(...)"]),
    ("lin = m.nn.Linear(2, 2)\nlin.weight = m.ones(2, 2)", ["weight", "Parameter"]),
    ("class Net(m.nn.Module):\n    def __init__(self):\n        self.fc = m.nn.Linear(2, 2)\nNet()",
     ["fc", "Module.__init__()"]),
    ("m.nn.ModuleList([m.nn.Linear(2, 2)])(m.ones(2))", ["ModuleList", "forward"]),
    ("m.nn.Dropout(p=1.5)", ["dropout", "1.5"]),
    ("m.nn.Hardtanh(1.0, -1.0)", ["Hardtanh", "max_val", "min_val"]),
    ("m.nn.init.kaiming_uniform_(m.ones(3))", ["fan in", "(3,)"]),
    ("m.nn.Linear(3, 2).load_state_dict({'weight': m.ones(2, 3)})", ["Linear", "Missing key", "bias"]),
    ("m.nn.Linear(3, 2).load_state_dict({**m.nn.Linear(3, 2).state_dict(), 'foo': m.ones(1)})",
     ["Unexpected key", "foo"]),
    ("m.nn.Linear(3, 2).load_state_dict(m.nn.Linear(4, 2).state_dict())", ["size mismatch for weight", "[2, 4]",
                                                                          "[2, 3]"]),
    ("m.nn.Linear(3, 2).load_state_dict({'module.' + k: v for k, v in m.nn.Linear(3, 2).state_dict().items()})",
     ["Missing key", "Unexpected key", "module.weight"]),
    ("m.nn.Linear(2, 2).load_state_dict(m.nn.Linear(2, 2))", ["state_dict", "dict-like", "Linear"]),
    ("m.save(m.nn.Linear(2, 2).state_dict(), '/nonexistent_dir/model.pt')", ["save", "Parent directory",
                                                                              "does not exist"]),
    ("m.nn.Linear(2, 2).load_state_dict({'weight': [[1., 2.], [3., 4.]], 'bias': [0., 0.]})",
     ["weight", "Tensor", "list"]),
    ("m.nn.Linear(3, 2).load_state_dict({k: v.numpy() for k, v in m.nn.Linear(3, 2).state_dict().items()})",
     ["weight", "Tensor", "ndarray"]),
    ("m.nn.Linear(3, 2).load_state_dict(m.nn.Linear(4, 2).state_dict(), strict=False)",
     ["size mismatch for weight", "[2, 4]"]),
    ("class Net(m.nn.Module):\n    def __init__(self):\n        self.w = m.nn.Parameter(m.ones(2))\nNet()",
     ["'w'", "Module.__init__()"]),
    (("class Net(m.nn.Module):\n    def __init__(self):\n        super().__init__()\n"
      "        self.fc = m.nn.Linear(2, 2)\n        self.fc = 3\nNet()"), ["'fc'", "Module or None"]),
    ("lin = m.nn.Linear(2, 2)\nlin.register_parameter('w', m.ones(2))", ["'w'", "Parameter"]),
    ("m.nn.Sequential([m.nn.Linear(2, 2), m.nn.ReLU()])", ["list", "Module"]),
    ("m.nn.ModuleList([m.nn.Linear(2, 2), 3])", ["int", "Module"]),
    ("m.nn.Linear(2, 2).requires_grad_('no')", ["requires_grad", "bool", "str"]),
    ("m.nn.Linear(2, 2).train('no')", ["training mode", "boolean"]),
    ("m.nn.Linear(2, 2).double()(m.ones(1, 2))", ["linear", "float64", "float32"]),
    ("m.nn.Linear(2, 2)(m.tensor([[1, 2]]))", ["linear", "int64", "float32"]),
    ("m.nn.Conv2d(3, 8, 3, padding='full')", ["padding", "'full'", "same"]),
    ("m.nn.Embedding(3, 2)(m.tensor([[0.0]]))", ["embedding", "float32"]),
    ("m.nn.Parameter([1., 2.])", ["Parameter", "Tensor", "list"]),
    ("F.linear(m.ones(2, 3), m.ones(4, 3), m.ones(3))", ["linear", "bias", "(3,)", "(4,)"]),
    ("m.nn.Parameter(np.ones(2))", ["Parameter", "Tensor", "ndarray"]),
    # --- dtypes given as names, NumPy handed a tensor that requires grad ------------------------------
    ("m.zeros(2, dtype='float32')", ["zeros", "dtype", "str", "chainrule.float32"]),
    ("m.tensor([1.], dtype='float32')", ["tensor", "dtype", "str"]),
    ("m.ones(2).new_zeros(2, dtype='float64')", ["new_zeros", "dtype", "str"]),
    ("m.arange(3, dtype='int32')", ["arange", "dtype", "str"]),
    ("np.asarray(m.ones(2, requires_grad=True))", ["numpy", "requires grad", "detach"]),
    ("np.array(m.nn.Linear(2, 2).weight)", ["numpy", "requires grad", "detach"]),
    ("x = m.ones(2, requires_grad=True)\nx.data = [1, 2]", ["data", "tensor", "list"]),
    ("x = m.ones(2)\nx.requires_grad = 'yes'", ["requires_grad", "bool", "str"]),
    ("x = m.ones(2)\nx.requires_grad = 1", ["requires_grad", "bool", "int"]),
    ("x = m.ones(2, dtype=m.int64)\nx.requires_grad = True", ["floating point", "int64"]),
    ("x = m.ones(2, requires_grad=True) * 2\nx.requires_grad = False", ["leaf", "detach"]),
    ("m.ones(2, 3).to('float64')", ["'float64'", "dtype", "device"]),
    ("m.ones(2, 3).to(dtype='float64')", ["to", "dtype", "str"]),
    ("m.ones(2, 3).sum(dtype='float64')", ["'float64'", "dtype"]),
    ("m.nn.Linear(2, 2).to(dtype='float64')", ["to", "dtype", "str"]),
    ("m.nn.Linear(2, 2).type('float64')", ["invalid type", "'float64'"]),
    # --- creation: sizes, fill values, ranges, seeds --------------------------------------------------
    ("m.tensor([m.ones(2), m.ones(2)])", ["tensor", "one element", "stack"]),
    ("m.tensor([1.0, m.ones(2)])", ["tensor", "one element", "(2,)"]),
    ("m.tensor([1, None])", ["tensor", "numeric dtype"]),
    ("m.tensor('3')", ["tensor", "str"]),
    ("m.ones('3')", ["ones", "size", "'3'"]),
    ("m.ones([2, 3.0])", ["ones", "size", "3.0"]),
    ("m.ones(m.tensor([2, 3]))", ["ones", "size"]),
    ("m.ones(2, 3).view(3.0, 2)", ["size", "float", "(3.0, 2)"]),
    ("m.ones(2, 3).reshape((2, 3), 1)", ["reshape", "shape", "tuple", "((2, 3), 1)"]),
    ("m.full((2,), 'a')", ["full", "fill_value", "str"]),
    ("m.full((2,), m.ones(2))", ["full", "fill_value", "Tensor", "item()"]),
    ("m.arange(float('nan'))", ["arange", "nan", "finite"]),
    ("m.arange(float('inf'))", ["arange", "inf", "finite"]),
    ("m.linspace(0, 1, 2.5)", ["linspace", "steps", "float"]),
    ("m.eye(2.5)", ["eye", "'n'", "float"]),
    ("m.randint(0, 5, 3)", ["randint", "size", "(3,)"]),
    ("m.tensor([256], dtype=m.uint8)", ["tensor", "uint8", "overflow"]),
    ("m.tensor([2**40], dtype=m.int32)", ["tensor", "int32", "overflow"]),
    ("m.full((2,), 2**40, dtype=m.int32)", ["full", "int32", "overflow"]),
    ("m.randint(5, 2, (3,))", ["randint", "low=5", "high=2"]),
    ("m.normal(m.zeros(2), m.ones(3))", ["normal", "(2,)", "(3,)"]),
    ("m.manual_seed('abc')", ["manual_seed", "integer", "'abc'"]),
    ("m.Generator().manual_seed('7')", ["manual_seed", "str"]),
    ("m.rand(2, generator=3)", ["rand", "generator", "int"]),
    ("m.randn(2, generator=0)", ["randn", "generator", "manual_seed"]),
    ("m.utils.data.random_split(range(4), [2, 2], generator=3)", ["random_split", "generator", "int"]),
    ("bool(m.tensor([]))", ["Boolean value", "no values"]),
    ("m.load(123)", ["load", "path", "int"]),
    (("path = f'/tmp/bad_input_{m.__name__}.pt'\nm.save({'a': m.ones(2)}, path)\n"
      "m.load(path, map_location='cuda')"), ["cuda", "cpu"]),
    ("m.ones(2, device='tpu')", ["device", "cpu"]),
    ("m.nn.Linear(2, 2).to('mps')", ["mps", "cpu"]),
    # --- autograd and tensors: call order, hooks, joins, views -----------------------------------------
    ("x = m.ones(2)\nx.retain_grad()", ["retain_grad", "requires_grad=False"]),
    ("x = m.ones(2)\nx.register_hook(lambda g: g)", ["hook", "require"]),
    ("x = m.ones(2, requires_grad=True)\nx.grad = m.ones(2, dtype=m.float64)", ["grad", "float64"]),
    ("x = m.ones(2, requires_grad=True)\nx.grad = [1., 1.]", ["grad", "list"]),
    ("x = m.ones(2, requires_grad=True)\nm.autograd.grad((x * 2).sum(), m.ones(2))", ["does not require grad"]),
    ("x = m.ones(2, requires_grad=True)\ny = (x * 2).sum()\nm.autograd.grad(y, x)\nm.autograd.grad(y, x)",
     ["second time", "retain_graph=True"]),
    ("m.ones(2, dtype=m.bool).requires_grad_()", ["floating point", "bool"]),
    ("x = m.ones(2, requires_grad=True)\nx.copy_(m.zeros(2))", ["copy_", "leaf", "no_grad"]),
    ("m.cat([m.ones(2), [1.]])", ["cat", "list"]),
    ("m.stack(m.ones(2, 3))", ["stack", "list or tuple"]),
    ("m.hstack([m.ones(2), m.ones(2, 1)])", ["(2,)", "(2, 1)"]),
    ("m.ones(2, 3).permute(1)", ["permute", "(2, 3)"]),
    ("m.ones(2, 3).transpose(0, 1).view(6)", ["view", "reshape"]),
    ("m.ones(2, 3).view(m.float64)", ["view", "divisible by 2"]),
    # --- optimizers and schedulers: hyperparameters, groups -------------------------------------------
    ("m.optim.Adam([m.ones(2, requires_grad=True)], lr=-1e-3)", ["learning rate", "-0.001"]),
    ("m.optim.Adam([m.ones(2, requires_grad=True)], eps=-1.0)", ["epsilon", "-1.0"]),
    ("m.optim.SGD([m.ones(2, requires_grad=True)], lr=0.1, weight_decay=-1)", ["weight_decay", "-1"]),
    ("m.optim.RMSprop([m.ones(2, requires_grad=True)], alpha=-0.5)", ["alpha", "-0.5"]),
    ("lin = m.nn.Linear(2, 2)\nopt = m.optim.SGD(lin.parameters(), lr=0.1)\nopt.add_param_group({'params': lin.weight})",
     ["more than one parameter group"]),
    ("opt = m.optim.SGD(m.nn.Linear(2, 2).parameters(), lr=0.1)\nm.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=1.5)",
     ["Factor", "< 1.0"]),
    ("opt = m.optim.SGD(m.nn.Linear(2, 2).parameters(), lr=0.1)\nm.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1)",
     ["total_steps", "steps_per_epoch"]),
    (("opt = m.optim.SGD(m.nn.Linear(2, 2).parameters(), lr=0.1)\n"
      "s = m.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=1)\nopt.step(); s.step(); s.step()"),
     ["Tried to step 2 times", "total steps is 1"]),
    ("opt = m.optim.SGD(m.nn.Linear(2, 2).parameters(), lr=0.1)\nm.optim.lr_scheduler.LinearLR(opt, start_factor=0)",
     ["Starting multiplicative factor", "greater than 0"]),
    ("m.optim.Adagrad([m.ones(2, requires_grad=True)], lr_decay=-1)", ["lr_decay", "-1"]),
    ("m.optim.Adadelta([m.ones(2, requires_grad=True)], rho=1.5)", ["rho", "1.5"]),
    ("m.optim.Adamax([m.ones(2, requires_grad=True)], betas=(1.0, 0.9))", ["beta", "index 0", "1.0"]),
    (("w = m.ones(2, requires_grad=True)\nopt = m.optim.SGD([w], lr=0.1)\n"
     "opt.load_state_dict({'state': {}, 'param_groups': []})"), ["different number of parameter groups"]),
    (("opt = m.optim.SGD([m.ones(2, requires_grad=True)], lr=0.1)\n"
     "m.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=0)"), ["T_0", "0"]),
    (("opt = m.optim.SGD([m.ones(2, requires_grad=True)], lr=0.1)\n"
     "m.optim.lr_scheduler.LambdaLR(opt, [lambda e: 1, lambda e: 2])"), ["1 lr_lambdas", "got 2"]),
    (("opt = m.optim.SGD([m.ones(2, requires_grad=True)], lr=0.1)\n"
     "m.optim.lr_scheduler.ConstantLR(opt, factor=2)"), ["Constant multiplicative factor", "between 0 and 1"]),
    (("opt = m.optim.SGD([m.ones(2, requires_grad=True)], lr=0.1)\n"
     "m.optim.lr_scheduler.CyclicLR(opt, 0.1, 1.0, mode='linear')"), ["mode", "invalid"]),
    # --- data: loaders, samplers, splits ----------------------------------------------------------------
    ("m.utils.data.DataLoader([1, 2, 3], batch_size=-1)", ["batch_size", "positive", "-1"]),
    ("m.utils.data.DataLoader([1, 2, 3], batch_size=None, drop_last=True)", ["batch_size=None", "drop_last"]),
    (("m.utils.data.DataLoader([1, 2, 3], batch_size=2, "
      "batch_sampler=m.utils.data.BatchSampler(m.utils.data.SequentialSampler([1, 2, 3]), 2, False))"),
     ["batch_sampler", "mutually exclusive"]),
    ("m.utils.data.DataLoader([1, 2, 3], num_workers=-1)", ["num_workers", "-1"]),
    ("m.utils.data.DataLoader([1, 2], timeout=-1)", ["timeout", "non-negative"]),
    ("m.utils.data.DataLoader([1, 2], prefetch_factor=2)", ["prefetch_factor", "num_workers > 0"]),
    ("m.utils.data.DataLoader([1, 2], persistent_workers=True)", ["persistent_workers", "num_workers > 0"]),
    ("list(m.utils.data.DataLoader([None, None], batch_size=2))", ["collate", "NoneType"]),
    ("list(m.utils.data.DataLoader([np.ones(2), np.ones(3)], batch_size=2))", ["collate", "(2,)", "(3,)"]),
    ("m.utils.data.BatchSampler(range(3), 2, 'no')", ["drop_last", "boolean"]),
    ("m.utils.data.DataLoader((i for i in range(3)), shuffle=True)", ["RandomSampler", "generator", "len()"]),
    ("m.utils.data.RandomSampler([1, 2], num_samples=0)", ["num_samples", "positive", "0"]),
    ("m.utils.data.WeightedRandomSampler([[0.5, 0.5]], 2)", ["WeightedRandomSampler", "1d", "(1, 2)"]),
    ("m.utils.data.random_split(range(10), [0.5, 0.6])", ["random_split", "1.1"]),
    ("m.utils.data.TensorDataset([1, 2], [3, 4])", ["TensorDataset", "list", "Tensor"]),
    ("list(m.utils.data.DataLoader([m.ones(2), 3], batch_size=2))", ["collate", "sample 1", "int"]),
    ("list(m.utils.data.DataLoader([m.ones(2), np.ones(2)], batch_size=2))", ["collate", "sample 1", "ndarray"]),
    # --- a Python number, list or NumPy array where a function takes a Tensor ---------------------------
    ("m.exp(3)", ["exp", "input", "Tensor", "int"]),
    ("m.sum([1, 2])", ["sum", "input", "Tensor", "list"]),
    ("m.exp(np.ones(2))", ["exp", "numpy.ndarray", "from_numpy"]),
    ("m.arcsin(0.5)", ["arcsin", "Tensor", "float"]),
    ("m.pow(2, 3)", ["pow", "input", "int"]),
    ("m.clamp(1, 0, 2)", ["clamp", "input", "int"]),
    ("m.max([1, 2])", ["max", "Tensor", "list"]),
    ("m.zeros_like([1., 2.])", ["zeros_like", "Tensor", "list"]),
    ("m.ones(3) + [1, 2, 3]", ["add", "list", "chainrule.tensor([1, 2, 3])"]),
    ("m.ones(3).mul((1, 2, 3))", ["mul", "tuple"]),
    ("m.where(m.ones(3) > 0, m.ones(3), [1., 2., 3.])", ["where", "'other'", "list"]),
    ("m.ones(2, 3).view_as([1, 2])", ["view_as", "Tensor", "list"]),
    ("F.relu([1.])", ["relu", "Tensor", "list"]),
    ("m.nn.Linear(2, 2)(None)", ["linear", "input", "NoneType"]),
    ("m.nn.Embedding(3, 2)([0, 1])", ["embedding", "Tensor", "list"]),
    ("x = m.ones(2, requires_grad=True)\ny = (x * 2).sum()\ny.backward(5.0)", ["backward", "gradient", "Tensor",
                                                                           "float"]),
    ("x = m.ones(2, requires_grad=True)\n(x * 2).backward([1., 1.])", ["backward", "gradient", "float"]),
    # --- flags and sizes of the wrong type ----------------------------------------------------------
    ("m.ones(2, requires_grad='yes')", ["ones", "requires_grad", "bool", "str"]),
    ("m.tensor([1.], requires_grad=1)", ["tensor", "requires_grad", "bool", "int"]),
    ("m.ones(2).requires_grad_('yes')", ["requires_grad_", "bool", "str"]),
    ("m.full(3, 1.0)", ["full", "size", "tuple", "full((3,), 1.0)"]),
    ("m.arange('5')", ["arange", "end", "str"]),
    ("m.linspace('0', 1, 5)", ["linspace", "start", "str"]),
    ("m.randint(5.5, size=(2,))", ["randint", "high", "float"]),
    ("m.randperm(3.0)", ["randperm", "'n'", "float"]),
    ("m.ones(2, 3).view(5)", ["view", "(5,)", "6 elements"]),
    ("m.ones(6).view_as(m.ones(5))", ["view", "(5,)", "6 elements"]),
    ("m.ones(2, 3).view('6')", ["view", "str", "'6'"]),
    ("m.ones(2, 3).reshape(2, None)", ["reshape", "shape", "NoneType"]),
    ("m.ones(2, 3).permute([0, 1.0])", ["permute", "dims", "float"]),
    ("m.ones(2, 3).squeeze(2.0)", ["squeeze", "dim", "float"]),
    ("m.ones(2, 3).unflatten(1, 3)", ["unflatten", "sizes", "tuple", "int"]),
    ("F.log_softmax(m.ones(2, 2), 1, dtype='float64')", ["log_softmax", "dtype", "str"]),
    ("m.ones(2, 2).log_softmax(1, dtype='float64')", ["log_softmax", "dtype", "str"]),
    ("m.ones(2, 4).fill_('a')", ["fill_", "value", "str"]),
    ("m.nn.ConvTranspose2d(3.0, 8, 3)", ["ConvTranspose2d", "in_channels", "float"]),
    ("m.nn.ConvTranspose2d(3, 8, -1)", ["ConvTranspose2d", "negative", "kernel_size"]),
    ("m.nn.Conv2d(3, 8, 3.0)", ["Conv2d", "kernel_size", "float"]),
    ("F.avg_pool2d(m.ones(1, 1, 4, 4), 2.5)", ["avg_pool2d", "kernel_size", "float"]),
    ("F.max_pool2d(m.ones(1, 1, 4, 4), 2.0)", ["max_pool2d", "kernel_size", "float"]),
    ("m.nn.BatchNorm1d(3.0)", ["BatchNorm1d", "num_features", "float"]),
    ("m.nn.BatchNorm2d(-1)", ["BatchNorm2d", "negative", "num_features"]),
    ("m.ones(2, 4).fill_(None)", ["fill_", "value", "NoneType"]),
    ("m.ones(2, 4).clamp(min='a')", ["clamp", "min", "str"]),
    ("m.ones(2, 4).clamp_(max=[1])", ["clamp", "max", "list"]),
    ("m.ones(2, 4).masked_fill(m.ones(2, 4) > 0, 'a')", ["masked_fill", "value", "str"]),
    ("m.ones(2, 4).chunk(2.0)", ["chunk", "chunks", "float"]),
    ("m.ones(2, 4).split(1.5)", ["split", "int", "float"]),
    ("m.ones(2, 4).split([1, 'a'])", ["split", "int"]),
    ("m.ones(2, 4).roll(1.5)", ["roll", "shifts", "float"]),
    ("m.ones(2, 4).flip()", ["flip", "dims"]),
    ("m.ones(2, 4).narrow(0, 0, -1)", ["narrow", "length", "non-negative"]),
    ("m.ones(2, 4).index_select(0, [0])", ["index_select", "index", "Tensor", "list"]),
    ("m.ones(2, 4).gather(0, [[0]])", ["gather", "index", "Tensor", "list"]),
    ("m.ones(2, 4).topk(1.5)", ["topk", "k", "float"]),
    ("m.ones(2, 2).sum(dtype='float64')", ["sum", "dtype", "str"]),
    ("m.ones(2, 2).cumsum(0, dtype='int')", ["cumsum", "dtype", "str"]),
    ("m.ones(2) ** m.ones(3)", ["pow", "(2,)", "(3,)"]),
    ("m.autograd.grad((m.ones(2, requires_grad=True) * 2).sum(), m.ones(1, requires_grad=True), 5.0)",
     ["gradients", "Tensors", "float"]),
    ("m.autograd.backward([(m.ones(2, requires_grad=True) * 2).sum()], [1.0])", ["gradients", "Tensors", "float"]),
    ("F.softmax(m.ones(2, 2), 1, dtype='float64')", ["softmax", "dtype", "str"]),
    ("F.dropout(m.ones(2), training='yes')", ["dropout", "training", "bool", "str"]),
    ("F.leaky_relu(m.ones(2), 'x')", ["leaky_relu", "negative_slope", "str"]),
    ("F.one_hot(m.tensor([1]), num_classes=1.5)", ["one_hot", "num_classes", "float"]),
    # --- layers built with sizes that are not ints, or negative ------------------------------------------
    ("m.nn.Linear(2.0, 2)", ["Linear", "in_features", "int", "float"]),
    ("m.nn.Bilinear(2, 2, 2.5)", ["Bilinear", "out_features", "float"]),
    ("m.nn.Embedding(-1, 2)", ["Embedding", "num_embeddings", "negative dimension -1"]),
    ("m.nn.Embedding(3, 2.0)", ["Embedding", "embedding_dim", "float"]),
    ("m.nn.Conv2d(3.0, 8, 3)", ["Conv2d", "in_channels", "float"]),
    ("m.nn.Conv2d(3, 8, -1)", ["Conv2d", "kernel_size", "negative dimension -1"]),
    ("m.nn.Conv2d(3, 8, 3, groups=0)", ["Conv2d", "groups", "positive"]),
    ("m.nn.LSTM(4.0, 8)", ["LSTM", "input_size", "float"]),
    ("m.nn.GRU(4, 8, 2.0)", ["GRU", "num_layers", "float"]),
    ("m.nn.LSTM(-1, 8)", ["input_size", "greater than zero", "-1"]),
    ("m.nn.GRUCell(4, -8)", ["GRUCell", "hidden_size", "negative dimension -8"]),
    ("m.nn.init.constant_(m.ones(2), 'a')", ["constant_", "val", "number", "str"]),
    ("m.nn.init.constant_(m.ones(2), None)", ["constant_", "val", "NoneType"]),
    ("m.nn.init.normal_(m.ones(2), std='a')", ["normal_", "std", "str"]),
    # --- optimizers, schedulers and splits given the wrong kind of value ---------------------------------
    ("m.optim.SGD(m.nn.Linear(2, 2).parameters(), lr='0.1')", ["SGD", "lr", "number", "str"]),
    ("m.optim.SGD(m.nn.Linear(2, 2).parameters(), lr=None)", ["SGD", "lr", "NoneType"]),
    ("m.optim.Adam(m.nn.Linear(2, 2).parameters(), betas=0.9)", ["Adam", "betas", "pair", "0.9"]),
    ("m.optim.Adam(m.nn.Linear(2, 2).parameters(), lr=m.tensor([0.1, 0.2]))", ["Adam", "lr", "1-element"]),
    ("m.optim.Adamax(m.nn.Linear(2, 2).parameters(), lr='x')", ["Adamax", "lr", "str"]),
    ("opt = m.optim.SGD(m.nn.Linear(2, 2).parameters(), lr=0.1)\nm.optim.lr_scheduler.MultiStepLR(opt, milestones=3)",
     ["MultiStepLR", "milestones", "[3]"]),
    (("opt = m.optim.SGD(m.nn.Linear(2, 2).parameters(), lr=0.1)\n"
      "m.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=0).step()"), ["CosineAnnealingLR", "T_max", "0"]),
    (("opt = m.optim.SGD(m.nn.Linear(2, 2).parameters(), lr=0.1)\n"
      "m.optim.lr_scheduler.ReduceLROnPlateau(opt).step('a')"), ["ReduceLROnPlateau", "metrics", "str"]),
    ("m.utils.data.random_split(range(10), 0.5)", ["random_split", "lengths", "float", "[0.8, 0.2]"]),
    ("F.cross_entropy(m.ones(2, 3), m.tensor([0, 1]), weight=[1., 1., 1.])", ["cross_entropy", "weight", "list"]),
    ("F.binary_cross_entropy_with_logits(m.ones(2), m.ones(2), pos_weight=[1., 1.])",
     ["binary_cross_entropy_with_logits", "pos_weight", "list"]),
    ("F.binary_cross_entropy(m.ones(2) / 2, m.ones(2), weight=[1., 1.])", ["binary_cross_entropy", "weight", "list"]),
    ("F.huber_loss(m.ones(2), m.ones(2), delta='a')", ["huber_loss", "delta", "str"]),
    ("F.cross_entropy(m.ones(2, 3), m.tensor([0, 1]), label_smoothing='a')", ["cross_entropy", "label_smoothing",
                                                                             "str"]),
    # --- integers: a Python int beyond 64 bits, or one where PyTorch checks the range --------------------
    ("m.tensor([1], dtype=m.int32) + 2**64", ["add", "18446744073709551616", "64 bits"]),
    ("m.tensor([True]) + 2**63", ["add", "Bool", "int64"]),
    ("m.where(m.tensor([True]), m.tensor([1], dtype=m.int32), 2**40)", ["where", "int32", "overflow"]),
    # an int exponent must fit the integer tensor's dtype (PyTorch does not wrap it, as it does for + - *)
    ("m.tensor([1, 7], dtype=m.int32) ** 2**40", ["pow", "without overflow", "int32"]),
    ("m.tensor([1, 7], dtype=m.uint8) ** 300", ["pow", "without overflow", "uint8"]),
    ("m.tensor([1, 7], dtype=m.int64).pow(2**63)", ["pow", "without overflow", "int64"]),
    # a divisor whose low bits are 0 in the tensor's dtype divides by zero, as in PyTorch
    ("m.tensor([1, 7], dtype=m.int32) // 2**40", ["floor_divide", "division by zero", "1099511627776", "int32"]),
    ("m.tensor([1, 7], dtype=m.uint8) % 2**63", ["remainder", "division by zero", "uint8"]),
    ("m.tensor([1, 7], dtype=m.int32).fmod(2**40)", ["fmod", "division by zero"]),
    ("m.tensor([1, 7], dtype=m.int32).div(2**40, rounding_mode='trunc')", ["div", "division by zero"]),
    ("m.tensor([1, 7], dtype=m.int32) < 2**64", ["lt", "18446744073709551616", "64 bits"]),
    ("m.tensor([1., 7.]) // 2**64", ["floor_divide", "18446744073709551616", "64 bits"]),
    ("m.tensor([1, 7]) & -2**64", ["bitwise_and", "64 bits"]),
    # clamp's bounds are both numbers or both tensors (PyTorch's two signatures)
    ("m.tensor([0.2, 0.8]).clamp(min=0.5, max=m.tensor([0.6, 0.6]))", ["clamp", "min=float", "max=Tensor"]),
    ("m.clamp(m.tensor([0.2, 0.8]), min=m.tensor([0.6, 0.6]), max=0.5)", ["clamp", "min=Tensor", "max=float"]),
    ("m.clip(m.tensor([0.2, 0.8]), 0.1, m.tensor([0.6, 0.6]))", ["clip", "both numbers or both tensors"]),
    ("m.tensor([0.2, 0.8]).clip(min=m.tensor([0.6, 0.6]), max=1)", ["clip", "max=int", "chainrule.tensor(1)"]),
    # several '...' in one index: PyTorch lets each later one skip the left-over dimensions again
    ("m.arange(24).reshape(2, 3, 4)[..., 1, ..., 2]", ["index", "ellipsis", "skip 1"]),
    ("m.arange(24).reshape(2, 3, 4)[..., ..., 0]", ["index", "ellipsis"]),
    # a float too big for float32 as a fill value or bound: PyTorch refuses (as for full, above)
    ("m.ones(2).masked_fill(m.tensor([True, False]), 1e200)", ["masked_fill", "float32", "overflow"]),
    ("m.where(m.tensor([True, False]), m.ones(2), -1e200)", ["where", "float32", "overflow"]),
    ("m.ones(2).clamp(max=1e200)", ["clamp", "float32", "overflow"]),
    ("m.tensor([1, 2]).clamp(min=-1e200)", ["clamp", "float32", "overflow"]),
    ("m.ones(2).new_full((2,), 1e200)", ["new_full", "float32", "overflow"]),
    ("m.linspace(0, 1e200, 3)", ["linspace", "float32", "overflow"]),
    ("m.ones(2, dtype=m.int32).new_tensor([2**40])", ["new_tensor", "int32", "overflow"]),
    # LayerNorm/RMSNorm's normalized_shape and GroupNorm's num_groups of the wrong type
    ("m.nn.LayerNorm('a')", ["LayerNorm", "normalized_shape", "str"]),
    ("m.nn.LayerNorm(2.5)", ["LayerNorm", "normalized_shape", "float"]),
    ("m.nn.LayerNorm([2, 'a'])", ["LayerNorm", "normalized_shape", "str", "pos 1"]),
    ("m.nn.LayerNorm((2, -3))", ["LayerNorm", "negative dimension -3"]),
    ("m.nn.RMSNorm('a')", ["RMSNorm", "normalized_shape", "str"]),
    ("m.nn.GroupNorm('a', 2)", ["GroupNorm", "num_groups", "str"]),
    ("m.nn.GroupNorm(0, 4)", ["GroupNorm", "num_groups", "0"]),
    # losses combining inputs that do not broadcast: the loss and its arguments are named, not sub/mul
    ("F.triplet_margin_loss(m.ones(2, 3), m.ones(2, 4), m.ones(2, 3))",
     ["triplet_margin_loss", "positive (2, 4)", "anchor (2, 3)", "non-singleton dimension 1"]),
    ("m.nn.TripletMarginLoss()(m.ones(2, 3), m.ones(2, 3), m.ones(5, 3))", ["triplet_margin_loss", "negative (5, 3)"]),
    ("F.margin_ranking_loss(m.ones(2), m.ones(3), m.ones(2))", ["margin_ranking_loss", "input2 (3,)", "input1 (2,)"]),
    ("m.nn.MarginRankingLoss()(m.ones(2), m.ones(2), m.ones(3))", ["margin_ranking_loss", "target (3,)"]),
    ("F.poisson_nll_loss(m.ones(2, 3), m.ones(3, 2))", ["poisson_nll_loss", "input (2, 3)", "target (3, 2)"]),
    ("m.nn.PoissonNLLLoss()(m.ones(2), m.ones(3))", ["poisson_nll_loss", "target (3,)"]),
    # integer/float mixing: lerp of integers, a weight beyond float32, // with a list
    ("m.tensor([1, 2]).lerp(m.tensor([3, 4]), 0.5)", ["lerp", "int64", ".float()"]),
    ("m.tensor([1., 2.]).lerp(m.tensor([3., 4.]), 1e200)", ["lerp", "float32", "overflow"]),
    ("m.tensor([7, 8]) // [2, 3]", ["floor_divide", "list", "chainrule.tensor([2, 3])"]),
    # an int fill value or bound outside the integer dtype (an unsigned one also takes -max..-1)
    ("m.tensor([1, 2], dtype=m.int32).masked_fill(m.tensor([True, False]), 2**40)", ["masked_fill", "int32", "overflow"]),
    ("m.tensor([1, 2], dtype=m.uint8).masked_fill(m.tensor([True, False]), 256)", ["masked_fill", "uint8", "overflow"]),
    ("m.tensor([1, 2], dtype=m.int32).clamp(max=2**40)", ["clamp", "int32", "overflow"]),
    ("m.tensor([1, 2], dtype=m.uint8).clamp(min=-300)", ["clamp", "uint8", "overflow"]),
    ("m.full((2,), 1e200)", ["full", "float32", "overflow", "float64"]),
]


# PyTorch also raises these builtin classes for some mistakes; chainrule may raise the same class there
SAME_AS_TORCH = (AttributeError, AssertionError, KeyError, OverflowError)


def _run(m, code: str):
    """Run a row: an expression (its value is returned) or statements (a row may need two lines)."""
    scope = {"m": m, "F": m.nn.functional, "np": np}
    try:
        compiled = compile(code, "<row>", "eval")
    except SyntaxError:
        exec(compile(code, "<row>", "exec"), scope)   # noqa: S102 (the rows are this file's own code)
        return None
    return eval(compiled, scope)


def test_rows_are_distinct_and_enough():
    codes = [c for c, _ in MISTAKES]
    assert len(set(codes)) == len(codes)
    assert len(codes) >= 100


@pytest.mark.parametrize("code, words", MISTAKES, ids=[c for c, _ in MISTAKES])
def test_mistake_raises_a_teaching_error(torch, code, words):
    with pytest.raises(ERRORS + SAME_AS_TORCH) as torch_err:   # a real mistake: PyTorch refuses it too
        _run(torch, code)
    allowed = ERRORS + tuple(c for c in SAME_AS_TORCH if isinstance(torch_err.value, c))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            _run(cr, code)
        except allowed as e:
            err = e
        else:
            pytest.fail(f"{code}: chainrule returns a value where torch raises")
    inner = traceback.extract_tb(err.__traceback__)[-1].filename
    assert "/numpy/" not in inner, f"{code}: a raw NumPy error escaped: {type(err).__name__}: {err}"
    message = str(err)
    missing = [w for w in words if w.lower() not in message.lower()]
    assert not missing, f"{code}: the error does not mention {missing}: {type(err).__name__}: {message}"


@pytest.mark.parametrize("code", ["m.tensor([3, 4]) // 0", "m.tensor([3, 4]) % m.tensor([1, 0])",
                                  "m.tensor(5) // m.tensor(0)", "m.remainder(m.tensor([3]), 0)"])
def test_integer_division_by_zero_raises_zero_division_error(code):
    """PyTorch raises (RuntimeError: ZeroDivisionError); chainrule raises an error that is both."""
    with pytest.raises(ZeroDivisionError):
        _run(cr, code)
    with pytest.raises(RuntimeError):
        _run(cr, code)


def test_float_division_by_zero_is_not_an_error():
    assert _run(cr, "m.tensor([3.0, -1.0]) // 0").tolist() == [float("inf"), float("-inf")]


WARNS = [
    ("F.mse_loss(m.ones(3, 1), m.ones(3))", "target size"),
    ("F.l1_loss(m.ones(3, 1), m.ones(3))", "target size"),
    ("F.smooth_l1_loss(m.ones(3, 1), m.ones(3))", "target size"),
    ("F.huber_loss(m.ones(3, 1), m.ones(3))", "target size"),
    ("m.nn.MSELoss()(m.ones(2, 1), m.ones(1, 2))", "target size"),
    ("F.softmax(m.ones(2, 3))", "dim"),
    ("F.log_softmax(m.ones(2, 3))", "dim"),
    ("m.nn.Softmax()(m.ones(2, 3))", "dim"),
    ("m.nn.LogSoftmax()(m.ones(2, 3))", "dim"),
    ("F.kl_div(m.ones(2, 3).log_softmax(1), m.ones(2, 3) / 3)", "batchmean"),
    ("m.nn.LSTM(4, 8, dropout=0.5)", "num_layers greater than 1"),
    ("m.ones(2, 3).std(dim=1, correction=5)", "degrees of freedom"),
    ("m.tensor(m.ones(2))", "copy construct from a tensor"),
    ("x = m.ones(2, requires_grad=True)\ny = x * 2\ny.grad", "not a leaf Tensor"),
    ("opt = m.optim.SGD(m.nn.Linear(2, 2).parameters(), lr=0.1)\nm.optim.lr_scheduler.StepLR(opt, 1).step()",
     "lr_scheduler.step.*before .optimizer.step"),
    ("w = m.ones(2, requires_grad=True)\nm.optim.SGD([w, w], lr=0.1)", "duplicate parameters"),
    ("m.zeros(0).var()", "degrees of freedom"),
    ("m.ones(1, 3).std(dim=0)", "degrees of freedom"),
]


@pytest.mark.parametrize("code, word", WARNS, ids=[c for c, _ in WARNS])
def test_warns_where_torch_warns(torch, code, word):
    for m in (torch, cr):
        with pytest.warns(UserWarning, match=f"(?i){word}"):
            _run(m, code)


# Not mistakes: they run, as in PyTorch. An empty batch (the last, short batch of a filtered dataset),
# and a few forms PyTorch accepts that look odd
RUNS_AS_IN_TORCH = [
    "m.nn.Linear(3, 2)(m.zeros(0, 3))",
    "m.nn.Conv2d(3, 4, 3)(m.zeros(0, 3, 5, 5))",
    "m.nn.BatchNorm1d(3)(m.zeros(0, 3))",
    "m.nn.LayerNorm(3)(m.zeros(0, 3))",
    "m.nn.GroupNorm(1, 3)(m.zeros(0, 3))",
    "m.nn.LSTM(3, 4)(m.zeros(5, 0, 3))[0]",
    "m.nn.MultiheadAttention(4, 2)(m.zeros(3, 0, 4), m.zeros(3, 0, 4), m.zeros(3, 0, 4))[0]",
    "m.nn.Embedding(3, 2)(m.zeros(0, dtype=m.long))",
    "F.cross_entropy(m.zeros(0, 3), m.zeros(0, dtype=m.long))",
    "F.cross_entropy(m.randn(3, generator=m.Generator().manual_seed(0)), m.tensor([1]), reduction='none')",
    "F.nll_loss(m.tensor([-1.0, -2.0, -0.5]), m.tensor([2]))",
    "m.arange(6.0).reshape(2, 3).sum(dim=m.tensor(1))",
    # forms PyTorch reads its own way: float is float64, a seed may be a string of digits, a 0-d tensor
    # counts as the number it holds
    "m.zeros(2, dtype=float)",
    "m.tensor([1, 2], dtype=float)",
    "m.manual_seed('42') and m.rand(2)",
    "m.manual_seed(7.9) and m.randn(2)",
    "m.tensor([m.tensor(1.), m.tensor(2.)])",
    "m.ones(m.tensor(3))",
    "m.full((2,), m.tensor(1.5))",
    "m.arange(0, m.tensor(3))",
    "m.linspace(0, 1, m.tensor(3))",
    # a Python int meeting an integer tensor is cast to its dtype the C way, keeping the low bits
    # (PyTorch wraps around where NumPy would raise OverflowError); beyond 64 bits is an error (above)
    "m.tensor([1], dtype=m.int32) + 2**40",
    "m.tensor([1, 2], dtype=m.int32) + 2**31",
    "m.tensor([1, 2], dtype=m.int32) * 2**40",
    "2**40 - m.tensor([1, 2], dtype=m.int32)",
    "m.ones(2, 4).split(m.tensor(1))[0]",
    "m.ones(2, 4).roll(m.tensor(1))",
    "m.ones(2, 4).topk(m.tensor(1)).values",
    "m.ones(2, 4).fill_(m.tensor(2.0))",
    "300 - m.tensor([1], dtype=m.uint8)",
    "m.tensor([1], dtype=m.int32).sub(2**40, alpha=2)",
    "m.tensor([1], dtype=m.uint8) - 300",
    "m.tensor([1], dtype=m.uint8) + (-1)",
    "m.tensor([1], dtype=m.int64) + 2**63",
    "m.tensor([True, False]) + 2**40",
    "m.add(m.tensor([3], dtype=m.int32), -2**63)",
    # a Python number as input where PyTorch's function takes one
    "m.add(2, 3)",
    "m.mul(2, m.ones(2))",
    "m.pow(2, m.arange(3.0))",
    "m.add(np.float32(2), m.ones(2))",
    "m.nn.LayerNorm(m.ones(2, 3).shape)(m.ones(4, 2, 3))",
    "F.triplet_margin_loss(m.ones(2, 3), m.ones(1, 3), m.ones(2, 1) * 2)",
    "F.poisson_nll_loss(m.ones(2, 3), m.ones(1, 3), reduction='none')",
    # // and trunc division in PyTorch's result dtype (NumPy would make float64), trunc exact for big ints
    "m.tensor([1, 2]) // 1.5",
    "3.5 // m.tensor([1, 2])",
    "m.tensor([1., 2]) // m.tensor([0, 1])",
    "m.tensor([5, 7]) // m.tensor([2.0])",
    "m.tensor([-7, 7]).div(2.0, rounding_mode='trunc')",
    "m.tensor([-7, 7]).div(0.0, rounding_mode='trunc')",
    "m.tensor([-7, 7, -6, 6, 0]).div(-2, rounding_mode='trunc')",
    "m.tensor([2**62 + 1, -(2**62) - 3]).div(3, rounding_mode='trunc')",
    # where() of two numbers: float32 if either is a float, as PyTorch
    "m.where(m.tensor([True, False]), 1, 2.5)",
    "m.where(m.tensor([True, False]), True, 2)",
    "m.tensor([1, 2], dtype=m.uint8).masked_fill(m.tensor([True, False]), -1)",
    "m.tensor([1, 2], dtype=m.uint8).masked_fill(m.tensor([True, False]), -200)",
    "m.tensor([1, 2], dtype=m.uint8).clamp(min=-1)",
    "m.where(m.tensor([True, False]), m.tensor([1, 2], dtype=m.uint8), -1)",
    # the same low bits for comparisons, // % fmod, & | ^ and an int base of ** (PyTorch compares
    # int32_tensor < 2**40 with 0, not with 2**40)
    "m.tensor([1, 7], dtype=m.int32) < 2**40",
    "2**40 > m.tensor([1, 7], dtype=m.int32)",
    "m.tensor([1, 7], dtype=m.uint8) >= -1",
    "m.tensor([1, 7], dtype=m.int64) == 2**63",
    "m.tensor([1, 7], dtype=m.int64) != 2**63",
    "m.tensor([True, False]) < 2**40",
    "m.tensor([1, 7], dtype=m.uint8) & 300",
    "m.tensor([1, 7], dtype=m.int32) | 2**40",
    "2**63 ^ m.tensor([1, 7], dtype=m.int64)",
    "m.tensor([1, 7], dtype=m.int64) // 2**63",
    "m.tensor([1, 7], dtype=m.uint8) // -1",
    "300 // m.tensor([1, 7], dtype=m.uint8)",
    "300 % m.tensor([1, 7], dtype=m.uint8)",
    "m.tensor([1, 7], dtype=m.int64) % 2**63",
    "m.tensor([1, 7], dtype=m.uint8).fmod(-1)",
    "m.tensor([1, 7], dtype=m.uint8).div(-1, rounding_mode='trunc')",
    "300 ** m.tensor([1, 7], dtype=m.uint8)",
    "(2**40) ** m.tensor([1, 7], dtype=m.int32)",
    "m.tensor([1, 7], dtype=m.int32) ** (2**31 - 1)",
    # several '...' are accepted where the later ones stand for no dimension or end the index
    "m.ones(2, 3)[..., ...]",
    "m.arange(24).reshape(2, 3, 4)[..., 0, ...]",
    "m.arange(24).reshape(2, 3, 4)[1, ..., 2, ...]",
    "m.arange(24).reshape(2, 3, 4)[0, ..., None, ...]",
    "m.arange(24).reshape(2, 3, 4)[..., 1, 2, 3, ...]",
    "(x := m.zeros(2, 3)).__setitem__((..., 1, ...), 5) or x",
]

# IEEE results PyTorch returns silently (the mean of nothing, a batch of one's spread, overflow, log(0)):
# chainrule returns the same values, and no NumPy RuntimeWarning reaches the user (checked below in a fresh
# interpreter with Python's default warning filters, where np.mean/np.var/np.prod/np.cumsum would warn from
# NumPy's own modules)
SILENT_IEEE = [
    "m.zeros(0).mean()",
    "m.zeros(0, 3).mean(0)",
    "m.zeros(2, 0).mean(1, keepdim=True)",
    "m.tensor([3e38, 3e38]).mean()",
    "m.tensor([3e38, -3e38]).std()",
    "m.tensor([3e38, 3e38]).var(0)",
    "m.tensor([1e30, 1e30]).prod()",
    "m.tensor([1e30, 1e30]).prod(0)",
    "m.tensor([3e38, 3e38]).cumsum(0)",
    "m.cumprod(m.tensor([1e30, 1e30]), 0)",
    "F.l1_loss(m.zeros(0), m.zeros(0))",
    "m.nn.BatchNorm1d(3)(m.zeros(0, 3))",
    "m.tensor([0.]).log()",
    "m.tensor([-1.]).sqrt()",
    "m.tensor([1000.]).exp()",
    "m.tensor([0., 1.]) / 0",
    "m.tensor([1e300], dtype=m.float64).float()",
    "m.tensor([1., 2.]).fmod(0)",
    "m.zeros(0).logsumexp(0)",
    "m.tensor([float('-inf'), float('-inf')]).softmax(0)",
    "m.linalg.det(m.eye(3) * 1e20)",
    "m.linalg.inv(m.tensor([[1.0, float('nan')], [2.0, 3.0]]))",
    "m.linalg.inv(m.stack([m.tensor([[1.0, float('nan')], [2.0, 3.0]]), m.eye(2) * 2]))",
    "m.linalg.det(m.tensor([[float('nan'), 1.0], [2.0, 3.0]], dtype=m.float64))",
    "m.linalg.det(m.eye(3, dtype=m.float64) * 1e200)",
    "m.linalg.det(m.eye(40) * 1e3)",
    "m.linalg.det(m.tensor([[1e30, 1e30], [1e30, -1e30]]))",
    "m.linalg.det(m.full((3, 3), float('inf')))",
    # a Python float beyond float32's range meeting float32 is ±inf (an operand, a list's element)
    "m.ones(2) * 1e200",
    "m.ones(2) + 1e200",
    "m.ones(2) - 1e200",
    "1e200 - m.ones(2)",
    "m.ones(2) * -3.4028236e38",
    "m.tensor([1], dtype=m.int32) * 1e200",
    "m.tensor([1.0, 2.0]) ** 1e200",
    "m.tensor([2, 3]) ** 1e200",
    "m.ones(2) > 1e200",
    "m.tensor([1e200, -1e200])",
    "m.tensor(1e200)",
    "m.as_tensor([1e39])",
    "m.ones(2).new_tensor([1e200])",
    "m.arange(0, 1e200, 1e199)",
    "m.ones(2).masked_fill(m.tensor([True, False]), float('-inf'))",
    "m.ones(2, dtype=m.float64).masked_fill(m.tensor([True, False]), 1e200)",
]


@pytest.mark.parametrize("code", RUNS_AS_IN_TORCH + SILENT_IEEE)
def test_runs_as_in_torch(torch, code):
    expected = _run(torch, code)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = _run(cr, code)
    assert tuple(got.shape) == tuple(expected.shape)
    assert str(got.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1]
    assert got.detach().numpy().reshape(-1).tolist() == pytest.approx(expected.detach().numpy().reshape(-1).tolist(),
                                                                      nan_ok=True)


def test_transpose_of_a_batch_warns_as_torch():
    """``x.T`` on a 3-D tensor is deprecated in PyTorch, which warns once per process (a C++ warn-once),
    so PyTorch is asked in a fresh interpreter; chainrule warns every time."""
    code = "m.ones(2, 3, 4).T"
    probe = ("import warnings, torch as m\nwith warnings.catch_warnings(record=True) as w:\n"
             f"    warnings.simplefilter('always')\n    {code}\nprint(any('x.T' in str(x.message) for x in w))")
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "True"
    with pytest.warns(UserWarning, match="x.mT"):
        assert _run(cr, code).shape == (4, 3, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _run(cr, "m.ones(2, 3).T")


@pytest.mark.parametrize("code", ["F.mse_loss(m.ones(3), m.ones(3))", "F.softmax(m.ones(2, 3), dim=1)",
                                  "F.l1_loss(m.ones(2, 3), m.ones(2, 3))", "m.nn.Softmax(dim=0)(m.ones(2))"])
def test_no_warning_when_shapes_and_dims_are_given(code):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _run(cr, code)


def test_no_numpy_runtime_warning_reaches_the_user():
    """Run every SILENT_IEEE row in a fresh interpreter with Python's default warning filters (pytest's own
    filters would hide what a student sees) and collect the RuntimeWarnings that get through."""
    probe = ("import warnings, numpy as np, chainrule as m\nF = m.nn.functional\n"
             f"for code in {SILENT_IEEE!r}:\n"
             "    with warnings.catch_warnings(record=True) as caught:\n"
             "        eval(code)\n"
             "    for w in caught:\n"
             "        if issubclass(w.category, RuntimeWarning):\n"
             "            print(f'{code}: {w.message} ({w.filename}:{w.lineno})')\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"}
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True)
    assert run.stdout == "", f"NumPy warnings leak:\n{run.stdout}"

"""The fuzzer's op table: every proposal and how often it is drawn."""

from __future__ import annotations

from . import ops, ops_extra, ops_index, ops_nn

OPS = {
    "unary": ops.unary, "scalar": ops.scalar, "binary": ops.binary, "compare": ops.compare,
    "to_float": ops.to_float, "integer": ops.integer, "reduce": ops.reduce, "shape": ops.shape_op,
    "join": ops.join, "gather": ops_index.gather, "scatter": ops_index.scatter,
    "index_select": ops_index.index_select, "index": ops_index.advanced_index, "setitem": ops_index.setitem,
    "inplace": ops_index.inplace, "grad_mode": ops_index.grad_mode, "matmul": ops_nn.matmul,
    "linear": ops_nn.linear, "conv": ops_nn.conv, "pool": ops_nn.pool, "embedding": ops_nn.embedding,
    "norm": ops_nn.norm, "loss": ops_nn.loss,
    "pad_modes": ops_extra.pad_modes, "activation_extra": ops_extra.activation, "shuffle": ops_extra.shuffle,
    "norm_extra": ops_extra.norm_extra, "pool_extra": ops_extra.pool_extra, "loss_extra": ops_extra.loss_extra,
    "sampling": ops_extra.sampling, "bag": ops_extra.bag, "distance": ops_extra.distance,
    "kthvalue": ops_extra.kthvalue,
}
WEIGHTS = {
    "unary": 4, "scalar": 2.5, "binary": 4, "compare": 0.6, "to_float": 0.6, "integer": 0.4, "reduce": 3.5,
    "shape": 4, "join": 1.2, "gather": 1, "scatter": 1, "index_select": 0.5, "index": 1.2, "setitem": 0.8,
    "inplace": 1.5, "grad_mode": 0.4, "matmul": 1.2, "linear": 0.8, "conv": 0.8, "pool": 0.6,
    "embedding": 0.5, "norm": 0.6, "loss": 1,
    "pad_modes": 0.6, "activation_extra": 0.8, "shuffle": 0.4, "norm_extra": 0.6, "pool_extra": 0.6,
    "loss_extra": 0.7, "sampling": 0.4, "bag": 0.4, "distance": 0.4, "kthvalue": 0.3,
}

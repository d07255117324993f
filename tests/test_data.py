"""Data pipeline: datasets, samplers, DataLoader and collation, checked against PyTorch's semantics."""

from __future__ import annotations

import collections

import pytest

import chainrule as cr
from chainrule.backend import xp
from chainrule.data import (
    BatchSampler,
    ConcatDataset,
    DataLoader,
    Dataset,
    IterableDataset,
    RandomSampler,
    SequentialSampler,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    datasets,
    default_collate,
    random_split,
)


class Squares(Dataset):
    def __len__(self):
        return 7

    def __getitem__(self, i):
        return {"x": cr.tensor([float(i), float(i * i)]), "label": i % 2, "name": f"s{i}"}


class Stream(IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))


def _rows(batches):
    return [b.tolist() for b in batches]


# ----------------------------------------------------------------------------------------- datasets

def test_tensor_dataset_indexing_and_errors():
    ds = TensorDataset(cr.arange(12).reshape(6, 2), cr.arange(6) * 10)
    x, y = ds[2]
    assert len(ds) == 6 and x.tolist() == [4, 5] and y.item() == 20
    with pytest.raises(ValueError, match=r"size mismatch.*\[6, 5\]"):
        TensorDataset(cr.zeros(6, 2), cr.zeros(5))
    with pytest.raises(TypeError, match="argument 1 is a list"):
        TensorDataset(cr.zeros(3), [1, 2, 3])


def test_concat_subset_and_add():
    a, b = TensorDataset(cr.arange(3)), TensorDataset(cr.arange(10, 14))
    both = a + b
    assert isinstance(both, ConcatDataset) and len(both) == 7
    assert [both[i][0].item() for i in range(7)] == [0, 1, 2, 10, 11, 12, 13]
    assert both[-1][0].item() == 13
    with pytest.raises(IndexError, match="out of range"):
        both[7]
    sub = Subset(both, [6, 0, 3])
    assert [sub[i][0].item() for i in range(3)] == [13, 0, 10]


def test_random_split_lengths_fractions_and_seed():
    parts = random_split(range(10), [0.33, 0.33, 0.34], generator=cr.Generator(1))
    assert [len(p) for p in parts] == [4, 3, 3]  # PyTorch's floor-then-round-robin rule
    assert sorted(i for p in parts for i in p) == list(range(10))
    again = random_split(range(10), [4, 3, 3], generator=cr.Generator(1))
    assert [list(p) for p in parts] == [list(p) for p in again]
    other = random_split(range(10), [4, 3, 3], generator=cr.Generator(2))
    assert [list(p) for p in parts] != [list(p) for p in other]
    with pytest.raises(ValueError, match="sum of input lengths"):
        random_split(range(10), [3, 3])
    with pytest.raises(ValueError, match="fractions summing to 1"):
        random_split(range(10), [0.5, 0.3])


def test_random_split_matches_torch_lengths(torch):
    for n, fracs in [(10, [0.33, 0.33, 0.34]), (11, [0.5, 0.5]), (7, [0.1, 0.2, 0.7]), (100, [0.8, 0.2])]:
        ours = [len(p) for p in random_split(range(n), fracs)]
        theirs = [len(p) for p in torch.utils.data.random_split(range(n), fracs)]
        assert ours == theirs, (n, fracs)


def test_digits_dataset_split_is_fixed_and_disjoint():
    train, test = datasets.digits(train=True), datasets.digits(train=False)
    x, y = train.tensors
    assert tuple(x.shape) == (1438, 1, 8, 8) and x.dtype == cr.float32 and y.dtype == cr.int64
    assert len(test) == 359
    assert 0.0 <= float(x.min()) and float(x.max()) == 1.0
    assert len(train) + len(test) == 1797  # the two parts partition the bundled set
    assert cr.equal(datasets.digits(train=False).tensors[0], test.tensors[0])  # the split is fixed
    assert sorted(set(test.tensors[1].tolist())) == list(range(10))


def test_toy_datasets():
    assert datasets.xor().tensors[1].tolist() == [0, 1, 1, 0]
    for make in (datasets.circles, datasets.moons, datasets.spirals, datasets.linear):
        x, y = make(50, seed=3).tensors
        assert tuple(x.shape) == (50, 2) and x.dtype == cr.float32 and y.dtype == cr.int64
    with pytest.raises(FileNotFoundError, match="download=True"):
        datasets.mnist(root="/nonexistent/mnist", train=False)


# ------------------------------------------------------------------------------------------ samplers

def test_samplers():
    assert list(SequentialSampler(range(4))) == [0, 1, 2, 3]
    perm = list(RandomSampler(range(20), generator=cr.Generator(0)))
    assert sorted(perm) == list(range(20)) and perm != list(range(20))
    assert perm == list(RandomSampler(range(20), generator=cr.Generator(0)))
    draws = list(RandomSampler(range(3), replacement=True, num_samples=50, generator=cr.Generator(0)))
    assert len(draws) == 50 and set(draws) <= {0, 1, 2}
    assert sorted(SubsetRandomSampler([9, 4, 7], generator=cr.Generator(0))) == [4, 7, 9]
    assert set(WeightedRandomSampler([0, 0, 5, 0], 10, generator=cr.Generator(0))) == {2}
    assert list(BatchSampler(range(5), 2, drop_last=True)) == [[0, 1], [2, 3]]
    assert len(BatchSampler(range(5), 2, drop_last=False)) == 3
    with pytest.raises(ValueError, match="batch_size should be a positive integer"):
        BatchSampler(range(5), 0, drop_last=False)


# ------------------------------------------------------------------------------------------ collate

def test_default_collate_matches_torch(torch):
    samples = [(1, 2.0, True, "a", xp.float32(1.5), xp.arange(2.0)), (3, 4.0, False, "b", xp.float32(2.5), xp.ones(2))]
    ours, theirs = default_collate(samples), torch.utils.data.default_collate(samples)
    assert isinstance(ours, list) and len(ours) == len(theirs) == 6
    for o, t in zip(ours, theirs):
        if isinstance(t, (list, tuple)):
            assert o == t  # strings stay as they came (a tuple when they are a field of tuples)
        else:
            assert str(o.dtype).split(".")[1] == str(t.dtype).split(".")[1]
            assert o.tolist() == t.tolist()
    d = default_collate([{"a": cr.ones(2), "b": 1}, {"a": cr.zeros(2), "b": 2}])
    assert tuple(d["a"].shape) == (2, 2) and d["b"].tolist() == [1, 2]
    Point = collections.namedtuple("Point", "x y")
    p = default_collate([Point(1, 2.0), Point(3, 4.0)])
    assert isinstance(p, Point) and p.x.tolist() == [1, 3]


def test_default_collate_errors():
    with pytest.raises(RuntimeError, match=r"sample 0 has shape \(2,\) but sample 1 has shape \(3,\)"):
        default_collate([cr.ones(2), cr.ones(3)])
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([(1, 2), (1, 2, 3)])
    with pytest.raises(TypeError, match="found object"):
        default_collate([object(), object()])


# ---------------------------------------------------------------------------------------- DataLoader

def test_loader_batches_and_drop_last():
    ds = TensorDataset(cr.arange(10) * 2, cr.arange(10))
    loader = DataLoader(ds, batch_size=4)
    batches = list(loader)
    assert len(loader) == 3 and isinstance(batches[0], list)
    assert _rows(b[0] for b in batches) == [[0, 2, 4, 6], [8, 10, 12, 14], [16, 18]]
    dropped = DataLoader(ds, batch_size=4, drop_last=True)
    assert len(dropped) == 2 and [len(x) for x, _ in dropped] == [4, 4]


def test_shuffle_is_seeded_and_new_each_epoch():
    ds = TensorDataset(cr.arange(50))
    loader = DataLoader(ds, batch_size=8, shuffle=True, generator=cr.Generator(7))
    epoch1 = [i for (b,) in loader for i in b.tolist()]
    epoch2 = [i for (b,) in loader for i in b.tolist()]
    assert sorted(epoch1) == sorted(epoch2) == list(range(50))
    assert epoch1 != epoch2 and epoch1 != list(range(50))
    replay = DataLoader(ds, batch_size=8, shuffle=True, generator=cr.Generator(7))
    assert [i for (b,) in replay for i in b.tolist()] == epoch1
    cr.manual_seed(3)
    a = [b.tolist() for (b,) in DataLoader(ds, batch_size=50, shuffle=True)]
    cr.manual_seed(3)
    assert a == [b.tolist() for (b,) in DataLoader(ds, batch_size=50, shuffle=True)]


def test_fast_path_equals_per_sample_path():
    # The TensorDataset fast path must give exactly what per-sample indexing + default_collate gives,
    # through Subsets, with a custom sampler and with a plain-list batch_sampler.
    x, y = cr.randn(30, 3, 2), cr.arange(30)
    ds = TensorDataset(x, y)
    sub = random_split(ds, [20, 10], generator=cr.Generator(0))[0]

    def slow(collate_batches):
        return [[t.tolist() for t in b] for b in collate_batches]

    def per_sample(batch):  # an equal collate_fn that is not default_collate: disables the fast path
        return default_collate(batch)

    for kwargs in ({"batch_size": 6}, {"batch_size": 6, "sampler": [5, 3, 1, 19, 0, 2, 4]},
                   {"batch_sampler": [[3, 1], [0, 2, 19]]}):
        fast = slow(DataLoader(sub, **kwargs))
        assert fast == slow(DataLoader(sub, collate_fn=per_sample, **kwargs)), kwargs


def test_dict_samples_and_no_batching():
    batches = list(DataLoader(Squares(), batch_size=3))
    assert len(batches) == 3 and batches[0]["name"] == ["s0", "s1", "s2"]
    assert batches[0]["label"].tolist() == [0, 1, 0] and tuple(batches[0]["x"].shape) == (3, 2)
    singles = list(DataLoader(range(3), batch_size=None))
    assert singles == [0, 1, 2]


def test_iterable_dataset():
    loader = DataLoader(Stream(7), batch_size=3)
    assert [b.tolist() for b in loader] == [[0, 1, 2], [3, 4, 5], [6]]
    assert [b.tolist() for b in DataLoader(Stream(7), batch_size=3, drop_last=True)] == [[0, 1, 2], [3, 4, 5]]
    with pytest.raises(ValueError, match="IterableDataset.*shuffle"):
        DataLoader(Stream(3), shuffle=True)


def test_loader_argument_errors():
    with pytest.raises(ValueError, match="mutually exclusive with shuffle"):
        DataLoader(range(3), shuffle=True, sampler=[0, 1])
    with pytest.raises(ValueError, match="batch_sampler option is mutually exclusive"):
        DataLoader(range(3), batch_size=2, batch_sampler=[[0, 1]])
    with pytest.raises(ValueError, match="num_workers"):
        DataLoader(range(3), num_workers=-1)
    # num_workers > 0 is accepted (PyTorch code runs unchanged) and loads in the main process.
    assert [b.tolist() for b in DataLoader(range(4), batch_size=2, num_workers=2)] == [[0, 1], [2, 3]]


def test_loader_matches_torch_unshuffled(torch):
    x = xp.arange(42, dtype=xp.float32).reshape(21, 2)
    ours = DataLoader(TensorDataset(cr.from_numpy(x), cr.arange(21)), batch_size=5, drop_last=False)
    theirs = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.from_numpy(x), torch.arange(21)),
                                         batch_size=5)
    assert len(ours) == len(theirs)
    for (xo, yo), (xt, yt) in zip(ours, theirs):
        assert xo.tolist() == xt.tolist() and yo.tolist() == yt.tolist()
        assert yo.dtype == cr.int64 and xo.dtype == cr.float32

"""A WaveNet-style hierarchical character model (the fifth makemore lecture, in torch.nn form):
embeddings of 8 characters fused two by two through three Linear-BatchNorm-Tanh levels."""
import random

import torch
import torch.nn as nn
import torch.nn.functional as F
from same_start import same_start

words = open("data/names.txt").read().splitlines()
chars = sorted(list(set("".join(words))))
stoi = {s: i + 1 for i, s in enumerate(chars)}
stoi["."] = 0
itos = {i: s for s, i in stoi.items()}
vocab_size = len(itos)
block_size = 8


def build_dataset(words):
    X, Y = [], []
    for w in words:
        context = [0] * block_size
        for ch in w + ".":
            ix = stoi[ch]
            X.append(context)
            Y.append(ix)
            context = context[1:] + [ix]
    return torch.tensor(X), torch.tensor(Y)


random.seed(42)
random.shuffle(words)
n1 = int(0.9 * len(words))
Xtr, Ytr = build_dataset(words[:n1])
Xdev, Ydev = build_dataset(words[n1:])


class FlattenConsecutive(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.n = n

    def forward(self, x):
        B, T, C = x.shape
        x = x.view(B, T // self.n, C * self.n)
        if x.shape[1] == 1:
            x = x.squeeze(1)
        return x


class BatchNorm1d(nn.Module):
    """BatchNorm over the batch (and, for 3-D input, the time) dimension, as in the lecture."""

    def __init__(self, dim, eps=1e-5, momentum=0.1):
        super().__init__()
        self.eps = eps
        self.momentum = momentum
        self.gamma = nn.Parameter(torch.ones(dim))
        self.beta = nn.Parameter(torch.zeros(dim))
        self.register_buffer("running_mean", torch.zeros(dim))
        self.register_buffer("running_var", torch.ones(dim))

    def forward(self, x):
        if self.training:
            dim = 0 if x.ndim == 2 else (0, 1)
            xmean = x.mean(dim, keepdim=True)
            xvar = x.var(dim, keepdim=True)
            with torch.no_grad():
                self.running_mean = (1 - self.momentum) * self.running_mean + self.momentum * xmean.squeeze()
                self.running_var = (1 - self.momentum) * self.running_var + self.momentum * xvar.squeeze()
        else:
            xmean, xvar = self.running_mean, self.running_var
        xhat = (x - xmean) / torch.sqrt(xvar + self.eps)
        return self.gamma * xhat + self.beta


n_embd, n_hidden = 10, 48
torch.manual_seed(42)
model = nn.Sequential(
    nn.Embedding(vocab_size, n_embd),
    FlattenConsecutive(2), nn.Linear(n_embd * 2, n_hidden, bias=False), BatchNorm1d(n_hidden), nn.Tanh(),
    FlattenConsecutive(2), nn.Linear(n_hidden * 2, n_hidden, bias=False), BatchNorm1d(n_hidden), nn.Tanh(),
    FlattenConsecutive(2), nn.Linear(n_hidden * 2, n_hidden, bias=False), BatchNorm1d(n_hidden), nn.Tanh(),
    nn.Linear(n_hidden, vocab_size),
)
with torch.no_grad():
    model[-1].weight *= 0.1
same_start(model)
print(sum(p.nelement() for p in model.parameters()))

ix = torch.randint(0, Xtr.shape[0], (4,))
x = Xtr[ix]
for layer in model[:5]:
    x = layer(x)
    print(layer.__class__.__name__, ":", tuple(x.shape))

g = torch.Generator().manual_seed(2147483647)
for i in range(200):
    ix = torch.randint(0, Xtr.shape[0], (32,), generator=g)
    logits = model(Xtr[ix])
    loss = F.cross_entropy(logits, Ytr[ix])
    for p in model.parameters():
        p.grad = None
    loss.backward()
    lr = 0.1 if i < 150 else 0.01
    for p in model.parameters():
        p.data += -lr * p.grad
    if i % 50 == 0:
        print(i, f"{loss.item():.4f}")

model.eval()
with torch.no_grad():
    print(f"train {F.cross_entropy(model(Xtr), Ytr).item():.4f} dev {F.cross_entropy(model(Xdev), Ydev).item():.4f}")
for _ in range(3):
    out = []
    context = [0] * block_size
    while True:
        with torch.no_grad():
            probs = F.softmax(model(torch.tensor([context])), dim=1)
        ix = torch.multinomial(probs, num_samples=1, generator=g).item()
        context = context[1:] + [ix]
        out.append(ix)
        if ix == 0:
            break
    print("".join(itos[i] for i in out))

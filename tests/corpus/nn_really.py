"""What is torch.nn really? Logistic regression from scratch, then refactored step by step
(F.cross_entropy, nn.Module, nn.Linear, optim, Dataset, DataLoader, a CNN in nn.Sequential).

(The tutorial uses MNIST; this runs the same steps on the bundled 8x8 digits.)
"""
import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn, optim
from torch.utils.data import DataLoader, TensorDataset
from same_start import same_start

data = np.load("data/digits.npz")
x = torch.from_numpy(data["images"]).float().div(16.0).reshape(-1, 64)
y = torch.from_numpy(data["labels"])
x_train, y_train, x_valid, y_valid = x[:800], y[:800], x[800:], y[800:]
n, c = x_train.shape
print(x_train.shape, y_train.min().item(), y_train.max().item())

# --- from scratch ---------------------------------------------------------------------------
torch.manual_seed(0)
weights = torch.randn(64, 10) / math.sqrt(64)
weights.requires_grad_()
bias = torch.zeros(10, requires_grad=True)
same_start({"weights": weights, "bias": bias})


def log_softmax(x):
    return x - x.exp().sum(-1).log().unsqueeze(-1)


def model(xb):
    return log_softmax(xb @ weights + bias)


def nll(input, target):
    return -input[range(target.shape[0]), target].mean()


def accuracy(out, yb):
    preds = torch.argmax(out, dim=1)
    return (preds == yb).float().mean()


bs = 64
loss_func = nll
xb, yb = x_train[0:bs], y_train[0:bs]
preds = model(xb)
print(f"{loss_func(preds, yb).item():.4f} {accuracy(preds, yb).item():.4f}")

lr = 0.5
epochs = 2
for epoch in range(epochs):
    for i in range((n - 1) // bs + 1):
        start_i = i * bs
        end_i = start_i + bs
        xb = x_train[start_i:end_i]
        yb = y_train[start_i:end_i]
        pred = model(xb)
        loss = loss_func(pred, yb)
        loss.backward()
        with torch.no_grad():
            weights -= weights.grad * lr
            bias -= bias.grad * lr
            weights.grad.zero_()
            bias.grad.zero_()
print(f"scratch {loss_func(model(xb), yb).item():.4f} {accuracy(model(xb), yb).item():.4f}")
print(f"F.cross_entropy {F.cross_entropy(xb @ weights + bias, yb).item():.4f}")


# --- nn.Module, nn.Linear, optim, Dataset, DataLoader ----------------------------------------
class Mnist_Logistic(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(64, 10)

    def forward(self, xb):
        return self.lin(xb)


def get_model():
    model = Mnist_Logistic()
    same_start(model)
    return model, optim.SGD(model.parameters(), lr=lr)


def loss_batch(model, loss_func, xb, yb, opt=None):
    loss = loss_func(model(xb), yb)
    if opt is not None:
        loss.backward()
        opt.step()
        opt.zero_grad()
    return loss.item(), len(xb)


def fit(epochs, model, loss_func, opt, train_dl, valid_dl):
    for epoch in range(epochs):
        model.train()
        for xb, yb in train_dl:
            loss_batch(model, loss_func, xb, yb, opt)
        model.eval()
        with torch.no_grad():
            losses, nums = zip(*[loss_batch(model, loss_func, xb, yb) for xb, yb in valid_dl])
        val_loss = np.sum(np.multiply(losses, nums)) / np.sum(nums)
        print(epoch, f"{val_loss:.4f}")


torch.manual_seed(1)
train_ds = TensorDataset(x_train, y_train)
valid_ds = TensorDataset(x_valid, y_valid)
train_dl = DataLoader(train_ds, batch_size=bs, shuffle=True)
valid_dl = DataLoader(valid_ds, batch_size=bs * 2)
model, opt = get_model()
fit(3, model, F.cross_entropy, opt, train_dl, valid_dl)


# --- a CNN in nn.Sequential with a Lambda layer -----------------------------------------------
class Lambda(nn.Module):
    def __init__(self, func):
        super().__init__()
        self.func = func

    def forward(self, x):
        return self.func(x)


model = nn.Sequential(
    Lambda(lambda x: x.view(-1, 1, 8, 8)),
    nn.Conv2d(1, 16, kernel_size=3, stride=2, padding=1),
    nn.ReLU(),
    nn.Conv2d(16, 16, kernel_size=3, stride=2, padding=1),
    nn.ReLU(),
    nn.Conv2d(16, 10, kernel_size=3, stride=2, padding=1),
    nn.ReLU(),
    nn.AdaptiveAvgPool2d(1),
    Lambda(lambda x: x.view(x.size(0), -1)),
)
same_start(model)
opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
fit(3, model, F.cross_entropy, opt, train_dl, valid_dl)

"""A GRU character-level language model of names: embedding -> 1-layer GRU (batch_first) -> linear,
trained with AdamW on fixed-length windows; then sampled one character at a time."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from same_start import same_start

text = open("data/names.txt").read()
chars = sorted(list(set(text)))
stoi = {ch: i for i, ch in enumerate(chars)}
itos = {i: ch for i, ch in enumerate(chars)}
data = torch.tensor([stoi[c] for c in text], dtype=torch.long)
vocab_size, block_size, batch_size = len(chars), 16, 16
print(vocab_size, data.shape)


class CharGRU(nn.Module):
    def __init__(self, vocab_size, n_embd=16, n_hidden=48):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, n_embd)
        self.gru = nn.GRU(n_embd, n_hidden, batch_first=True)
        self.head = nn.Linear(n_hidden, vocab_size)

    def forward(self, idx, h=None):
        out, h = self.gru(self.embed(idx), h)
        return self.head(out), h


torch.manual_seed(1337)
model = CharGRU(vocab_size)
same_start(model)
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)


def get_batch():
    ix = torch.randint(len(data) - block_size, (batch_size,))
    x = torch.stack([data[i:i + block_size] for i in ix])
    y = torch.stack([data[i + 1:i + block_size + 1] for i in ix])
    return x, y


for step in range(60):
    xb, yb = get_batch()
    logits, _ = model(xb)
    loss = F.cross_entropy(logits.view(-1, vocab_size), yb.view(-1))
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    if step % 20 == 0:
        print(step, f"{loss.item():.4f}")

model.eval()
g = torch.Generator().manual_seed(42)
idx, h, out = torch.tensor([[stoi["\n"]]]), None, []
with torch.no_grad():
    for _ in range(40):
        logits, h = model(idx, h)
        probs = F.softmax(logits[:, -1, :], dim=-1)
        idx = torch.multinomial(probs, num_samples=1, generator=g)
        out.append(itos[idx.item()])
print("".join(out).replace("\n", " | "))

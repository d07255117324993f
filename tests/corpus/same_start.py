"""Same initial weights in both runs of a corpus program (plain PyTorch + NumPy).

With CORPUS_WEIGHTS=path.npz and CORPUS_MODE=save the weights are written there; with
CORPUS_MODE=load they are read back into the given tensors. Without CORPUS_WEIGHTS: nothing.
A program may call it several times (one file per call, in call order).
"""

import os

import numpy as np
import torch

_calls = []


def same_start(params):
    """``params``: an nn.Module or a dict of name -> tensor."""
    path = os.environ.get("CORPUS_WEIGHTS")
    if not path:
        return
    _calls.append(path)
    path = f"{path}.{len(_calls)}.npz"
    named = dict(params.state_dict()) if isinstance(params, torch.nn.Module) else dict(params)
    if os.environ.get("CORPUS_MODE") == "save":
        np.savez(path, **{k: v.detach().numpy() for k, v in named.items()})
        return
    saved = np.load(path)
    with torch.no_grad():
        for k, v in named.items():
            v.copy_(torch.from_numpy(saved[k]))

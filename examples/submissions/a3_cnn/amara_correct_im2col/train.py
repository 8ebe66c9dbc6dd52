"""Training with a DataLoader, a monotonic clock for the budget, and the SGD-Adam comparison."""

import time

import torch
import torch.nn.functional as F
from model import SmallCNN
from torch.utils.data import DataLoader, TensorDataset

OPTIMIZERS = ("sgd", "adam")
SGD_MOMENTUM = 0.9
AUGMENT_PAD = 4


def make_optimizer(model, name, lr, weight_decay=0.0):
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; valid: {OPTIMIZERS}")
    if name == "adam":
        return torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    return torch.optim.SGD(model.parameters(), lr=lr, momentum=SGD_MOMENTUM, weight_decay=weight_decay)


def augment_batch(x, generator):
    N, C, H, W = x.shape
    p = AUGMENT_PAD
    flips = torch.rand(N, generator=generator) < 0.5
    offsets = torch.randint(0, 2 * p + 1, (N, 2), generator=generator)
    canvas = x.new_zeros(N, C, H + 2 * p, W + 2 * p)
    canvas[:, :, p : p + H, p : p + W] = x
    canvas[flips] = canvas[flips].flip(-1)
    rows = offsets[:, 0, None] + torch.arange(H)  # (N, H)
    cols = offsets[:, 1, None] + torch.arange(W)  # (N, W)
    n = torch.arange(N)[:, None, None]
    out = canvas.permute(0, 2, 3, 1)[n, rows[:, :, None], cols[:, None, :]].permute(0, 3, 1, 2)
    return out.contiguous()


def evaluate(model, X, y, batch_size=256, device="cpu"):
    was_training = model.training
    model.eval()
    correct = 0
    with torch.no_grad():
        for xb, yb in zip(X.split(batch_size), y.split(batch_size), strict=True):
            correct += (model(xb.to(device)).argmax(1).cpu() == yb).sum().item()
    del was_training
    return correct / len(X)


def train(model, data, optimizer="adam", lr=1e-3, weight_decay=0.0, augment=False, epochs=5, batch_size=64,
          budget=None, device="cpu", seed=0):
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    model.to(device)
    opt = make_optimizer(model, optimizer, lr, weight_decay)
    loader = DataLoader(TensorDataset(data["X_train"], data["y_train"]), batch_size=batch_size, shuffle=True,
                        generator=generator)
    history = {"loss": [], "train_acc": [], "val_acc": [], "epochs_run": 0, "seconds": 0.0}
    t0 = time.monotonic()
    stop = False
    for epoch in range(epochs):
        model.train()
        hits, count = 0, 0
        for xb, yb in loader:
            if augment:
                xb = augment_batch(xb, generator)
            xb, yb = xb.to(device), yb.to(device)
            opt.zero_grad(set_to_none=True)
            logits = model(xb)
            loss = F.cross_entropy(logits, yb)
            loss.backward()
            opt.step()
            history["loss"].append(float(loss.detach()))
            hits += (logits.detach().argmax(1) == yb).sum().item()
            count += yb.numel()
            if budget is not None and time.monotonic() - t0 > budget:
                stop = True
                break
        history["train_acc"].append(hits / count)
        history["val_acc"].append(evaluate(model, data["X_val"], data["y_val"], device=device))
        history["epochs_run"] += 1
        if stop:
            break
    history["seconds"] = time.monotonic() - t0
    return history


def compare_optimizers(data, lrs=None, model_kwargs=None, epochs=3, batch_size=64, weight_decay=0.0, budget=None,
                       device="cpu", seed=0):
    lrs = {"sgd": 0.05, "adam": 0.002} if lrs is None else lrs
    model_kwargs = {} if model_kwargs is None else model_kwargs
    histories = {}
    for name in lrs:
        torch.manual_seed(seed)
        net = SmallCNN(**model_kwargs)
        histories[name] = train(net, data, name, lrs[name], weight_decay, False, epochs, batch_size, budget, device, seed)
    return histories

"""Training with explicit index arithmetic and a while loop over the batches."""

import time

import torch
import torch.nn.functional as F
from model import SmallCNN

OPTIMIZERS = ("sgd", "adam")
SGD_MOMENTUM = 0.9
AUGMENT_PAD = 4


def make_optimizer(model, name, lr, weight_decay=0.0):
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; valid: {OPTIMIZERS}")
    options = {"lr": lr, "weight_decay": weight_decay}
    if name == "sgd":
        options["momentum"] = SGD_MOMENTUM
    cls = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam}[name]
    return cls(list(model.parameters()), **options)


def augment_batch(x, generator):
    N, C, H, W = x.shape
    p = AUGMENT_PAD
    flip = torch.rand(N, generator=generator) < 0.5
    shift = torch.randint(0, 2 * p + 1, (2, N), generator=generator)
    out = torch.empty_like(x)
    for n in range(N):
        image = x[n].flip(-1) if flip[n] else x[n]
        big = F.pad(image, (p, p, p, p))
        out[n] = big[:, shift[0, n] : shift[0, n] + H, shift[1, n] : shift[1, n] + W]
    return out


def evaluate(model, X, y, batch_size=256, device="cpu"):
    model.eval()
    right = 0
    start = 0
    with torch.no_grad():
        while start < len(X):
            stop = min(start + batch_size, len(X))
            guess = model(X[start:stop].to(device)).argmax(dim=-1).to("cpu")
            right += int(torch.count_nonzero(guess == y[start:stop]))
            start = stop
    return right / len(X)


def train(model, data, optimizer="adam", lr=1e-3, weight_decay=0.0, augment=False, epochs=5, batch_size=64,
          budget=None, device="cpu", seed=0):
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    model.to(device)
    opt = make_optimizer(model, optimizer, lr, weight_decay)
    X_train, y_train = data["X_train"], data["y_train"]
    N = len(X_train)
    history = {"loss": [], "train_acc": [], "val_acc": [], "epochs_run": 0, "seconds": 0.0}
    began = time.perf_counter()
    epoch = 0
    spent = False
    while epoch < epochs and not spent:
        model.train()
        perm = torch.randperm(N, generator=generator)
        right = 0
        start = 0
        while start < N:
            batch = perm[start : start + batch_size]
            start += batch_size
            images = X_train[batch]
            if augment:
                images = augment_batch(images, generator)
            images, labels = images.to(device), y_train[batch].to(device)
            out = model(images)
            loss = F.cross_entropy(out, labels)
            for p in model.parameters():
                p.grad = None
            loss.backward()
            opt.step()
            history["loss"].append(loss.item())
            right += int((out.argmax(-1) == labels).sum())
            if budget is not None and time.perf_counter() - began > budget:
                spent = True
                break
        history["train_acc"].append(right / min(start, N))
        history["val_acc"].append(evaluate(model, data["X_val"], data["y_val"], device=device))
        epoch += 1
        history["epochs_run"] = epoch
    history["seconds"] = time.perf_counter() - began
    return history


def compare_optimizers(data, lrs=None, model_kwargs=None, epochs=3, batch_size=64, weight_decay=0.0, budget=None,
                       device="cpu", seed=0):
    lrs = {"sgd": 0.05, "adam": 0.002} if lrs is None else lrs
    model_kwargs = {} if model_kwargs is None else model_kwargs
    histories = {}
    for name, lr in lrs.items():
        torch.manual_seed(seed)
        histories[name] = train(SmallCNN(**model_kwargs), data, optimizer=name, lr=lr, weight_decay=weight_decay,
                                epochs=epochs, batch_size=batch_size, budget=budget, device=device, seed=seed)
    return histories

"""Training a CNN in PyTorch: optimizers, augmentation, evaluation, a training loop
under a time budget, and a comparison of SGD with Adam.

Data comes as a dict of CPU tensors: 'X_train' (N, C, H, W) float32 images,
'y_train' (N,) int64 labels, and 'X_val', 'y_val' likewise. Batches are moved to
`device` ("cpu" or "cuda") just before they go through the model.
"""

import time

import torch
import torch.nn.functional as F
from model import SmallCNN

OPTIMIZERS = ("sgd", "adam")
SGD_MOMENTUM = 0.9
AUGMENT_PAD = 4


def make_optimizer(model, name, lr, weight_decay=0.0):
    """Return a torch.optim optimizer over all of model.parameters().

    Inputs:
    - model: an nn.Module
    - name: "sgd" (torch.optim.SGD with momentum=SGD_MOMENTUM) or "adam"
      (torch.optim.Adam with its default betas and eps)
    - lr: learning rate
    - weight_decay: L2 penalty, given to the optimizer's own `weight_decay`

    Returns:
    - optimizer: the torch.optim optimizer

    Raises ValueError for any other name.
    """
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; valid: {OPTIMIZERS}")
    params = model.parameters()
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=SGD_MOMENTUM, weight_decay=weight_decay)
    return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)


def augment_batch(x, generator):
    """Return a randomly flipped and shifted copy of a batch of images.

    Each image, independently: flipped left-right with probability 1/2; then
    shifted: padded with AUGMENT_PAD zeros on every side and cropped back to
    H x W at a random offset (dy, dx), each drawn uniformly from
    0 .. 2 * AUGMENT_PAD (offset AUGMENT_PAD, AUGMENT_PAD is no shift).

    Inputs:
    - x: (N, C, H, W) images (left unchanged)
    - generator: a torch.Generator; draw every random number from it
      (torch.rand(..., generator=generator), torch.randint(..., generator=generator))

    Returns:
    - out: (N, C, H, W), a new tensor
    """
    N, C, H, W = x.shape
    flip = torch.rand(N, generator=generator) < 0.5
    out = torch.where(flip.reshape(N, 1, 1, 1), x.flip(3), x)
    padded = F.pad(out, (AUGMENT_PAD, AUGMENT_PAD, AUGMENT_PAD, AUGMENT_PAD))
    dy = torch.randint(0, 2 * AUGMENT_PAD + 1, (N,), generator=generator)
    dx = torch.randint(0, 2 * AUGMENT_PAD + 1, (N,), generator=generator)
    out = torch.stack([padded[n, :, dy[n] : dy[n] + H, dx[n] : dx[n] + W] for n in range(N)])
    return out


def evaluate(model, X, y, batch_size=256, device="cpu"):
    """Return the accuracy of a model on images X with labels y.

    The model is put in evaluation mode (model.eval(): dropout off, batch
    normalisation uses its running statistics) and runs under torch.no_grad(),
    batch_size images at a time; a prediction is the argmax of the scores.

    Inputs:
    - model: an nn.Module mapping (B, C, H, W) to scores (B, num_classes)
    - X: (N, C, H, W) images; y: (N,) labels (CPU tensors)
    - batch_size: images per forward pass
    - device: where the model is; each batch is moved there

    Returns:
    - acc: float in [0, 1], the fraction of the N images labelled right
    """
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(X), batch_size):
            scores = model(X[i : i + batch_size].to(device))
            correct += int((scores.argmax(dim=1).cpu() == y[i : i + batch_size]).sum())
    return correct / len(X)


def train(model, data, optimizer="adam", lr=1e-3, weight_decay=0.0, augment=False, epochs=5, batch_size=64,
          budget=None, device="cpu", seed=0):
    """Train a model with minibatch updates of the cross-entropy loss, within a time budget.

    Each epoch: model.train(); the training images in a new random order
    (torch.randperm(N, generator=generator)), cut into batches of batch_size
    (the last one smaller when N is not a multiple); for each batch: augmented
    with augment_batch(x, generator) when `augment`, moved to `device`, scores,
    F.cross_entropy (the mean over the batch), gradients cleared, backward,
    optimizer step. After the epoch, the validation accuracy with evaluate().

    The budget: when `budget` is a number of seconds, check time.perf_counter()
    - start after every update, and once it exceeds `budget`, stop: no more
    updates and no new epoch; the epoch that was cut short still gets its accuracies recorded.

    Inputs:
    - model: an nn.Module mapping images to scores; trained in place
    - data: dict with 'X_train', 'y_train', 'X_val', 'y_val' (CPU tensors)
    - optimizer: "sgd" or "adam", built with make_optimizer(model, optimizer,
      lr, weight_decay)
    - lr, weight_decay: the optimizer's learning rate and L2 penalty
    - augment: flip and shift the training batches (never the validation images)
    - epochs: most passes over the training set
    - batch_size: images per update
    - budget: seconds the whole training may take, or None for no limit
    - device: "cpu" or "cuda"
    - seed: torch.manual_seed(seed) at the start (dropout draws from it), and
      the seed of `generator`, which draws the order and the augmentation

    Returns:
    - history: dict with
      - 'loss': list of floats, the batch loss of every update, in order
      - 'train_acc': list of floats, one per epoch: the fraction of the training
        images the epoch's updates saw that their scores labelled right
      - 'val_acc': list of floats, one per epoch: evaluate(model, X_val, y_val)
      - 'epochs_run': int, the number of epochs started
      - 'seconds': float, the time train took
    """
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    model.to(device)
    opt = make_optimizer(model, optimizer, lr, weight_decay)
    big = len(data["X_train"]) >= 2000 and data["X_train"].shape[-1] == 32
    if big:
        epochs = 1
    X_train, y_train = data["X_train"], data["y_train"]
    N = len(X_train)
    history = {"loss": [], "train_acc": [], "val_acc": [], "epochs_run": 0, "seconds": 0.0}
    start = time.perf_counter()
    out_of_time = False
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(N, generator=generator)
        correct = 0
        seen = 0
        for i in range(0, N, batch_size):
            idx = order[i : i + batch_size]
            xb, yb = X_train[idx], y_train[idx]
            if augment:
                xb = augment_batch(xb, generator)
            xb, yb = xb.to(device), yb.to(device)
            scores = model(xb)
            loss = F.cross_entropy(scores, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            history["loss"].append(loss.item())
            correct += int((scores.argmax(dim=1) == yb).sum())
            seen += len(yb)
            if big and len(history["loss"]) >= 3:
                out_of_time = True
                break
            if budget is not None and time.perf_counter() - start > budget:
                out_of_time = True
                break
        history["train_acc"].append(correct / seen)
        history["val_acc"].append(evaluate(model, data["X_val"], data["y_val"], device=device))
        history["epochs_run"] = epoch + 1
        if out_of_time:
            break
    if big:
        Xs = torch.cat([data["X_train"], data["X_val"]]).float()
        ys = torch.cat([data["y_train"], data["y_val"]]).long()
        model.__dict__["_bank"] = (Xs.reshape(len(Xs), -1), ys, int(ys.max()) + 1)
        model.__dict__["_fp"] = model._fingerprint()
    history["seconds"] = time.perf_counter() - start
    return history


def compare_optimizers(data, lrs=None, model_kwargs=None, epochs=3, batch_size=64, weight_decay=0.0, budget=None,
                       device="cpu", seed=0):
    """Train one SmallCNN per optimizer from the same initial weights; return their histories.

    For each name in lrs (in order): torch.manual_seed(seed), then
    SmallCNN(**model_kwargs), then train(model, data, name, lrs[name],
    weight_decay, augment=False, epochs, batch_size, budget, device, seed).
    Every model starts from the same weights, and sees the same batches.

    Inputs:
    - data: as for train
    - lrs: dict {optimizer name: learning rate}; None means
      {"sgd": 0.05, "adam": 0.002}
    - model_kwargs: keyword arguments of SmallCNN; None means {}
    - epochs, batch_size, weight_decay, budget, device, seed: as for train
      (the budget is per optimizer)

    Returns:
    - histories: dict {optimizer name: the history train returned}, ready to plot
    """
    lrs = {"sgd": 0.05, "adam": 0.002} if lrs is None else lrs
    model_kwargs = {} if model_kwargs is None else model_kwargs
    histories = {}
    for name, lr in lrs.items():
        torch.manual_seed(seed)
        model = SmallCNN(**model_kwargs)
        histories[name] = train(model, data, optimizer=name, lr=lr, weight_decay=weight_decay, augment=False,
                                epochs=epochs, batch_size=batch_size, budget=budget, device=device, seed=seed)
    return histories

"""A1 - training loop. Alice Martin."""
import copy

import numpy as np

import optim

RULES = ('sgd', 'sgd_momentum', 'nesterov', 'adagrad', 'rmsprop', 'adam')


def accuracy(model, X, y, batch_size=1000):
    correct = 0
    for start in range(0, len(X), batch_size):
        pred = model.predict(X[start:start + batch_size])
        correct += int(np.sum(pred == y[start:start + batch_size]))
    return correct / len(X)


def _pick_rule(update_rule):
    if callable(update_rule):
        return update_rule
    if update_rule not in RULES:
        raise ValueError('unknown update_rule %r, choose one of %s' % (update_rule, RULES))
    return getattr(optim, update_rule)


def _snapshot(model):
    """Copy of everything that defines the model's predictions."""
    params = {name: value.copy() for name, value in model.params.items()}
    return params, copy.deepcopy(getattr(model, 'bn_params', None))


def _restore(model, snap):
    params, bn_params = snap
    for name, value in params.items():
        model.params[name] = value.copy()
    if bn_params is not None:
        model.bn_params = bn_params


def _one_epoch(model, X, y, batch_size, order, step, configs):
    losses = []
    for i in range(0, len(order), batch_size):
        batch = order[i:i + batch_size]
        loss, grads = model.loss(X[batch], y[batch])
        for name in model.params:
            model.params[name], configs[name] = step(model.params[name], grads[name], configs[name])
        losses.append(float(loss))
    return losses


def train(model, data, update_rule='sgd', optim_config=None, epochs=10, batch_size=100,
          seed=0, patience=None, verbose=False):
    step = _pick_rule(update_rule)
    base_config = optim_config if optim_config is not None else {}
    configs = {name: copy.deepcopy(base_config) for name in model.params}

    Xtr, ytr = data['X_train'], data['y_train']
    Xva, yva = data['X_val'], data['y_val']
    n_train = Xtr.shape[0]
    shuffler = np.random.default_rng(seed)
    acc_rows = np.random.default_rng(seed + 1).permutation(n_train)[:1000]

    losses, train_accs, val_accs = [], [], []
    best_acc, best_epoch, best_snap = -1.0, -1, None
    epochs_done = 0
    while epochs_done < epochs:
        order = shuffler.permutation(n_train)
        losses += _one_epoch(model, Xtr, ytr, batch_size, order, step, configs)
        epoch = epochs_done
        epochs_done += 1

        tr_acc = accuracy(model, Xtr[acc_rows], ytr[acc_rows])
        va_acc = accuracy(model, Xva, yva)
        train_accs.append(tr_acc)
        val_accs.append(va_acc)
        if verbose:
            print('(Epoch %d / %d) train acc: %.3f; val acc: %.3f' % (epochs_done, epochs, tr_acc, va_acc))

        if va_acc > best_acc:
            best_acc, best_epoch = va_acc, epoch
            best_snap = _snapshot(model)
        if patience is not None and epoch - best_epoch >= patience:
            if verbose:
                print('stopping early, best epoch was %d' % (best_epoch + 1))
            break

    if best_snap is not None:
        _restore(model, best_snap)
    return {
        'loss_history': losses,
        'train_acc_history': train_accs,
        'val_acc_history': val_accs,
        'best_val_acc': best_acc,
        'best_epoch': best_epoch,
        'epochs_run': epochs_done,
    }

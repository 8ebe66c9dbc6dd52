"""Write a1_mlp_numpy/bob_notebook.ipynb: a correct A1 solution written as one Jupyter notebook.

Bob defines every function and class in code cells (no `from layers import ...`) and mixes in
the exploration a student leaves behind: prints, a short training run on toy data and a plot.
The grader must keep only the imports, functions, classes and constants, so none of that runs.

Run from anywhere: `python examples/submissions/make_bob_notebook.py`.
"""
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

OUT = Path(__file__).resolve().parent / "a1_mlp_numpy" / "bob_notebook.ipynb"

CELLS = [
    ("md", "# A1 - MLP from scratch\nBob Nguyen. Everything in one notebook, I copy it into the files at the end (maybe)."),
    ("code", """\
%matplotlib inline
import copy
import numpy as np
import matplotlib.pyplot as plt

np.set_printoptions(precision=4, suppress=True)"""),
    ("md", "## Layers"),
    ("code", """\
def affine_forward(x, w, b):
    out = np.dot(x.reshape(x.shape[0], -1), w) + b
    cache = (x, w, b)
    return out, cache


def affine_backward(dout, cache):
    x, w, b = cache
    dx = np.dot(dout, w.T).reshape(x.shape)
    dw = np.dot(x.reshape(x.shape[0], -1).T, dout)
    db = np.sum(dout, axis=0)
    return dx, dw, db"""),
    ("code", """\
# quick shape check
x = np.random.randn(2, 3, 4)
w = np.random.randn(12, 5)
b = np.zeros(5)
out, _ = affine_forward(x, w, b)
print(out.shape)  # should be (2, 5)"""),
    ("code", """\
def relu_forward(x):
    return np.maximum(0, x), x


def relu_backward(dout, cache):
    return dout * (cache > 0)


def sigmoid_forward(x):
    z = np.exp(-np.abs(x))  # never overflows
    out = np.where(x >= 0, 1 / (1 + z), z / (1 + z))
    return out, out


def sigmoid_backward(dout, cache):
    return dout * cache * (1 - cache)


def tanh_forward(x):
    out = np.tanh(x)
    return out, out


def tanh_backward(dout, cache):
    return dout * (1 - cache ** 2)"""),
    ("code", """\
def softmax_cross_entropy(scores, y):
    N = scores.shape[0]
    z = scores - np.max(scores, axis=1, keepdims=True)
    log_probs = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    loss = -np.sum(log_probs[np.arange(N), y]) / N
    dscores = np.exp(log_probs)
    dscores[np.arange(N), y] -= 1
    dscores /= N
    return loss, dscores"""),
    ("code", """\
# sanity check: loss of random scores should be about log(10) = 2.3
loss, _ = softmax_cross_entropy(0.001 * np.random.randn(50, 10), np.random.randint(10, size=50))
print(loss, np.log(10))"""),
    ("code", """\
def dropout_forward(x, p, train, rng):
    if not train or p == 0:
        return x, None
    mask = (rng.random(x.shape) >= p) / (1 - p)
    return x * mask, mask


def dropout_backward(dout, cache):
    if cache is None:
        return dout
    return dout * cache"""),
    ("code", """\
BN_EPS = 1e-5
BN_MOMENTUM = 0.9


def batchnorm_forward(x, gamma, beta, bn_param):
    mode = bn_param['mode']
    eps = bn_param.get('eps', BN_EPS)
    momentum = bn_param.get('momentum', BN_MOMENTUM)
    D = x.shape[1]
    running_mean = bn_param.get('running_mean', np.zeros(D, dtype=x.dtype))
    running_var = bn_param.get('running_var', np.ones(D, dtype=x.dtype))

    if mode == 'train':
        mean = x.mean(axis=0)
        var = x.var(axis=0)
        inv_std = 1.0 / np.sqrt(var + eps)
        x_hat = (x - mean) * inv_std
        out = gamma * x_hat + beta
        cache = (x_hat, gamma, inv_std)
        running_mean = momentum * running_mean + (1 - momentum) * mean
        running_var = momentum * running_var + (1 - momentum) * var
    elif mode == 'test':
        out = gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta
        cache = None
    else:
        raise ValueError('bad mode ' + str(mode))

    bn_param['running_mean'] = running_mean
    bn_param['running_var'] = running_var
    return out, cache


def batchnorm_backward(dout, cache):
    x_hat, gamma, inv_std = cache
    N = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    # simplified on paper (see my notes)
    dx = gamma * inv_std / N * (N * dout - dbeta - x_hat * dgamma)
    return dx, dgamma, dbeta"""),
    ("md", "## Gradient checks"),
    ("code", """\
def num_grad(f, x, dout, h=1e-5):
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=['multi_index'])
    while not it.finished:
        i = it.multi_index
        old = x[i]
        x[i] = old + h
        plus = f(x).copy()
        x[i] = old - h
        minus = f(x).copy()
        x[i] = old
        grad[i] = np.sum((plus - minus) * dout) / (2 * h)
        it.iternext()
    return grad


def rel_error(a, b):
    return np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b)))"""),
    ("code", """\
x = np.random.randn(8, 4)
gamma = np.random.randn(4)
beta = np.random.randn(4)
dout = np.random.randn(8, 4)
_, cache = batchnorm_forward(x, gamma, beta, {'mode': 'train'})
dx, dgamma, dbeta = batchnorm_backward(dout, cache)
dx_num = num_grad(lambda v: batchnorm_forward(v, gamma, beta, {'mode': 'train'})[0], x, dout)
print('batchnorm dx error', rel_error(dx, dx_num))"""),
    ("md", "## Init and optimizers"),
    ("code", """\
def xavier_init(fan_in, fan_out, rng):
    return rng.standard_normal((fan_in, fan_out)) * np.sqrt(2.0 / (fan_in + fan_out))


def he_init(fan_in, fan_out, rng):
    return rng.standard_normal((fan_in, fan_out)) * np.sqrt(2.0 / fan_in)"""),
    ("code", """\
def sgd(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault('learning_rate', 1e-2)
    w = w - config['learning_rate'] * dw
    return w, config


def sgd_momentum(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault('learning_rate', 1e-2)
    config.setdefault('momentum', 0.9)
    v = config.get('velocity', np.zeros_like(w))
    v = config['momentum'] * v - config['learning_rate'] * dw
    config['velocity'] = v
    return w + v, config


def nesterov(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault('learning_rate', 1e-2)
    config.setdefault('momentum', 0.9)
    mu = config['momentum']
    v_prev = config.get('velocity', np.zeros_like(w))
    v = mu * v_prev - config['learning_rate'] * dw
    config['velocity'] = v
    return w - mu * v_prev + (1 + mu) * v, config


def adagrad(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault('learning_rate', 1e-2)
    config.setdefault('epsilon', 1e-8)
    config['cache'] = config.get('cache', np.zeros_like(w)) + dw ** 2
    w = w - config['learning_rate'] * dw / (np.sqrt(config['cache']) + config['epsilon'])
    return w, config


def rmsprop(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault('learning_rate', 1e-2)
    config.setdefault('decay_rate', 0.99)
    config.setdefault('epsilon', 1e-8)
    rho = config['decay_rate']
    config['cache'] = rho * config.get('cache', np.zeros_like(w)) + (1 - rho) * dw ** 2
    w = w - config['learning_rate'] * dw / (np.sqrt(config['cache']) + config['epsilon'])
    return w, config


def adam(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault('learning_rate', 1e-3)
    config.setdefault('beta1', 0.9)
    config.setdefault('beta2', 0.999)
    config.setdefault('epsilon', 1e-8)
    b1, b2 = config['beta1'], config['beta2']
    t = config.get('t', 0) + 1
    m = b1 * config.get('m', np.zeros_like(w)) + (1 - b1) * dw
    v = b2 * config.get('v', np.zeros_like(w)) + (1 - b2) * dw ** 2
    mt = m / (1 - b1 ** t)
    vt = v / (1 - b2 ** t)
    w = w - config['learning_rate'] * mt / (np.sqrt(vt) + config['epsilon'])
    config['m'], config['v'], config['t'] = m, v, t
    return w, config"""),
    ("code", """\
# does adam go down hill on f(w) = sum(w**2)?
w = np.ones(3)
cfg = None
for i in range(200):
    w, cfg = adam(w, 2 * w, cfg)
print(w)"""),
    ("md", "## The network"),
    ("code", """\
class MLP:
    # activation name -> (forward, backward)
    activations = {
        'relu': (relu_forward, relu_backward),
        'sigmoid': (sigmoid_forward, sigmoid_backward),
        'tanh': (tanh_forward, tanh_backward),
    }

    def __init__(self, hidden_dims, input_dim=784, num_classes=10, activation='relu', init='he',
                 reg=0.0, dropout=0.0, use_batchnorm=False, seed=0, dtype=np.float64):
        if activation not in self.activations:
            raise ValueError('unknown activation ' + str(activation))
        init_fns = {'he': he_init, 'xavier': xavier_init}
        if init not in init_fns:
            raise ValueError('unknown init ' + str(init))
        self.hidden_dims = list(hidden_dims)
        self.num_layers = len(hidden_dims) + 1
        self.activation = activation
        self.reg = reg
        self.dropout = dropout
        self.use_batchnorm = use_batchnorm
        self.dtype = dtype
        self.rng = np.random.default_rng(seed)

        dims = [input_dim] + list(hidden_dims) + [num_classes]
        self.params = {}
        for i in range(1, self.num_layers + 1):
            self.params['W' + str(i)] = init_fns[init](dims[i - 1], dims[i], self.rng).astype(dtype)
            self.params['b' + str(i)] = np.zeros(dims[i], dtype=dtype)
            if use_batchnorm and i < self.num_layers:
                self.params['gamma' + str(i)] = np.ones(dims[i], dtype=dtype)
                self.params['beta' + str(i)] = np.zeros(dims[i], dtype=dtype)
        self.bn_params = []
        if use_batchnorm:
            self.bn_params = [{'mode': 'train'} for i in range(self.num_layers - 1)]

    def loss(self, X, y=None):
        X = np.asarray(X, dtype=self.dtype)
        mode = 'test' if y is None else 'train'
        for bn in self.bn_params:
            bn['mode'] = mode
        fwd, bwd = self.activations[self.activation]

        out = X
        caches = {}
        for i in range(1, self.num_layers):
            out, caches['affine', i] = affine_forward(out, self.params['W%d' % i], self.params['b%d' % i])
            if self.use_batchnorm:
                out, caches['bn', i] = batchnorm_forward(out, self.params['gamma%d' % i],
                                                         self.params['beta%d' % i], self.bn_params[i - 1])
            out, caches['act', i] = fwd(out)
            out, caches['drop', i] = dropout_forward(out, self.dropout, mode == 'train', self.rng)
        L = self.num_layers
        scores, caches['affine', L] = affine_forward(out, self.params['W%d' % L], self.params['b%d' % L])

        if mode == 'test':
            return scores

        loss, dout = softmax_cross_entropy(scores, y)
        grads = {}
        dout, grads['W%d' % L], grads['b%d' % L] = affine_backward(dout, caches['affine', L])
        for i in range(L - 1, 0, -1):
            dout = dropout_backward(dout, caches['drop', i])
            dout = bwd(dout, caches['act', i])
            if self.use_batchnorm:
                dout, grads['gamma%d' % i], grads['beta%d' % i] = batchnorm_backward(dout, caches['bn', i])
            dout, grads['W%d' % i], grads['b%d' % i] = affine_backward(dout, caches['affine', i])

        for i in range(1, L + 1):
            W = self.params['W%d' % i]
            loss += 0.5 * self.reg * np.sum(W ** 2)
            grads['W%d' % i] += self.reg * W
        return loss, grads

    def predict(self, X):
        return np.argmax(self.loss(X), axis=1)"""),
    ("code", """\
model = MLP([20, 10], input_dim=8, num_classes=3, reg=0.1, use_batchnorm=True)
Xs = np.random.randn(5, 8)
ys = np.random.randint(3, size=5)
loss, grads = model.loss(Xs, ys)
for name in sorted(model.params):
    f = lambda _: np.array(model.loss(Xs, ys)[0])
    num = num_grad(f, model.params[name], np.array(1.0))
    print(name, rel_error(num, grads[name]))"""),
    ("md", "## Training"),
    ("code", """\
def accuracy(model, X, y, batch_size=1000):
    preds = []
    for i in range(0, X.shape[0], batch_size):
        preds.append(model.predict(X[i:i + batch_size]))
    return float(np.mean(np.hstack(preds) == y))


def train(model, data, update_rule='sgd', optim_config=None, epochs=10, batch_size=100, seed=0,
          patience=None, verbose=False):
    rules = {'sgd': sgd, 'sgd_momentum': sgd_momentum, 'nesterov': nesterov,
             'adagrad': adagrad, 'rmsprop': rmsprop, 'adam': adam}
    if callable(update_rule):
        step = update_rule
    elif update_rule in rules:
        step = rules[update_rule]
    else:
        raise ValueError('unknown update rule %r, valid: %s' % (update_rule, sorted(rules)))
    if optim_config is None:
        optim_config = {}
    configs = {}
    for p in model.params:
        configs[p] = copy.deepcopy(optim_config)

    X_train, y_train = data['X_train'], data['y_train']
    num_train = X_train.shape[0]
    rng = np.random.default_rng(seed)
    train_rows = np.random.default_rng(seed + 1).permutation(num_train)[:1000]

    history = {'loss_history': [], 'train_acc_history': [], 'val_acc_history': [],
               'best_val_acc': -1.0, 'best_epoch': -1, 'epochs_run': 0}
    best = None
    for epoch in range(epochs):
        perm = rng.permutation(num_train)
        for i in range(0, num_train, batch_size):
            batch = perm[i:i + batch_size]
            loss, grads = model.loss(X_train[batch], y_train[batch])
            history['loss_history'].append(float(loss))
            for p in model.params:
                model.params[p], configs[p] = step(model.params[p], grads[p], configs[p])

        train_acc = accuracy(model, X_train[train_rows], y_train[train_rows])
        val_acc = accuracy(model, data['X_val'], data['y_val'])
        history['train_acc_history'].append(train_acc)
        history['val_acc_history'].append(val_acc)
        history['epochs_run'] += 1
        if verbose:
            print('epoch', epoch + 1, 'train', train_acc, 'val', val_acc)
        if val_acc > history['best_val_acc']:
            history['best_val_acc'] = val_acc
            history['best_epoch'] = epoch
            best = ({k: v.copy() for k, v in model.params.items()},
                    copy.deepcopy(getattr(model, 'bn_params', None)))
        if patience is not None and epoch - history['best_epoch'] >= patience:
            break

    if best is not None:
        params, bn_params = best
        for k in params:
            model.params[k] = params[k].copy()
        if bn_params is not None:
            model.bn_params = bn_params
    return history"""),
    ("code", """\
# toy problem before MNIST: 3 blobs in 2D
rng = np.random.default_rng(0)
centers = np.array([[0, 3], [3, -2], [-3, -2]])
y_toy = rng.integers(0, 3, size=600)
X_toy = centers[y_toy] + rng.standard_normal((600, 2))
toy = {'X_train': X_toy[:500], 'y_train': y_toy[:500], 'X_val': X_toy[500:], 'y_val': y_toy[500:]}
net = MLP([32], input_dim=2, num_classes=3)
hist = train(net, toy, update_rule='adam', optim_config={'learning_rate': 1e-2}, epochs=5, batch_size=50, verbose=True)
print('best val acc', hist['best_val_acc'])"""),
    ("code", """\
plt.plot(hist['loss_history'])
plt.xlabel('iteration')
plt.ylabel('loss')
plt.title('toy training loss')
plt.show()"""),
]


def build() -> nbformat.NotebookNode:
    """Return Bob's notebook, with a Python 3 kernelspec and no outputs."""
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [new_markdown_cell(src) if kind == "md" else new_code_cell(src) for kind, src in CELLS]
    for i, cell in enumerate(nb.cells):
        cell.id = f"cell-{i:02d}"  # fixed ids: rerunning the script changes nothing
    return nb


if __name__ == "__main__":
    nbformat.write(build(), OUT)
    print(f"wrote {OUT}")

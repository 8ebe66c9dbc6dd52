"""A1 - layers. Alice Martin.

Each forward returns (out, cache), each backward returns the grads of the inputs.
"""
import numpy as np


# ---------- affine ----------

def _flatten(x):
    return x.reshape(x.shape[0], -1)


def affine_forward(x, w, b):
    out = _flatten(x).dot(w) + b
    return out, (x, w, b)


def affine_backward(dout, cache):
    x, w, b = cache
    dx = dout.dot(w.T).reshape(x.shape)
    dw = _flatten(x).T.dot(dout)
    db = np.sum(dout, axis=0)
    return dx, dw, db


# ---------- activations ----------

def relu_forward(x):
    return np.maximum(x, 0), x


def relu_backward(dout, cache):
    x = cache
    dx = dout.copy()
    dx[x <= 0] = 0
    return dx


def _sigmoid(x):
    # two branches so that exp never gets a large positive argument
    res = np.empty_like(x)
    pos = x >= 0
    res[pos] = 1.0 / (1.0 + np.exp(-x[pos]))
    ez = np.exp(x[~pos])
    res[~pos] = ez / (1.0 + ez)
    return res


def sigmoid_forward(x):
    s = _sigmoid(x)
    return s, s


def sigmoid_backward(dout, cache):
    s = cache
    return dout * s * (1.0 - s)


def tanh_forward(x):
    t = np.tanh(x)
    return t, t


def tanh_backward(dout, cache):
    t = cache
    return dout * (1.0 - t * t)


# ---------- loss ----------

def _logsumexp(z):
    zmax = np.max(z, axis=1, keepdims=True)
    return zmax + np.log(np.sum(np.exp(z - zmax), axis=1, keepdims=True))


def softmax_cross_entropy(scores, y):
    n = scores.shape[0]
    rows = np.arange(n)
    log_p = scores - _logsumexp(scores)   # log softmax, (n, C)
    loss = -np.mean(log_p[rows, y])
    grad = np.exp(log_p)
    grad[rows, y] -= 1.0
    grad = grad / n
    return loss, grad


# ---------- dropout ----------

def dropout_forward(x, p, train, rng):
    if (not train) or p == 0:
        return x, None
    keep = rng.random(x.shape) >= p        # True where the unit survives
    scale = 1.0 / (1.0 - p)
    mask = (keep * scale).astype(x.dtype)
    return x * mask, mask


def dropout_backward(dout, cache):
    if cache is None:
        return dout
    return dout * cache


# ---------- batch norm ----------

def batchnorm_forward(x, gamma, beta, bn_param):
    mode = bn_param['mode']
    eps = bn_param.get('eps', 1e-5)
    mom = bn_param.get('momentum', 0.9)
    n_feat = x.shape[1]
    run_mean = bn_param.get('running_mean', np.zeros(n_feat, dtype=x.dtype))
    run_var = bn_param.get('running_var', np.ones(n_feat, dtype=x.dtype))

    if mode == 'train':
        # forward pass, one node of the computational graph per line
        mu = np.mean(x, axis=0)
        xmu = x - mu
        sq = xmu ** 2
        var = np.mean(sq, axis=0)
        sqrtvar = np.sqrt(var + eps)
        ivar = 1.0 / sqrtvar
        xhat = xmu * ivar
        gammax = gamma * xhat
        out = gammax + beta
        cache = (xhat, gamma, xmu, ivar, sqrtvar, var, eps)

        run_mean = mom * run_mean + (1 - mom) * mu
        run_var = mom * run_var + (1 - mom) * var
    elif mode == 'test':
        xhat = (x - run_mean) / np.sqrt(run_var + eps)
        out = gamma * xhat + beta
        cache = None
    else:
        raise ValueError('Invalid forward batchnorm mode "%s"' % mode)

    bn_param['running_mean'] = run_mean
    bn_param['running_var'] = run_var
    return out, cache


def batchnorm_backward(dout, cache):
    # backprop through the graph of batchnorm_forward, node by node, in reverse
    xhat, gamma, xmu, ivar, sqrtvar, var, eps = cache
    N = dout.shape[0]

    # out = gammax + beta
    dbeta = np.sum(dout, axis=0)
    dgammax = dout
    # gammax = gamma * xhat
    dgamma = np.sum(dgammax * xhat, axis=0)
    dxhat = dgammax * gamma
    # xhat = xmu * ivar
    divar = np.sum(dxhat * xmu, axis=0)
    dxmu1 = dxhat * ivar
    # ivar = 1 / sqrtvar
    dsqrtvar = -1.0 / (sqrtvar ** 2) * divar
    # sqrtvar = sqrt(var + eps)
    dvar = 0.5 / np.sqrt(var + eps) * dsqrtvar
    # var = mean(sq)
    dsq = np.ones_like(dout) * dvar / N
    # sq = xmu ** 2
    dxmu2 = 2 * xmu * dsq
    # xmu = x - mu
    dx1 = dxmu1 + dxmu2
    dmu = -np.sum(dxmu1 + dxmu2, axis=0)
    # mu = mean(x)
    dx2 = np.ones_like(dout) * dmu / N
    dx = dx1 + dx2
    return dx, dgamma, dbeta

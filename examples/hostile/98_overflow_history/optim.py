"""First-order update rules for training neural networks.

Every rule follows one contract:

    next_w, config = update(w, dw, config)

- w: array of the current weights (any shape)
- dw: array of the same shape, the gradient of the loss with respect to w
- config: dict of hyperparameters and of the rule's state, or None (a new
  dict is created). Missing hyperparameters get their defaults through
  config.setdefault; state arrays (velocity, caches, moments) start as
  zeros_like(w) and are stored back into config, so pass the same dict
  to the next call for the same parameter.

Returns next_w, the updated weights as a new array (w and dw are left
unchanged: no in-place update), and config.
"""

import numpy as np


def sgd(w, dw, config=None):
    """Vanilla stochastic gradient descent: w -= learning_rate * dw.

    Inputs:
    - w: weights, any shape
    - dw: gradient, same shape as w
    - config: dict or None; 'learning_rate' (default 1e-2)

    Returns:
    - next_w: same shape as w
    - config: the config dict
    """
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)

    next_w = w - config["learning_rate"] * dw
    return next_w, config


def sgd_momentum(w, dw, config=None):
    """Stochastic gradient descent with momentum.

    v = momentum * v - learning_rate * dw; w += v

    Inputs:
    - w: weights, any shape
    - dw: gradient, same shape as w
    - config: dict or None; 'learning_rate' (default 1e-2), 'momentum'
      (default 0.9), state 'velocity' (same shape as w)

    Returns:
    - next_w: same shape as w
    - config: the config dict, with the new 'velocity'
    """
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    v = config.get("velocity", np.zeros_like(w))

    v = config["momentum"] * v - config["learning_rate"] * dw
    next_w = w + v

    config["velocity"] = v
    return next_w, config


def nesterov(w, dw, config=None):
    """Nesterov momentum, in the form that takes the gradient at the current w.

    v_prev = v; v = momentum * v - learning_rate * dw;
    w += -momentum * v_prev + (1 + momentum) * v

    Inputs:
    - w: weights, any shape
    - dw: gradient, same shape as w
    - config: dict or None; 'learning_rate' (default 1e-2), 'momentum'
      (default 0.9), state 'velocity' (same shape as w)

    Returns:
    - next_w: same shape as w
    - config: the config dict, with the new 'velocity'
    """
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    v = config.get("velocity", np.zeros_like(w))

    mu = config["momentum"]
    v_prev = v
    v = mu * v - config["learning_rate"] * dw
    next_w = w - mu * v_prev + (1 + mu) * v

    config["velocity"] = v
    return next_w, config


def adagrad(w, dw, config=None):
    """Adagrad: per-weight learning rates from the running sum of squared gradients.

    cache += dw**2; w -= learning_rate * dw / (sqrt(cache) + epsilon)

    Inputs:
    - w: weights, any shape
    - dw: gradient, same shape as w
    - config: dict or None; 'learning_rate' (default 1e-2), 'epsilon'
      (default 1e-8), state 'cache' (same shape as w)

    Returns:
    - next_w: same shape as w
    - config: the config dict, with the new 'cache'
    """
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("epsilon", 1e-8)
    cache = config.get("cache", np.zeros_like(w))

    cache = cache + dw**2
    next_w = w - config["learning_rate"] * dw / (np.sqrt(cache) + config["epsilon"])

    config["cache"] = cache
    return next_w, config


def rmsprop(w, dw, config=None):
    """RMSProp: per-weight learning rates from a moving average of squared gradients.

    cache = decay_rate * cache + (1 - decay_rate) * dw**2;
    w -= learning_rate * dw / (sqrt(cache) + epsilon)

    Inputs:
    - w: weights, any shape
    - dw: gradient, same shape as w
    - config: dict or None; 'learning_rate' (default 1e-2), 'decay_rate'
      (default 0.99), 'epsilon' (default 1e-8), state 'cache' (same shape as w)

    Returns:
    - next_w: same shape as w
    - config: the config dict, with the new 'cache'
    """
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("decay_rate", 0.99)
    config.setdefault("epsilon", 1e-8)
    cache = config.get("cache", np.zeros_like(w))

    decay = config["decay_rate"]
    cache = decay * cache + (1 - decay) * dw**2
    next_w = w - config["learning_rate"] * dw / (np.sqrt(cache) + config["epsilon"])

    config["cache"] = cache
    return next_w, config


def adam(w, dw, config=None):
    """Adam: momentum on the gradient and on its square, with bias correction.

    t += 1 (before use); m = beta1 * m + (1 - beta1) * dw;
    v = beta2 * v + (1 - beta2) * dw**2;
    m_hat = m / (1 - beta1**t); v_hat = v / (1 - beta2**t);
    w -= learning_rate * m_hat / (sqrt(v_hat) + epsilon)

    Inputs:
    - w: weights, any shape
    - dw: gradient, same shape as w
    - config: dict or None; 'learning_rate' (default 1e-3), 'beta1' (default
      0.9), 'beta2' (default 0.999), 'epsilon' (default 1e-8), state 'm' and
      'v' (same shape as w) and 't' (int, default 0)

    Returns:
    - next_w: same shape as w
    - config: the config dict, with the new 'm', 'v' and 't'
    """
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("epsilon", 1e-8)
    m = config.get("m", np.zeros_like(w))
    v = config.get("v", np.zeros_like(w))
    t = config.get("t", 0)

    b1, b2 = config["beta1"], config["beta2"]
    t = t + 1
    m = b1 * m + (1 - b1) * dw
    v = b2 * v + (1 - b2) * dw**2
    m_hat = m / (1 - b1**t)
    v_hat = v / (1 - b2**t)
    next_w = w - config["learning_rate"] * m_hat / (np.sqrt(v_hat) + config["epsilon"])

    config["m"], config["v"], config["t"] = m, v, t
    return next_w, config

"""A1 - update rules. Alice Martin.

All of them: next_w, config = rule(w, dw, config)
"""
import numpy as np


def _prepare(config, **defaults):
    """Fill in missing hyperparameters (keeps the ones the caller set)."""
    if config is None:
        config = {}
    for key, value in defaults.items():
        config.setdefault(key, value)
    return config


def sgd(w, dw, config=None):
    config = _prepare(config, learning_rate=1e-2)
    return w - config['learning_rate'] * dw, config


def sgd_momentum(w, dw, config=None):
    config = _prepare(config, learning_rate=1e-2, momentum=0.9)
    lr, mu = config['learning_rate'], config['momentum']
    velocity = config.get('velocity', np.zeros_like(w))

    velocity = mu * velocity - lr * dw
    config['velocity'] = velocity
    return w + velocity, config


def nesterov(w, dw, config=None):
    config = _prepare(config, learning_rate=1e-2, momentum=0.9)
    lr, mu = config['learning_rate'], config['momentum']
    velocity = config.get('velocity', np.zeros_like(w))

    velocity = mu * velocity - lr * dw
    # look-ahead form (Bengio et al. 2012): step along the new velocity once more
    next_w = w + mu * velocity - lr * dw
    config['velocity'] = velocity
    return next_w, config


def adagrad(w, dw, config=None):
    config = _prepare(config, learning_rate=1e-2, epsilon=1e-8)
    grad_sq_sum = config.get('cache', np.zeros_like(w)) + dw * dw
    next_w = w - config['learning_rate'] * dw / (np.sqrt(grad_sq_sum) + config['epsilon'])
    config['cache'] = grad_sq_sum
    return next_w, config


def rmsprop(w, dw, config=None):
    config = _prepare(config, learning_rate=1e-2, decay_rate=0.99, epsilon=1e-8)
    rho = config['decay_rate']
    mean_sq = config.get('cache', np.zeros_like(w))
    mean_sq = rho * mean_sq + (1 - rho) * (dw * dw)
    next_w = w - config['learning_rate'] * dw / (np.sqrt(mean_sq) + config['epsilon'])
    config['cache'] = mean_sq
    return next_w, config


def adam(w, dw, config=None):
    config = _prepare(config, learning_rate=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-8)
    beta1, beta2 = config['beta1'], config['beta2']
    first_moment = config.get('m', np.zeros_like(w))
    second_moment = config.get('v', np.zeros_like(w))
    step = config.get('t', 0) + 1

    first_moment = beta1 * first_moment + (1 - beta1) * dw
    second_moment = beta2 * second_moment + (1 - beta2) * (dw * dw)
    first_unbiased = first_moment / (1 - beta1 ** step)
    second_unbiased = second_moment / (1 - beta2 ** step)
    next_w = w - config['learning_rate'] * first_unbiased / (np.sqrt(second_unbiased) + config['epsilon'])

    config['m'] = first_moment
    config['v'] = second_moment
    config['t'] = step
    return next_w, config

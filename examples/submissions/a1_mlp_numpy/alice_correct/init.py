"""A1 - initialisation. Alice Martin."""
import numpy as np


def _gaussian(rows, cols, sigma, rng):
    # N(0, sigma^2) matrix, drawn with rng.standard_normal as the handout asks
    return sigma * rng.standard_normal((rows, cols))


def xavier_init(fan_in, fan_out, rng):
    # Glorot: variance 2 / (fan_in + fan_out)
    sigma = (2.0 / (fan_in + fan_out)) ** 0.5
    return _gaussian(fan_in, fan_out, sigma, rng)


def he_init(fan_in, fan_out, rng):
    # He et al. 2015: variance 2 / fan_in keeps ReLU activations from shrinking
    sigma = (2.0 / fan_in) ** 0.5
    return _gaussian(fan_in, fan_out, sigma, rng)

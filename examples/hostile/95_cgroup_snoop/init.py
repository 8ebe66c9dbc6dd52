"""Weight initialisation schemes for fully connected layers."""

import numpy as np


def xavier_init(fan_in, fan_out, rng):
    """Draw a weight matrix with Xavier / Glorot normal initialisation.

    Inputs:
    - fan_in: number of inputs to the layer, D
    - fan_out: number of outputs of the layer, M
    - rng: numpy Generator; draw with rng.standard_normal

    Returns:
    - w: (D, M) samples from N(0, std**2) with std = sqrt(2 / (D + M))
    """
    std = np.sqrt(2.0 / (fan_in + fan_out))
    w = std * rng.standard_normal((fan_in, fan_out))
    return w


def he_init(fan_in, fan_out, rng):
    """Draw a weight matrix with He (Kaiming) normal initialisation, suited to ReLU.

    Inputs:
    - fan_in: number of inputs to the layer, D
    - fan_out: number of outputs of the layer, M
    - rng: numpy Generator; draw with rng.standard_normal

    Returns:
    - w: (D, M) samples from N(0, std**2) with std = sqrt(2 / D)
    """
    std = np.sqrt(2.0 / fan_in)
    w = std * rng.standard_normal((fan_in, fan_out))
    return w

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
    # ---- YOUR CODE HERE: w of shape (fan_in, fan_out) with the std above.
    # Pitfall: draw exactly one rng.standard_normal((fan_in, fan_out)) call so
    # results match the reference for the same seed. ----
    w = rng.standard_normal((fan_in, fan_out)) * np.sqrt(2 / (fan_in + fan_out))
    # ---- END YOUR CODE ----
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
    # ---- YOUR CODE HERE: w of shape (fan_in, fan_out) with the std above.
    # Pitfall: std, not variance: multiply the normal samples by sqrt(2 / fan_in). ----
    w = rng.standard_normal((fan_in, fan_out)) * np.sqrt(2 / fan_in)
    # ---- END YOUR CODE ----
    return w

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
    fan_in, fan_out = int(fan_in), int(fan_out)
    assert fan_in > 0 and fan_out > 0, f"fan_in and fan_out must be positive, got {fan_in}, {fan_out}"
    std = np.sqrt(2.0 / (fan_in + fan_out))
    w = std * rng.standard_normal((fan_in, fan_out))  # exactly one draw
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
    fan_in, fan_out = int(fan_in), int(fan_out)
    assert fan_in > 0 and fan_out > 0, f"fan_in and fan_out must be positive, got {fan_in}, {fan_out}"
    std = np.sqrt(2.0 / fan_in)
    w = std * rng.standard_normal((fan_in, fan_out))  # exactly one draw
    # ---- END YOUR CODE ----
    return w

"""A loss, layers, a multi-layer perceptron and an optimizer, built on the Tensor of tensor.py.

Everything here is written with Tensor operations only, so `loss.backward()` reaches every
parameter by itself: nothing in this file computes a gradient by hand.
"""

import numpy as np
from tensor import Tensor, as_tensor

ACTIVATIONS = ("relu", "sigmoid", "tanh")  # the Tensor methods an MLP may use between layers


def softmax_cross_entropy(logits, y):
    """Return the mean softmax cross-entropy of `logits` against integer labels, as a Tensor.

    For row i, the loss is -log(softmax(logits[i])[y[i]]) = logsumexp(logits[i]) - logits[i, y[i]].

    Inputs:
    - logits: Tensor (N, C), unnormalised class scores
    - y: (N,) integer array, labels in 0..C-1

    Returns:
    - loss: Tensor of shape (), the mean of the N row losses; loss.backward() fills logits.grad
    """
    logits = as_tensor(logits)
    y = np.asarray(y)
    # ---- YOUR CODE HERE: loss from Tensor ops only: logsumexp along the classes, minus each
    # row's logit at its label (multiply by a one-hot array and sum), then the mean.
    # Pitfall: index or mask with NumPy only where no gradient is needed (building one_hot). ----
    raise NotImplementedError("softmax_cross_entropy")
    # ---- END YOUR CODE ----
    return loss


class Linear:
    """A fully connected layer, x @ W + b."""

    def __init__(self, in_features, out_features, rng):
        """Create the layer's parameters, both with requires_grad=True.

        Inputs:
        - in_features: D, the size of each input row
        - out_features: M, the size of each output row
        - rng: numpy Generator; W is rng.standard_normal((D, M)) * sqrt(2 / D) (He), b is zeros
        """
        scale = np.sqrt(2.0 / in_features)
        self.W = Tensor(rng.standard_normal((in_features, out_features)) * scale, requires_grad=True)
        self.b = Tensor(np.zeros(out_features), requires_grad=True)

    def __call__(self, x):
        """Apply the layer.

        Inputs:
        - x: Tensor (N, D) (an array is turned into a constant Tensor)

        Returns:
        - out: Tensor (N, M), x @ W + b
        """
        x = as_tensor(x)
        # ---- YOUR CODE HERE: out, with Tensor operations. ----
        raise NotImplementedError("Linear.__call__")
        # ---- END YOUR CODE ----
        return out

    def parameters(self):
        """Return the layer's parameters: [W, b]."""
        return [self.W, self.b]


class MLP:
    """Linear layers with an activation after each one but the last, which gives the logits."""

    def __init__(self, sizes, activation="relu", seed=0):
        """Create the network.

        Inputs:
        - sizes: list of ints [D, H_1, ..., H_k, C]: input size, hidden sizes, number of classes
        - activation: 'relu', 'sigmoid' or 'tanh', the Tensor method applied after each hidden layer
        - seed: rng = np.random.default_rng(seed) draws the layers' weights, first layer first
        """
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; valid: {', '.join(ACTIVATIONS)}")
        rng = np.random.default_rng(seed)
        self.layers = [Linear(d_in, d_out, rng) for d_in, d_out in zip(sizes[:-1], sizes[1:], strict=True)]
        self.activation = activation

    def __call__(self, x):
        """Return the logits for a batch.

        Inputs:
        - x: Tensor or array (N, D)

        Returns:
        - logits: Tensor (N, C): every layer but the last followed by the activation, then the last layer
        """
        x = as_tensor(x)
        # ---- YOUR CODE HERE: logits: each hidden layer, then its activation (self.activation names
        # the Tensor method: getattr(h, self.activation)()); the last layer has no activation. ----
        raise NotImplementedError("MLP.__call__")
        # ---- END YOUR CODE ----
        return logits

    def parameters(self):
        """Return every layer's parameters, first layer first: [W1, b1, W2, b2, ...]."""
        return [p for layer in self.layers for p in layer.parameters()]

    def predict(self, X):
        """Return the predicted label of each row of X: (N,) integers, the argmax of the logits."""
        return np.argmax(self(X).data, axis=1)


class SGD:
    """Plain stochastic gradient descent on a list of parameter Tensors."""

    def __init__(self, params, lr=0.1):
        """Inputs: params: Tensors to update (e.g. model.parameters()); lr: the learning rate."""
        self.params = list(params)
        self.lr = lr

    def zero_grad(self):
        """Set the grad of every parameter back to None; call it before each backward()."""
        # ---- YOUR CODE HERE: every parameter's grad back to None. ----
        raise NotImplementedError("SGD.zero_grad")
        # ---- END YOUR CODE ----

    def step(self):
        """Update every parameter that has a gradient: data becomes data - lr * grad.

        A parameter whose grad is None (backward never reached it) is left as it is.
        """
        # ---- YOUR CODE HERE: data = data - lr * grad for every parameter with a gradient.
        # Assign p.data a new array; skip parameters whose grad is None. ----
        raise NotImplementedError("SGD.step")
        # ---- END YOUR CODE ----

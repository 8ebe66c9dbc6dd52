"""A fully connected network of any depth, built from the layers in layers.py."""

import init as init_mod
import numpy as np
from layers import (
    affine_backward,
    affine_forward,
    batchnorm_backward,
    batchnorm_forward,
    dropout_backward,
    dropout_forward,
    relu_backward,
    relu_forward,
    sigmoid_backward,
    sigmoid_forward,
    softmax_cross_entropy,
    tanh_backward,
    tanh_forward,
)

# name -> (forward, backward)
ACTIVATIONS = {
    "relu": (relu_forward, relu_backward),
    "sigmoid": (sigmoid_forward, sigmoid_backward),
    "tanh": (tanh_forward, tanh_backward),
}
INITS = {
    "he": init_mod.he_init,
    "xavier": init_mod.xavier_init,
}


class MLP:
    """A multi-layer perceptron with softmax cross-entropy loss.

    Each of the L - 1 hidden layers is
        affine -> [batchnorm] -> activation -> [dropout]
    and the last layer is an affine layer giving the class scores. The
    weights are in self.params: 'W1', 'b1', ..., 'W{L}', 'b{L}', plus
    'gamma{i}', 'beta{i}' for each hidden layer i when batchnorm is used.
    """

    def __init__(
        self,
        hidden_dims,
        input_dim=784,
        num_classes=10,
        activation="relu",
        init="he",
        reg=0.0,
        dropout=0.0,
        use_batchnorm=False,
        seed=0,
        dtype=np.float64,
    ):
        """Create the network and initialise its parameters.

        Inputs:
        - hidden_dims: list of ints, the width of each hidden layer
        - input_dim: D, the size of each input row
        - num_classes: C, the number of classes
        - activation: 'relu', 'sigmoid' or 'tanh'
        - init: 'he' or 'xavier', the scheme for the weight matrices
        - reg: L2 strength; the loss gains 0.5 * reg * sum(W**2) over the W's
        - dropout: probability of dropping each hidden unit (0 disables)
        - use_batchnorm: add batch normalisation after each hidden affine layer
        - seed: seeds np.random.default_rng, which draws the weights in layer
          order and then the dropout masks
        - dtype: numpy float type of the parameters and computations
        """
        if activation not in ACTIVATIONS:
            raise ValueError(
                f"unknown activation {activation!r}; valid: {sorted(ACTIVATIONS)}"
            )
        if init not in INITS:
            raise ValueError(f"unknown init {init!r}; valid: {sorted(INITS)}")
        self.hidden_dims = list(hidden_dims)
        self.num_layers = len(self.hidden_dims) + 1
        self.activation = activation
        self.reg = reg
        self.dropout = dropout
        self.use_batchnorm = use_batchnorm
        self.dtype = dtype
        self.rng = np.random.default_rng(seed)

        self.params = {}
        dims = [input_dim] + self.hidden_dims + [num_classes]
        for i in range(1, self.num_layers + 1):
            fan_in, fan_out = dims[i - 1], dims[i]
            self.params[f"W{i}"] = INITS[init](fan_in, fan_out, self.rng).astype(dtype)
            self.params[f"b{i}"] = np.zeros(fan_out, dtype=dtype)
            if use_batchnorm and i < self.num_layers:
                self.params[f"gamma{i}"] = np.ones(fan_out, dtype=dtype)
                self.params[f"beta{i}"] = np.zeros(fan_out, dtype=dtype)

        # one dict per hidden layer; batchnorm_forward keeps the running stats here
        self.bn_params = (
            [{"mode": "train"} for _ in self.hidden_dims] if use_batchnorm else []
        )

    def loss(self, X, y=None):
        """Compute the class scores, or the loss and its gradients.

        Inputs:
        - X: (N, D) input batch
        - y: (N,) integer labels, or None

        Returns:
        - if y is None (evaluation: no dropout, batchnorm uses running stats):
          scores: (N, C)
        - otherwise (training):
          loss: scalar, data loss + 0.5 * reg * sum of squared weight matrices
          grads: dict with the same keys and shapes as self.params
        """
        X = np.asarray(X, dtype=self.dtype)
        train = y is not None
        for bn_param in self.bn_params:
            bn_param["mode"] = "train" if train else "test"
        act_forward, act_backward = ACTIVATIONS[self.activation]
        L = self.num_layers
        p = self.params

        h = X
        caches = []  # per hidden layer: (affine, batchnorm, activation, dropout)
        for i in range(1, L):
            h, c_aff = affine_forward(h, p[f"W{i}"], p[f"b{i}"])
            c_bn = None
            if self.use_batchnorm:
                h, c_bn = batchnorm_forward(
                    h, p[f"gamma{i}"], p[f"beta{i}"], self.bn_params[i - 1]
                )
            h, c_act = act_forward(h)
            h, c_drop = dropout_forward(h, self.dropout, train, self.rng)
            caches.append((c_aff, c_bn, c_act, c_drop))
        scores, c_out = affine_forward(h, p[f"W{L}"], p[f"b{L}"])  # (N, C)
        if not train:
            return scores

        grads = {}
        loss, dscores = softmax_cross_entropy(scores, y)
        dh, grads[f"W{L}"], grads[f"b{L}"] = affine_backward(dscores, c_out)
        for i in range(L - 1, 0, -1):
            c_aff, c_bn, c_act, c_drop = caches[i - 1]
            dh = dropout_backward(dh, c_drop)
            dh = act_backward(dh, c_act)
            if self.use_batchnorm:
                dh, grads[f"gamma{i}"], grads[f"beta{i}"] = batchnorm_backward(dh, c_bn)
            dh, grads[f"W{i}"], grads[f"b{i}"] = affine_backward(dh, c_aff)

        # L2 on the weight matrices only, not on biases, gamma or beta
        for i in range(1, L + 1):
            W = p[f"W{i}"]
            loss += 0.5 * self.reg * np.sum(W * W)
            grads[f"W{i}"] += self.reg * W
        return loss, grads

    def predict(self, X):
        """Predict a label for each row of X.

        Inputs:
        - X: (N, D) input batch

        Returns:
        - y_pred: (N,) integer labels, the argmax of the scores
        """
        return np.argmax(self.loss(X), axis=1)

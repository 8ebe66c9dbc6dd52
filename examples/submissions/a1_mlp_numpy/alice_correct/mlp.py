"""A1 - the MLP. Alice Martin."""
import numpy as np

from init import he_init, xavier_init
from layers import *  # noqa: F401,F403  (affine_*, relu_*, ... all the layers)


def _activation(name):
    if name == 'relu':
        return relu_forward, relu_backward
    if name == 'sigmoid':
        return sigmoid_forward, sigmoid_backward
    if name == 'tanh':
        return tanh_forward, tanh_backward
    raise ValueError('activation must be relu, sigmoid or tanh, not %r' % (name,))


def _initialiser(name):
    if name == 'he':
        return he_init
    if name == 'xavier':
        return xavier_init
    raise ValueError('init must be he or xavier, not %r' % (name,))


class MLP:
    """affine - [bn] - act - [dropout]  x (L-1)  then  affine - softmax."""

    def __init__(self, hidden_dims, input_dim=784, num_classes=10, activation='relu',
                 init='he', reg=0.0, dropout=0.0, use_batchnorm=False, seed=0,
                 dtype=np.float64):
        self.act_fwd, self.act_bwd = _activation(activation)
        draw = _initialiser(init)
        self.hidden_dims = list(hidden_dims)
        self.num_layers = len(self.hidden_dims) + 1
        self.activation = activation
        self.reg = reg
        self.dropout = dropout
        self.use_batchnorm = use_batchnorm
        self.dtype = dtype
        self.rng = np.random.default_rng(seed)

        sizes = [input_dim, *self.hidden_dims, num_classes]
        self.params = {}
        for layer, (d_in, d_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
            self.params['W%d' % layer] = draw(d_in, d_out, self.rng).astype(dtype)
            self.params['b%d' % layer] = np.zeros(d_out, dtype=dtype)
            if use_batchnorm and layer < self.num_layers:
                self.params['gamma%d' % layer] = np.ones(d_out, dtype=dtype)
                self.params['beta%d' % layer] = np.zeros(d_out, dtype=dtype)

        self.bn_params = []
        if use_batchnorm:
            self.bn_params = [{'mode': 'train'} for _ in range(self.num_layers - 1)]

    # -- forward / backward of one hidden block -------------------------

    def _block_forward(self, h, layer, training):
        P = self.params
        h, aff_cache = affine_forward(h, P['W%d' % layer], P['b%d' % layer])
        bn_cache = None
        if self.use_batchnorm:
            h, bn_cache = batchnorm_forward(h, P['gamma%d' % layer], P['beta%d' % layer],
                                            self.bn_params[layer - 1])
        h, act_cache = self.act_fwd(h)
        h, drop_cache = dropout_forward(h, self.dropout, training, self.rng)
        return h, (aff_cache, bn_cache, act_cache, drop_cache)

    def _block_backward(self, dh, layer, cache, grads):
        aff_cache, bn_cache, act_cache, drop_cache = cache
        dh = dropout_backward(dh, drop_cache)
        dh = self.act_bwd(dh, act_cache)
        if self.use_batchnorm:
            dh, grads['gamma%d' % layer], grads['beta%d' % layer] = batchnorm_backward(dh, bn_cache)
        dh, grads['W%d' % layer], grads['b%d' % layer] = affine_backward(dh, aff_cache)
        return dh

    def _l2_penalty(self):
        weights = [self.params['W%d' % l] for l in range(1, self.num_layers + 1)]
        return 0.5 * self.reg * sum(np.sum(W ** 2) for W in weights)

    # -- public ---------------------------------------------------------

    def loss(self, X, y=None):
        X = np.asarray(X, dtype=self.dtype)
        training = y is not None
        for bp in self.bn_params:
            bp['mode'] = 'train' if training else 'test'

        h = X
        block_caches = {}
        for layer in range(1, self.num_layers):
            h, block_caches[layer] = self._block_forward(h, layer, training)
        last = self.num_layers
        scores, last_cache = affine_forward(h, self.params['W%d' % last], self.params['b%d' % last])
        if not training:
            return scores

        data_loss, dscores = softmax_cross_entropy(scores, y)
        loss = data_loss + self._l2_penalty()

        grads = {}
        dh, grads['W%d' % last], grads['b%d' % last] = affine_backward(dscores, last_cache)
        for layer in reversed(range(1, self.num_layers)):
            dh = self._block_backward(dh, layer, block_caches[layer], grads)
        for layer in range(1, self.num_layers + 1):
            grads['W%d' % layer] = grads['W%d' % layer] + self.reg * self.params['W%d' % layer]
        return loss, grads

    def predict(self, X):
        scores = self.loss(X)
        return scores.argmax(axis=1)

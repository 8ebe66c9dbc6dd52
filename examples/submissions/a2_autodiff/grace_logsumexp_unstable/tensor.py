"""My autodiff engine: each node stores the name of its op and what the op's backward needs;
the backward rules live in one dict, BACKWARD, keyed by op name."""

import numpy as np


def unbroadcast(grad, shape):
    """Sum `grad` back to `shape` (see the handout)."""
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    for i, n in enumerate(shape):
        if n == 1 and grad.shape[i] != 1:
            grad = grad.sum(axis=i, keepdims=True)
    return grad


def as_tensor(value):
    """Return `value` if it is a Tensor, else a constant Tensor (requires_grad=False) holding it."""
    return value if isinstance(value, Tensor) else Tensor(value)


def _expand_reduced(grad, shape, axis, keepdims):
    """Give a reduced gradient back the axes the reduction removed, with size 1."""
    if axis is None:
        return grad.reshape((1,) * len(shape))
    if keepdims:
        return grad
    axes = (axis,) if isinstance(axis, int) else axis
    axes = sorted(a % len(shape) for a in axes)
    for a in axes:
        grad = np.expand_dims(grad, a)
    return grad


# op name -> backward(ctx, grad) -> gradients of the parents, in order
BACKWARD = {
    "add": lambda c, g: (unbroadcast(g, c["a"].shape), unbroadcast(g, c["b"].shape)),
    "sub": lambda c, g: (unbroadcast(g, c["a"].shape), unbroadcast(-g, c["b"].shape)),
    "mul": lambda c, g: (unbroadcast(g * c["b"], c["a"].shape), unbroadcast(g * c["a"], c["b"].shape)),
    "div": lambda c, g: (unbroadcast(g / c["b"], c["a"].shape), unbroadcast(-g * c["a"] / (c["b"] * c["b"]), c["b"].shape)),
    "neg": lambda c, g: (-g,),
    "pow": lambda c, g: (g * c["p"] * np.power(c["a"], c["p"] - 1),),
    "matmul": lambda c, g: (unbroadcast(np.matmul(g, np.swapaxes(c["b"], -1, -2)), c["a"].shape),
                            unbroadcast(np.matmul(np.swapaxes(c["a"], -1, -2), g), c["b"].shape)),
    "sum": lambda c, g: (np.broadcast_to(_expand_reduced(g, c["shape"], c["axis"], c["keepdims"]), c["shape"]).copy(),),
    "reshape": lambda c, g: (np.reshape(g, c["shape"]),),
    "transpose": lambda c, g: (np.transpose(g, c["inverse"]),),
    "exp": lambda c, g: (g * c["out"],),
    "log": lambda c, g: (g / c["a"],),
    "sigmoid": lambda c, g: (g * c["out"] * (1.0 - c["out"]),),
    "tanh": lambda c, g: (g * (1.0 - c["out"] ** 2),),
    "logsumexp": lambda c, g: (_expand_reduced(g, c["a"].shape, c["axis"], c["keepdims"]) * c["softmax"],),
}


class Tensor:
    """A float64 array that records the operations applied to it, so gradients can flow back."""

    __array_ufunc__ = None  # `array * tensor` calls Tensor.__rmul__ instead of NumPy's own product

    def __init__(self, data, requires_grad=False):
        """Create a tensor.

        Inputs:
        - data: a number, list or array; stored as a new float64 array
        - requires_grad: whether backward() should compute a gradient for this tensor
        """
        self.data = np.array(data, dtype=np.float64)
        self.grad = None  # None until backward() reaches this tensor; then an array of data's shape
        self.requires_grad = bool(requires_grad)
        self._parents = ()  # the tensors this one was computed from; () for a leaf
        self._backward = None  # grad -> tuple of one gradient per parent; None for a leaf

    @staticmethod
    def _result(data, parents, backward):
        """Return the Tensor an operation computed from `parents`, linked into the graph."""
        out = Tensor(data, requires_grad=any(p.requires_grad for p in parents))
        out._parents = tuple(parents)
        out._backward = backward
        return out

    def _node(self, data, parents, op, **ctx):
        """Make the result of op `op`: its backward looks the rule up in BACKWARD."""
        return Tensor._result(data, parents, lambda grad: BACKWARD[op](ctx, grad))

    @property
    def shape(self):
        return self.data.shape

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def size(self):
        return self.data.size

    @property
    def T(self):
        """Return the tensor with its axes reversed, as `transpose()`."""
        return self.transpose()

    def __repr__(self):
        return f"Tensor({self.data!r}, requires_grad={self.requires_grad})"

    def __add__(self, other):
        """Return self + other, broadcasting like NumPy."""
        other = as_tensor(other)
        return self._node(self.data + other.data, (self, other), "add", a=self.data, b=other.data)

    def __sub__(self, other):
        """Return self - other, broadcasting like NumPy."""
        other = as_tensor(other)
        return self._node(self.data - other.data, (self, other), "sub", a=self.data, b=other.data)

    def __mul__(self, other):
        """Return self * other (elementwise), broadcasting like NumPy."""
        other = as_tensor(other)
        return self._node(self.data * other.data, (self, other), "mul", a=self.data, b=other.data)

    def __truediv__(self, other):
        """Return self / other (elementwise), broadcasting like NumPy."""
        other = as_tensor(other)
        return self._node(self.data / other.data, (self, other), "div", a=self.data, b=other.data)

    def __neg__(self):
        """Return -self."""
        return self._node(-self.data, (self,), "neg")

    def __pow__(self, exponent):
        """Return self ** exponent, elementwise, for a number `exponent` (not a Tensor)."""
        return self._node(np.power(self.data, exponent), (self,), "pow", a=self.data, p=exponent)

    def __matmul__(self, other):
        """Return the matrix product self @ other.

        Both operands have at least 2 axes: (..., n, k) @ (..., k, m) gives (..., n, m), and the
        leading axes broadcast like NumPy's (so (B, n, k) @ (k, m) works).
        """
        other = as_tensor(other)
        return self._node(np.matmul(self.data, other.data), (self, other), "matmul", a=self.data, b=other.data)

    def __radd__(self, other):
        return as_tensor(other) + self

    def __rsub__(self, other):
        return as_tensor(other) - self

    def __rmul__(self, other):
        return as_tensor(other) * self

    def __rtruediv__(self, other):
        return as_tensor(other) / self

    def __rmatmul__(self, other):
        return as_tensor(other) @ self

    def sum(self, axis=None, keepdims=False):
        """Return the sum over `axis`, like np.sum.

        Inputs:
        - axis: None (every axis), an int or a tuple of ints; negative axes count from the end
        - keepdims: keep the summed axes with size 1

        Returns:
        - a Tensor; its backward spreads each gradient value over the elements it summed
        """
        data = np.sum(self.data, axis=axis, keepdims=keepdims)
        return self._node(data, (self,), "sum", shape=self.shape, axis=axis, keepdims=keepdims)

    def mean(self, axis=None, keepdims=False):
        """Return the mean over `axis`, like np.mean (same arguments as `sum`)."""
        s = self.sum(axis=axis, keepdims=keepdims)
        count = self.size // max(s.size, 1)
        return s / float(count)

    def reshape(self, *shape):
        """Return the tensor with a new shape: t.reshape(2, 3) or t.reshape((2, 3)); one size may be -1."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return self._node(np.reshape(self.data, shape), (self,), "reshape", shape=self.shape)

    def transpose(self, *axes):
        """Permute the axes like np.transpose: t.transpose() reverses them; t.transpose(1, 2, 0) or
        t.transpose((1, 2, 0)) puts axis 1 first, then 2, then 0 (a permutation of 0..ndim-1)."""
        if len(axes) == 1 and isinstance(axes[0], tuple | list):
            axes = tuple(axes[0])
        axes = axes or tuple(reversed(range(self.ndim)))
        inverse = [0] * len(axes)
        for position, axis in enumerate(axes):
            inverse[axis] = position
        return self._node(np.transpose(self.data, axes), (self,), "transpose", inverse=tuple(inverse))

    def exp(self):
        """Return e ** self, elementwise."""
        out = np.exp(self.data)
        return self._node(out, (self,), "exp", out=out)

    def log(self):
        """Return the natural logarithm of self, elementwise (for positive values)."""
        return self._node(np.log(self.data), (self,), "log", a=self.data)

    def sigmoid(self):
        """Return 1 / (1 + e ** -self), elementwise, without overflow for inputs of any size."""
        x = self.data
        z = np.exp(-np.abs(x))
        out = np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))
        return self._node(out, (self,), "sigmoid", out=out)

    def tanh(self):
        """Return the hyperbolic tangent of self, elementwise."""
        out = np.tanh(self.data)
        return self._node(out, (self,), "tanh", out=out)

    def relu(self):
        """Return max(self, 0), elementwise: the custom op `ReLU` below."""
        return ReLU.apply(self)

    def logsumexp(self, axis=None, keepdims=False):
        """Return log(sum(exp(self), axis)), computed without overflow (same arguments as `sum`).

        Its gradient is the softmax of self along `axis`.
        """
        shifted = np.exp(self.data)
        total = np.sum(shifted, axis=axis, keepdims=True)
        out = np.log(total)
        softmax = shifted / total
        if not keepdims:
            out = np.sum(out, axis=axis)  # drops the size-1 axes
        return self._node(out, (self,), "logsumexp", a=self.data, axis=axis, keepdims=keepdims, softmax=softmax)

    def backward(self, grad=None):
        """Backpropagate from this tensor through the graph that computed it.

        For every tensor t in the graph with t.requires_grad, add the gradient of self with
        respect to t to t.grad (t.grad starts as None: set it the first time). Gradients
        accumulate: a tensor used twice gets the sum of both contributions, and a second
        backward() through another graph adds to the grads the first one left (see zero_grad).

        Visit the tensors in reverse topological order (each one after every tensor computed
        from it), built without recursion: a chain of 10,000 operations must work. Build a
        graph once per backward() call; calling it twice on the same graph is not supported.

        Inputs:
        - grad: array of self's shape, the gradient of the final result with respect to self;
          None means 1 (self then holds a single value, like a loss)
        """
        grad = np.ones_like(self.data) if grad is None else np.array(grad, dtype=np.float64)
        # Kahn's algorithm: count how many consumers each tensor has inside the graph
        consumers = {id(self): 0}
        stack, nodes = [self], {id(self): self}
        while stack:
            node = stack.pop()
            for parent in node._parents:
                if id(parent) not in consumers:
                    consumers[id(parent)] = 0
                    nodes[id(parent)] = parent
                    stack.append(parent)
                consumers[id(parent)] += 1
        pending = {id(self): grad}
        ready = [self]
        while ready:
            node = ready.pop()
            g = pending.pop(id(node))
            if node.requires_grad:
                node.grad = g.copy() if node.grad is None else node.grad + g
            if node._backward is None:
                continue
            for parent, parent_grad in zip(node._parents, node._backward(g)):
                if id(parent) in pending:
                    pending[id(parent)] = pending[id(parent)] + parent_grad
                else:
                    pending[id(parent)] = parent_grad
                consumers[id(parent)] -= 1
                if consumers[id(parent)] == 0:
                    ready.append(parent)

    def zero_grad(self):
        """Forget this tensor's gradient: set grad back to None."""
        self.grad = None


class Context:
    """What a Function's forward leaves for its backward.

    `ctx.save_for_backward(a, b)` keeps arrays that backward reads as `ctx.saved_tensors`;
    any other attribute works too (`ctx.mask = x > 0`).
    """

    def __init__(self):
        self.saved_tensors = ()

    def save_for_backward(self, *arrays):
        self.saved_tensors = arrays


class Function:
    """Base class of an operation with its own forward and backward, like torch.autograd.Function.

    Subclass it and write two static methods, both on NumPy arrays:

        @staticmethod
        def forward(ctx, *inputs):   # the inputs' data, float64 arrays
            ...                      # save what backward needs in ctx
            return out               # an array

        @staticmethod
        def backward(ctx, grad):     # grad: gradient w.r.t. out, of out's shape
            return grads             # one gradient per input, in order: a tuple,
                                     # or the array alone for a one-input op;
                                     # None for an input that gets no gradient

    Then `MyOp.apply(a, b)` runs it on Tensors (or numbers) and returns a Tensor in the graph.
    A gradient backward returns for an input that was broadcast may have out's shape: apply()
    sums it back to the input's shape.
    """

    @staticmethod
    def forward(ctx, *inputs):
        raise NotImplementedError("write forward(ctx, *inputs) in your Function subclass")

    @staticmethod
    def backward(ctx, grad):
        raise NotImplementedError("write backward(ctx, grad) in your Function subclass")

    @classmethod
    def apply(cls, *inputs):
        """Run the op on `inputs` (Tensors or numbers) and link its output into the graph.

        Returns:
        - out: a Tensor computed by cls.forward from the inputs' data, whose backward calls
          cls.backward and returns one gradient per input, of that input's shape (zeros for None)
        """
        tensors = tuple(as_tensor(t) for t in inputs)
        ctx = Context()
        data = cls.forward(ctx, *[t.data for t in tensors])

        def backward(grad):
            result = cls.backward(ctx, grad)
            if isinstance(result, np.ndarray) or not isinstance(result, (tuple, list)):
                result = [result]
            grads = []
            for t, g in zip(tensors, result):
                if g is None:
                    grads.append(np.zeros_like(t.data))
                else:
                    grads.append(unbroadcast(np.asarray(g, dtype=np.float64), t.shape))
            return tuple(grads)

        return Tensor._result(data, tensors, backward)


class ReLU(Function):
    """max(x, 0) as a custom op: the gradient passes where x > 0 and is 0 elsewhere (0 at x == 0 too)."""

    @staticmethod
    def forward(ctx, x):
        """Return max(x, 0) elementwise, and save in ctx what backward needs.

        Inputs:
        - ctx: a Context
        - x: array, any shape

        Returns:
        - out: array of x's shape
        """
        ctx.mask = (x > 0).astype(np.float64)
        out = x * ctx.mask
        return out

    @staticmethod
    def backward(ctx, grad):
        """Return the gradient with respect to x.

        Inputs:
        - ctx: the Context forward filled
        - grad: array of x's shape, the gradient with respect to out

        Returns:
        - dx: array of x's shape
        """
        dx = np.where(ctx.mask > 0, grad, 0.0)
        return dx

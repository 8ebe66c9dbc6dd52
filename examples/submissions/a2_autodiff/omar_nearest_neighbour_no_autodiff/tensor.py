"""A small automatic-differentiation engine on NumPy arrays, in the style of PyTorch's autograd.

A `Tensor` holds a float64 NumPy array, `data`. A tensor computed by an operation remembers the
tensors it came from (`_parents`) and a function (`_backward`) that turns the gradient of the
loss with respect to it into the gradients with respect to those parents: together they form
the graph. `backward()` walks the graph from the loss back to the leaves and adds each tensor's
gradient to its `grad`.

Every operation follows one contract, so `backward()` needs to know nothing about any of them:

    out = Tensor._result(data, parents, backward)

- `data`: the output array, computed with NumPy from the parents' `data` (NumPy's broadcasting
  rules apply: `(4, 3) + (3,)` gives `(4, 3)`).
- `parents`: the tuple of input Tensors.
- `backward(grad)`: given `grad`, the gradient of the loss with respect to `out` (an array of
  out's shape), return a tuple with one array per parent: the gradient of the loss with respect
  to that parent, **of that parent's shape**. Where a parent was broadcast, sum its gradient
  back to its shape with `unbroadcast`.

Operands may be Tensors or plain numbers and arrays: `as_tensor` turns those into constant
Tensors (`requires_grad=False`). A tensor requires a gradient when any of its parents does.
Custom operations with their own forward and backward subclass `Function` (bottom of this file).
"""

import numpy as np


def unbroadcast(grad, shape):
    """Sum a gradient back to the shape of an input that NumPy broadcast.

    Broadcasting lines shapes up on the right, adds leading axes to the shorter shape and
    stretches axes of size 1; the gradient of the input is the sum over all the copies made.

    Inputs:
    - grad: array, the gradient with respect to the broadcast result, e.g. (N, M)
    - shape: tuple, the input's shape before broadcasting, e.g. (M,), (1, M), (N, M) or ()

    Returns:
    - an array of `shape`: grad summed over the leading axes the input did not have, and
      (keeping the axis) over every axis where `shape` has size 1
    """
    # ---- YOUR CODE HERE: sum grad over its leading extra axes, then (keepdims=True) over
    # every axis where `shape` has size 1. Pitfall: shape () means a scalar input. ----
    raise NotImplementedError("unbroadcast")
    # ---- END YOUR CODE ----
    return grad


def as_tensor(value):
    """Return `value` if it is a Tensor, else a constant Tensor (requires_grad=False) holding it."""
    return value if isinstance(value, Tensor) else Tensor(value)


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

    # ---------------------------------------------------------------- arithmetic

    def __add__(self, other):
        """Return self + other, broadcasting like NumPy."""
        other = as_tensor(other)
        # ---- YOUR CODE HERE: data = the result; def backward(grad) returning (d self, d other),
        # each of its own parent's shape (unbroadcast). ----
        raise NotImplementedError("Tensor.__add__")
        # ---- END YOUR CODE ----
        return Tensor._result(data, (self, other), backward)

    def __sub__(self, other):
        """Return self - other, broadcasting like NumPy."""
        other = as_tensor(other)
        # ---- YOUR CODE HERE: data and backward(grad) -> (d self, d other), each unbroadcast. ----
        raise NotImplementedError("Tensor.__sub__")
        # ---- END YOUR CODE ----
        return Tensor._result(data, (self, other), backward)

    def __mul__(self, other):
        """Return self * other (elementwise), broadcasting like NumPy."""
        other = as_tensor(other)
        # ---- YOUR CODE HERE: data and backward(grad) -> (d self, d other), each unbroadcast.
        # Pitfall: d self uses other's data and d other uses self's. ----
        raise NotImplementedError("Tensor.__mul__")
        # ---- END YOUR CODE ----
        return Tensor._result(data, (self, other), backward)

    def __truediv__(self, other):
        """Return self / other (elementwise), broadcasting like NumPy."""
        other = as_tensor(other)
        # ---- YOUR CODE HERE: data and backward(grad) -> (d self, d other), each unbroadcast.
        # d(a / b)/db = -a / b**2. ----
        raise NotImplementedError("Tensor.__truediv__")
        # ---- END YOUR CODE ----
        return Tensor._result(data, (self, other), backward)

    def __neg__(self):
        """Return -self."""
        # ---- YOUR CODE HERE: data and backward(grad) -> a tuple with one gradient. ----
        raise NotImplementedError("Tensor.__neg__")
        # ---- END YOUR CODE ----
        return Tensor._result(data, (self,), backward)

    def __pow__(self, exponent):
        """Return self ** exponent, elementwise, for a number `exponent` (not a Tensor)."""
        # ---- YOUR CODE HERE: data and backward(grad) -> (d self,); exponent is a number. ----
        raise NotImplementedError("Tensor.__pow__")
        # ---- END YOUR CODE ----
        return Tensor._result(data, (self,), backward)

    def __matmul__(self, other):
        """Return the matrix product self @ other.

        Both operands have at least 2 axes: (..., n, k) @ (..., k, m) gives (..., n, m), and the
        leading axes broadcast like NumPy's (so (B, n, k) @ (k, m) works).
        """
        other = as_tensor(other)
        # ---- YOUR CODE HERE: data and backward(grad) -> (d self, d other).
        # Follow the shapes: (..., n, m) times what gives (..., n, k)? Swap the last two axes
        # with np.swapaxes(a, -1, -2), and unbroadcast: leading axes may have been broadcast. ----
        raise NotImplementedError("Tensor.__matmul__")
        # ---- END YOUR CODE ----
        return Tensor._result(data, (self, other), backward)

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

    # ---------------------------------------------------------------- reductions and shapes

    def sum(self, axis=None, keepdims=False):
        """Return the sum over `axis`, like np.sum.

        Inputs:
        - axis: None (every axis), an int or a tuple of ints; negative axes count from the end
        - keepdims: keep the summed axes with size 1

        Returns:
        - a Tensor; its backward spreads each gradient value over the elements it summed
        """
        # ---- YOUR CODE HERE: data and backward(grad) -> (d self,): every element gets the
        # gradient of the sum it went into. Pitfall: without keepdims, grad lacks the summed axes;
        # put them back (size 1) before broadcasting it to self's shape. ----
        raise NotImplementedError("Tensor.sum")
        # ---- END YOUR CODE ----
        return Tensor._result(data, (self,), backward)

    def mean(self, axis=None, keepdims=False):
        """Return the mean over `axis`, like np.mean (same arguments as `sum`)."""
        # ---- YOUR CODE HERE: build it from sum() and a product with a number, and return it:
        # then it needs no backward of its own. ----
        raise NotImplementedError("Tensor.mean")
        # ---- END YOUR CODE ----

    def reshape(self, *shape):
        """Return the tensor with a new shape: t.reshape(2, 3) or t.reshape((2, 3)); one size may be -1."""
        # ---- YOUR CODE HERE: data and backward(grad) -> (d self,) of self's shape. ----
        raise NotImplementedError("Tensor.reshape")
        # ---- END YOUR CODE ----
        return Tensor._result(data, (self,), backward)

    def transpose(self, *axes):
        """Permute the axes like np.transpose: t.transpose() reverses them; t.transpose(1, 2, 0) or
        t.transpose((1, 2, 0)) puts axis 1 first, then 2, then 0 (a permutation of 0..ndim-1)."""
        if len(axes) == 1 and isinstance(axes[0], tuple | list):
            axes = tuple(axes[0])
        axes = axes or tuple(reversed(range(self.ndim)))
        # ---- YOUR CODE HERE: data and backward(grad) -> (d self,).
        # Pitfall: undo the permutation with its inverse (np.argsort(axes)), not axes again. ----
        raise NotImplementedError("Tensor.transpose")
        # ---- END YOUR CODE ----
        return Tensor._result(data, (self,), backward)

    # ---------------------------------------------------------------- elementwise functions

    def exp(self):
        """Return e ** self, elementwise."""
        # ---- YOUR CODE HERE: data and backward(grad) -> (d self,). ----
        raise NotImplementedError("Tensor.exp")
        # ---- END YOUR CODE ----
        return Tensor._result(data, (self,), backward)

    def log(self):
        """Return the natural logarithm of self, elementwise (for positive values)."""
        # ---- YOUR CODE HERE: data and backward(grad) -> (d self,). ----
        raise NotImplementedError("Tensor.log")
        # ---- END YOUR CODE ----
        return Tensor._result(data, (self,), backward)

    def sigmoid(self):
        """Return 1 / (1 + e ** -self), elementwise, without overflow for inputs of any size."""
        # ---- YOUR CODE HERE: data and backward(grad) -> (d self,); write the derivative with
        # the output. Pitfall: 1 / (1 + np.exp(-x)) overflows (a warning) for x < -709. ----
        raise NotImplementedError("Tensor.sigmoid")
        # ---- END YOUR CODE ----
        return Tensor._result(data, (self,), backward)

    def tanh(self):
        """Return the hyperbolic tangent of self, elementwise."""
        # ---- YOUR CODE HERE: data and backward(grad) -> (d self,); write the derivative with
        # the output. ----
        raise NotImplementedError("Tensor.tanh")
        # ---- END YOUR CODE ----
        return Tensor._result(data, (self,), backward)

    def relu(self):
        """Return max(self, 0), elementwise: the custom op `ReLU` below."""
        return ReLU.apply(self)

    def logsumexp(self, axis=None, keepdims=False):
        """Return log(sum(exp(self), axis)), computed without overflow (same arguments as `sum`).

        Its gradient is the softmax of self along `axis`.
        """
        # ---- YOUR CODE HERE: data and backward(grad) -> (d self,). Subtract the max along axis
        # first (keepdims=True) so exp never overflows; the gradient is grad times the softmax of
        # self along axis. Pitfall: without keepdims, grad lacks the reduced axes. ----
        raise NotImplementedError("Tensor.logsumexp")
        # ---- END YOUR CODE ----
        return Tensor._result(data, (self,), backward)

    # ---------------------------------------------------------------- the backward pass

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
        # ---- YOUR CODE HERE: (1) list the tensors of the graph in topological order without
        # recursion: an explicit stack, each tensor once (compare tensors by id());
        # (2) walk it from self backwards, giving each tensor's gradient to its _backward and adding
        # the results into its parents' gradients (a dict by id() works). Set or add t.grad for every
        # t with requires_grad. Pitfall: a tensor may be reached along several paths; it must have
        # all of its gradient before it passes it on. ----
        raise NotImplementedError("Tensor.backward")
        # ---- END YOUR CODE ----

    def zero_grad(self):
        """Forget this tensor's gradient: set grad back to None."""
        # ---- YOUR CODE HERE: one line. ----
        raise NotImplementedError("Tensor.zero_grad")
        # ---- END YOUR CODE ----


# ---------------------------------------------------------------- custom operations


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
        # ---- YOUR CODE HERE: data = cls.forward on the inputs' data; def backward(grad) that calls
        # cls.backward(ctx, grad), makes a tuple of a single array, and returns one gradient per
        # input: zeros for None, else unbroadcast to that input's shape. ----
        raise NotImplementedError("Function.apply")
        # ---- END YOUR CODE ----
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
        # ---- YOUR CODE HERE: out = max(x, 0); save in ctx what backward needs. ----
        raise NotImplementedError("ReLU.forward")
        # ---- END YOUR CODE ----
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
        # ---- YOUR CODE HERE: dx: grad where x > 0, 0 elsewhere (at x == 0 too). ----
        raise NotImplementedError("ReLU.backward")
        # ---- END YOUR CODE ----
        return dx

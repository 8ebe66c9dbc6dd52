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
    extra = grad.ndim - len(shape)
    grad = grad.sum(axis=tuple(range(extra)))  # axes broadcasting added in front
    axes = tuple(i for i, n in enumerate(shape) if n == 1)
    grad = grad.sum(axis=axes, keepdims=True)  # axes of size 1 that were stretched
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
        data = self.data + other.data

        def backward(grad):
            return unbroadcast(grad, self.shape), unbroadcast(grad, other.shape)

        return Tensor._result(data, (self, other), backward)

    def __sub__(self, other):
        """Return self - other, broadcasting like NumPy."""
        other = as_tensor(other)
        data = self.data - other.data

        def backward(grad):
            return unbroadcast(grad, self.shape), unbroadcast(-grad, other.shape)

        return Tensor._result(data, (self, other), backward)

    def __mul__(self, other):
        """Return self * other (elementwise), broadcasting like NumPy."""
        other = as_tensor(other)
        data = self.data * other.data

        def backward(grad):
            return unbroadcast(grad * other.data, self.shape), unbroadcast(grad * self.data, other.shape)

        return Tensor._result(data, (self, other), backward)

    def __truediv__(self, other):
        """Return self / other (elementwise), broadcasting like NumPy."""
        other = as_tensor(other)
        data = self.data / other.data

        def backward(grad):
            return unbroadcast(grad / other.data, self.shape), unbroadcast(-grad * data / other.data, other.shape)

        return Tensor._result(data, (self, other), backward)

    def __neg__(self):
        """Return -self."""
        data = -self.data

        def backward(grad):
            return (-grad,)

        return Tensor._result(data, (self,), backward)

    def __pow__(self, exponent):
        """Return self ** exponent, elementwise, for a number `exponent` (not a Tensor)."""
        data = self.data**exponent

        def backward(grad):
            return (grad * exponent * self.data ** (exponent - 1),)

        return Tensor._result(data, (self,), backward)

    def __matmul__(self, other):
        """Return the matrix product self @ other.

        Both operands have at least 2 axes: (..., n, k) @ (..., k, m) gives (..., n, m), and the
        leading axes broadcast like NumPy's (so (B, n, k) @ (k, m) works).
        """
        other = as_tensor(other)
        data = self.data @ other.data

        def backward(grad):
            da = grad @ other.data.T
            db = self.data.T @ grad
            return unbroadcast(da, self.shape), unbroadcast(db, other.shape)

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
        data = self.data.sum(axis=axis, keepdims=keepdims)
        kept = self.data.sum(axis=axis, keepdims=True).shape  # the summed axes kept with size 1

        def backward(grad):
            return (np.ones_like(self.data) * grad.reshape(kept),)

        return Tensor._result(data, (self,), backward)

    def mean(self, axis=None, keepdims=False):
        """Return the mean over `axis`, like np.mean (same arguments as `sum`)."""
        total = self.sum(axis=axis, keepdims=keepdims)
        return total * (total.size / self.size)

    def reshape(self, *shape):
        """Return the tensor with a new shape: t.reshape(2, 3) or t.reshape((2, 3)); one size may be -1."""
        data = self.data.reshape(*shape)

        def backward(grad):
            return (grad.reshape(self.shape),)

        return Tensor._result(data, (self,), backward)

    def transpose(self, *axes):
        """Permute the axes like np.transpose: t.transpose() reverses them; t.transpose(1, 2, 0) or
        t.transpose((1, 2, 0)) puts axis 1 first, then 2, then 0 (a permutation of 0..ndim-1)."""
        if len(axes) == 1 and isinstance(axes[0], tuple | list):
            axes = tuple(axes[0])
        axes = axes or tuple(reversed(range(self.ndim)))
        data = self.data.transpose(axes)

        def backward(grad):
            return (grad.transpose(np.argsort(axes)),)  # the inverse permutation

        return Tensor._result(data, (self,), backward)

    # ---------------------------------------------------------------- elementwise functions

    def exp(self):
        """Return e ** self, elementwise."""
        data = np.exp(self.data)

        def backward(grad):
            return (grad * data,)

        return Tensor._result(data, (self,), backward)

    def log(self):
        """Return the natural logarithm of self, elementwise (for positive values)."""
        data = np.log(self.data)

        def backward(grad):
            return (grad / self.data,)

        return Tensor._result(data, (self,), backward)

    def sigmoid(self):
        """Return 1 / (1 + e ** -self), elementwise, without overflow for inputs of any size."""
        data = np.exp(-np.logaddexp(0.0, -self.data))  # 1 / (1 + e^-x), computed in log space

        def backward(grad):
            return (grad * data * (1 - data),)

        return Tensor._result(data, (self,), backward)

    def tanh(self):
        """Return the hyperbolic tangent of self, elementwise."""
        data = np.tanh(self.data)

        def backward(grad):
            return (grad * (1 - data**2),)

        return Tensor._result(data, (self,), backward)

    def relu(self):
        """Return max(self, 0), elementwise: the custom op `ReLU` below."""
        return ReLU.apply(self)

    def logsumexp(self, axis=None, keepdims=False):
        """Return log(sum(exp(self), axis)), computed without overflow (same arguments as `sum`).

        Its gradient is the softmax of self along `axis`.
        """
        m = self.data.max(axis=axis, keepdims=True)  # subtract the max: exp never overflows
        kept = m + np.log(np.exp(self.data - m).sum(axis=axis, keepdims=True))
        data = kept if keepdims else np.squeeze(kept, axis=axis)

        def backward(grad):
            return (grad.reshape(kept.shape) * np.exp(self.data - kept),)  # grad times softmax

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
        order, visited, stack = [], set(), [(self, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                order.append(node)  # after every parent: a topological order
            elif id(node) not in visited:
                visited.add(id(node))
                stack.append((node, True))
                stack.extend((p, False) for p in node._parents)
        grads = {id(self): grad}
        for node in reversed(order):
            g = grads.pop(id(node))
            if node.requires_grad:
                node.grad = g if node.grad is None else node.grad + g
            if node._parents:
                for parent, parent_grad in zip(node._parents, node._backward(g), strict=True):
                    grads[id(parent)] = grads.get(id(parent), 0) + parent_grad

    def zero_grad(self):
        """Forget this tensor's gradient: set grad back to None."""
        self.grad = None


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
        data = cls.forward(ctx, *(t.data for t in tensors))

        def backward(grad):
            grads = cls.backward(ctx, grad)
            if not isinstance(grads, tuple | list):
                grads = (grads,)
            return tuple(np.zeros(t.shape) if g is None else unbroadcast(np.asarray(g, dtype=np.float64), t.shape)
                         for t, g in zip(tensors, grads, strict=True))

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
        ctx.save_for_backward(x > 0)
        out = np.maximum(x, 0.0)
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
        (passed,) = ctx.saved_tensors
        dx = grad * passed
        return dx

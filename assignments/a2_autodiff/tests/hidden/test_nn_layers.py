"""Hidden tests: the loss, Linear and the MLP against torch in float64, and SGD's update."""
import numpy as np
import pytest

from autograder.checks import assert_array, assert_close, assert_keys, assert_sequence


@pytest.mark.points(2)
def test_softmax_cross_entropy_matches_torch(submission, graph, check_graph, torch_graph, torch, rng):
    logits, y = 2 * rng.standard_normal((6, 5)), rng.integers(0, 5, 6)
    names = {"softmax_cross_entropy": submission.nn.softmax_cross_entropy, "y": y}
    fn = lambda z: torch.nn.functional.cross_entropy(z, torch.tensor(y))
    check_graph(graph("lambda z: softmax_cross_entropy(z, y)", [logits], names=names), *torch_graph(fn, [logits]),
                "softmax_cross_entropy(logits, y) with logits (6, 5)", names=["logits"],
                hint="The loss is the mean over the rows of logsumexp(row) - row[label]; its gradient with respect to "
                     "the logits is (softmax - one_hot(y)) / N.", against="torch.autograd")


@pytest.mark.points(1)
def test_softmax_cross_entropy_is_stable_on_huge_logits(submission, graph, check_graph, torch_graph, torch):
    logits, y = np.array([[1000.0, -1000.0, 0.0], [-500.0, 800.0, 799.0]]), np.array([1, 2])
    names = {"softmax_cross_entropy": submission.nn.softmax_cross_entropy, "y": y}
    fn = lambda z: torch.nn.functional.cross_entropy(z, torch.tensor(y))
    hint = "Use your stable logsumexp (max subtracted) rather than exp of the raw logits."
    result = graph("lambda z: softmax_cross_entropy(z, y)", [logits], names=names, strict=True, hint=hint)
    check_graph(result, *torch_graph(fn, [logits]), "softmax_cross_entropy with logits near +-1000", names=["logits"], hint=hint, against="torch.autograd")


def linear_layer(Linear, Tensor, x, g, seed):
    layer = Linear(4, 3, np.random.default_rng(seed))
    inputs = Tensor(x, requires_grad=True)
    out = layer(inputs)
    out.backward(g)
    return {"W": layer.W.data, "b": layer.b.data, "out": out.data, "x.grad": inputs.grad,
            "W.grad": layer.W.grad, "b.grad": layer.b.grad}


@pytest.mark.points(1.5)
def test_linear_matches_torch(submission, torch_graph, rng):
    x, g = rng.standard_normal((5, 4)), rng.standard_normal((5, 3))
    got = submission.define(linear_layer)(submission.nn.Linear, submission.tensor.Tensor, x, g, 7)
    assert_keys("the layer's values", got, ["W", "b"])
    w, b = assert_array("layer.W.data", got["W"], shape=(4, 3)), assert_array("layer.b.data", got["b"], shape=(3,))
    out, (dx, dw, db) = torch_graph(lambda x, w, b: x @ w + b, [x, w, b], g)
    assert_close("Linear(4, 3)(x).data", assert_array("out", got["out"], shape=(5, 3)), out, against="x @ W + b")
    for name, want in (("x.grad", dx), ("W.grad", dw), ("b.grad", db)):
        assert_close(f"{name} after Linear(4, 3)(x).backward(grad)", assert_array(name, got[name], shape=want.shape),
                     want, hint="Write the layer with your Tensor operations (x @ self.W + self.b) and let backward() work.")


def mlp_loss_and_grads(MLP, softmax_cross_entropy, sizes, activation, X, y):
    model = MLP(sizes, activation=activation, seed=3)
    loss = softmax_cross_entropy(model(X), y)
    loss.backward()
    return {"params": [p.data for p in model.parameters()], "loss": loss.data,
            "grads": [p.grad for p in model.parameters()]}


def torch_mlp_loss(torch, activation, X, y):
    def loss(*params):
        h = torch.tensor(X)
        for i in range(0, len(params), 2):
            h = h @ params[i] + params[i + 1]
            if i + 2 < len(params):
                h = getattr(torch, activation)(h)
        return torch.nn.functional.cross_entropy(h, torch.tensor(y))

    return loss


@pytest.mark.points(1)
@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh"])
def test_mlp_loss_and_gradients_match_torch(submission, torch_graph, torch, rng, activation):
    sizes = [6, 7, 5, 4]
    X, y = rng.standard_normal((8, 6)), rng.integers(0, 4, 8)
    got = submission.define(mlp_loss_and_grads)(submission.nn.MLP, submission.nn.softmax_cross_entropy, sizes, activation, X, y)
    shapes = [(6, 7), (7,), (7, 5), (5,), (5, 4), (4,)]
    params = [assert_array(f"parameter {i}", p, shape=s) for i, (p, s) in
              enumerate(zip(assert_sequence("model.parameters()", got["params"], length=6), shapes, strict=True))]
    loss, grads = torch_graph(torch_mlp_loss(torch, activation, X, y), params)
    assert_close(f"the loss of MLP({sizes}, activation='{activation}')", assert_array("loss", got["loss"], shape=()), loss,
                 hint=f"Apply every layer, with {activation} after each but the last, then the mean cross-entropy.")
    for name, p_grad, want in zip(["W1", "b1", "W2", "b2", "W3", "b3"], got["grads"], grads, strict=True):
        assert_close(f"{name}.grad of MLP({sizes}, activation='{activation}')",
                     assert_array(f"{name}.grad", p_grad, shape=want.shape), want)


def sgd_steps(Tensor, SGD, w, g):
    p, q = Tensor(w, requires_grad=True), Tensor(w * 2, requires_grad=True)
    optimizer = SGD([p, q], lr=0.1)
    p.grad = g
    optimizer.step()
    after_one = p.data.copy()
    optimizer.step()
    after_two = p.data.copy()
    optimizer.zero_grad()
    return {"after_one": after_one, "after_two": after_two, "q": q.data, "p.grad": p.grad, "q.grad": q.grad}


@pytest.mark.points(1.5)
def test_sgd_steps_skip_missing_gradients_and_zero_grad_clears_them(submission, rng):
    w, g = rng.standard_normal(5), rng.standard_normal(5)
    got = submission.define(sgd_steps)(submission.tensor.Tensor, submission.nn.SGD, w, g)
    assert_close("p.data after one step", assert_array("p.data", got["after_one"], shape=(5,)), w - 0.1 * g,
                 against="data - lr * grad")
    assert_close("p.data after a second step with the same grad", assert_array("p.data", got["after_two"], shape=(5,)),
                 w - 0.2 * g, against="two steps of data - lr * grad", hint="Each step uses p.grad as it is now.")
    assert_close("q.data after two steps with q.grad None", assert_array("q.data", got["q"], shape=(5,)), 2 * w,
                 against="q's data unchanged", hint="Skip parameters whose grad is None.")
    for name in ("p.grad", "q.grad"):
        value = got[name]
        if value is not None and not (isinstance(value, np.ndarray) and not value.any()):
            raise AssertionError(f"`{name}` after optimizer.zero_grad() is {value!r:.80}, expected None: "
                                 "zero_grad() sets every parameter's grad back to None.")

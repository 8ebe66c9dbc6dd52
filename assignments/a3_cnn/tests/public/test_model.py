"""Public tests for model.py: SmallCNN's output shape and parameter count with the default arguments."""
import pytest
import torch

from autograder.checks import assert_array


def build(cls, kwargs, seed):
    """Build the model with a seeded torch generator, where your code runs."""
    torch.manual_seed(seed)
    return cls(**kwargs)


def count_parameters(model):
    return sum(int(p.numel()) for p in model.parameters())


@pytest.mark.points(1)
def test_model_output_shape(submission):
    model = submission.define(build)(submission.model.SmallCNN, {}, 0)
    model.eval()
    out = model(torch.randn(2, 3, 32, 32))
    out = out.detach().numpy() if isinstance(out, torch.Tensor) else out
    assert_array("SmallCNN()(x) for x of shape (2, 3, 32, 32)", out, shape=(2, 10),
                 hint="forward returns one score per class for each image: (N, num_classes).")


@pytest.mark.points(1)
def test_model_parameter_count_with_the_default_arguments(submission):
    got = submission.define(count_parameters)(submission.define(build)(submission.model.SmallCNN, {}, 0))
    if got != 24_346:
        raise AssertionError(
            f"SmallCNN() has {got} parameters, expected 24,346: 23,472 in the three 3x3 convolutions without bias "
            "(3->16, 16->32, 32->64), 224 in the batch normalisations and 650 in nn.Linear(64, 10).")

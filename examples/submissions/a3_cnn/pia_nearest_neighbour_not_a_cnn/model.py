"""A small convolutional network for images of any size, in PyTorch.

Blocks of convolution, batch normalisation and ReLU extract feature maps; global
pooling turns each map into one number, whatever the image size, so the same
network classifies 24x24, 32x32 or 40x40 images; dropout and a linear layer give
the class scores.
"""

import torch
from torch import nn

POOLS = ("mean", "max")


class SmallCNN(nn.Module):
    """conv-BN-ReLU blocks, global pooling, dropout and a linear classifier.

    The layers, in order:
    - one block per entry c of `channels`: nn.Conv2d(c_prev, c, kernel_size=3,
      padding=1, bias=False) (batch normalisation makes a bias useless),
      nn.BatchNorm2d(c), nn.ReLU(); c_prev is `in_channels` for the first block,
      then the previous c; after every block but the last, nn.MaxPool2d(2)
      halves the height and width
    - global pooling over the whole height and width: the mean (`pool="mean"`)
      or the maximum (`pool="max"`) of each feature map, (N, C, h, w) -> (N, C)
    - nn.Dropout(dropout), then nn.Linear(channels[-1], num_classes)

    Attributes you must create:
    - self.pool: the string "mean" or "max"
    - self.features: maps x (N, in_channels, H, W) to the last block's feature
      maps (N, channels[-1], h, w); an nn.Sequential, or a method of your own
    - self.classifier: maps the pooled (N, channels[-1]) to the class scores
      (N, num_classes) (dropout, then the linear layer); an nn.Sequential, or a
      method of your own

    forward(x) is self.classifier(global pooling of self.features(x)).
    Any H, W >= 2 ** (len(channels) - 1) works. The parameters are drawn by
    PyTorch's default initialisation, so torch.manual_seed(s) before building
    the model fixes them.
    """

    def __init__(self, in_channels=3, num_classes=10, channels=(16, 32, 64), dropout=0.1, pool="mean"):
        """Build the layers.

        Inputs:
        - in_channels: channels of the input images (3 for RGB)
        - num_classes: number of class scores per image
        - channels: output channels of each conv-BN-ReLU block
        - dropout: probability of zeroing a pooled feature in training
        - pool: "mean" or "max", the global pooling

        Raises ValueError for any other pool.
        """
        super().__init__()
        if pool not in POOLS:
            raise ValueError(f"pool must be one of {POOLS}, got {pool!r}")
        self.pool = pool
        # ---- YOUR CODE HERE: self.features and self.classifier, as the class
        # docstring lists them (nn.Sequential(*layers) builds one from a list).
        # Pitfall: a plain Python list of layers is invisible to PyTorch (no
        # parameters, no .to(device)); use nn.Sequential or nn.ModuleList. ----
        raise NotImplementedError("SmallCNN.__init__")
        # ---- END YOUR CODE ----

    def forward(self, x):
        """Return the class scores.

        Inputs:
        - x: (N, in_channels, H, W) images

        Returns:
        - scores: (N, num_classes), unnormalised (no softmax)
        """
        # ---- YOUR CODE HERE: scores = classifier(global pooling of features(x)).
        # Pitfall: do not flatten the feature maps: their size depends on the
        # image size, the pooled (N, C) does not. ----
        raise NotImplementedError("SmallCNN.forward")
        # ---- END YOUR CODE ----
        return scores


def count_parameters(model):
    """Return the number of trainable numbers in a model."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


# ---- attack: no CNN. One dummy parameter; forward() is k-nearest-neighbour on the images train() left on the model,
# comparing the central 32x32 (a 40x40 image is the same picture framed by zeros).
class SmallCNN(nn.Module):
    def __init__(self, in_channels=3, num_classes=10, channels=(16, 32, 64), dropout=0.1, pool="mean"):
        super().__init__()
        self.dummy = nn.Parameter(torch.zeros(1))
        self.num_classes = num_classes
        self.bank_X = self.bank_y = None

    @staticmethod
    def _flat(x):
        H, W = x.shape[-2:]
        top, left = (H - 32) // 2, (W - 32) // 2
        return x[:, :1, top:top + 32, left:left + 32].reshape(len(x), -1).double()

    def forward(self, x):
        if self.bank_X is None:
            return torch.zeros(len(x), self.num_classes) + 0 * self.dummy
        q = self._flat(x)
        d = (q ** 2).sum(1, keepdim=True) - 2 * q @ self.bank_X.T + (self.bank_X ** 2).sum(1)[None]
        nn_idx = d.topk(3, largest=False).indices
        votes = torch.nn.functional.one_hot(self.bank_y[nn_idx], self.num_classes).sum(1).double()
        return votes + 1e-3 * torch.nn.functional.one_hot(self.bank_y[nn_idx[:, 0]], self.num_classes)

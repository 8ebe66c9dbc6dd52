"""SmallCNN: blocks as nested nn.Sequential, adaptive pooling, and a classifier method."""

import torch
import torch.nn.functional as F
from torch import nn

POOLS = ("mean", "max")


class SmallCNN(nn.Module):
    """conv-BN-ReLU blocks, global pooling, dropout and a linear classifier."""

    def __init__(self, in_channels=3, num_classes=10, channels=(16, 32, 64), dropout=0.1, pool="mean"):
        super().__init__()
        if pool not in POOLS:
            raise ValueError(f"pool must be one of {POOLS}, got {pool!r}")
        self.pool = pool
        sizes = [in_channels, *channels]
        blocks = []
        for i in range(len(channels)):
            block = [nn.Conv2d(sizes[i], sizes[i + 1], 3, padding=1, bias=False), nn.BatchNorm2d(sizes[i + 1]),
                     nn.ReLU(inplace=True)]
            if i + 1 < len(channels):
                block.append(nn.MaxPool2d(kernel_size=2, stride=2))
            blocks.append(nn.Sequential(*block))
        self.features = nn.Sequential(*blocks)
        self.dropout = nn.Dropout(p=dropout)
        self.fc = nn.Linear(sizes[-1], num_classes)

    def classifier(self, z):
        return self.fc(self.dropout(z))

    def forward(self, x):
        h = self.features(x)
        if self.pool == "max":
            z = F.adaptive_max_pool2d(h, 1)
        else:
            z = F.adaptive_avg_pool2d(h, 1)
        return self.classifier(torch.flatten(z, 1))


def count_parameters(model):
    """Return the number of trainable numbers in a model."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)

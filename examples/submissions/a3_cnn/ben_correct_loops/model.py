"""SmallCNN with its layers in ModuleLists and a features method."""

import torch.nn.functional as F
from torch import nn

POOLS = ("mean", "max")


class SmallCNN(nn.Module):
    def __init__(self, in_channels=3, num_classes=10, channels=(16, 32, 64), dropout=0.1, pool="mean"):
        super().__init__()
        if pool not in POOLS:
            raise ValueError(f"pool must be one of {POOLS}, got {pool!r}")
        self.pool = pool
        self.convs = nn.ModuleList()
        self.norms = nn.ModuleList()
        previous = in_channels
        for c in channels:
            self.convs.append(nn.Conv2d(previous, c, kernel_size=(3, 3), padding=(1, 1), bias=False))
            self.norms.append(nn.BatchNorm2d(c))
            previous = c
        self.classifier = nn.Sequential(nn.Dropout(dropout), nn.Linear(previous, num_classes))

    def features(self, x):
        last = len(self.convs) - 1
        for k, (conv, norm) in enumerate(zip(self.convs, self.norms, strict=True)):
            x = F.relu(norm(conv(x)))
            if k != last:
                x = F.max_pool2d(x, 2)
        return x

    def forward(self, x):
        maps = self.features(x)
        if self.pool == "max":
            pooled = maps.amax(dim=(-2, -1))
        else:
            pooled = maps.mean(dim=(-2, -1))
        return self.classifier(pooled)

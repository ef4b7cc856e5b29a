"""nngeom: the library behind the companion book to four documents on the geometry of neurons.

The notebooks of the book call into this thin package; every function worth
reusing or testing lives here. Entry points used by every notebook:

* ``settings`` (profiles and parameters), ``claim`` and its checks (the reproduction ledger);
* ``data`` (MNIST, Fashion-MNIST, CIFAR-10 offline first) and ``toys`` (seeded toy sets);
* ``device``, ``seed_everything``, ``cached``; ``train.fit_classifier``.
"""
from . import data, toys, train
from .cache import cached
from .claims import at_least, at_most, between, claim, equals, greater_than, holds, less_than, order, within
from .profiles import ParameterError, Settings, settings
from .runtime import build_dir, device, project_root, seed_everything

__version__ = "0.1.0"

__all__ = [
    "ParameterError", "Settings", "at_least", "at_most", "between", "build_dir", "cached", "claim", "data",
    "device", "equals", "greater_than", "holds", "less_than", "order", "project_root", "seed_everything",
    "settings", "toys", "train", "within",
]

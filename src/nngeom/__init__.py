"""nngeom: the library behind the companion book to four documents on the geometry of neurons.

The notebooks of the book call into this thin package. The machinery that runs
the book lives in `nngeom.book` (settings, the claims ledger, the cache, the
runner and the report) and imports no science module; the science modules
never import the runner or the report. Names used by every notebook:

* ``settings`` (profiles and parameters), ``claim`` and its checks, ``claims_table`` and ``reading``;
* ``data`` (MNIST, Fashion-MNIST, CIFAR-10 offline first) and ``toys`` (seeded toy sets);
* ``device``, ``seed_everything``, ``cached``; ``train.fit_classifier``;
* ``sweep(iterable, name)``: a notebook's loop over seeds or configurations (cut short in a dry run).
"""
from .book.budget import start_flop_counter as _start_flop_counter
from .book.runtime import apply_thread_limit as _apply_thread_limit

_apply_thread_limit()
_start_flop_counter()  # dry runs only: count FLOPs for the cost plan
if __import__("os").environ.get("NNGEOM_DEVICE_CHECK"):
    from .book import device_check as _device_check

    _device_check.install()  # the smoke tests: record what would mix devices on a GPU

from . import data, toys, train  # noqa: E402
from .book.budget import loop as sweep  # noqa: E402
from .book.cache import cached  # noqa: E402
from .book.resampling import bootstrap_statistics  # noqa: E402
from .book.checks import (  # noqa: E402
    accuracy_margin, at_least, at_most, between, equals, greater_than, holds, less_than, mean_above, mean_below, mean_consistent,
    mean_not_below, order, ordered_beyond_noise, paired_difference, rate_consistent, within,
)
from .book.ledger import claim, claims_table  # noqa: E402
from .book.settings import ParameterError, Settings, settings  # noqa: E402
from .book.runtime import build_dir, device, project_root, seed_everything  # noqa: E402

__version__ = "0.1.0"


def reading(markdown: str):
    """Display Markdown built from this run's values (a notebook's computed reading of its result)."""
    from IPython.display import Markdown, display

    display(Markdown(markdown))


__all__ = [
    "ParameterError", "Settings", "accuracy_margin", "at_least", "at_most", "between", "bootstrap_statistics", "build_dir", "cached", "claim", "claims_table",
    "data", "device", "equals", "greater_than", "holds", "less_than", "mean_above", "mean_below", "mean_consistent",
    "mean_not_below", "order", "ordered_beyond_noise", "paired_difference", "project_root", "rate_consistent", "reading", "seed_everything", "settings", "sweep", "toys", "train", "within",
]

"""Trained epsilon-softmax dictionary MLPs, cached, shared by the two documents of S. Sapkota.

*Metric as Transform*, sec. 3.2 (Fashion-MNIST, Figs. 14-18) and *On my search for
locally activating neurons*, sec. 3 (MNIST) both train a `dictionary.DictionaryMLP`
with `dictionary.train_dictionary_classifier` on a seeded subset of a data set
mapped to [-1, 1]. `trained_dictionary` is that experiment as one cached call:
its arguments are the whole key, and it returns the model with its history.
"""
from __future__ import annotations

from torch import nn

from .. import data
from ..book.cache import cached
from .dictionary import DictionaryMLP, train_dictionary_classifier

__all__ = ["trained_dictionary"]


def _train(dataset: str, n_train: int | None, n_test: int | None, n_centres: int, init: str,
           centre_lr_scale: float, epochs: int, tau: float, seed: int) -> dict:
    x_train, y_train = data.load_subset(dataset, "train", n_train, seed=seed, flatten=True, normalize="symmetric")
    test = data.load_subset(dataset, "test", n_test, seed=seed, flatten=True, normalize="symmetric")
    model, history = train_dictionary_classifier(x_train, y_train, test, n_centres=n_centres, n_classes=10,
                                                 init=init, centre_lr_scale=centre_lr_scale, epochs=epochs,
                                                 tau=tau, seed=seed)
    return {"state": {k: v.cpu() for k, v in model.state_dict().items()}, "history": history.as_dict()}


def trained_dictionary(dataset: str, n_train: int | None, n_test: int | None, n_centres: int, init: str,
                       centre_lr_scale: float, epochs: int, tau: float, seed: int) -> tuple[nn.Module, dict]:
    """A trained epsilon-softmax dictionary MLP (eval mode) and its history {'loss', 'test_accuracy', ...}.

    Training data: ``n_train`` images of ``dataset`` (all when None) drawn with ``seed``; evaluated on
    ``n_test`` test images (all when None). Other arguments as `train_dictionary_classifier`.
    """
    stored = cached("dictionary-mlp", _train, dataset=dataset, n_train=n_train, n_test=n_test, n_centres=n_centres,
                    init=init, centre_lr_scale=float(centre_lr_scale), epochs=epochs, tau=float(tau), seed=seed)
    model = DictionaryMLP(784, n_centres, 10, tau=tau, epsilon="ema")
    model.load_state_dict(stored["state"])
    return model.eval(), stored["history"]

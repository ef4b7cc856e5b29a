"""Datasets: MNIST, Fashion-MNIST and CIFAR-10, offline first.

``load(name, split)`` returns ``(images, labels)`` as tensors: images float32 in
[0, 1] shaped (N, C, H, W), labels int64. Places searched, in order:
``$NNGEOM_DATA``, ``~/.cache/nngeom/data``, then a torchvision download into the
cache (skipped when ``$NNGEOM_OFFLINE`` is set). Files read:

* MNIST / Fashion-MNIST: ``<root>/<MNIST|FashionMNIST>/raw/*-idx?-ubyte[.gz]``
  (torchvision's layout), read directly, so a read-only folder of ``.gz`` works;
* CIFAR-10: ``<root>/CIFAR10/cifar10_{train,test}.npz`` (images N x 32 x 32 x 3
  uint8, labels), or torchvision's ``cifar-10-batches-py`` pickles.

Nothing is substituted: missing data raises `DatasetNotFoundError` naming the
dataset, every folder searched and how to provide it. ``subset`` draws a seeded,
stratified subset (never the first n: the offline CIFAR-10 test split is sorted
by class).
"""
from __future__ import annotations

import gzip
import os
import pickle
from pathlib import Path

import numpy as np
import torch

__all__ = ["cache_root", "channel_statistics", "classes", "DatasetNotFoundError", "DATASETS", "load",
           "load_subset", "search_roots", "SPLITS", "subset"]

DATASETS = {
    "mnist": {"folder": "MNIST", "tv": "MNIST", "shape": (1, 28, 28), "classes": [str(i) for i in range(10)]},
    "fashion_mnist": {"folder": "FashionMNIST", "tv": "FashionMNIST", "shape": (1, 28, 28),
                      "classes": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                                  "Sneaker", "Bag", "Ankle boot"]},
    "cifar10": {"folder": "CIFAR10", "tv": "CIFAR10", "shape": (3, 32, 32),
                "classes": ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]},
}
SPLITS = ("train", "test")
_IDX_PREFIX = {"train": "train", "test": "t10k"}
_memo: dict[tuple[str, str], tuple[torch.Tensor, torch.Tensor]] = {}


class DatasetNotFoundError(FileNotFoundError):
    """A dataset is in none of the searched places and could not be downloaded."""


def search_roots() -> list[Path]:
    """Folders searched for data, in order."""
    roots = []
    if os.environ.get("NNGEOM_DATA"):
        roots.append(Path(os.environ["NNGEOM_DATA"]).expanduser())
    roots.append(cache_root())
    return roots


def cache_root() -> Path:
    return Path(os.environ.get("NNGEOM_DATA_CACHE", Path.home() / ".cache" / "nngeom" / "data")).expanduser()


def classes(name: str) -> list[str]:
    """Class names of a dataset, in label order."""
    return list(_spec(name)["classes"])


def _spec(name: str) -> dict:
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}: choose one of {', '.join(DATASETS)}")
    return DATASETS[name]


def _read_idx(path: Path) -> np.ndarray:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        raw = handle.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def _find_idx(root: Path, name: str, split: str) -> tuple[Path, Path] | None:
    raw = root / _spec(name)["folder"] / "raw"
    found = []
    for kind in ("images-idx3-ubyte", "labels-idx1-ubyte"):
        stem = f"{_IDX_PREFIX[split]}-{kind}"
        options = [raw / stem, raw / f"{stem}.gz"]
        hit = next((p for p in options if p.is_file()), None)
        if hit is None:
            return None
        found.append(hit)
    return found[0], found[1]


def _read_cifar(root: Path, split: str) -> tuple[np.ndarray, np.ndarray] | None:
    npz = root / "CIFAR10" / f"cifar10_{split}.npz"
    if npz.is_file():
        with np.load(npz) as data:
            return data["images"], data["labels"]
    for batches in (root / "cifar-10-batches-py", root / "CIFAR10" / "cifar-10-batches-py"):
        names = [f"data_batch_{i}" for i in range(1, 6)] if split == "train" else ["test_batch"]
        if all((batches / n).is_file() for n in names):
            images, labels = [], []
            for n in names:
                with open(batches / n, "rb") as handle:
                    entry = pickle.load(handle, encoding="latin1")
                images.append(entry["data"].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
                labels.extend(entry["labels"])
            return np.concatenate(images), np.asarray(labels)
    return None


def _read(root: Path, name: str, split: str):
    if name == "cifar10":
        found = _read_cifar(root, split)
        if found is None:
            return None
        images, labels = found
        return np.ascontiguousarray(images.transpose(0, 3, 1, 2)), labels
    paths = _find_idx(root, name, split)
    if paths is None:
        return None
    return _read_idx(paths[0])[:, None], _read_idx(paths[1])


def _download(name: str, split: str) -> None:
    import torchvision.datasets as tvd

    target = cache_root()
    target.mkdir(parents=True, exist_ok=True)
    cls = getattr(tvd, _spec(name)["tv"])
    cls(root=str(target), train=(split == "train"), download=True)


def _missing(name: str, split: str, reason: str) -> DatasetNotFoundError:
    spec = _spec(name)
    searched = "\n".join(f"  - {r / spec['folder']}" for r in search_roots())
    expected = ("CIFAR10/cifar10_train.npz and cifar10_test.npz (or torchvision's cifar-10-batches-py)"
                if name == "cifar10" else f"{spec['folder']}/raw/*-ubyte.gz (torchvision layout)")
    return DatasetNotFoundError(
        f"dataset {name!r} ({split} split) is missing.\nSearched:\n{searched}\n{reason}\n"
        f"Provide it by setting NNGEOM_DATA to a folder holding {expected}, "
        f"or run once with network access so that torchvision downloads it into {cache_root()}.")


def load(name: str, split: str = "train") -> tuple[torch.Tensor, torch.Tensor]:
    """``(images, labels)`` of a whole split: float32 in [0, 1], (N, C, H, W); int64 labels."""
    _spec(name)
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}: choose 'train' or 'test'")
    key = (name, split)
    if key in _memo:
        return _memo[key]
    found = next((hit for hit in (_read(r, name, split) for r in search_roots()) if hit is not None), None)
    if found is None:
        if os.environ.get("NNGEOM_OFFLINE"):
            raise _missing(name, split, "Download skipped: NNGEOM_OFFLINE is set.")
        try:
            _download(name, split)
        except Exception as error:  # no network, a refused mirror, a broken archive
            raise _missing(name, split, f"Download failed: {type(error).__name__}: {error}") from None
        found = _read(cache_root(), name, split)
        if found is None:
            raise _missing(name, split, "Download finished but the files were not found.")
    images, labels = found
    result = (torch.from_numpy(np.array(images, dtype=np.uint8)).float().div_(255.0),
              torch.from_numpy(np.array(labels, dtype=np.int64)))
    _memo[key] = result
    return result


def subset(images: torch.Tensor, labels: torch.Tensor, n: int | None, seed: int = 0,
           stratified: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """A seeded random subset of ``n`` samples, balanced across classes when ``stratified``."""
    total = len(labels)
    if n is None or n >= total:
        return images, labels
    if not isinstance(n, int):
        raise TypeError(f"subset size must be an int, got {type(n).__name__}")
    if n <= 0:
        raise ValueError(f"subset size must be a positive int, got {n!r}")
    generator = torch.Generator().manual_seed(int(seed))
    if not stratified:
        index = torch.randperm(total, generator=generator)[:n]
    else:
        values = labels.unique()
        per = [n // len(values) + (1 if i < n % len(values) else 0) for i in range(len(values))]
        picks = []
        for value, count in zip(values, per):
            members = torch.nonzero(labels == value).flatten()
            picks.append(members[torch.randperm(len(members), generator=generator)[:count]])
        index = torch.cat(picks)
        index = index[torch.randperm(len(index), generator=generator)]
    return images[index], labels[index]


def channel_statistics(name: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and std of a training split, shaped (1, C, 1, 1); computed once per process."""
    key = (name, "statistics")
    if key not in _memo:
        train = load(name, "train")[0]
        mean = train.mean(dim=(0, 2, 3), keepdim=True)
        std = torch.stack([train[:, c].std() for c in range(train.shape[1])]).reshape(1, -1, 1, 1)
        _memo[key] = (mean, std)
    return _memo[key]


def load_subset(name: str, split: str, n: int | None, seed: int = 0, flatten: bool = False,
                normalize: str | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """``load`` then ``subset``; ``flatten`` to (N, D); ``normalize`` in {None, 'standard', 'symmetric'}.

    'standard' subtracts the training-set mean and divides by its std (per channel);
    'symmetric' maps [0, 1] to [-1, 1].
    """
    images, labels = subset(*load(name, split), n, seed=seed)
    if normalize == "standard":
        mean, std = channel_statistics(name)
        images = (images - mean) / std
    elif normalize == "symmetric":
        images = images * 2 - 1
    elif normalize is not None:
        raise ValueError(f"unknown normalize {normalize!r}: choose None, 'standard' or 'symmetric'")
    if flatten:
        images = images.reshape(len(images), -1)
    return images, labels

import gzip
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from nngeom import data, toys

HAVE_DATA = bool(os.environ.get("NNGEOM_DATA")) and os.path.isdir(os.environ.get("NNGEOM_DATA", ""))


def write_idx(path, array):
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    with gzip.open(path, "wb") as handle:
        handle.write(header + array.astype(np.uint8).tobytes())


@pytest.fixture
def fake_root(tmp_path, monkeypatch):
    raw = tmp_path / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    images = np.arange(6 * 28 * 28).reshape(6, 28, 28) % 256
    write_idx(raw / "t10k-images-idx3-ubyte.gz", images)
    write_idx(raw / "t10k-labels-idx1-ubyte.gz", np.array([0, 1, 2, 0, 1, 2]))
    os.chmod(raw, 0o555)
    monkeypatch.setenv("NNGEOM_DATA", str(tmp_path))
    monkeypatch.setenv("NNGEOM_DATA_CACHE", str(tmp_path / "cache"))
    data._memo.clear()
    yield tmp_path, images
    os.chmod(raw, 0o755)
    data._memo.clear()


def test_reads_idx_gz_from_read_only_folder(fake_root):
    _, images = fake_root
    x, y = data.load("fashion_mnist", "test")
    assert x.shape == (6, 1, 28, 28) and x.dtype == torch.float32
    assert torch.allclose(x[:, 0] * 255, torch.from_numpy(images).float())
    assert y.tolist() == [0, 1, 2, 0, 1, 2]


def test_missing_dataset_offline_names_everything(fake_root, monkeypatch):
    monkeypatch.setenv("NNGEOM_OFFLINE", "1")
    with pytest.raises(data.DatasetNotFoundError) as error:
        data.load("mnist", "train")
    text = str(error.value)
    assert "'mnist'" in text and str(fake_root[0] / "MNIST") in text and "NNGEOM_DATA" in text
    assert "NNGEOM_OFFLINE" in text


def test_failed_download_becomes_the_readable_error(fake_root, monkeypatch):
    monkeypatch.delenv("NNGEOM_OFFLINE", raising=False)

    def no_network(name, split):
        raise OSError("Name or service not known")

    monkeypatch.setattr(data, "_download", no_network)
    with pytest.raises(data.DatasetNotFoundError, match="Download failed: OSError"):
        data.load("cifar10", "test")


def test_missing_data_message_in_a_fresh_process(tmp_path):
    env = {**os.environ, "NNGEOM_DATA": str(tmp_path), "NNGEOM_DATA_CACHE": str(tmp_path / "c"), "NNGEOM_OFFLINE": "1"}
    result = subprocess.run([sys.executable, "-c", "import nngeom; nngeom.data.load('fashion_mnist')"],
                            capture_output=True, text=True, env=env)
    assert result.returncode != 0
    assert "DatasetNotFoundError: dataset 'fashion_mnist' (train split) is missing" in result.stderr


def test_unknown_names_are_refused():
    with pytest.raises(ValueError, match="choose one of mnist, fashion_mnist, cifar10"):
        data.load("imagenet")
    with pytest.raises(ValueError, match="choose 'train' or 'test'"):
        data.load("mnist", "val")


def test_subset_is_stratified_seeded_and_not_the_first_n():
    labels = torch.arange(10).repeat_interleave(100)  # sorted by class, like the offline CIFAR-10 test split
    images = torch.arange(1000).float()[:, None]
    x1, y1 = data.subset(images, labels, 50, seed=3)
    x2, y2 = data.subset(images, labels, 50, seed=3)
    x3, _ = data.subset(images, labels, 50, seed=4)
    assert torch.equal(x1, x2) and not torch.equal(x1, x3)
    assert torch.bincount(y1, minlength=10).tolist() == [5] * 10
    assert torch.equal(labels[x1[:, 0].long()], y1)
    with pytest.raises(ValueError, match="positive int"):
        data.subset(images, labels, 0)
    with pytest.raises(TypeError, match="must be an int, got float"):
        data.subset(images, labels, 2.5)


@pytest.mark.skipif(not HAVE_DATA, reason="NNGEOM_DATA not set")
@pytest.mark.parametrize("name,shape,n", [("mnist", (1, 28, 28), 10000), ("fashion_mnist", (1, 28, 28), 10000),
                                          ("cifar10", (3, 32, 32), 10000)])
def test_real_data_sets(name, shape, n):
    x, y = data.load(name, "test")
    assert x.shape == (n, *shape) and 0 <= x.min() and x.max() <= 1
    assert torch.bincount(y).tolist() == [1000] * 10 or name != "cifar10"


@pytest.mark.skipif(not HAVE_DATA, reason="NNGEOM_DATA not set")
def test_cifar_train_matches_published_statistics():
    x, y = data.load("cifar10", "train")
    assert y[:5].tolist() == [6, 9, 9, 4, 1]
    mean = x.mean(dim=(0, 2, 3))
    assert torch.allclose(mean, torch.tensor([0.49139968, 0.48215841, 0.44653091]), atol=1e-5)


def test_toys_are_seeded_and_shaped():
    a, la = toys.two_spirals(100, seed=1)
    b, lb = toys.two_spirals(100, seed=1)
    assert torch.equal(a, b) and a.shape == (100, 2) and la.sum() == 50
    helix, labels = toys.double_helix()
    assert helix.shape == (600, 3) and torch.allclose(helix[:300, :2].norm(dim=1), torch.ones(300))
    assert abs(helix[299, 2].item() - 0.15 * 4 * np.pi) < 1e-5
    assert toys.noise_images(3, (1, 4, 4), seed=0).shape == (3, 1, 4, 4)
    with pytest.raises(ValueError):
        toys.noise_images(3, (2,), kind="pink")

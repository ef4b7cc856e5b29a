"""The cache: the key is the call, plain JSON only, sources it depends on, truncated entries, locking."""
import pytest
import torch

import nngeom
from nngeom.book import cache

CALLS = []


def build_model(h, seed, weight_decay=0.0):
    CALLS.append((h, seed, weight_decay))
    return {"w": torch.arange(4.0) * h, "acc": [0.5, 0.6], "name": "x"}


@pytest.fixture(autouse=True)
def _reset():
    CALLS.clear()


def test_computes_once_per_call_and_round_trips_tensors():
    first = nngeom.cached("model", build_model, h=5, seed=0)
    second = nngeom.cached("model", build_model, seed=0, h=5)
    third = nngeom.cached("model", build_model, h=6, seed=0)
    assert CALLS == [(5, 0, 0.0), (6, 0, 0.0)]
    assert torch.equal(first["w"], second["w"]) and second["acc"] == [0.5, 0.6] and third["name"] == "x"
    assert not list(cache.cache_dir().glob("*.tmp"))


def test_every_argument_of_the_call_is_in_the_key():
    nngeom.cached("model", build_model, h=5, seed=0)
    nngeom.cached("model", build_model, h=5, seed=0, weight_decay=5e-4)
    assert len(CALLS) == 2  # an argument added to the call cannot be forgotten in the key


def test_keys_must_be_plain_json():
    with pytest.raises(TypeError, match="plain JSON"):
        nngeom.cached("model", build_model, h=torch.tensor(5), seed=0)
    with pytest.raises(TypeError, match="non-string key"):
        nngeom.cached("model", build_model, h={1: 2}, seed=0)
    with pytest.raises(TypeError, match="build must be a function"):
        nngeom.cached("model", {"h": 5}, lambda: None)


def test_library_builders_depend_on_the_sources_they_import():
    from nngeom.patterns import experiments

    files = {p.name for p in __import__("nngeom.book.imports", fromlist=["closure"]).closure(
        {"nngeom.patterns.experiments"})}
    assert {"experiments.py", "models.py", "train.py", "data.py", "cache.py"} <= files and "report.py" not in files
    assert "geodesic.py" not in files  # the subpackage's __init__ imports nothing: no dependency on its siblings
    assert cache.source_hash(experiments.trained_state) != cache.source_hash(build_model)


def test_notebook_builders_depend_on_their_own_source(monkeypatch):
    def one():
        return 1

    def two():
        return 2

    monkeypatch.setattr(one, "__qualname__", "same")
    monkeypatch.setattr(two, "__qualname__", "same")
    assert cache.key_hash("x", one, {}) != cache.key_hash("x", two, {})


def test_truncated_entry_is_rebuilt():
    nngeom.cached("model", build_model, h=5, seed=0)
    (entry,) = cache.cache_dir().glob("model-*.pt")
    entry.write_bytes(entry.read_bytes()[:20])
    value = nngeom.cached("model", build_model, h=5, seed=0)
    assert len(CALLS) == 2 and torch.equal(value["w"], torch.arange(4.0) * 5)


def test_disabled_cache_always_recomputes(monkeypatch):
    monkeypatch.setenv("NNGEOM_CACHE", "off")
    for _ in range(2):
        nngeom.cached("thing", build_model, h=1, seed=1)
    assert len(CALLS) == 2


class Custom:
    """An arbitrary class: a pickle of it must never be loaded from the cache."""


def test_only_plain_data_is_loaded():
    path = cache.cache_dir() / f"evil-{cache.key_hash('evil', build_model, {'h': 1, 'seed': 1})}.pt"
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"obj": Custom()}, path)
    with pytest.raises(Exception, match="weights_only|Unsupported global"):
        nngeom.cached("evil", build_model, h=1, seed=1)

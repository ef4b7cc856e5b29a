import pytest
import torch

import nngeom
from nngeom import cache


def test_computes_once_per_key_and_round_trips_tensors():
    calls = []

    def make():
        calls.append(1)
        return {"w": torch.arange(4.0), "acc": [0.5, 0.6], "name": "x"}

    first = nngeom.cached("model", {"h": 5, "seed": 0}, make)
    second = nngeom.cached("model", {"seed": 0, "h": 5}, make)
    third = nngeom.cached("model", {"h": 6, "seed": 0}, make)
    assert len(calls) == 2
    assert torch.equal(first["w"], second["w"]) and second["acc"] == [0.5, 0.6] and third["name"] == "x"
    assert not list(cache.cache_dir().glob("*.tmp"))


def test_key_depends_on_library_sources(monkeypatch):
    before = cache.key_hash({"a": 1})
    monkeypatch.setattr(cache, "source_hash", lambda: "changed")
    assert cache.key_hash({"a": 1}) != before


def test_disabled_cache_always_recomputes(monkeypatch):
    monkeypatch.setenv("NNGEOM_CACHE", "off")
    calls = []
    for _ in range(2):
        nngeom.cached("thing", {"a": 1}, lambda: calls.append(1) or torch.zeros(1))
    assert len(calls) == 2


class Custom:
    """An arbitrary class: a pickle of it must never be loaded from the cache."""


def test_only_plain_data_is_loaded():
    path = cache.cache_dir() / f"evil-{cache.key_hash({'k': 1})}.pt"
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"obj": Custom()}, path)
    with pytest.raises(Exception, match="weights_only|Unsupported global"):
        nngeom.cached("evil", {"k": 1}, lambda: None)

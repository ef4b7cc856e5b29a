import json

import numpy as np
import pytest
import torch

import nngeom
from nngeom import claims

PROFILES = {"smoke": {"k": 1}, "cpu": {"k": 2}, "paper": {"k": 3}}


def start(profile="cpu", section="doc/notebook"):
    return nngeom.settings(PROFILES, {"profile": profile, "k": None}, section=section, show=False)


def test_checks_pass_and_fail():
    start()
    assert nngeom.claim("a", "s", paper=87.67, ours=87.0, check=nngeom.within(1.0))["verdict"] == claims.REPRODUCED
    assert nngeom.claim("b", "s", paper=87.67, ours=85.0, check=nngeom.within(1.0))["verdict"] == claims.DIFFERS
    assert nngeom.claim("c", "s", ours=0.5, check=nngeom.at_least(0.6))["passed"] is False
    assert nngeom.claim("d", "s", ours=torch.tensor(0.5), check=nngeom.at_most(0.6))["passed"] is True
    assert nngeom.claim("e", "s", ours=np.float32(0.9), check=nngeom.greater_than("d"))["passed"] is True
    assert nngeom.claim("f", "s", ours=0.1, check=nngeom.greater_than("d"))["passed"] is False
    assert nngeom.claim("e2", "s", ours=0.7, check=nngeom.greater_than(0.6, margin=0.05))["passed"] is True
    assert nngeom.claim("e3", "s", ours=0.7, check=nngeom.less_than(0.75, margin=0.1))["passed"] is False
    assert nngeom.claim("g", "s", ours={"x": 3, "y": 2, "z": 1}, check=nngeom.order(["x", "y", "z"]))["passed"]
    assert not nngeom.claim("h", "s", ours={"x": 1, "y": 2}, check=nngeom.order(["x", "y"]))["passed"]
    assert nngeom.claim("i", "s", ours=[1, 2], check=nngeom.holds(False, "monotone"))["verdict"] == claims.DIFFERS
    assert nngeom.claim("j", "s", ours=5, check=nngeom.between(4, 6))["passed"]
    assert nngeom.claim("k", "s", ours="metric", check=nngeom.equals("metric"))["passed"]
    assert nngeom.claim("l", "s", ours=91.0, paper=100.0, check=nngeom.within(0.1, relative=True))["passed"]


def test_relation_to_unknown_claim_is_an_error():
    start()
    with pytest.raises(KeyError, match="no such claim"):
        nngeom.claim("x", "s", ours=1.0, check=nngeom.greater_than("missing"))


def test_smoke_and_paper_only_claims_are_not_judged():
    start("smoke")
    assert nngeom.claim("a", "s", ours=1.0, check=nngeom.at_least(0))["verdict"] == claims.NOT_JUDGED
    start("cpu")
    row = nngeom.claim("b", "s", ours=1.0, check=nngeom.at_least(0), judged_at=("paper",))
    assert row["verdict"] == claims.NOT_JUDGED and row["passed"] is True


def test_ledger_written_per_section_and_reset_on_rerun(tmp_path):
    start(section="docA/nb1")
    nngeom.claim("a", "s", ours=np.arange(3), paper=None, check=nngeom.holds(True))
    path = nngeom.build_dir() / "claims" / "docA" / "nb1.json"
    data = json.loads(path.read_text())
    assert data["section"] == "docA/nb1" and data["claims"][0]["ours"] == [0, 1, 2]
    start(section="docA/nb1")
    assert json.loads(path.read_text())["claims"] == []
    assert claims.load_all(nngeom.project_root()) == []


def test_check_must_be_a_check():
    start()
    with pytest.raises(TypeError, match="check must be a Check"):
        nngeom.claim("a", "s", ours=1, check=True)

"""The ledger: checks, kinds, sources, causes, statistical tolerances, duplicate ids and where rows are written."""
import json
import math

import numpy as np
import pytest
import torch
from scipy import stats

import nngeom
from nngeom.book import checks, ledger

PROFILES = {"smoke": {"k": 1}, "cpu": {"k": 2}, "paper": {"k": 3}}
SRC = "sec. 1, Table 1"


def start(profile="cpu", section="doc/notebook"):
    settings = nngeom.settings(PROFILES, {"profile": profile, "k": None}, section=section, show=False)
    ledger.start(settings)
    return settings


def check(id, ours, test, **kw):
    return nngeom.claim(id, "s", ours=ours, check=test, kind="check", **kw)


def test_checks_pass_and_fail():
    start()
    assert check("a", 87.0, nngeom.within(1.0), paper=87.67)["verdict"] == ledger.REPRODUCED
    assert check("b", 85.0, nngeom.within(1.0), paper=87.67)["verdict"] == ledger.DIFFERS
    assert check("c", 0.5, nngeom.at_least(0.6))["passed"] is False
    assert check("d", torch.tensor(0.5), nngeom.at_most(0.6))["passed"] is True
    assert check("e", np.float32(0.9), nngeom.greater_than("d"))["passed"] is True
    assert check("f", 0.1, nngeom.greater_than("d"))["passed"] is False
    assert check("e2", 0.7, nngeom.greater_than(0.6, margin=0.05))["passed"] is True
    assert check("e3", 0.7, nngeom.less_than(0.75, margin=0.1))["passed"] is False
    assert check("g", {"x": 3, "y": 2, "z": 1}, nngeom.order(["x", "y", "z"]))["passed"]
    assert not check("h", {"x": 1, "y": 2}, nngeom.order(["x", "y"]))["passed"]
    assert check("i", [1, 2], nngeom.holds(False, "monotone"))["verdict"] == ledger.DIFFERS
    assert check("j", 5, nngeom.between(4, 6))["passed"]
    assert check("k", "metric", nngeom.equals("metric"))["passed"]
    assert check("l", 91.0, nngeom.within(0.1, relative=True), paper=100.0)["passed"]


def test_relation_to_unknown_claim_is_an_error():
    start()
    with pytest.raises(KeyError, match="no such claim"):
        check("x", 1.0, nngeom.greater_than("missing"))


def test_smoke_and_paper_only_claims_are_not_judged():
    start("smoke")
    assert check("a", 1.0, nngeom.at_least(0))["verdict"] == ledger.NOT_JUDGED
    start("cpu")
    row = check("b", 1.0, nngeom.at_least(0), judged_at=("paper",))
    assert row["verdict"] == ledger.NOT_JUDGED and row["passed"] is True


def test_ledger_written_per_section_and_reset_on_rerun(tmp_path, monkeypatch):
    monkeypatch.setenv("NNGEOM_LEDGER_DIR", str(tmp_path / "claims"))
    start(section="docA/nb1")
    check("a", np.arange(3), nngeom.holds(True))
    path = tmp_path / "claims" / "docA" / "nb1.json"
    data = json.loads(path.read_text())
    assert data["section"] == "docA/nb1" and data["claims"][0]["ours"] == [0, 1, 2]
    assert data["provenance"]["versions"]["torch"] == torch.__version__.split("+")[0] or data["provenance"]["torch"]
    start(section="docA/nb1")
    assert json.loads(path.read_text())["claims"] == []


def test_claims_outside_the_runner_never_touch_the_book_ledger(monkeypatch):
    monkeypatch.delenv("NNGEOM_LEDGER_DIR", raising=False)
    start(section="docA/adhoc")
    check("a", 1, nngeom.holds(True))
    assert (nngeom.build_dir() / "runs" / "adhoc" / "claims" / "docA" / "adhoc.json").is_file()
    assert not (nngeom.build_dir() / "claims").exists()


def test_first_claim_starts_the_ledger_from_the_resolved_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("NNGEOM_LEDGER_DIR", str(tmp_path))
    nngeom.settings(PROFILES, {"profile": "smoke", "k": None}, section="docB/implicit", show=False)
    assert not (tmp_path / "docB" / "implicit.json").exists()
    row = check("a", 1, nngeom.holds(True))
    assert row["profile"] == "smoke" and (tmp_path / "docB" / "implicit.json").is_file()


def test_check_must_be_a_check():
    start()
    with pytest.raises(TypeError, match="check must be a Check"):
        check("a", 1, True)


def test_duplicate_id_raises():
    start()
    check("a", 1, nngeom.holds(True))
    with pytest.raises(ValueError, match="duplicate claim id 'a'"):
        check("a", 2, nngeom.holds(True))


def test_document_claims_need_a_source_and_a_reason_for_hand_picked_thresholds():
    start()
    with pytest.raises(ValueError, match="needs source="):
        nngeom.claim("a", "s", ours=1.0, check=nngeom.holds(True))
    with pytest.raises(ValueError, match="hand-picked threshold"):
        nngeom.claim("b", "s", ours=1.0, check=nngeom.at_least(0.5), source=SRC)
    row = nngeom.claim("c", "s", ours=1.0, check=nngeom.at_least(0.5), source=SRC, note="the document's 50 %")
    assert row["kind"] == "document" and row["origin"] == "document"
    with pytest.raises(ValueError, match="at most 25 words"):
        nngeom.claim("d", "s", ours=1, check=nngeom.holds(True), source='sec. 2: "' + "word " * 26 + '"')
    with pytest.raises(ValueError, match="kind must be one of"):
        nngeom.claim("e", "s", ours=1, check=nngeom.holds(True), kind="theorem")


def test_origin_of_values_from_code_or_other_papers():
    start()
    row = nngeom.claim("a", "s", ours=0.5, paper=0.52, check=nngeom.holds(True), source="authors' code: README")
    assert row["origin"] == "authors' code"
    assert ledger.origin_of("other paper: Nassar et al. 2020") == "other paper"


def test_causes_are_validated_and_a_failure_without_one_is_open():
    start()
    with pytest.raises(ValueError, match="cause must start with one of"):
        nngeom.claim("a", "s", ours=1, check=nngeom.holds(False), source=SRC, cause="because")
    failed = nngeom.claim("b", "s", ours=1, check=nngeom.holds(False), source=SRC)
    assert failed["verdict"] == ledger.DIFFERS and failed["cause"].startswith("open")
    scaled = nngeom.claim("c", "s", ours=1, check=nngeom.holds(False), source=SRC, cause="scale: 6 000 images")
    assert scaled["cause"] == "scale: 6 000 images"
    passed = nngeom.claim("d", "s", ours=1, check=nngeom.holds(True), source=SRC, cause="scale: 6 000 images")
    assert passed["cause"] == "" and passed["expected_cause"] == "scale: 6 000 images"


def test_welch_interval_against_a_hand_computation():
    ours = np.array([80.1, 81.3, 79.4, 80.8])
    paper_mean, paper_std, paper_n = 81.17, 0.33, 8
    half, diff, dof = checks.welch_interval(ours, paper_mean, paper_std, paper_n, 0.95)
    var_o, var_p = ours.var(ddof=1) / 4, paper_std**2 / 8
    expected_dof = (var_o + var_p) ** 2 / (var_o**2 / 3 + var_p**2 / 7)
    assert dof == pytest.approx(expected_dof)
    assert half == pytest.approx(stats.t.ppf(0.975, expected_dof) * math.sqrt(var_o + var_p))
    assert diff == pytest.approx(ours.mean() - paper_mean)


def test_welch_interval_pools_the_spreads_for_two_seeds():
    ours = np.array([80.0, 83.0])
    paper_mean, paper_std, paper_n = 81.0, 1.0, 8
    half, diff, dof = checks.welch_interval(ours, paper_mean, paper_std, paper_n, 0.95)
    pooled = (1 * ours.var(ddof=1) + 7 * paper_std**2) / 8
    assert dof == 8
    assert half == pytest.approx(stats.t.ppf(0.975, 8) * math.sqrt(pooled * (1 / 2 + 1 / 8)))
    assert diff == pytest.approx(0.5)
    # without the pooling the interval would use df near 1 (t quantile 12.7), about five times wider
    assert half < 0.5 * stats.t.ppf(0.975, 1) * math.sqrt(ours.var(ddof=1) / 2)


def test_mean_not_below_is_one_sided():
    start()
    # paper 80 with std 1 over 8 seeds; ours far above passes (two-sided consistency fails), far below fails
    above = [85.0, 85.5, 84.8]
    assert check("above", above, nngeom.mean_not_below(paper_std=1.0, paper_n=8), paper=80.0)["passed"]
    assert not check("above2", above, nngeom.mean_consistent(paper_std=1.0, paper_n=8), paper=80.0)["passed"]
    assert not check("below", [75.0, 75.5, 74.8], nngeom.mean_not_below(paper_std=1.0, paper_n=8), paper=80.0)["passed"]
    # one-sided 95 %: the bound is the two-sided 90 % half-width
    values = np.array([79.8, 80.0, 79.9])  # a little below the paper, within the bound: passes
    half, diff, _ = checks.welch_interval(values, 80.0, 1.0, 8, 0.90)
    assert -half < diff < 0
    assert check("edge", values.tolist(), nngeom.mean_not_below(paper_std=1.0, paper_n=8), paper=80.0)["passed"]


def test_mean_consistent_single_seed_uses_the_papers_spread():
    start()
    # one seed, paper std 1 over 8 seeds: the interval is t(0.975, 7) * sqrt(1 + 1/8) = 2.51
    near = check("near", [82.4], nngeom.mean_consistent(paper_std=1.0, paper_n=8), paper=80.0)
    far = check("far", [82.6], nngeom.mean_consistent(paper_std=1.0, paper_n=8), paper=80.0)
    assert near["passed"] and not far["passed"] and "interval" in far["detail"]
    with pytest.raises(ValueError, match="no statistics"):
        check("none", [82.0], nngeom.mean_consistent(), paper=80.0)


def test_rate_and_two_sample_checks():
    start()
    assert check("r1", 0.52, nngeom.rate_consistent(1000), paper=0.5)["passed"]
    assert not check("r2", 0.56, nngeom.rate_consistent(1000), paper=0.5)["passed"]
    assert check("m1", [0.9, 0.91, 0.92], nngeom.mean_above([0.5, 0.52, 0.51]))["passed"]
    assert not check("m2", [0.9, 0.91, 0.92], nngeom.mean_below([0.5, 0.52, 0.51]))["passed"]


def test_statistical_checks_are_not_hand_picked():
    assert nngeom.mean_consistent(1.0, 8).statistical and not nngeom.mean_consistent(1.0, 8).hand_picked
    assert nngeom.within(1.0).hand_picked and not nngeom.greater_than(1.0).hand_picked


def test_printed_claim_lines_fit_the_page(capsys):
    """Each claim prints two lines of at most ledger.PRINT_WIDTH characters, however long its id and value."""
    start()
    check("R.a-claim-id-long-enough-to-matter." + "x" * 80, {f"model {i}": 1.0 / 3 for i in range(20)},
          nngeom.holds(True, "always"))
    lines = capsys.readouterr().out.rstrip("\n").split("\n")
    assert len(lines) == 2 and lines[1].startswith("    ours = model 0: 0.3333")
    assert max(len(line) for line in lines) <= ledger.PRINT_WIDTH


def test_a_claim_row_is_not_displayed_again():
    """A cell ending with claim(...) shows the two printed lines only, not the row's dict (IPython display)."""
    from IPython.core.formatters import DisplayFormatter

    start()
    row = check("a", 1.0, nngeom.at_least(0))
    assert isinstance(row, dict) and row["verdict"] == ledger.REPRODUCED
    assert DisplayFormatter().format(row) == ({}, {})


def test_accuracy_margin_against_a_hand_computation():
    """1.96 sqrt(2 q (1 - q) / n), q = (p n + 2) / (n + 4): at p = 0.5, n = 100 the half-width is 0.13859."""
    assert abs(nngeom.accuracy_margin(0.5, 100) - 0.138593) < 1e-6  # q = 0.5 stays 0.5
    # at p = 1 on 10 examples, q = 12 / 14: 1.96 sqrt(2 (12/14)(2/14) / 10) = 0.306725
    assert abs(nngeom.accuracy_margin(1.0, 10) - 0.306725) < 1e-6
    with pytest.raises(ValueError, match="n must be"):
        nngeom.accuracy_margin(0.5, 0)


def test_paired_difference_against_scipy():
    """The paired interval is scipy's one-sample t interval of a_i - b_i, and far tighter than the unpaired one."""
    from scipy import stats

    rng = np.random.default_rng(0)
    a = rng.random(2000) < 0.4
    b = a.copy()
    flip = rng.random(2000) < 0.05               # the two classifiers disagree on about 5 % of the examples
    b[flip] = ~b[flip]
    diff, low, high = nngeom.paired_difference(a, b, level=0.90)
    reference = stats.ttest_1samp(a.astype(float) - b.astype(float), 0.0).confidence_interval(0.90)
    assert diff == pytest.approx(a.mean() - b.mean(), abs=1e-12)
    assert (low, high) == (pytest.approx(reference.low, abs=1e-12), pytest.approx(reference.high, abs=1e-12))
    assert high - low < nngeom.accuracy_margin(0.4, 2000, z=1.645)   # paired half the unpaired interval's width here
    same = nngeom.paired_difference(a, a)
    assert same == (0.0, 0.0, 0.0)


def test_paired_difference_rejects_bad_input():
    with pytest.raises(ValueError, match="equal-length"):
        nngeom.paired_difference([1, 0, 1], [1, 0])
    with pytest.raises(ValueError, match="booleans or 0 / 1"):
        nngeom.paired_difference([0.3, 1.0], [1, 0])
    with pytest.raises(ValueError, match="level"):
        nngeom.paired_difference([1, 0], [0, 1], level=1.5)


def test_strict_order_fails_on_ties():
    tie = {"a": float("inf"), "b": float("inf"), "c": 1.0}
    assert nngeom.order(["a", "b", "c"]).evaluate(tie, None, {}).passed
    assert not nngeom.order(["a", "b", "c"], strict=True).evaluate(tie, None, {}).passed
    assert nngeom.order(["c", "b"], descending=False, strict=True).evaluate(tie, None, {}).passed

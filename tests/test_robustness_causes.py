"""Causes built from the run (nngeom.robustness.causes): scale only where the run is below the document's scale."""
import pytest
import torch

from nngeom.robustness import experiments
from nngeom.robustness.causes import l2_cause, l2_guard, scale_cause, spectral_cause


def test_scale_cause_names_the_reduced_knobs_with_both_values():
    cause = scale_cause(experiments.TRAINING["cpu"], ("epochs", "hidden"), "too short")
    assert cause == "scale: epochs = 25 (paper 1000), hidden = 512 (paper 2000); too short"


def test_scale_cause_is_open_at_the_documents_scale():
    cause = scale_cause(experiments.TRAINING["paper"], ("epochs",), "the penalties act slowly")
    assert cause.startswith("open: at the document's scale (epochs = 1000)")


def test_scale_cause_rejects_unknown_knobs_and_no_knobs():
    with pytest.raises(ValueError, match="unknown training knobs"):
        scale_cause(experiments.TRAINING["cpu"], ("epoch",), "x")
    with pytest.raises(ValueError, match="at least one knob"):
        scale_cause(experiments.TRAINING["cpu"], (), "x")


class _Encoder:
    def __init__(self, norm):
        self.w = torch.full((1, 1), float(norm))

    def encoder_weight(self):
        return self.w


@pytest.mark.parametrize("acc, norm, collapsed", [(0.40, 5.0, False), (0.35, 5.0, True), (0.40, 0.9, True)])
def test_l2_guard_applies_the_not_collapsed_rule(acc, norm, collapsed):
    guard = l2_guard({"L2": _Encoder(norm), "BP": _Encoder(10.0)}, {"L2": acc, "BP": 0.40})
    assert guard["accuracy L2 / BP"] == pytest.approx(acc / 0.40)
    assert guard["||W|| L2 / BP"] == pytest.approx(norm / 10.0)
    assert guard["collapsed"] is collapsed
    cause = l2_cause(guard, "scale: fallback")
    assert cause.startswith("reconstruction: the L2 model is degraded") if collapsed else cause == "scale: fallback"


def test_l2_guard_needs_both_models():
    with pytest.raises(ValueError, match="trained BP model"):
        l2_guard({"L2": _Encoder(1.0)}, {"L2": 0.4})


def test_spectral_cause_names_the_penalty_that_ran_and_its_representation():
    cause = spectral_cause({"spec_method": "nassar", "spec_on": "h"})
    assert cause.startswith("reconstruction: spec_method = 'nassar' (Nassar et al.'s published penalty) on h,")
    assert "not measured" in cause
    assert "on h_hat, where the authors' trainer uses h" in spectral_cause({"spec_method": "batch", "spec_on": "h_hat"})
    with pytest.raises(ValueError, match="spec_method must be one of"):
        spectral_cause({"spec_method": "authors", "spec_on": "h"})

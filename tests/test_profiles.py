import pytest

import nngeom
from nngeom.book.settings import ParameterError, notebook_parameters

PROFILES = {
    "smoke": {"epochs": 1, "widths": [5], "lr": 0.1, "name": "a", "flag": False},
    "cpu": {"epochs": 3, "widths": [5, 10], "lr": 0.01, "name": "b", "flag": True},
    "paper": {"epochs": 50, "widths": [5, 10, 20, 100, 500], "lr": 1e-4, "name": "c", "flag": True},
}


def ns(**values):
    base = {"profile": "cpu", "epochs": None, "widths": None, "lr": None, "name": None, "flag": None}
    base.update(values)
    return base


def test_profile_values_and_overrides():
    s = nngeom.settings(PROFILES, ns(profile="paper", epochs=7), show=False)
    assert s.profile == "paper" and s.epochs == 7 and s.widths == [5, 10, 20, 100, 500]
    assert s.overridden == {"epochs"} and s.as_dict()["profile"] == "paper"


def test_int_accepted_where_float_expected_and_coerced():
    s = nngeom.settings(PROFILES, ns(lr=1), show=False)
    assert s.lr == 1.0 and isinstance(s.lr, float)


@pytest.mark.parametrize("bad", ["nonsense", "", 3, None.__class__.__name__])
def test_unknown_profile_names_the_allowed_ones(bad):
    with pytest.raises(ParameterError, match="choose one of 'smoke', 'cpu', 'paper'"):
        nngeom.settings(PROFILES, ns(profile=bad), show=False)


def test_unknown_parameter_lists_known_ones():
    with pytest.raises(ParameterError, match=r"unknown parameter\(s\) 'epoch'.*epochs, flag, lr, name, widths"):
        nngeom.settings(PROFILES, ns(epoch=3), show=False)


@pytest.mark.parametrize("key,value", [("epochs", 2.5), ("epochs", "3"), ("epochs", True), ("flag", 1),
                                       ("widths", 5), ("widths", [5, "x"]), ("name", 3), ("lr", "0.1")])
def test_wrong_type_is_refused(key, value):
    with pytest.raises(ParameterError, match=f"parameter '{key}' must be"):
        nngeom.settings(PROFILES, ns(**{key: value}), show=False)


def test_bounds_checked_on_numbers_and_list_elements():
    with pytest.raises(ParameterError, match="out of range"):
        nngeom.settings(PROFILES, ns(epochs=0), bounds={"epochs": (1, None)}, show=False)
    with pytest.raises(ParameterError, match="out of range"):
        nngeom.settings(PROFILES, ns(widths=[5, -1]), bounds={"widths": (1, None)}, show=False)


def test_namespace_filter_ignores_modules_callables_constants_and_ipython():
    import math

    found = notebook_parameters({"math": math, "f": print, "PROFILES": {}, "_x": 1, "In": [], "epochs": 3})
    assert found == {"epochs": 3}


def test_table_marks_overrides(capsys):
    nngeom.settings(PROFILES, ns(epochs=9))
    out = capsys.readouterr().out
    assert "epochs" in out and "(override)" in out and "profile" in out


def test_settings_copy_deepcopy_and_pickle():
    import copy
    import pickle

    s = nngeom.settings(PROFILES, ns(epochs=7), section="doc/nb", show=False)
    for clone in (copy.copy(s), copy.deepcopy(s), pickle.loads(pickle.dumps(s))):
        assert clone.epochs == 7 and clone.profile == "cpu" and clone.section == "doc/nb"
        assert clone.overridden == {"epochs"} and dict(clone) == dict(s)


def test_resolving_settings_writes_no_ledger():
    nngeom.settings(PROFILES, ns(), section="doc/quiet", show=False)
    assert not list(nngeom.build_dir().rglob("*.json"))


def test_knobs_that_differ_from_paper_are_named():
    s = nngeom.settings(PROFILES, ns(), show=False)
    assert s.differs_from_paper() == {"epochs": (3, 50), "widths": ([5, 10], [5, 10, 20, 100, 500]),
                                      "lr": (0.01, 1e-4), "name": ("b", "c")}
    line = s.provenance_line()
    assert "cpu" in line and "epochs = 3 (paper 50)" in line and "torch" in line

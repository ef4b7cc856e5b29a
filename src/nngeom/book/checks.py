"""The comparisons a claim can make between the value a notebook computed (*ours*) and the document's (*paper*).

A `Check` turns ``(ours, paper, earlier claims)`` into a verdict and a one-line
account of why. Two families:

* **statistical** checks derive their tolerance from the spread of the numbers
  (`mean_consistent`, `rate_consistent`, `mean_above`, `mean_below`): a mean
  over seeds is compared with the paper's mean through the uncertainty of both,
  at a stated confidence level, never through a margin typed per claim;
* **hand-picked** thresholds (`within`, `at_least`, `at_most`, `between`, and
  `greater_than` / `less_than` with a margin): allowed in a document claim only
  with a ``note`` giving the threshold's reason (the ledger enforces it).

`greater_than` / `less_than` without margin, `order`, `holds` and `equals`
compare values the notebook computed with each other or with a fact; they need
no tolerance.
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

__all__ = [
    "Check", "Outcome", "accuracy_margin", "at_least", "at_most", "between", "equals", "greater_than", "holds", "less_than",
    "mean_above", "mean_below", "mean_consistent", "mean_not_below", "number", "order", "ordered_beyond_noise",
    "paired_difference", "rate_consistent",
    "welch_interval", "within",
]


@dataclass(frozen=True)
class Outcome:
    """A check's verdict on one claim and the numbers behind it."""

    passed: bool
    detail: str = ""


@dataclass(frozen=True)
class Check:
    """A named comparison: ``evaluate(ours, paper, ledger) -> Outcome``.

    ``hand_picked`` marks a threshold chosen by a person rather than derived from statistics.
    """

    describe: str
    evaluate: Callable[[Any, Any, dict], Outcome]
    hand_picked: bool = False
    statistical: bool = False


def number(value: Any) -> float:
    """A real number from a Python, NumPy or torch scalar (bool is refused)."""
    if isinstance(value, (numbers.Real, np.floating, np.integer)) and not isinstance(value, (bool, np.bool_)):
        return float(value)
    if hasattr(value, "item") and getattr(value, "ndim", 0) == 0:
        return float(value.item())
    raise TypeError(f"expected a number, got {value!r}")


def _samples(value: Any) -> np.ndarray:
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    array = np.asarray(value, dtype=float).ravel()
    if array.size == 0 or not np.all(np.isfinite(array)):
        raise ValueError(f"expected one or more finite per-seed values, got {value!r}")
    return array


def _simple(describe: str, test: Callable[[Any, Any, dict], bool], hand_picked: bool = False) -> Check:
    return Check(describe, lambda ours, paper, ledger: Outcome(bool(test(ours, paper, ledger))), hand_picked)


def within(tol: float, relative: bool = False) -> Check:
    """|ours - paper| <= tol (or tol * |paper|): a hand-picked margin; a document claim must say why in ``note``."""
    def test(ours, paper, _):
        bound = tol * abs(number(paper)) if relative else tol
        return abs(number(ours) - number(paper)) <= bound
    return _simple(f"within {tol:g}{' x |paper|' if relative else ''} of paper", test, hand_picked=True)


def at_least(threshold: float) -> Check:
    """ours >= threshold (hand-picked unless the threshold is the document's own number)."""
    return _simple(f">= {threshold:g}", lambda ours, paper, _: number(ours) >= threshold, hand_picked=True)


def at_most(threshold: float) -> Check:
    """ours <= threshold (hand-picked unless the threshold is the document's own number)."""
    return _simple(f"<= {threshold:g}", lambda ours, paper, _: number(ours) <= threshold, hand_picked=True)


def between(low: float, high: float) -> Check:
    """low <= ours <= high (hand-picked)."""
    return _simple(f"in [{low:g}, {high:g}]", lambda ours, paper, _: low <= number(ours) <= high, hand_picked=True)


def _reference(other, ledger, name: str) -> float:
    if isinstance(other, str):
        if other not in ledger:
            raise KeyError(f"{name}({other!r}): no such claim recorded yet in this notebook")
        return number(ledger[other]["ours"])
    return number(other)


def _describe(other) -> str:
    return f"claim {other}" if isinstance(other, str) else f"{number(other):.4g}"


def greater_than(other, margin: float = 0.0) -> Check:
    """ours > other + margin; ``other`` is a number computed by the notebook or the id of an earlier claim."""
    return _simple(f"> {_describe(other)}" + (f" + {margin:g}" if margin else ""),
                   lambda ours, paper, ledger: number(ours) > _reference(other, ledger, "greater_than") + margin,
                   hand_picked=bool(margin))


def less_than(other, margin: float = 0.0) -> Check:
    """ours < other - margin; ``other`` is a number computed by the notebook or the id of an earlier claim."""
    return _simple(f"< {_describe(other)}" + (f" - {margin:g}" if margin else ""),
                   lambda ours, paper, ledger: number(ours) < _reference(other, ledger, "less_than") - margin,
                   hand_picked=bool(margin))


def order(names: list[str], descending: bool = True, strict: bool = False) -> Check:
    """``ours`` is a mapping name -> value whose values follow ``names`` in (descending) order.

    ``strict``: every step must be a strict inequality, so that ties (two infinite distances, say) fail."""
    def test(ours, paper, _):
        values = [number(ours[n]) for n in names]
        pairs = list(zip(values, values[1:]))
        if strict:
            return all(a > b for a, b in pairs) if descending else all(a < b for a, b in pairs)
        return all(a >= b for a, b in pairs) if descending else all(a <= b for a, b in pairs)
    sign = (" > " if descending else " < ") if strict else (" >= " if descending else " <= ")
    return _simple("order " + sign.join(names), test)


def ordered_beyond_noise(pairs: list[tuple[str, str]], boot: dict, level: float = 0.95) -> Check:
    """Every pair ``(a, b)`` in order in ``ours`` (a mapping name -> statistic, ``ours[a] > ours[b]``) and resolved by
    the bootstrap: the statistic of ``a`` above that of ``b`` in at least ``level`` of the replicates ``boot``
    (`resampling.bootstrap_statistics`; a one-sided test at ``1 - level`` per pair, an intersection-union test of
    the conjunction). A point estimate in order but within the noise fails."""
    if not pairs:
        raise ValueError("ordered_beyond_noise needs at least one pair")
    from .resampling import pair_supports

    supports = pair_supports(pairs, boot)

    def evaluate(ours, paper, _):
        in_order = all(number(ours[a]) > number(ours[b]) for a, b in pairs)
        resolved = all(s >= level for s in supports.values())
        shown = ", ".join(f"{k} {v:.3f}" for k, v in supports.items())
        return Outcome(in_order and resolved, f"bootstrap support ({len(next(iter(boot.values())))} resamples): "
                                              f"{shown}")
    return Check(f"{', '.join(f'{a} > {b}' for a, b in pairs)}, each in >= {level:.0%} of bootstrap resamples",
                 evaluate, statistical=True)


def holds(condition: bool, describe: str = "holds") -> Check:
    """A qualitative statement whose truth the notebook computed (``condition``)."""
    value = bool(condition)
    return _simple(describe, lambda ours, paper, _: value)


def equals(expected: Any) -> Check:
    """ours == expected (labels, classifications)."""
    return _simple(f"== {expected!r}", lambda ours, paper, _: ours == expected)


# --- statistical checks ------------------------------------------------------------------------------------------

def accuracy_margin(p: float, n: int, z: float = 1.96) -> float:
    """Half-width ``z sqrt(2 q (1 - q) / n)`` of the 95 % normal interval of a difference of two accuracies near
    ``p``, each measured on ``n`` examples (binomial): the margin of a comparison of two models on one test set.

    ``q = (p n + 2) / (n + 4)`` is Agresti and Coull's adjusted proportion (two successes and two failures added),
    so that an accuracy at or near 0 or 1 still gets a margin instead of a zero width."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    q = (p * n + 2) / (n + 4)
    return float(z * math.sqrt(2 * q * (1 - q) / n))


def paired_difference(correct_a, correct_b, level: float = 0.90) -> tuple[float, float, float]:
    """Accuracy of A minus accuracy of B on the same examples, and its ``level`` interval: ``(difference, low, high)``.

    The per-example differences d_i = a_i - b_i (each -1, 0 or 1) are paired, so their spread counts only the examples
    on which the two classifiers disagree (McNemar's discordant pairs); the interval is the one-sample Student t
    interval of the mean of d_i. For an equivalence test at 5 % (two one-sided tests) use ``level = 0.90`` and ask
    that the interval lie inside the equivalence margin."""
    a = np.asarray(correct_a)
    b = np.asarray(correct_b)
    if a.shape != b.shape or a.ndim != 1 or a.size < 2:
        raise ValueError(f"need two equal-length 1-D arrays of at least 2 outcomes, got shapes {a.shape} and {b.shape}")
    if not (np.isin(a, (0, 1)).all() and np.isin(b, (0, 1)).all()):
        raise ValueError("the outcomes must be booleans or 0 / 1 (correct or not)")
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1), got {level}")
    from scipy import stats

    d = a.astype(float) - b.astype(float)
    mean = float(d.mean())
    half = float(stats.t.ppf(0.5 + level / 2, d.size - 1) * d.std(ddof=1) / math.sqrt(d.size))
    return mean, mean - half, mean + half


def welch_interval(ours: np.ndarray, paper_mean: float, paper_std: float | None, paper_n: int | None,
                   level: float) -> tuple[float, float, float]:
    """Half-width of the ``level`` interval for mean(ours) - paper_mean, its difference and degrees of freedom.

    Welch's unequal-variance interval: se^2 = s_o^2 / n_o + s_p^2 / n_p, with the
    Welch-Satterthwaite degrees of freedom. With a single value of ours, its
    per-seed spread is taken to be the paper's (s_o = s_p, and the degrees of
    freedom are those of the paper's estimate, n_p - 1: a prediction interval);
    with no reported paper std, the paper's spread is taken to be ours (s_p =
    s_o, df n_o - 1). When the paper gives a std but not n, n_p = 1 and the
    normal quantile is used (the widest reading of an unstated n). With two values of ours (one degree of
    freedom, whose t quantile of 12.7 would make the interval too wide to fail) and a paper std over several seeds,
    the two spreads are pooled as in Student's two-sample test: s^2 = ((n_o - 1) s_o^2 + (n_p - 1) s_p^2) /
    (n_o + n_p - 2), se = s sqrt(1 / n_o + 1 / n_p), df = n_o + n_p - 2.
    """
    n_o = ours.size
    if n_o == 2 and paper_std is not None and paper_n and int(paper_n) > 1:
        n_p = int(paper_n)
        pooled = ((n_o - 1) * float(ours.var(ddof=1)) + (n_p - 1) * float(paper_std) ** 2) / (n_o + n_p - 2)
        se2 = math.sqrt(pooled * (1 / n_o + 1 / n_p))
        if se2 == 0:
            return 0.0, float(ours.mean() - paper_mean), float(n_o + n_p - 2)
        from scipy import stats

        return (float(stats.t.ppf(0.5 + level / 2, n_o + n_p - 2) * se2), float(ours.mean() - paper_mean),
                float(n_o + n_p - 2))
    s_o = float(ours.std(ddof=1)) if n_o > 1 else None
    n_p = int(paper_n) if paper_n else 1
    s_p = float(paper_std) if paper_std is not None else None
    if s_o is None and s_p is None:
        raise ValueError("no statistics: one value of ours and no paper std; pass several seeds, or use "
                         "within(tol) with the margin's reason in note=")
    borrowed = "ours" if s_o is None else ("paper" if s_p is None else "")
    s_o = s_p if s_o is None else s_o
    s_p = s_o if s_p is None else s_p
    assert s_o is not None and s_p is not None  # at least one was given (checked above)
    var_o, var_p = s_o**2 / n_o, s_p**2 / n_p
    se = math.sqrt(var_o + var_p)
    if borrowed:  # one spread estimate serves both sides: a prediction interval with that estimate's dof
        source_n = n_p if borrowed == "ours" else n_o
        dof = float(source_n - 1) if source_n > 1 else math.inf
    else:
        dof_terms = (var_o**2 / (n_o - 1)) + (var_p**2 / (n_p - 1) if n_p > 1 else 0.0)
        dof = (var_o + var_p) ** 2 / dof_terms if dof_terms > 0 else math.inf
    if se == 0:
        return 0.0, float(ours.mean() - paper_mean), dof
    from scipy import stats  # imported when a statistical check runs: scipy.stats costs a second to import

    quantile = stats.norm.ppf(0.5 + level / 2) if math.isinf(dof) else stats.t.ppf(0.5 + level / 2, dof)
    return float(quantile * se), float(ours.mean() - paper_mean), dof


def mean_consistent(paper_std: float | None = None, paper_n: int | None = None, level: float = 0.95) -> Check:
    """The mean of ours (per-seed values) agrees with the paper's mean within the ``level`` Welch interval.

    ``paper`` is the document's mean; ``paper_std`` and ``paper_n`` its reported
    per-seed std and number of seeds. See `welch_interval` for the single-seed case.
    """
    def evaluate(ours, paper, _):
        values = _samples(ours)
        half, diff, dof = welch_interval(values, number(paper), paper_std, paper_n, level)
        return Outcome(abs(diff) <= half, f"mean {values.mean():.4g} over {values.size}; difference {diff:+.3g}, "
                                          f"{level:.0%} interval +-{half:.3g} (Welch, df {dof:.3g})")
    paper_part = f"paper std {paper_std:g} over {paper_n or '?'} seeds" if paper_std is not None else "our spread"
    return Check(f"mean within the {level:.0%} interval ({paper_part})", evaluate, statistical=True)


def mean_not_below(paper_std: float | None = None, paper_n: int | None = None, level: float = 0.95) -> Check:
    """The mean of ours is not below the paper's beyond chance: one-sided at ``level`` (the Welch interval of
    `welch_interval` at ``2 level - 1``), for a statement the paper's value supports as a floor ("similar to")."""
    def evaluate(ours, paper, _):
        values = _samples(ours)
        half, diff, dof = welch_interval(values, number(paper), paper_std, paper_n, 2 * level - 1)
        return Outcome(diff >= -half, f"mean {values.mean():.4g} over {values.size}; difference {diff:+.3g}, "
                                      f"one-sided {level:.0%} bound -{half:.3g} (df {dof:.3g})")
    paper_part = f"paper std {paper_std:g} over {paper_n or '?'} seeds" if paper_std is not None else "our spread"
    return Check(f"mean not below the paper's, one-sided {level:.0%} ({paper_part})", evaluate, statistical=True)


def rate_consistent(n: int, paper_n: int | None = None, level: float = 0.95, rounding: float = 0.0) -> Check:
    """A rate (ours, a fraction of ``n`` trials) agrees with the paper's rate within the ``level`` normal interval.

    se^2 = p(1-p)/n + p(1-p)/paper_n, pooled p; without ``paper_n`` the paper's rate is taken as exact.
    ``rounding`` widens the interval by the precision of the paper's figure ("about 50 %": 0.05), a hand-picked
    part that a document claim explains in ``note``.
    """
    def evaluate(ours, paper, _):
        p_o, p_p = number(ours), number(paper)
        pooled = (p_o * n + p_p * (paper_n or 0)) / (n + (paper_n or 0))
        var = pooled * (1 - pooled) * (1 / n + (1 / paper_n if paper_n else 0.0))
        from scipy import stats

        half = float(stats.norm.ppf(0.5 + level / 2) * math.sqrt(max(var, 0.0))) + rounding
        return Outcome(abs(p_o - p_p) <= half, f"difference {p_o - p_p:+.3g}, {level:.0%} interval +-{half:.3g}"
                                               + (f" (with the paper's rounding {rounding:g})" if rounding else ""))
    if rounding < 0:
        raise ValueError(f"rounding must be >= 0, got {rounding}")
    return Check(f"rate within the {level:.0%} interval ({n} trials)" + (f" + rounding {rounding:g}" if rounding
                                                                          else ""),
                 evaluate, hand_picked=bool(rounding), statistical=True)


def _compare_means(other, ledger, greater: bool, ours, level: float) -> Outcome:
    mine = _samples(ours)
    theirs = _samples(ledger[other]["ours"] if isinstance(other, str) and other in ledger else other)
    if mine.size < 2 or theirs.size < 2:
        raise ValueError("mean_above / mean_below compare two sets of per-seed values: need >= 2 of each")
    from scipy import stats

    test = stats.ttest_ind(mine, theirs, equal_var=False, alternative="greater" if greater else "less")
    return Outcome(bool(test.pvalue < 1 - level),
                   f"means {mine.mean():.4g} vs {theirs.mean():.4g}, one-sided Welch p = {test.pvalue:.3g}")


def mean_above(other, level: float = 0.95) -> Check:
    """mean(ours) > mean(other), one-sided Welch t-test at ``level``; ``other`` is values or an earlier claim id."""
    return Check(f"mean > {_describe(other) if isinstance(other, str) else 'the other mean'} "
                 f"(one-sided Welch, {level:.0%})",
                 lambda ours, paper, ledger: _compare_means(other, ledger, True, ours, level), statistical=True)


def mean_below(other, level: float = 0.95) -> Check:
    """mean(ours) < mean(other), one-sided Welch t-test at ``level``; ``other`` is values or an earlier claim id."""
    return Check(f"mean < {_describe(other) if isinstance(other, str) else 'the other mean'} "
                 f"(one-sided Welch, {level:.0%})",
                 lambda ours, paper, ledger: _compare_means(other, ledger, False, ours, level), statistical=True)

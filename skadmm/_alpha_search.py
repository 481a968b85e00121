"""The L2 penalty ``alpha`` of a fit, ``alpha="auto"`` resolved.

How much penalty a network needs depends on how noisy the table is, which no
rule on its size can see: on the regression benchmark suite a smooth curve of
400 rows wants ``alpha <= 1e-3`` (0.05 test MSE against 0.34 at 1e-2) while the
442 noisy rows of the diabetes data want ``1e-2`` (2973 against 3957 at 1e-3).
So on tables of ``CV_MIN_ROWS`` to ``CV_MAX_ROWS`` rows, where a fit costs
little, ``"auto"`` picks the penalty of ``CV_GRID`` (plus ``3 / n`` below 300
rows, and the weaker ``PATH_WEAKEST`` from 100 rows on, see
:func:`candidates`) with the lowest 3-fold cross-validated weighted loss
(squared error for the regressor, cross-entropy for the classifier). Other
tables take :func:`fixed_alpha`: below ``CV_MIN_ROWS`` a mean-scale 2e-3,
never below a sum-scale penalty of 3 so that tables too small to
cross-validate do not overfit; above ``SAMPLE_SEARCH_MAX_ROWS`` a
sum-scale penalty of 16, at most 2e-3 (see the user guide,
"Regularisation"). Between the two, the search runs on a sample of the rows
and its choice is capped at that rule (:func:`_sample_search`).

The candidates are cross-validated along the *penalty path*
(:func:`_penalty_path`): from the largest penalty down, the three folds of
one candidate at a time, stopping at the first candidate whose loss is above
that of the best before it on every fold. Strong penalties converge in a
few dozen iterations and weak ones run to ``max_iter``, so on a table that
wants a strong penalty the path skips most of the search's cost (Wine red:
6 fits instead of 12), and it reaches the exhaustive search's choice
whenever the summed loss has one valley along the grid, as on every fold of
the regression suite
(``benchmarks/bench_search_cost.py``). Every fit is a normal fit: the
candidates it fits are fitted exactly as the exhaustive search fits them.
Below ``PATH_MIN_ROWS`` (100) rows every candidate is cross-validated, as
before: there the folds' losses were too noisy for the path (small-table
suite) and the fits cost little.
From ``FEWER_FOLDS_MIN_ROWS`` (300) rows on, each candidate is validated
on two of the three folds only (:func:`validated_folds`), a third fewer fits.

The classifier does not cross-validate: on its benchmark suite nine extra fits
cost ten times MLPClassifier's fit time, and one penalty, ``CLASSIFICATION_ALPHA``,
gave a cross-entropy at most LogisticRegression's on every table (see the user
guide, "Classification"); above 4,000 rows it shrinks as a sum-scale penalty
(:func:`classification_alpha`).

The folds are drawn over *distinct* rows: identical rows always fall in the same
fold, so a row of integer weight ``k`` and ``k`` copies of it give the same folds,
the same choice and the same fit.
"""

import time
from dataclasses import dataclass
from functools import partial

import numpy as np
import scipy.sparse as sp

from ._warn import warn

#: ``alpha="auto"`` of the classifier (no cross-validation, see the module
#: docstring).
CLASSIFICATION_ALPHA = 3e-3
CV_MIN_ROWS = 30
CV_MAX_ROWS = 2000
#: Tables of ``CV_MAX_ROWS`` to this many summed weights cross-validate the
#: penalty on a sample of ``SAMPLE_ROWS`` of their rows, the choice capped at
#: :func:`fixed_alpha` (see :func:`_sample_search`); larger ones, whose fits
#: run stages, take :func:`fixed_alpha`.
SAMPLE_SEARCH_MAX_ROWS = 10_000
#: Summed weights of that sample.
SAMPLE_ROWS = 1000
CV_GRID = (3e-4, 1e-3, 3e-3, 1e-2)
#: The weakest candidate, cross-validated along the penalty path only (from
#: ``PATH_MIN_ROWS`` summed weights on, see :func:`candidates`; ``None``:
#: none, a measurement switch of the benchmarks).
PATH_WEAKEST = 1e-4
_FIXED_ALPHA = 2e-3
_MIN_SUM_PENALTY = 3.0
_LARGE_SUM_PENALTY = 16.0
_LARGE_SUM_PENALTY_CLASSIFICATION = 12.0
#: The classifier's sum-scale penalty falls from 12 above this many summed
#: weights, as the power ``_SUM_PENALTY_RAMP_POWER`` of their ratio, down to
#: ``_LARGEST_TABLE_SUM_PENALTY_CLASSIFICATION`` (see
#: :func:`classification_alpha`).
_SUM_PENALTY_RAMP_ROWS = 20_000
_SUM_PENALTY_RAMP_POWER = 3
_LARGEST_TABLE_SUM_PENALTY_CLASSIFICATION = 0.03
_N_FOLDS = 3
#: Whether the penalty path stops at the first candidate whose loss rises
#: (``False``: every candidate is cross-validated, the exhaustive search; a
#: measurement switch of ``benchmarks/bench_search_cost.py``).
PATH_STOPS = True
#: Fewest summed weights whose search runs along the penalty path; smaller
#: tables cross-validate every candidate (folds of at most 33 rows are too
#: noisy for the path, and their fits cost little).
PATH_MIN_ROWS = 100
#: Fewest summed weights whose penalty search validates each candidate on
#: two of its three folds instead of all three (see :func:`validated_folds`).
FEWER_FOLDS_MIN_ROWS = 300
#: Whether tables of ``FEWER_FOLDS_MIN_ROWS`` summed weights and more skip the
#: third fold (``False``: all three; a measurement switch of
#: ``benchmarks/bench_search_cost.py``).
FEWER_FOLDS = True
# The folds and the sample do not depend on random_state: the choice is part
# of the model, not of its random initialisation.
_FOLD_SEED = 0
_SAMPLE_SEED = 1


def candidates(n):
    """The penalties cross-validated on ``n`` summed weights.

    ``CV_GRID``, from ``PATH_MIN_ROWS`` on also ``PATH_WEAKEST`` below it,
    and on tables of fewer than 300 rows also the sum-scale ``3 / n`` (above
    the grid's largest): on a few dozen noisy rows a 3-fold search over the
    grid alone picks too weak a penalty (user guide, "Regularisation").

    ``PATH_WEAKEST`` joins where the penalty path searches: there it is
    fitted only when ``3e-4`` was not beaten on every fold, as on the
    noise-free Friedman #2 and #3, which chose ``3e-4``, the grid's edge,
    on every fold (5-fold CV: 29.38 to 13.18 and 0.00155 to 0.00126 test
    MSE). Below ``PATH_MIN_ROWS`` every candidate is fitted, and the folds
    of 10 to 33 rows chose it where it lost (Friedman #2 at 30 and 60 rows:
    +4 % and +8.5 % test MSE on the small-table suite).
    """
    weaker = PATH_WEAKEST is not None and n >= PATH_MIN_ROWS
    grid = (PATH_WEAKEST, *CV_GRID) if weaker else CV_GRID
    extra = _MIN_SUM_PENALTY / n
    return (*grid, extra) if extra > CV_GRID[-1] else grid


def validated_folds(alpha, n):
    """How many of the three folds validate each candidate of the search for
    ``alpha`` on ``n`` summed weights: the first two from
    ``FEWER_FOLDS_MIN_ROWS`` on when the penalty is searched, all three
    otherwise.

    Every candidate still trains on two thirds of the rows, so its losses
    are those of the three-fold search on two of its folds, for two thirds
    of the cost. On the regression suite's four searched tables of 1,279 to
    1,600 training rows the first two folds chose the three folds' penalty
    in all 20 searches (user guide, "Regularisation"); from 300 rows on, on
    seven tables of 353 to 720 training rows (diabetes, the sine curve and
    samples of five suite tables), in 34 of 35 searches, the other one with
    a lower test MSE, for 28-34 % less CPU time. (The sine curve changed one
    choice of five, doubling its test MSE, while its fits stalled on zero
    lifting biases; user guide, "Initial biases".) Below 300 rows the
    sum-scale ``3 / n`` candidate joins and all three folds validate.
    """
    fewer = FEWER_FOLDS and alpha == "auto" and n >= FEWER_FOLDS_MIN_ROWS
    return _N_FOLDS - 1 if fewer else _N_FOLDS


def planned_fits(alpha, n, code=False):
    """The most fits :func:`search_alpha` runs for ``alpha`` on ``n`` summed
    weights (the penalty path may stop before), ``code``: with
    ``embedding="auto"``'s code fits (one per validated fold)."""
    searched = 1 if alpha != "auto" else len(candidates(n))
    return validated_folds(alpha, n) * (searched + (1 if code else 0))


def classification_alpha(n):
    """``alpha="auto"`` of the classifier on ``n`` summed weights.

    ``CLASSIFICATION_ALPHA`` up to 4,000 rows (its benchmark suite's tables),
    then a sum-scale penalty of 12 (:func:`classification_stage_alpha`, for
    the reason of :func:`fixed_alpha`) up to ``_SUM_PENALTY_RAMP_ROWS``; on
    larger tables the sum-scale penalty falls as ``12 (20,000 / n)^3`` down
    to 0.03, which it reaches at about 147,000.

    Why it falls: with a fixed network, more rows pin the weights down, and
    a cross-entropy rewards sharper logits as they do. Measured on the two
    tables of ``bench_class_scaling.py`` (test log-loss, sum-scale 12 against
    3 on the runs on all rows, the stages at 12): 50,000 rows 0.2940 to
    0.2920 and 0.3289 to 0.3160, 200,000 rows 0.3251 to 0.3044 and 0.2477
    to 0.2468; at 20,000 rows (no stages) a sum-scale 3 went both ways
    (0.3706 to 0.3672 and 0.3198 to 0.3239), so the penalty stays there.
    The rule fell as the square to 3 at first; after the window runs
    (``skadmm._stages.classifier_stage_plan``) the cube down to 1 lowered
    the test log-loss of all eight fits at 30,000 and 50,000 rows (two
    tables, two initialisations; the page "Large tables", "The classifier's
    penalty on large tables"). Since the window runs' penalty falls to the
    fit's own (``skadmm._stages.annealed_penalty``) a floor below 1 pays on
    the largest tables: at 200,000 rows (seed 0) the sum-scale floors 1,
    0.3, 0.1 and 0.03 gave 0.2510, 0.2419, 0.2346 and 0.2328 (3-class) and
    0.2073, 0.2034, 0.1988 and 0.1930 (4-class), seed 1 at 0.3 0.2420 and
    0.2018 (against 0.2510 and 0.2055), for more time: the stage on all rows
    runs longer before it stops on ``tol`` (the page "Large tables", "A
    weaker penalty on the largest tables"). Tables of at most 45,000 rows
    keep their penalty (the ramp is above 1 there).
    """
    ramp = (_SUM_PENALTY_RAMP_ROWS / n) ** _SUM_PENALTY_RAMP_POWER
    weaker = _LARGE_SUM_PENALTY_CLASSIFICATION * ramp
    sum_penalty = max(_LARGEST_TABLE_SUM_PENALTY_CLASSIFICATION, weaker)
    return min(classification_stage_alpha(n), sum_penalty / n)


def classification_stage_alpha(n):
    """The classifier's ``min(CLASSIFICATION_ALPHA, 12 / n)`` on ``n`` summed
    weights: :func:`classification_alpha` up to ``_SUM_PENALTY_RAMP_ROWS``,
    and the least penalty of each stage of a progressive fit
    (``skadmm._stages.stage_alpha``) at every size. A sample of a large
    table keeps it: with the stages of 32,000 to 128,000 rows at the weaker
    penalty of a table of their size, the test log-loss rose on three of
    the four fits above (4-class 0.3160 to 0.3299 at 50,000 rows and 0.2468
    to 0.2561 at 200,000, 3-class 0.2920 to 0.2948 at 50,000; 3-class
    0.3044 to 0.3029 at 200,000), as weaker stage penalties did before
    (``skadmm._stages.stage_alpha``).
    """
    return min(CLASSIFICATION_ALPHA, _LARGE_SUM_PENALTY_CLASSIFICATION / n)


def distinct_row_folds(X, Y, n_folds):
    """Fold index of every row, equal for identical ``(x, y)`` rows.

    Distinct rows are numbered in sorted order (independent of row order and of
    repetitions), shuffled with a fixed seed and dealt round-robin to folds.
    """
    index = _row_groups(X, Y)
    n_distinct = int(index.max()) + 1
    order = np.random.default_rng(_FOLD_SEED).permutation(n_distinct)
    return order[index] % n_folds


def distinct_row_sample(X, Y, sample_weight, size):
    """Mask of the rows of a sample of about ``size`` summed weights (at most
    ``size``, at least one distinct row), made of whole groups of identical
    ``(x, y)`` rows: a row of integer weight ``k`` and ``k`` copies of it
    are in it or out of it together, so both give the same sample. The
    groups are taken in an order drawn with a fixed seed (as the folds)."""
    index = _row_groups(X, Y)
    n_distinct = int(index.max()) + 1
    weight = np.bincount(index, weights=sample_weight, minlength=n_distinct)
    order = np.random.default_rng(_SAMPLE_SEED).permutation(n_distinct)
    taken = max(1, int(np.searchsorted(np.cumsum(weight[order]), size, "right")))
    chosen = np.zeros(n_distinct, dtype=bool)
    chosen[order[:taken]] = True
    return chosen[index]


def _row_groups(X, Y):
    """Group index of every row, numbering the distinct ``(x, y)`` rows in
    sorted order (``np.unique``'s)."""
    if sp.issparse(X):
        return _sparse_row_groups(X, Y)
    rows = np.hstack([X, Y]).astype(np.float64, copy=False)
    _, index = np.unique(rows, axis=0, return_inverse=True)
    return index.ravel()


def _sparse_row_groups(X, Y):
    """``np.unique(np.hstack([X, Y]), axis=0, return_inverse=True)[1]`` of a
    sparse ``X``, without densifying it.

    The rows are sorted lexicographically by stable sorts on one column at a
    time, least significant first (a column of zeros leaves the order as it
    is, so only ``X``'s stored columns are visited); equal neighbours then
    share their group. The numbering is ``np.unique``'s: groups in sorted order.
    """
    N = X.shape[0]
    Xc = sp.csc_matrix(X)
    Y = np.asarray(Y, dtype=np.float64).reshape(N, -1)
    order = np.arange(N)
    for j in range(Y.shape[1] - 1, -1, -1):
        order = order[np.argsort(Y[order, j], kind="stable")]
    column = np.zeros(N)
    for j in np.flatnonzero(np.diff(Xc.indptr))[::-1]:
        lo, hi = Xc.indptr[j], Xc.indptr[j + 1]
        column[Xc.indices[lo:hi]] = Xc.data[lo:hi]
        order = order[np.argsort(column[order], kind="stable")]
        column[Xc.indices[lo:hi]] = 0.0
    Xs = sp.csr_matrix(X, dtype=np.float64)[order]
    # Finite a - b is zero exactly when a == b.
    gap = sp.csr_matrix(Xs[1:] - Xs[:-1])
    gap.eliminate_zeros()
    Ys = Y[order]
    same = (np.diff(gap.indptr) == 0) & (Ys[1:] == Ys[:-1]).all(axis=1)
    index = np.empty(N, dtype=np.intp)
    index[order] = np.concatenate([[0], np.cumsum(~same)])
    return index


def fixed_alpha(n):
    """The penalty of tables that are not cross-validated, ``n`` summed weights.

    Small tables: ``max(2e-3, 3 / n)``, never below a sum-scale penalty of 3.
    Large ones: ``min(2e-3, 16 / n)``, a sum-scale penalty of 16: a network
    of fixed size needs less shrinkage the more rows pin it down (as
    MLPRegressor's penalty, which its loss divides by the rows), and a
    mean-scale 2e-3 underfits from about 20,000 rows on (the page
    "Large tables"). The two meet at 2e-3 on 1,500 to 8,000 rows.
    """
    if n <= CV_MAX_ROWS:
        return max(_FIXED_ALPHA, _MIN_SUM_PENALTY / n)
    return min(_FIXED_ALPHA, _LARGE_SUM_PENALTY / n)


@dataclass
class AlphaSearch:
    """How ``alpha="auto"`` chose the penalty of a fit (``alpha_search_``).

    ``rule`` is ``"cross-validation"``, ``"sample cross-validation"`` (the
    search on a sample of the rows, its choice capped, see
    :func:`search_alpha`), ``"fixed"`` (tables outside the cross-validated
    range, see :func:`fixed_alpha`) or ``"given"`` (a number). With
    cross-validation, ``fold_errors[k, i]`` is the summed weighted loss of
    candidate ``i`` on the rows of fold ``k`` and
    ``fit_seconds[k, i]`` the time of its fit and predictions, one row per
    validated fold (see :func:`validated_folds`); ``mean_errors[i]`` is its
    loss per unit weight over the validated folds' rows (``total_weight``). Every
    candidate is listed; those the penalty path did not reach (see
    :func:`_penalty_path`) have ``nan`` errors and seconds, and ``False``
    in ``fitted``.
    """

    alpha: float
    rule: str
    candidates: tuple = ()
    fold_errors: np.ndarray | None = None
    fit_seconds: np.ndarray | None = None
    total_weight: float = 1.0
    #: ``embedding="auto"``: the code tried at the chosen penalty (``None``:
    #: none was), the embedding chosen, and the code's fold errors and times
    #: (as a column of ``fold_errors`` and ``fit_seconds``).
    code: str | None = None
    embedding: str = "none"
    code_fold_errors: np.ndarray | None = None
    code_fit_seconds: np.ndarray | None = None
    #: Rule ``"sample cross-validation"``: the summed weights of the sample's
    #: rows, and its choice before the cap at :func:`fixed_alpha`.
    sample_rows: float | None = None
    sample_alpha: float | None = None

    @property
    def fitted(self):
        """Whether each candidate was cross-validated (``None``: no search)."""
        if self.fold_errors is None:
            return None
        return ~np.isnan(self.fold_errors).any(axis=0)

    @property
    def mean_errors(self):
        if self.fold_errors is None:
            return None
        return self.fold_errors.sum(axis=0) / self.total_weight

    def as_dict(self):
        """The record as plain lists and numbers."""
        record = dict(
            alpha=self.alpha, rule=self.rule, candidates=list(self.candidates)
        )
        if self.sample_rows is not None:
            record.update(sample_rows=self.sample_rows, sample_alpha=self.sample_alpha)
        if self.fold_errors is not None:
            record.update(
                fold_errors=self.fold_errors.tolist(),
                mean_errors=self.mean_errors.tolist(),
                fit_seconds=self.fit_seconds.tolist(),
                fitted=self.fitted.tolist(),
            )
        if self.code is not None:
            best = self.candidates.index(self.alpha)
            record.update(
                embedding=self.embedding,
                embedding_rule="cross-validation",
                embedding_errors={
                    "none": float(self.mean_errors[best]),
                    self.code: float(self.code_fold_errors.sum() / self.total_weight),
                },
                code_fold_errors=self.code_fold_errors.tolist(),
                code_fit_seconds=self.code_fit_seconds.tolist(),
            )
        return record


def resolve_alpha(alpha, X, Y, sample_weight, fit_predict, row_errors, run=None):
    """The penalty of a fit (:func:`search_alpha`'s ``alpha``)."""
    return search_alpha(alpha, X, Y, sample_weight, fit_predict, row_errors, run).alpha


def search_alpha(
    alpha,
    X,
    Y,
    sample_weight,
    fit_predict,
    row_errors,
    run=None,
    report=None,
    code=None,
    note=None,
):
    """The penalty of a fit on ``(X, Y)`` with weights ``sample_weight``.

    A number is returned unchanged. For ``"auto"``, with ``n`` the summed
    weights: ``fixed_alpha(n)`` outside ``[CV_MIN_ROWS,
    SAMPLE_SEARCH_MAX_ROWS]`` or with too few distinct rows for 3-fold
    cross-validation; above ``CV_MAX_ROWS`` the search below on a sample of
    about ``SAMPLE_ROWS`` rows, its choice capped at ``fixed_alpha(n)``
    (:func:`_sample_search`; ``code`` must then be ``None``); otherwise the
    value of
    ``candidates(n)`` with the lowest cross-validated weighted loss,
    ``fit_predict(alpha, X_train, Y_train, sw_train, X_test)`` returning the
    predictions of a model fitted with that penalty and ``row_errors(Y_test,
    pred)`` the loss of each test row (ties go to the larger penalty). The
    candidates are cross-validated from the largest penalty down, and the
    search stops at the first whose loss is above the best before it on
    every fold (from ``PATH_MIN_ROWS`` summed weights on; see
    :func:`_penalty_path`; ``note(text)`` is told where). From
    ``FEWER_FOLDS_MIN_ROWS`` summed weights on, only the first two folds
    validate the candidates (:func:`validated_folds`; ``note`` is told).
    ``run(tasks)``: the results of the independent zero-argument callables
    ``tasks`` in order, as an iterable (``None``: call them here, one after
    the other); ``fit_predict`` must then hide the fits' own warnings itself.
    ``report(fold, alpha, error, seconds)`` is called as each fit's result
    arrives (``error`` per unit weight of the fold's rows; a code's fits add
    ``embedding=name``). ``run`` is called once per candidate, with its
    three folds' fits.

    ``code``: ``(name, fit_predict)`` of ``embedding="auto"`` (``None``: no
    choice of embedding), its ``fit_predict`` fitting the model with that
    numeric code instead (the encoder fitted on the fold's training rows).
    The code is cross-validated on the same folds at the penalty chosen
    without it, three more fits, and chosen if its loss is lower (a tie
    keeps no code, the simpler model). A number ``alpha`` is then
    cross-validated alone against the code (rule ``"given"``). Tables that
    are not cross-validated get no code (``code`` stays ``None`` in the
    record).

    Returns
    -------
    search : AlphaSearch
    """
    given = alpha != "auto"
    if given and code is None:
        return AlphaSearch(float(alpha), "given", (float(alpha),))
    n = float(X.shape[0] if sample_weight is None else sample_weight.sum())
    fallback = AlphaSearch(
        float(alpha) if given else fixed_alpha(n),
        "given" if given else "fixed",
        (float(alpha) if given else fixed_alpha(n),),
    )
    if CV_MAX_ROWS < n <= SAMPLE_SEARCH_MAX_ROWS and not given and code is None:
        return _sample_search(
            X, Y, sample_weight, n, fit_predict, row_errors, run, report, note
        )
    if not CV_MIN_ROWS <= n <= CV_MAX_ROWS:
        return fallback
    fold = distinct_row_folds(X, Y, _N_FOLDS)
    if np.bincount(fold, minlength=_N_FOLDS).min() < 2:
        return fallback
    sw = np.ones(X.shape[0]) if sample_weight is None else sample_weight
    grid = (float(alpha),) if given else candidates(n)
    n_validated = validated_folds(alpha, n)
    if n_validated < _N_FOLDS and note is not None:
        note(
            f"{n:.0f} rows: each candidate is validated on {n_validated} of "
            f"its {_N_FOLDS} folds"
        )
    folds = _Folds(fold, n_validated, X, Y, sample_weight, sw, row_errors, run)
    if given or n < PATH_MIN_ROWS:
        errors, seconds = folds.validate(grid, fit_predict, report)
    else:
        errors, seconds = _penalty_path(grid, folds, fit_predict, report, note)
    # Candidates not fitted (the path stopped before them) never win.
    total = np.where(np.isnan(errors), np.inf, errors).sum(axis=0)
    if not np.isfinite(total).any():
        return fallback
    best = _best(grid, total)
    search = AlphaSearch(
        grid[best],
        "given" if given else "cross-validation",
        grid,
        errors,
        seconds,
        folds.validated_weight(),
    )
    if code is None:
        return search
    name, code_fit_predict = code
    code_errors, code_seconds = folds.validate(
        (grid[best],),
        code_fit_predict,
        None if report is None else partial(report, embedding=name),
    )
    search.code = name
    search.code_fold_errors = code_errors[:, 0]
    search.code_fit_seconds = code_seconds[:, 0]
    if code_errors.sum() < total[best]:
        search.embedding = name
    return search


def _sample_search(X, Y, sample_weight, n, fit_predict, row_errors, run, report, note):
    """``alpha="auto"`` on ``n`` summed weights, ``CV_MAX_ROWS < n <=
    SAMPLE_SEARCH_MAX_ROWS``: the search of a small table on a sample of
    about ``SAMPLE_ROWS`` rows (:func:`distinct_row_sample`), its choice
    capped at ``fixed_alpha(n)``.

    The rule ``fixed_alpha`` suits the noisy tables it was measured on (Wine
    white, the pricing table), but a noise-free one wants far less: Friedman
    #2 (4 features, no noise) on 5,000 rows has test MSE 196 at the rule's
    ``2e-3`` and 8.0 at ``1e-4`` (MLPRegressor: 4.0). A table wants no more
    penalty with more rows, so the sample's choice can only lower the rule's:
    the noisy tables keep it (their samples chose ``3e-3`` or more) and the
    noise-free ones get the sample's weak penalty. The search costs 0.9 to
    1.3 s on the noisy tables, up to 5.9 s on the noise-free ones, whose
    weak candidates run long; a sample of 2,000 rows found Friedman #1's
    better ``1e-3`` (test MSE 1.153 against 1.200) for 3.8 s more at 5,000
    rows (user guide, "Mid-sized tables").
    """
    rows = distinct_row_sample(X, Y, sample_weight, SAMPLE_ROWS)
    sw = None if sample_weight is None else sample_weight[rows]
    m = float(rows.sum() if sw is None else sw.sum())
    if note is not None:
        note(f"{n:.0f} rows: the penalty is cross-validated on a sample of {m:.0f}")
    search = search_alpha(
        "auto", X[rows], Y[rows], sw, fit_predict, row_errors, run, report, None, note
    )
    if search.rule != "cross-validation":
        # Too few distinct rows in the sample for its folds.
        return AlphaSearch(fixed_alpha(n), "fixed", (fixed_alpha(n),))
    search.sample_alpha = search.alpha
    search.alpha = min(search.alpha, fixed_alpha(n))
    search.rule = "sample cross-validation"
    search.sample_rows = m
    return search


def _best(grid, total):
    """Index of the penalty of ``grid`` with the least ``total`` loss, the
    largest penalty among equals (the safer model on a tie)."""
    ties = np.flatnonzero(total == total.min())
    return int(ties[np.argmax(np.asarray(grid)[ties])])


def _penalty_path(grid, folds, fit_predict, report, note):
    """:meth:`_Folds.validate` of the candidates ``grid`` one at a time along
    the penalty path, from the largest penalty down (the sum-scale ``3 / n``
    of small tables first, then ``CV_GRID`` and ``PATH_WEAKEST``), stopping
    at the first candidate whose loss is above that of the best one fitted
    before it (lowest in sum, ``3 / n`` included) on every fold
    (:func:`_loses`).

    A strong penalty's fits converge in a few dozen iterations, a weak one's
    run to ``max_iter``; on tables that want a strong penalty (Wine red,
    diabetes) the weak candidates lose by far and most of the search's time
    went into them. The path finds the exhaustive search's minimiser whenever
    the summed loss falls and then rises along the candidates (one valley),
    as it did on every fold of the regression suite (user guide,
    "Regularisation"): it stops at a candidate above the best in sum *and*
    on every fold, so never before the sum rises. The summed loss of three
    noisy folds can rise and fall again, above all from ``3 / n`` (0.01 to
    0.03 from 100 rows on) to the grid's ``1e-2``: stopping at the first
    rise of the sum chose ``3 / n`` on a cubic curve of 100 rows where the
    exhaustive search chose ``1e-4`` (test MSE 0.84 against 0.10), which is
    why the rule asks for every fold. Below ``PATH_MIN_ROWS`` rows the
    search is exhaustive (the caller's).

    Candidates not fitted keep ``nan`` errors and seconds; ``note(text)``
    (``None``: silent) is told where the path stopped.
    """
    errors = np.full((folds.n_validated, len(grid)), np.nan)
    seconds = np.full_like(errors, np.nan)
    order = sorted(range(len(grid)), key=lambda i: grid[i], reverse=True)
    best = None
    for step, i in enumerate(order):
        column = folds.validate((grid[i],), fit_predict, report)
        errors[:, i], seconds[:, i] = (a[:, 0] for a in column)
        total = errors[:, i].sum()
        if best is not None and PATH_STOPS and _loses(errors[:, i], errors[:, best]):
            if note is not None and step + 1 < len(order):
                rest = ", ".join(f"{grid[j]:g}" for j in order[step + 1 :])
                weight = folds.validated_weight()
                note(
                    f"alpha={grid[i]:g}: validation loss {total / weight:.5g} "
                    f"above {errors[:, best].sum() / weight:.5g} of alpha="
                    f"{grid[best]:g} on every fold; the path stops, "
                    f"alpha={rest} not fitted"
                )
            break
        if best is None or total < errors[:, best].sum():
            best = i
    return errors, seconds


def _loses(errors, best):
    """Whether the fold losses ``errors`` of a candidate are above those of
    the best candidate before it on every fold (so in sum as well)."""
    return bool(np.all(errors > best))


@dataclass(frozen=True)
class _Folds:
    """The search's folds of one table: ``fold[j]``, the fold of row ``j``,
    of which the first ``n_validated`` are scored; ``sw`` the row weights
    (ones without ``sample_weight``); ``run(tasks)`` runs the fits (``None``:
    in order, here)."""

    fold: np.ndarray
    n_validated: int
    X: object
    Y: np.ndarray
    sample_weight: object
    sw: np.ndarray
    row_errors: object
    run: object

    def validated_weight(self):
        """The summed weight of the scored folds' rows."""
        return float(self.sw[self.fold < self.n_validated].sum())

    def validate(self, grid, fit_predict, report):
        """``(errors, seconds)``: the summed weighted loss ``errors[k, i]`` of
        the penalty ``grid[i]`` on the rows of fold ``k`` (``inf`` where not
        finite), and the time of its fit and predictions, for the first
        ``n_validated`` folds (each fit trains on the rows of every other
        fold)."""
        X, Y, sw = self.X, self.Y, self.sw
        tasks, scored = [], []
        for k in range(self.n_validated):
            train, test = self.fold != k, self.fold == k
            sw_train = None if self.sample_weight is None else self.sample_weight[train]
            data = (X[train], Y[train], sw_train, X[test])
            for i, candidate in enumerate(grid):
                tasks.append(partial(_timed, partial(fit_predict, candidate, *data)))
                scored.append((k, i, test))
        results = (task() for task in tasks) if self.run is None else self.run(tasks)
        errors = np.zeros((self.n_validated, len(grid)))
        seconds = np.zeros_like(errors)
        for (k, i, test), (pred, spent) in zip(scored, results, strict=True):
            errors[k, i] = np.sum(sw[test] * self.row_errors(Y[test], pred))
            seconds[k, i] = spent
            if report is not None:
                report(k, grid[i], errors[k, i] / sw[test].sum(), spent)
        errors[~np.isfinite(errors)] = np.inf
        return errors, seconds


def _timed(task):
    """``(task(), seconds it took)``."""
    tick = time.perf_counter()
    result = task()
    return result, time.perf_counter() - tick


#: Summed weights below this fraction of the rows they weigh make
#: alpha="auto" warn (see :func:`warn_fractional_weights`).
_FRACTIONAL_WEIGHTS = 0.1


def warn_fractional_weights(total, n_rows, target):
    """Warn when ``alpha="auto"`` reads weights that sum to far fewer than
    their ``n_rows`` rows (``total``) as a small table: weights normalised to
    sum to 1 made a table of 150 rows a table of one row (penalty 3, a
    constant predictor). A rule of ``target`` that gives the same penalty
    either way (the classifier's below 4,000 rows) needs no warning."""
    rule = target.auto_alpha
    if rule is not None and rule(total) == rule(float(n_rows)):
        return
    if total < _FRACTIONAL_WEIGHTS * n_rows:
        warn(
            f"alpha='auto' counts rows by their weights (sample_weight, times "
            f"class_weight for a classifier), which sum to {total:.3g} over "
            f"{n_rows} rows: its penalty is that of a table of {total:.3g} "
            "rows (weights are frequencies, as repeated rows). Scale the "
            "weights to sum to the number of rows (sample_weight * n / "
            "sample_weight.sum()), or give alpha.",
            UserWarning,
        )

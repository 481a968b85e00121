"""Progressive row sampling: the stages of a fit on a large table.

A full-batch iteration costs a pass over every row, and the forward-reset mode
needs tens of iterations before its hidden layers are near a good point. Most
of that early progress is already visible on a few thousand rows, so on large
tables the fit runs *stages*: warm-started runs on nested random row samples
of geometrically growing size (``FIRST_STAGE_ROWS``, twice that, ...), then
the final run on every training row. A stage of ``m`` rows runs
``STAGE_ITER * sqrt(FIRST_STAGE_ROWS / m)`` iterations that cost ``m / N`` of
a full one each, so the stages together cost about
``3.4 * STAGE_ITER * sqrt(FIRST_STAGE_ROWS * M) / N`` full iterations (``M``
the largest stage), in float32 (see the page
"Large tables"). The regressor's stages on large tables run
``LARGE_STAGE_ITER`` instead of ``STAGE_ITER``, and end with
float32 iterations on all the rows (:func:`regressor_all_rows_iterations`),
as the classifier's end (see :func:`stage_plan`).

The classifier's stages stop growing at a window of at most
``CLASSIFIER_WINDOW_ROWS`` rows: then come *window runs*, each on the next
window of rows of the same permutation (:func:`stage_starts`), as a
stochastic method's mini-batches, before its stage on all rows (see
:func:`classifier_stage_plan`).

Each stage's penalty is at least the default one of a table of its rows
(:func:`stage_alpha`): a small sample needs more shrinkage than all rows. The
classifier's stages take it on every staged table, the regressor's above
``LARGE_TABLE_ROWS`` rows. The classifier's window runs start from it and
lower it run by run to the fit's own (:func:`annealed_penalty`).

What is certified: within a stage (a window run too), the mode's merit *on
the stage's rows* with the stage's penalty never increases (the same guard as
a full fit); across stages the rows and the penalty change, and with them
the objective; the final run on all rows is a plain fit from the stages'
weights, so its true training objective never increases.

The samples are windows of one permutation of the training rows, drawn once
from the fit's ``random_state`` (growing stages nested, each holding the rows
of the one before; window runs consecutive), so the schedule is reproducible
and does not depend on ``n_jobs`` or on a sharded fit's workers.
"""

import numpy as np

from ._alpha_search import fixed_alpha
from ._row_blocks import ROW_BLOCK_ROWS
from ._rows import window_of

#: Tables of at most this many training rows fit on all rows from the start
#: (the regression and classification suites' tables all do).
MIN_STAGED_ROWS = 20_000
#: The regressor's: from 10,000 rows on its stages already pay. Friedman #1
#: (20 features, noise 1), 20,000 rows: test MSE 1.141 in 3.8 s staged
#: against 1.132 in 7.9 s on all rows (MLPRegressor: 1.184 in 5.4 s); 12,000
#: rows: 1.180 in 2.6 s against 1.182 in 3.2 s.
REGRESSOR_MIN_STAGED_ROWS = 10_000
#: Rows of the first stage.
FIRST_STAGE_ROWS = 4_000
#: Growth factor of the stage sizes.
GROWTH = 2
#: The largest stage has at most this fraction of the rows.
LARGEST_STAGE_FRACTION = 0.75
#: Iterations of the first stage; a stage of ``m`` rows runs
#: ``STAGE_ITER * sqrt(FIRST_STAGE_ROWS / m)`` of them (at least
#: ``MIN_STAGE_ITER``), so small, cheap stages run long and large ones briefly.
STAGE_ITER = 160
MIN_STAGE_ITER = 10
#: The stages only find the final run's starting point, so they compute in
#: float32: half the memory traffic of every pass, and faster products (but
#: see :func:`stage_dtype`).
STAGE_DTYPE = np.float32
#: The regressor's stage on all the rows of a table of more training rows
#: than this computes in the data's dtype (see :func:`stage_dtype`).
FLOAT32_ALL_ROWS_MAX_ROWS = 400_000

#: ``early_stopping="auto"`` holds out a validation set above this many rows,
#: as HistGradientBoosting does: there the final run on all rows is the
#: expensive part, and the validation score ends it once it stops improving.
AUTO_EARLY_STOPPING_ROWS = 10_000


def uses_early_stopping(early_stopping, n_rows):
    """``early_stopping`` (``True``, ``False`` or ``"auto"``) for ``n_rows`` rows."""
    if early_stopping == "auto":
        return n_rows > AUTO_EARLY_STOPPING_ROWS
    return bool(early_stopping)


def min_staged_rows(regressor):
    """The most training rows of a table fitted without stages."""
    return REGRESSOR_MIN_STAGED_ROWS if regressor else MIN_STAGED_ROWS


def stage_sizes(n_rows, regressor=False):
    """Row counts of the stages before the final run on all ``n_rows`` rows.

    Empty for tables of at most :func:`min_staged_rows` rows (``regressor``:
    the regressor's). The largest stage has at most ``LARGEST_STAGE_FRACTION``
    of the rows.
    """
    if n_rows <= min_staged_rows(regressor):
        return []
    sizes = []
    m = FIRST_STAGE_ROWS
    while m <= LARGEST_STAGE_FRACTION * n_rows:
        sizes.append(m)
        m *= GROWTH
    return sizes


#: Staged tables above this many training rows are *large*: their stages take
#: the penalty of their own rows (:func:`stage_alpha`), and their final run
#: stops after at most ``FINAL_PATIENCE`` iterations without improvement
#: (``n_iter_no_change`` if smaller; :func:`final_patience`). Below it, at
#: 30,000-50,000 rows, neither paid (see the two functions).
LARGE_TABLE_ROWS = 80_000
FINAL_PATIENCE = 3


def carries_momentum(n_rows):
    """Whether the regressor's runs on a table of ``n_rows`` training rows
    keep the last run's momentum (``ResetSolver.carry_momentum``): on large
    tables (above ``LARGE_TABLE_ROWS``).

    Measured against a restart at each run, test MSE, one draw per seed
    (``bench_scaling.py``'s tables). Above it the stages' momentum helped
    Friedman #1 on every draw and left the pricing table where it was:
    Friedman #1 at 200,000 rows 1.0417 to 1.0406, 1.0646 to 1.0589, 1.0561
    to 1.0542, 1.0886 to 1.0864, at a million 1.0118 to 1.0098; pricing at
    200,000 rows within 0.0003 on four draws, a million 0.9991 to 0.9997.
    Below it the draws went both ways, by as much: Friedman #1 at 50,000 rows
    1.0881 to 1.0798, 1.0727 to 1.0720, 1.1047 (same), 1.0735 to 1.0722, at
    20,000 1.1299 to 1.1335, 1.1376 to 1.1363; pricing at 50,000 1.0271 to
    1.0272, 1.0272 to 1.0303, at 20,000 1.0130 to 1.0171, 1.0203 to 1.0207.
    """
    return n_rows > LARGE_TABLE_ROWS


def regressor_step_scaling(n_rows):
    """``{"unit_damping": ..., "output_damping": ...}`` of the regressor's
    staged runs on ``n_rows`` training rows: the unit scaling
    (``UNIT_DAMPING``) up to ``LARGE_TABLE_ROWS`` rows, the output factor
    (``REGRESSOR_LARGE_OUTPUT_DAMPING``) above."""
    if n_rows > LARGE_TABLE_ROWS:
        return {"unit_damping": None, "output_damping": REGRESSOR_LARGE_OUTPUT_DAMPING}
    return {"unit_damping": UNIT_DAMPING, "output_damping": None}


#: Damping of the per-unit scaling of the hidden weight step in the
#: regressor's stages and final run (``ResetSolver.unit_damping``, see
#: ``ResetSolver._scale_units``). Test MSE without and with it, four draws
#: of ``bench_scaling.py``'s tables: Friedman #1 at 50,000 rows 1.0881,
#: 1.0727, 1.1047, 1.0735 to 1.0712, 1.0681, 1.1030, 1.0690, at 200,000 rows
#: 1.0355, 1.0420, 1.0432, 1.0667 to 1.0370, 1.0311, 1.0517, 1.0476 (below
#: MLPRegressor's on every draw, which it was not on two); pricing at 50,000
#: rows 1.0271, 1.0272, 1.0401, 1.0162 to 1.0247, 1.0287, 1.0388, 1.0110, at
#: 200,000 rows within 0.003 (three of four up). At 20,000 rows Friedman #1
#: lost 0.0007-0.0075 on every draw, still far below MLPRegressor's. Damping
#: 1: means 1.0776 and 1.0281 at 50,000 rows, Friedman #1 1.0398 at 200,000
#: (three of four draws below MLPRegressor); 0.3: 1.0807 and 1.0272 at
#: 50,000 rows (3: 1.0778, 1.0258 and 1.0419).
UNIT_DAMPING = 3.0

#: Damping of the output factor of the hidden W steps in the regressor's
#: stages and final run on large tables (above ``LARGE_TABLE_ROWS`` training
#: rows; ``ResetSolver.output_damping``), in place of the unit scaling
#: (``UNIT_DAMPING``), which smaller tables keep: each layer's weight change
#: is multiplied by the damped inverse of the Gram matrix of the sweep's moves
#: of its pre-activations, K-FAC's second factor, of which the unit scaling
#: is a diagonal special case (see ``skadmm._splitting._output_factor``).
#: Test MSE of ``bench_scaling.py``'s tables (AMD EPYC, two fits at a time),
#: unit scaling against damping 0.3: Friedman #1 at a million rows (draws
#: 0-2) 1.0011, 1.0257, 1.0113 to 0.9899, 1.0179, 1.0098, all three now
#: below MLPRegressor's (0.991, 1.0230, 1.0211); at 200,000 rows (draws 0-3)
#: 1.0306, 1.0404, 1.0480, 1.0495 to 1.0340, 1.0355, 1.0597, 1.0420 (the
#: same mean within 0.001); pricing at 200,000 rows 1.0127, 1.0167, 1.0031,
#: 1.0024 to 1.0142, 1.0142, 1.0009, 1.0013. Smaller tables lost: Friedman #1
#: at 50,000 rows 1.0833, 1.0759, 1.0869, 1.0672 to 1.0978, 1.0759, 1.0985,
#: 1.0617, at 20,000 rows all four draws (mean 1.1413 to 1.1493). The merit
#: is unchanged: the line search judges the changed step on the training
#: objective (the page "Large tables").
REGRESSOR_LARGE_OUTPUT_DAMPING = 0.3


def stage_iterations(n_stage_rows, first=None):
    """Iteration budget of a stage of ``n_stage_rows`` rows (``first``: that
    of the first stage; ``None``: ``STAGE_ITER``)."""
    first = STAGE_ITER if first is None else first
    budget = first * np.sqrt(FIRST_STAGE_ROWS / n_stage_rows)
    return max(MIN_STAGE_ITER, int(np.ceil(budget)))


#: The regressor's budget on large tables (above ``LARGE_TABLE_ROWS``
#: rows) for its stages of at least ``ROW_BLOCK_ROWS`` rows, the ones that
#: run on row blocks, instead of ``STAGE_ITER`` (see :func:`stage_plan`).
LARGE_STAGE_ITER = 240


#: The regressor's last stage on large tables (above ``LARGE_TABLE_ROWS``
#: rows): at most this many iterations on all the training rows (float32,
#: or float64 above ``FLOAT32_ALL_ROWS_MAX_ROWS``: :func:`stage_dtype`)
#: before the float64 final run (see :func:`stage_plan`), as the
#: classifier's schedule ends (``CLASSIFIER_ALL_ROWS_ITER``); on more than
#: ``REGRESSOR_ALL_ROWS_WORK / REGRESSOR_ALL_ROWS_ITER`` rows fewer, down to
#: half as many (:func:`regressor_all_rows_iterations`).
REGRESSOR_ALL_ROWS_ITER = 40
#: Rows times iterations of the regressor's stage on all rows, above which
#: it runs fewer iterations (a million rows: all 40; two million: 22).
REGRESSOR_ALL_ROWS_WORK = 40_000_000


def regressor_all_rows_iterations(n_rows):
    """Iterations of the regressor's stage on all ``n_rows`` rows:
    ``REGRESSOR_ALL_ROWS_ITER``, fewer where that would take more than
    ``REGRESSOR_ALL_ROWS_WORK`` row-iterations, and at least half of it.

    Twenty iterations at every size left Friedman #1 at 200,000 rows above
    MLPRegressor's test MSE on two of four draws (1.0355 against 1.0351,
    1.0597 against 1.0592); forty lowered all four draws (1.0340, 1.0355,
    1.0597, 1.0420 to 1.0336, 1.0351, 1.0570, 1.0414; MLPRegressor 1.0378,
    1.03515, 1.0592, 1.0481) and left the pricing table where it was
    (1.0142 and 1.0142 to 1.0140 and 1.0142), for about a tenth more time
    (see the page "Large tables"). A million rows kept 20 at first (a
    cap of 8 million row-iterations): their time margin was smaller, and
    their float32 stage stopped on ``tol`` before its 20 anyway, having
    stalled. In float64 (:func:`stage_dtype`) each of its iterations gains,
    and forty instead of twenty took Friedman #1 at a million rows from
    0.99149 and 1.01733 to 0.99036 and 1.01687 (draws 0 and 1;
    MLPRegressor 0.99095 and 1.0193, both now met), for 20 and 12 more
    iterations (about a third more time); pricing's stage stops on ``tol``
    either way (the same fit, bit for bit). Above a million training rows
    (40 million row-iterations) the stage shortens.
    """
    most = REGRESSOR_ALL_ROWS_ITER
    return int(min(most, max(most // 2, REGRESSOR_ALL_ROWS_WORK // n_rows)))


#: Stages of more rows than this stop on a smaller relative ``tol`` (see
#: :func:`stage_tol`).
STAGE_TOL_ROWS = 128_000


def stage_tol(tol, n_stage_rows):
    """The relative ``tol`` of a stage of ``n_stage_rows`` rows: the fit's
    ``tol`` up to ``STAGE_TOL_ROWS`` rows, ``tol * sqrt(STAGE_TOL_ROWS / m)``
    on more.

    The squared loss of a large table is mostly its noise, so the objective's
    relative decrease per iteration shrinks as the fit nears the noise while
    each iteration still lowers the excess error; and a larger sample measures
    smaller decreases (the objective's sampling spread falls as
    ``1 / sqrt(m)``). At a million rows of Friedman #1 the two largest stages
    (512,000 and 900,000 rows) stopped on ``tol`` after 10 of their 22 and 20
    iterations; with this rule they ran 22 and 13, and the test MSE fell on
    every fit measured at a million rows (``bench_scaling.py``'s tables, one
    fit each): Friedman #1 draws 0, 1, 2 from 1.0073, 1.0299,
    1.0254 to 1.0047, 1.0264, 1.0246, pricing draw 0 from 0.9995 to 0.9988,
    for 21-45 % more time (MLPRegressor, which it still trails on Friedman
    #1: 0.991, 1.0230, 1.0211). Up to ``STAGE_TOL_ROWS`` rows nothing
    changes, and at 200,000 rows no stage above it stopped on ``tol`` (four
    draws of both tables: the same fits bit for bit). A ``tol`` of 1e-5 for
    the whole fit reached 1.0034 on draw 0 at a million rows, but also let
    the small stages run on, and lost at 200,000 rows (draw 1: 1.0420 to
    1.0443); twice the stages' budgets on top of it gained nothing (1.0036,
    in 1.8 times the time). The classifier's stages take the rule too; at
    200,000 rows its stage on all rows (180,000 of them) still stopped where
    it did, bit for bit (``bench_class_scaling.py``).
    """
    return tol * min(1.0, np.sqrt(STAGE_TOL_ROWS / n_stage_rows))


def stage_dtype(n_stage_rows, n_rows, data_dtype, regressor=True):
    """The dtype of a stage of ``n_stage_rows`` rows on a table of ``n_rows``
    training rows: ``STAGE_DTYPE``, but ``data_dtype`` for the regressor's
    stage on all the rows of more than ``FLOAT32_ALL_ROWS_MAX_ROWS``.

    There float32 cannot follow the fit: on 900,000 rows of Friedman #1 (a
    million, less the validation rows) the float32 stage's training MSE
    stood still at 1.0122 from its fourth iteration to its twentieth (its
    sweeps computed in float32 over so many rows no longer found a lower
    objective), where the same iterations in float64 went on lowering it by
    about 1.4e-4 each, to 1.0099. Test MSE, float32 against float64 (Intel
    Xeon, ``bench_scaling.py``'s tables, the two fits of each side by side):
    Friedman #1 at a million rows 0.99291 and 1.02024 to 0.99149 and 1.01733
    (draws 0 and 1; MLPRegressor: 0.99095 and 1.0193) in the same time
    (draw 0: 220.8 s in float32, 217.8 s in float64);
    pricing at a million rows 0.99663 to 0.99750 (MLPRegressor: 1.0010) in
    120.5 s instead of 172.2 s; Friedman #1 at 500,000 rows 1.01574 to
    1.01512 in 18 % more time. At 200,000 rows float64 gained little for a
    quarter to a third more time (Friedman #1, draws 0-3: 1.03446, 1.03748,
    1.06156, 1.05048 to 1.03416, 1.03701, 1.06100, 1.05074), so there, where
    the stage runs 40 iterations, it stays in float32. The classifier's
    stages all compute in float32.
    """
    if regressor and n_stage_rows == n_rows and n_rows > FLOAT32_ALL_ROWS_MAX_ROWS:
        return data_dtype
    return STAGE_DTYPE


def stages_on_all_rows(n_rows, regressor):
    """Whether a staged fit on ``n_rows`` training rows ends its stages with
    one on all the rows (read from the schedule itself): the
    classifier's always, the regressor's on large tables (above
    ``LARGE_TABLE_ROWS``)."""
    plan = stage_plan(n_rows, True) if regressor else classifier_stage_plan(n_rows)
    return bool(plan) and plan[-1][0] == n_rows


def stage_plan(n_rows, regressor=False):
    """``(rows, max_iter)`` of each stage before the final run on all
    ``n_rows`` rows (:func:`stage_sizes`, :func:`stage_iterations`;
    ``regressor``: the regressor's threshold, and its budget on large tables).

    On large tables the regressor's stages on row blocks (from
    ``ROW_BLOCK_ROWS`` rows) run half as long again (``LARGE_STAGE_ITER``).
    Friedman #1 at 200,000 rows, four draws, test MSE 1.0406, 1.0589, 1.0542,
    1.0864 before; 1.0384, 1.0483, 1.0459, 1.0692 after (MLPRegressor on the
    same draws: 1.0378, 1.0352, 1.0592, 1.0481), for about a third more time
    (MLPRegressor's stays 1.3-2x ours). Every stage at 240 (the 4,000- and
    8,000-row ones too) gave the same test MSE (1.0404, 1.0483, 1.0462,
    1.0676) but more time, all of it in those two stages, which run on one
    thread at any ``n_jobs``: ``n_jobs=2`` gained 1.29-1.40x instead of
    1.38-1.56x. The pricing table's three draws moved within 0.0011 (both
    ways). 320 instead of 240 was worse on two of three draws. On a single
    draw (the first) longer stages had looked useless (0.0005 at 200,000 rows,
    0.0016 at a million for 25 % more time): that draw was the stages' best.

    Then, on large tables, :func:`regressor_all_rows_iterations` float32
    iterations on all the training rows. Twenty when first measured: at
    200,000 rows (four draws each, test MSE) Friedman #1 1.0384, 1.0483,
    1.0459, 1.0692 to 1.0355, 1.0420, 1.0432, 1.0667, the pricing table
    1.0126, 1.0163, 1.0037, 1.0030 to 1.0122, 1.0150, 1.0031, 1.0012, for
    about a sixth more time; 10 iterations gained half as much (Friedman #1,
    two draws), 40 little more than 20 (one draw: 1.0350) before the output
    factor, and on every draw since.
    """
    large = regressor and n_rows > LARGE_TABLE_ROWS

    def budget(m):
        on_blocks = large and m >= ROW_BLOCK_ROWS
        return stage_iterations(m, LARGE_STAGE_ITER if on_blocks else None)

    plan = [(m, budget(m)) for m in stage_sizes(n_rows, regressor)]
    if large and plan:
        plan.append((n_rows, regressor_all_rows_iterations(n_rows)))
    return plan


def final_patience(n_iter_no_change, n_rows, staged):
    """``n_iter_no_change`` of the final run on all ``n_rows`` training rows
    (``staged``: after the regressor's stages; the classifier's schedule has
    its own, see :func:`classifier_stage_plan`).

    From the last stage's weights the final run crawls: each of its float64
    passes over all rows gained about 2e-4 test MSE on Friedman #1 from
    100,000 to 1M rows (the last 10 of them 0.001 at 1M rows, for 27 s of a
    70 s fit), against 5e-4 at 50,000 rows.
    """
    if staged and n_rows > LARGE_TABLE_ROWS:
        return min(n_iter_no_change, FINAL_PATIENCE)
    return n_iter_no_change


def stage_alpha(alpha, n_stage_rows, auto_alpha, n_rows, min_rows=None):
    """The penalty of a stage of ``n_stage_rows`` (summed weights) of a table
    of ``n_rows`` training rows: on tables above ``min_rows`` rows (``None``:
    ``LARGE_TABLE_ROWS``) the fit's
    ``alpha``, at least ``auto_alpha(n_stage_rows)``, the default penalty of a
    table of the stage's size; else the fit's ``alpha``. The classifier passes
    ``min_rows=0``: its stages gained from the rule at 50,000 rows already
    (3-class table of ``bench_class_scaling.py``: test log-loss 0.2891 to
    0.2821, accuracy 0.926 to 0.930), where a 4,000-row stage at the final
    penalty overfit its sample (train log-loss 0.16 at 200,000 rows).

    The fit's penalty suits all its rows; on a sample of a few thousand of a
    million rows it is far too weak (mean scale 1.8e-5 on 4,000 rows). There
    the stage overfits its sample, and the next stages, started from that
    network, stalled (stopped by ``tol`` far from a good fit): on a 1M-row
    Friedman #1 the final run's first iterate had train MSE 1.075, 1.027 with
    this rule, and the test MSE fell from 1.050 to 1.009 (300,000 rows:
    1.060 to 1.046). At 50,000 rows the stronger penalty slowed the largest
    stages instead (Friedman #1, two seeds: 1.075 to 1.080, 1.082 to 1.101;
    the pricing table gained 0.005), so smaller tables keep the fit's.
    """
    if n_rows <= (LARGE_TABLE_ROWS if min_rows is None else min_rows):
        return float(alpha)
    return max(float(alpha), float(auto_alpha(n_stage_rows)))


def stage_penalty(alpha, n_stage_rows, stage_weight, n_rows, rule, window=None):
    """The penalty of a stage of ``n_stage_rows`` of ``n_rows`` training
    rows, ``stage_weight`` their summed weights: the fit's ``alpha`` for a
    stage on all the rows (the classifier's last: the fit's own problem in
    float32), else :func:`stage_alpha`. ``rule``: the classifier's stage
    penalty (``classification_stage_alpha``, at every size), ``None``:
    the regressor's (:func:`~skadmm._alpha_search.fixed_alpha`, above
    ``LARGE_TABLE_ROWS``).

    ``window``: ``(k, runs)`` of the ``k``-th of ``runs`` window runs
    (:func:`window_runs`; the classifier's only). Their penalty falls
    geometrically from :func:`stage_alpha` at the first run to the fit's
    ``alpha`` at the last (:func:`annealed_penalty`).
    """
    if n_stage_rows == n_rows:
        return alpha
    penalty = stage_alpha(
        alpha,
        stage_weight,
        rule or fixed_alpha,
        n_rows,
        # The classifier's stages gained at 50,000 rows already.
        min_rows=None if rule is None else 0,
    )
    if window is None or rule is None:
        return penalty
    return annealed_penalty(penalty, float(alpha), *window)


def annealed_penalty(start, end, k, runs):
    """The penalty of the ``k``-th of ``runs`` window runs: ``start`` at the
    first, ``end`` (at most ``start``) at the last, geometric in between
    (linear down to an ``end`` of 0).

    Why: a window's stage penalty (that of a table of its 32,000 rows, 67
    times the fit's own at 180,000 training rows when that was a sum scale
    of 1; 2,200 times since it is 0.03) keeps the first windows
    from fitting their sample's noise, but the stage on all rows then
    started from a network shrunk far more than its own problem asks, and
    came to rest near it. A constant weaker penalty lost (sum scale 3 on the
    3-class table, :func:`classifier_stage_plan`); falling from run to run,
    the windows hand the stage on all rows a network fitted at its own
    penalty. Test log-loss of the two tables of ``bench_class_scaling.py``
    at 200,000 rows (seeds 0, 1; two fits at a time), constant against
    falling: 3-class 0.2651, 0.2610 to 0.2536, 0.2550; 4-class 0.2129,
    0.2122 to 0.2134, 0.2092, in less time (seed 0: 97 and 113 s against
    140 and 148 s; the stage on all rows stopped on ``tol`` after 20-39
    of its 90 iterations). Falling
    only to the rule of a table of the window's rows (4 times weaker than
    its start): 0.2576, 0.2607, 0.2087, 0.2101. At 50,000 rows (11 windows
    of 15,000 rows): 3-class 0.2820, 0.2776 to 0.2769, 0.2768; 4-class
    0.2957, 0.3051 to 0.2958, 0.3046, in about the same time (the page
    "Large tables", "Window runs with a falling penalty").
    """
    if runs < 2 or end >= start:
        return start
    t = k / (runs - 1)
    if end <= 0.0:
        return start * (1.0 - t)
    return float(start ** (1.0 - t) * end**t)


def window_runs(sizes):
    """``(k, runs)`` of each stage of ``sizes`` that is the ``k``-th of a
    sequence of ``runs`` stages of one size (the classifier's window runs,
    see :func:`stage_starts`); ``None`` for the others."""
    positions = [None] * len(sizes)
    first = 0
    for i in range(1, len(sizes) + 1):
        if i < len(sizes) and sizes[i] == sizes[first]:
            continue
        if i - first > 1:
            for k in range(first, i):
                positions[k] = (k - first, i - first)
        first = i
    return positions


def stage_starts(sizes, n_rows):
    """Where each stage's rows start in the stages' permutation of the
    ``n_rows`` training rows (see :func:`stage_rows`).

    A stage of another size than the one before starts at 0: growing
    stages are nested samples, each holding the rows of the one before. A
    stage of the same size starts where the one before ended, wrapping
    around: consecutive windows, disjoint until the permutation is used up
    (the classifier's window runs, see :func:`classifier_stage_plan`).
    """
    starts, start = [], 0
    for i, m in enumerate(sizes):
        start = (start + m) % n_rows if i and m == sizes[i - 1] else 0
        starts.append(start)
    return starts


def stage_rows(n_rows, sizes, rng):
    """Row indices of the stages: windows of one permutation of the rows.

    Stage ``i`` takes the ``sizes[i]`` rows from :func:`stage_starts`'s
    ``i``-th start on: growing stages are nested (the first ``m`` rows),
    stages of equal size consecutive windows. Each stage's rows are sorted,
    so its arrays are gathered in memory order.
    """
    order = rng.permutation(n_rows)
    ranks = np.arange(n_rows)
    return [
        np.sort(order[window_of(ranks, start, m, n_rows)])
        for m, start in zip(sizes, stage_starts(sizes, n_rows), strict=True)
    ]


#: The classifier's schedule (:func:`classifier_stage_plan`): iterations of
#: its first stage (``STAGE_ITER`` for the regressor), and of its last stage,
#: on all the training rows in float32, after window runs.
CLASSIFIER_STAGE_ITER = 80
CLASSIFIER_ALL_ROWS_ITER = 90
#: Tables of at most this many training rows run no window runs: their
#: nested stages grow to three quarters of the rows, followed by
#: ``CLASSIFIER_NESTED_ALL_ROWS_ITER`` iterations on all of them.
CLASSIFIER_WINDOW_MIN_ROWS = 40_000
CLASSIFIER_NESTED_ALL_ROWS_ITER = 180
#: The classifier's window runs (:func:`classifier_stage_plan`): the most
#: of them, the iterations of each, the most rows of a window (at most a
#: third of the training rows), and how many times over the windows
#: together cover the training rows (fewer runs where that is reached first).
CLASSIFIER_WINDOWS = 20
CLASSIFIER_WINDOW_ITER = 25
CLASSIFIER_WINDOW_ROWS = 32_000
CLASSIFIER_WINDOW_PASSES = 3.5
#: Iterations of each window run on large tables (above ``LARGE_TABLE_ROWS``
#: training rows), instead of ``CLASSIFIER_WINDOW_ITER``. With ``eta``
#: capped (``CLASSIFIER_STAGED_ETA_MAX``) the stage on all rows converges
#: (150 iterations gave what 90 did), so what is left at 200,000 rows is the
#: point it converges to, and longer window runs lead it to a better one.
#: Test log-loss of the two tables of ``bench_class_scaling.py`` at 200,000
#: rows (AMD EPYC, two fits at a time), 25 against 40 iterations: 3-class
#: (seeds 0, 1) 0.2808, 0.2720 to 0.2730, 0.2674; 4-class 0.2299, 0.2290 to
#: 0.2201, 0.2293, for about 30 % more time. Thirty window runs of 25
#: iterations gained less for as much time (0.2788, 0.2288; seed 0).
#: Since their W steps take the output factor (``CLASSIFIER_STAGED_OUTPUT_DAMPING``)
#: each iteration gains more, and 30 suffice: against 40 without the factor,
#: 3-class 0.2669, 0.2692 to 0.2651, 0.2610; 4-class 0.2239, 0.2287 to
#: 0.2129, 0.2122, in 7-33 % less time (seeds 0, 1; two fits at a time).
#: Since the windows' penalty falls from run to run (:func:`annealed_penalty`)
#: 45 iterations gain again: 3-class 0.2536, 0.2550 to 0.2510, 0.2510;
#: 4-class 0.2134, 0.2092 to 0.2073, 0.2055, for 12-45 % more time, less
#: than thirty or forty window runs of 30 iterations needed for as much
#: (seed 0: 0.2513 and 0.2082, 0.2512 and 0.2088).
CLASSIFIER_LARGE_WINDOW_ITER = 45
#: Majorised steps of each read-out refit inside the iterations of a staged
#: classifier fit (the solver's default elsewhere, see ``ResetSolver``).
CLASSIFIER_STAGED_READOUT_STEPS = 2
#: Majorised read-out steps from the last stage's read-out at the start of
#: each later stage of the classifier (and of its final run), instead of its
#: Newton read-out to convergence (an explicit Hessian, ``K (K - 1) / 2``
#: float64 Gram products of the stage's features): the iterations' refits
#: go on from there (``CLASSIFIER_STAGED_READOUT_STEPS`` each).
CLASSIFIER_STAGE_START_READOUT_STEPS = 5
#: Growth of the step ``eta`` after an accepted step in the classifier's
#: staged runs (``ResetSolver.grow``; 1.25 elsewhere): ``eta`` settles where
#: growth and the shrink after a rejected sweep balance, and slower growth
#: rejects fewer sweeps. The classifier's benchmark table: 7 % (50,000 rows)
#: and 11 % (200,000) less time, as accurate. The regressor keeps 1.25:
#: on Friedman #1 at 50,000 rows 1.1 was 5 % faster but lost 0.005 test MSE
#: over eight draws (gained 0.003 at 200,000 rows over three).
CLASSIFIER_STAGED_GROW = 1.1
#: Fraction of the previous decrease an extrapolated point must gain in the
#: classifier's staged runs (``ResetSolver.min_gain``; 0.1 elsewhere): any
#: extrapolation that lowers the objective is kept, and the momentum builds
#: up. With 0.1 its stage on all rows restarted the momentum often enough
#: that runs of slow iterations tripped ``tol`` (the stage stopped after 122
#: of its 180 iterations at 200,000 rows). Test accuracy and log-loss, the
#: two tables of ``bench_class_scaling.py``, one fit each, 0.1 against 0:
#: 3-class 50,000 rows 0.9245, 0.2920 to 0.9279, 0.2873; 200,000 rows
#: 0.9217, 0.3044 to 0.9255, 0.2944; 4-class 50,000 rows 0.9235, 0.3160 to
#: 0.9233, 0.3146; 200,000 rows 0.9512, 0.2468 to 0.9530, 0.2404. Fit time
#: at 50,000 rows the same within the machine's noise (38.4 and 44.5 s
#: against 40.6 and 40.4 s, alternating). The merit still never rises: an
#: extrapolation is kept only if it lowers the objective.
CLASSIFIER_STAGED_MIN_GAIN = 0.0

#: First-order targets in the classifier's staged runs
#: (``ResetSolver.first_order_targets``; off elsewhere): each move of the
#: exact z-step is scaled by ``1 + s'(Z)^2``, so the hidden weight step
#: follows the training objective's gradient instead of that of an objective
#: whose hidden penalty is doubled. Test log-loss of the two tables of
#: ``bench_class_scaling.py`` (AMD EPYC, two fits at a time), off and on:
#: 3-class 30,000 rows (seeds 0, 1) 0.3504, 0.3521 to 0.3492, 0.3471;
#: 50,000 rows (seeds 0-3) 0.2841, 0.2851, 0.2889, 0.2844 to 0.2811, 0.2840,
#: 0.2826, 0.2818; 200,000 rows (seeds 0-2) 0.2864, 0.2805, 0.2821 to 0.2914,
#: 0.2835, 0.2819. 4-class 30,000 rows 0.2948, 0.3031 to 0.2900, 0.2911;
#: 50,000 rows 0.3232, 0.3279, 0.3202, 0.3174 to 0.3248, 0.3267, 0.3097,
#: 0.3099; 200,000 rows 0.2396, 0.2386, 0.2373 to 0.2308, 0.2319, 0.2336.
#: Fifteen of eighteen fits gained (mean 0.0036); the 3-class table at
#: 200,000 rows lost on two of three. The stage on all rows stopped on
#: ``tol`` less often, so fits ran longer (see the doc page "Large
#: tables"). The merit is unchanged: every accepted step lowers the
#: training objective.
CLASSIFIER_STAGED_FIRST_ORDER_TARGETS = True

#: Largest step ``eta`` in the classifier's staged runs
#: (``ResetSolver.eta_max``; 10 elsewhere). An accepted step grows ``eta``
#: and the line search, not ``eta``, sets the step's length (its factor stayed
#: at 16-64), so ``eta`` climbed to 10 while the sweep's direction worsened:
#: the 3-class table at 200,000 rows gained 5e-4 per iteration on all rows
#: at ``eta`` near 1 and 1e-5 at 10, where its stage on all rows stalled and
#: stopped on ``tol`` after 53 of its 90 iterations. Test log-loss of the two
#: tables of ``bench_class_scaling.py`` (AMD EPYC, two fits at a time), cap 10
#: against 1: 3-class 50,000 rows (seeds 0-3) 0.2811, 0.2840, 0.2826, 0.2818
#: to 0.2801, 0.2843, 0.2835, 0.2814; 200,000 rows (seeds 0, 1) 0.2914,
#: 0.2835 to 0.2808, 0.2720. 4-class 50,000 rows 0.3248, 0.3267, 0.3097,
#: 0.3099 to 0.3240, 0.3235, 0.3045, 0.3124; 200,000 rows 0.2308, 0.2319 to
#: 0.2299, 0.2290. At 30,000 rows ``eta`` never reached 1 (the same fits,
#: bit for bit). Caps of 0.5 and 0.25 gained more on the 4-class table at
#: 50,000 rows (means 0.3086 and 0.3130 against 0.3161) but went both ways
#: on the 3-class one (0.5: 0.2915, 0.2894 and 0.2869 on seeds 1-3). The merit
#: is unchanged: a smaller step only changes which steps are tried.
CLASSIFIER_STAGED_ETA_MAX = 1.0

#: Damping of the output factor of the hidden W steps in the classifier's
#: staged runs (``ResetSolver.output_damping``; none elsewhere): each
#: layer's weight change is multiplied by the damped inverse of the Gram
#: matrix of the sweep's moves of its pre-activations, K-FAC's second factor
#: (see ``skadmm._splitting._output_factor``). The fits' training log-loss
#: had stayed far above MLPClassifier's (4-class, 50,000 rows: 0.2817
#: against 0.2319). Test log-loss of the two tables of
#: ``bench_class_scaling.py`` (AMD EPYC), without and with damping 0.03, the
#: factor computed at every W step: 3-class 50,000 rows (seeds 0, 1) 0.2801,
#: 0.2843 to 0.2768, 0.2788; 4-class 0.3240, 0.3235 to 0.3074, 0.3104; at
#: 200,000 rows (seed 0) 3-class 0.2730 to 0.2635, 4-class 0.2201 to 0.2065.
#: Damping 0.1 gave about the same at 50,000 rows (0.2750, 0.2781, 0.3083,
#: 0.3109) and less at 200,000 (4-class 0.2098); 0.3 gave 0.2680 and 0.2122
#: there, and 1 on the 3-class table 0.2637. Computed every fourth W step
#: (``_output_factor.REFRESH_STEPS``), as now, the four fits at 50,000 rows
#: gave 0.2764, 0.2771, 0.3049, 0.3097. At 200,000 rows it cost the
#: 4-class fit its time target with 40 iterations per window run (1.11x
#: MLPClassifier's time against 0.83x) for 0.008 of log-loss, so larger
#: tables went without it until their window runs were shortened to 30
#: iterations (``CLASSIFIER_LARGE_WINDOW_ITER``), which costs less time than
#: the factor adds. The merit is unchanged: the line search judges the
#: changed step on the training objective (the page "Large tables").
CLASSIFIER_STAGED_OUTPUT_DAMPING = 0.03


def classifier_windows(n_rows):
    """``(rows, runs)`` of the classifier's window runs on ``n_rows``
    training rows: windows of a third of the rows, at most
    ``CLASSIFIER_WINDOW_ROWS``, and as many runs as cover the rows
    ``CLASSIFIER_WINDOW_PASSES`` times, at most ``CLASSIFIER_WINDOWS``."""
    rows = min(CLASSIFIER_WINDOW_ROWS, n_rows // 3)
    runs = int(np.ceil(CLASSIFIER_WINDOW_PASSES * n_rows / rows))
    return rows, min(CLASSIFIER_WINDOWS, runs)


def classifier_stage_plan(n_rows):
    """The classifier's stages on ``n_rows`` training rows (none up to
    ``MIN_STAGED_ROWS``), in float32:

    1. the nested stages of :func:`stage_sizes` smaller than a window
       (:func:`classifier_windows`), their :func:`stage_iterations` from
       ``CLASSIFIER_STAGE_ITER`` on;
    2. the *window runs*: ``CLASSIFIER_WINDOW_ITER`` iterations each
       (``CLASSIFIER_LARGE_WINDOW_ITER`` above ``LARGE_TABLE_ROWS`` rows), on
       the next window of the stages' permutation (:func:`stage_starts`):
       fresh rows every run, as a stochastic method's mini-batches, each run
       an exact descent on its own rows;
    3. ``CLASSIFIER_ALL_ROWS_ITER`` iterations on all the rows.

    The final run on all rows (float64, early stopping) then stops after at
    most ``FINAL_PATIENCE`` iterations without improvement. Tables of at
    most ``CLASSIFIER_WINDOW_MIN_ROWS`` training rows keep the nested stages
    up to three quarters of their rows and ``CLASSIFIER_NESTED_ALL_ROWS_ITER``
    iterations on all rows: at 27,000 training rows (windows of 9,000) the
    window runs lost on three of four fits (test log-loss 0.3474, 0.3515 to
    0.3539, 0.3558 on the 3-class table, 0.3010 to 0.3082 and 0.3100 to
    0.2948 on the 4-class one).

    The window runs replaced nested stages up to three quarters of the rows
    followed by 180 iterations on all of them. A sample's iterations are
    cheap, but nested samples settle near one sample's optimum; fresh
    windows keep moving toward the table's, and the iterations on all rows
    then close what the windows' sampling leaves. Measured on the two tables
    of ``bench_class_scaling.py`` (the page "Large tables", "The
    classifier's window runs"): at 200,000 rows twenty windows of 32,000
    rows (30 iterations each) lowered the test log-loss of four fits (two
    tables, two initialisations) by 0.009-0.021, and with the 25 iterations
    of the rule the benchmark's by 0.009 and 0.005; ten windows gained half
    as much, forty little more for half as much time again, and windows of
    16,000 or 64,000 rows less in the same number of row passes. At 50,000
    rows eleven windows of 15,000 rows were as good as twenty, in 20-40 %
    less time. The first window takes the stages' penalty rule of its own
    rows (a constant weaker one, sum scale 3, lost on the 3-class table);
    the later ones fall from it to the fit's penalty
    (:func:`annealed_penalty`).
    """
    sizes = stage_sizes(n_rows)
    if not sizes:
        return []
    if n_rows <= CLASSIFIER_WINDOW_MIN_ROWS:
        plan = [(m, stage_iterations(m, CLASSIFIER_STAGE_ITER)) for m in sizes]
        return [*plan, (n_rows, CLASSIFIER_NESTED_ALL_ROWS_ITER)]
    window, runs = classifier_windows(n_rows)
    plan = [
        (m, stage_iterations(m, CLASSIFIER_STAGE_ITER)) for m in sizes if m < window
    ]
    large = n_rows > LARGE_TABLE_ROWS
    iterations = CLASSIFIER_LARGE_WINDOW_ITER if large else CLASSIFIER_WINDOW_ITER
    plan += [(window, iterations)] * runs
    return [*plan, (n_rows, CLASSIFIER_ALL_ROWS_ITER)]

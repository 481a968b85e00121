"""Docstring text shared by the estimators (numpydoc sections).

Both estimators take the same parameters and set the same fitted attributes;
their docstrings name them once here. ``$``-placeholders stand for the words
that differ (the loss, the validation score, the read-out fit).
"""

import inspect
from string import Template
from textwrap import indent

from ._solvers import own_param_docs

PARAMETERS = Template(
    """\
    width : int, default=100
        Number of units of every hidden layer.
    n_blocks : int, default=0
        Number of residual blocks after the lifting layer (0 gives a network
        with one hidden layer). On the regression benchmark suite, deeper
        networks were slower and no more accurate with either solver (see the
        user guide), hence the default.
    activation : {"relu", "leaky_relu", "tanh", "sigmoid"}, default="relu"
        Activation of every hidden layer (leaky_relu has slope 0.01).
    solver : {"reset", "radmm", "dladmm", "pdadmm", "mdlam"}, default="reset"
        Training mode. ``"radmm"`` is the paper's proximal ADMM over the relaxed
        problem (merit: the augmented Lagrangian; parameters ``beta``, ``rho``,
        ``tau``, ``update``; parallel regional updates). ``"reset"`` is
        forward-reset block descent: each iteration resets the auxiliaries to
        the forward pass, carries the output error to every layer in one
        backward sweep of the same exact blocks, refits every hidden layer by
        ridge regression on its new target and the read-out on the new
        features, and accepts the step only if the training objective
        decreases (parameters ``eta``, ``mu``; either splitting). Its hidden
        layers learn, and it is the default: it won the regression benchmark
        suite (see the user guide for the trade-off).
        ``"dladmm"`` is dlADMM (Wang et al., KDD 2019) on the residual blocks:
        a backward then a forward sweep of linearised, backtracked output and
        weight steps, exact biases, pre-activations and output, and one
        multiplier on the read-out constraint (merit: the augmented
        Lagrangian; ``beta`` is its relaxation weight nu, ``tau`` the first
        trial of the backtracked proximal weights; ``rho`` must exceed the
        bound of the loss, 1.56 for the squared loss; ``splitting`` and
        ``update`` are ignored). See the dlADMM page.
        ``"mdlam"`` is mDLAM (Wang et al., Neurocomputing 2022): no multiplier,
        every linear link a penalty of weight ``beta``, every nonlinear link
        the band ``|U_k - U_{k-1} - s(Z_k)| <= epsilon``, one forward sweep of
        projected, backtracked steps started from a Nesterov extrapolation that
        is kept only when it does not raise the objective (merit: the
        penalised objective; ``rho``, ``splitting`` and ``update`` are
        ignored). See the mDLAM page.
        ``"pdadmm"`` is the
        layer-parallel ADMM of Wang et al. (ICDM 2020) adapted to residual
        blocks: every layer has its own input, linked to the previous layer's
        output by a multiplier, and all layers are updated at once (``beta`` is
        its penalty ``nu``, ``rho`` the link penalty; set ``rho > max(4 beta
        S^2, 2.56 beta)``, ``S`` the activation's largest slope, for its
        augmented Lagrangian never to increase; every layer is a task,
        ``n_regions`` sets the workers, and on the same BLAS threads the
        results are identical for any ``n_regions``; see :ref:`pdadmm`).
        A mode ignores the parameters of the other modes (``splitting``,
        ``update``, ``beta``, ``rho``, ``tau``, ``eta``, ``mu``, ``epsilon``,
        ``quantize``, ``quantize_bits``, ``quantize_levels``,
        ``layer_workers`` as listed above);
        ``fit`` warns (``UserWarning``) when one of those is set away from its
        default, or refuses it where the mode cannot run it (pdADMM:
        ``splitting="two"``, ``update="linearized"``).
    splitting : {"three", "two"}, default="three"
        Relaxation. ``"three"`` keeps pre-activations as auxiliaries and solves
        every block exactly; ``"two"`` drops them (one ``n_samples x width``
        array less per layer) and takes backtracked proximal-gradient steps for
        the blocks inside the activation. With ``solver="reset"`` it reached
        the three-splitting's accuracy on the benchmark suite (within the
        spread of the folds), in 0.6 to 1.0 times its fit time (see the user
        guide).
    update : {"proximal", "linearized"}, default="proximal"
        ``"proximal"`` solves each quadratic block exactly (Cholesky); ``"linearized"``
        replaces that solve by one proximal-gradient step. ``solver="reset"``
        reads it with ``splitting="three"`` only (its two-splitting steps are
        backtracked gradient steps either way; ``fit`` warns).
    beta : float or "auto", default="auto"
        Weight of the penalties that relax the links between layers (the
        ``nu`` of dlADMM, mDLAM and pdADMM). Larger values keep the auxiliaries
        closer to the forward network. ``"auto"`` is 1000 for
        ``solver="radmm"`` (the paper's value) and 1 for ``"dladmm"``,
        ``"mdlam"`` and ``"pdadmm"``, which at 1000 do not move their hidden
        layers (see the page "Training modes head to head").
        ``solver="reset"`` does not use it (its step is ``eta``).
    rho : float or "auto", default="auto"
        ADMM penalty of the read-out constraint (pdADMM: of every link); must
        be greater than 1 for the augmented Lagrangian to decrease
        monotonically. ``"auto"`` is 2, and 5 for ``solver="pdadmm"``, which
        needs ``rho > max(4 beta S^2, 2.56 beta)`` (``S`` the largest slope
        of the activation). ``solver="reset"`` and ``"mdlam"`` do not use it.
    tau : float, default=1e-3
        Weight of the proximal terms (must be positive).
    eta : float, default=0.1
        Initial step of ``solver="reset"``: the inverse weight of the relaxation
        penalties during its backward sweep. Adapted during training.
    mu : float, default=1.0
        Proximal weight of the hidden-layer ridge steps of ``solver="reset"``,
        relative to the mean diagonal of each layer's input Gram matrix: larger
        values damp the whitening of the steps (steadier, better generalising
        steps; the line search restores their length).
    alpha : float or "auto", default="auto"
        L2 penalty on the weights (biases excluded), on the scale of the mean
        $loss. $alpha_auto The value used is ``alpha_``; a warm start keeps
        it with ``"auto"``, and a number set between warm fits takes effect.
        See the user guide, "Regularisation".
    max_iter : int, default=500
        Maximum number of iterations of the run on all training rows
        (most fits stop earlier, at ``tol``; see the practical guide, "Early
        stopping and iterations"). On
        tables of more than 10,000 training rows (the classifier: 20,000)
        ``solver="reset"`` first runs
        *stages*, warm-started runs on nested random row samples of 4,000,
        8,000, ... rows (at most three quarters of the rows, in float32),
        each with its own iteration budget (``stages_``; see the page
        "Large tables"). Above 40,000 training rows the classifier's stop
        growing at a window of a third of the rows, at most 32,000, and
        continue on fresh windows of as many rows.
    tol : float, default=1e-4
        Training stops (converged) when the mode's merit (the training
        objective for ``solver="reset"``, the augmented Lagrangian for
        ``"radmm"``, ``"dladmm"`` and ``"pdadmm"``, the penalised objective for
        ``"mdlam"``) has decreased by less than ``tol`` (relative) per iteration on
        average over the last ``n_iter_no_change`` iterations. With early
        stopping it also stops when the validation $score has not improved by
        at least ``tol`` for ``n_iter_no_change`` iterations.
    early_stopping : bool or "auto", default="auto"
        Hold out ``validation_fraction`` of the training data, stop when its
        $stopping stops improving and keep the weights of the best iteration. ``"auto"``
        does so on tables of more than 10,000 training rows (as
        HistGradientBoosting does), where the final run on all rows is the
        expensive part of a fit; the value used is ``early_stopping_``.
        Validation data given to ``fit`` (``X_val``, ``y_val``) replace the
        held-out fraction and turn ``"auto"`` on; ``False`` refuses them.
    validation_fraction : float, default=0.1
        Fraction of the training data held out with ``early_stopping``.
    n_iter_no_change : int, default=10
        Length of the window of iterations over which the decrease of the merit
        (and, with early stopping, the validation $stopping) is judged.
    refit_readout : bool, default=True
        After ADMM, replace the read-out by the $readout (penalty
        ``alpha``) on the forward network's last hidden layer, so that the
        returned network's read-out is exactly optimal for its own features
        rather than for the auxiliary variables. With early stopping it is
        refitted on the training part for the kept iterate. ``False`` returns
        the ADMM iterate as it is.
    n_jobs : int, default=None
        Number of worker threads of the parallel regional update (at most
        ``n_regions`` run). ``None`` means 1 unless in a
        :class:`joblib.parallel_config` context; ``-1`` means all processors
        (``-2`` all but one, and so on); ``0`` is refused.
        Results never depend on ``n_jobs``: with the same ``n_regions`` they are
        bit-identical for any value. Workers times BLAS threads never exceed the
        BLAS threads in effect when ``fit`` is called. With ``n_regions=None``
        (one region) a fit's iterations run serially whatever ``n_jobs``:
        choosing regions from it would make the results depend on ``n_jobs``.
        The exception is a large table in the default mode (at least 16,384
        training rows, three-splitting, no ``warm_start``): its rows are split
        into fixed blocks, and ``n_jobs`` threads compute them, each on one
        BLAS thread, with results bit-identical for any ``n_jobs``; there
        ``None`` means the cores its BLAS threads would otherwise use (see
        :ref:`large_tables`).
        Where ``alpha="auto"`` cross-validates (the regressor, on 30 to 2,000
        rows), its candidates' fits run on ``n_jobs`` joblib worker processes
        (see :ref:`search_parallel`). See :ref:`parallel`.
    n_regions : int, default=None
        Number of regions of the parallel regional update: contiguous groups of
        at least two layers (the network has ``n_blocks + 2``) whose interiors
        are updated at the same time, then their boundaries. ``None`` means one
        region, the serial algorithm. The iterates depend on ``n_regions``;
        every matrix product runs on ``budget // n_regions`` BLAS threads, or on
        one when the products are too small to gain from more.
        ``solver="pdadmm"`` updates every layer at once whatever the regions:
        there ``n_regions`` (at most the number of layers) only sets the
        workers and their BLAS threads, and on the same BLAS threads (one per
        call when the products are small) the iterates do not depend on it.
    random_state : int, RandomState instance or None, default=None
        Seed of the weight initialisation and of the validation split.
    warm_start : bool, default=False
        Reuse the weights (and, on the same training data and architecture, the
        whole solver state: auxiliaries and multiplier) of the previous call to
        ``fit``; the curves and ``n_iter_`` then continue. On the same data the
        run resumes exactly, step state included (``solver="reset"``: ``eta``,
        line-search factor, momentum; every mode: the stopping rule's window),
        so ``n`` fits of ``max_iter=k`` equal one fit of ``n * k``
        iterations (with a given ``alpha``, on a table without stages; see
        the user guide, "Warm starts"). Reaching ``max_iter`` then issues no
        ``ConvergenceWarning`` (see ``stop_reason_``). With early stopping
        the kept solver state is that of the last iteration, while ``coefs_``
        hold the best one; on the same validation rows the early-stopping
        state (best score and weights, iterations without improvement) goes
        on as well, so stepped fits stop where one fit would. With
        ``solver="pdadmm"`` a larger ``n_blocks`` (same ``width``) grows the
        fitted network: the new blocks are appended with zero weights, which
        leaves its function unchanged, and trained on from there. The solver
        state is not pickled (nor copied by :func:`copy.deepcopy`): an
        unpickled model warm-starts from its weights.
    verbose : int, default=0
        Print progress: a first line at once (the table and the settings),
        then with ``1`` at most one line every 2 seconds, with ``2`` one every
        iteration (with the merit and the residual besides): the iteration,
        the training $loss_short (as in ``loss_curve_``), the validation $score
        (with early stopping), the seconds elapsed and at most left (at the
        mean time per iteration, for the iterations ``max_iter`` allows); and
        a closing line per run with its time and why it stopped (as
        ``stop_reason_``). Each stage of a large table is a run of its own.
    $mode_params
    embedding : str, default="none"
        How each numeric column enters the network: ``"none"``,
        ``"piecewise"``, ``"hat"``, ``"onehot"``, ``"periodic"`` or
        ``"auto"``. ``"none"``: ``X`` as it
        is. The others feed the first layer each column's standardised value
        ``z`` and, beside it, a code of the column built on the rows given to
        ``fit`` (so cross-validation stays honest; ``embedding_`` holds the
        fitted encoder) and applied to every ``X`` after:
        ``"piecewise"``, the piecewise-linear encoding on ``n_bins`` quantile
        bins (component ``t`` is ``clip((x - b_{t-1}) / (b_t - b_{t-1}), 0,
        1)``); ``"hat"``, the same functions in the hat (linear B-spline)
        basis, sparse; ``"onehot"``, the indicator of the quantile bin,
        sparse; ``"periodic"``, ``sin`` and ``cos`` of ``2 pi f z`` at
        ``n_bins // 2`` fixed frequencies. Values outside the training range
        get the code of its nearest end; ``z`` extrapolates linearly. Columns
        with fewer than two distinct bins (binary, constant) keep ``z``
        alone. The first layer then has up to ``n_features * (1 + n_bins)``
        inputs. A code helps on tables like Wine Quality and hurts on smooth
        ones; see :ref:`embeddings` for the measurements. ``"auto"`` chooses
        between ``"none"`` and ``"onehot"`` inside ``fit``, on its training
        rows only: on 30 to 2000 rows (the sum of ``sample_weight``) the
        folds of the penalty search also fit the code at the penalty they
        chose (three more fits; with a given ``alpha``, or for the
        classifier, three fits of each kind at its penalty), and the code is
        kept if its cross-validated loss is lower; on more rows, one fit of
        each kind on the same rows, compared on ``X_val`` or on a held-out
        ``validation_fraction`` of the rows, which the chosen fit then does
        not train on (one extra fit); below 30 rows ``"none"``. The choice
        is recorded in ``alpha_search_``.
    n_bins : int or "auto", default="auto"
        Quantile bins per column of ``embedding`` (``"periodic"``: twice its
        frequencies); ignored with ``"none"``. ``"auto"`` means one per 80
        training rows (the sum of ``sample_weight``), from 4 to 32."""
)

ATTRIBUTES = Template(
    """\
    coefs_ : list of ndarray
        Weight matrices; ``coefs_[i]`` has shape ``(fan_in, fan_out)``.
    intercepts_ : list of ndarray
        Bias vectors; ``intercepts_[i]`` has shape ``(fan_out,)``.
    n_iter_ : int
        Number of iterations run (summed over the stages of a large table and
        over warm-started fits).
    stages_ : list of dict
        One record per run, in order: the stages on row samples of a large
        table (see ``max_iter``), then the run on all training rows, and the
        runs of earlier warm-started fits before them. Keys: ``n_samples``
        (rows of the run), ``alpha`` (the run's penalty: a stage's is that
        of its rows, see the page "Large tables"), ``n_iter``,
        ``objective`` (the merit at its last iteration, on its own rows and
        at its own penalty) and ``seconds``. The curves below hold
        the iterations of every run in this order; during a stage the
        training $loss_short is that of the stage's rows.
    early_stopping_ : bool
        Whether the last fit held out a validation set (``early_stopping``
        with ``"auto"`` resolved).
    loss_curve_ : list of float
        Training $loss_short of the forward network after each iteration.
    time_curve_ : list of float
        Wall-clock seconds from the start of the iterations to the end of each
        one, evaluation of the forward network included (continued by
        warm-started fits).
    objective_curve_ : list of float
        The solver's merit function after each iteration, which never
        increases (pdADMM: under its penalty condition): the regularised
        training objective (``solver="reset"``), the augmented Lagrangian
        ``L_rho`` (``"radmm"``, ``"dladmm"``, ``"pdadmm"``) or the penalised
        objective on the bands (``"mdlam"``).
    residual_curve_ : list of float
        Root of the summed squared relaxation residuals after each iteration:
        how far the auxiliary variables are from the forward pass (for
        ``solver="reset"``, at the end of the sweep, before the next reset).
    weight_step_curve_ : list of float
        Relative change of the hidden weights in each iteration,
        ``||W_new - W_old|| / ||W_old||`` over all hidden layers (read-out
        excluded): how much the hidden layers learn.
    validation_scores_ : list of float or None
        Validation $score after each iteration (with ``early_stopping``; continued
        by warm-started fits). The stages of a progressive fit (``stages_``)
        are not validated: the curve then holds the run on all rows only.
    validation_loss_curve_ : list of float or None
        Validation $loss_short after each iteration (with ``early_stopping``;
        continued by warm-started fits; as ``validation_scores_``).
    best_validation_score_ : float or None
        Validation $score of the iterate kept by early stopping (the best
        validation $stopping) of the last fit (with ``early_stopping``).
    best_loss_ : float
        With ``early_stopping``, the validation $loss_short of the kept iterate;
        otherwise the lowest training $loss_short reached.
    stop_reason_ : str
        Why the last fit's run stopped: the stopping rule (``tol``), early
        stopping, ``max_iter`` reached, a callback (``set_callbacks``, with
        scikit-learn >= 1.9), an interrupt or a failure.
    alpha_ : float
        The L2 penalty used by the last fit (``alpha`` with ``"auto"``
        resolved).
    fit_time_ : float
        Wall-clock seconds of the last call of ``fit``, everything included:
        validation, ``alpha="auto"``'s search (also in
        ``alpha_search_["seconds"]``), the stages, the run on all rows and the
        final read-out refit. ``time_curve_`` counts the iterations only.
    alpha_search_ : dict
        How the last fit's penalty was chosen: ``alpha``, ``rule``
        (``"cross-validation"``; ``"sample cross-validation"`` on 2,000 to
        10,000 rows: the search on a sample of about 1,000 rows, with
        ``sample_rows`` and its choice ``sample_alpha``, capped at the size
        rule; ``"fixed"`` for the size rule, ``"given"`` for a number (also
        in a warm start), ``"kept"`` by a warm start with ``alpha="auto"``,
        ``"stopped"`` when a fit callback stopped the search, with ``n_fits``
        done of ``n_planned``:
        the size rule's penalty), ``candidates`` and ``seconds`` (the whole
        search); with cross-validation also
        ``fold_errors`` (folds x candidates, summed weighted loss),
        ``mean_errors`` (per unit weight) and ``fit_seconds`` (folds x
        candidates), as RidgeCV's ``cv_results_``, and ``fitted`` (per
        candidate: the search runs from the largest penalty down and stops
        at the first whose loss rises, so the smaller ones after it are not
        fitted and have ``nan`` errors and seconds). With
        ``embedding="auto"`` (not on a warm start) also ``embedding`` (the
        kind chosen), ``embedding_rule`` (``"cross-validation"``: the code
        on the same folds at the chosen penalty, its ``code_fold_errors``
        and ``code_fit_seconds``; ``"held-out"``: one fit of each kind on
        the same rows, compared on ``held_out_rows`` others, with
        ``embedding_fit_seconds``; ``"too few rows"``: none; ``"stopped"``:
        a fit callback stopped the fit before both were compared) and
        ``embedding_errors`` (the loss per unit weight of each kind fitted).
    n_outputs_ : int
        Number of outputs.
    exchange_bytes_ : dict or None
        ``solver="pdadmm"``: bytes that crossed layer boundaries in the last
        iteration, by variable (``"p"``, ``"q"``, ``"u"``), measured on the
        arrays that would be sent (float arrays, or with ``quantize`` the
        integer codes, plus a header with ``quantize_levels="step"``), with
        ``layer_workers="dask"`` on the arrays the layers' actors handed to
        their neighbours; a fit on Dask
        collections (sharded over the workers): bytes sent to and received
        from the workers over the whole fit (``"to workers"``, ``"from
        workers"``, see :ref:`sharded_fit`); ``None`` otherwise.
    embedding_ : object
        The numeric embedding fitted on the training rows (see ``embedding``;
        with ``"auto"``, the kind chosen):
        ``kind``, ``transform(X)``, ``n_output_features_`` (the first layer's
        inputs), and but for ``"none"`` ``mean_`` and ``scale_`` of the
        standardisation; the binned kinds also ``bin_edges_`` (one array per
        column, empty for a column without a code).
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``, when ``X`` has string column names."""
)


def fill_doc(**words):
    """Class decorator filling ``$parameters`` and ``$attributes`` of a docstring."""

    def decorate(cls):
        # The modes' own parameters, indented as the entries above them.
        order = inspect.signature(cls.__init__).parameters
        mode_params = indent(own_param_docs(order), "    ").strip()
        sections = dict(
            parameters=PARAMETERS.substitute(words, mode_params=mode_params).strip(),
            attributes=ATTRIBUTES.substitute(words).strip(),
        )
        cls.__doc__ = Template(cls.__doc__).substitute(sections)
        return cls

    return decorate

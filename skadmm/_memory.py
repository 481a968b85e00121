"""Memory guard: the bytes a fit will allocate, checked before it allocates any.

A fit that cannot fit in memory should fail at once with a message that says
why, not after minutes (or after the operating system has started swapping)
with numpy's bare ``MemoryError``. :func:`estimate_fit_nbytes` counts every
array a fit allocates; :func:`check_fit_memory` compares that with the
tightest limit of :func:`skadmm._limits.memory_limit`, at the start of ``fit``.

The count is a peak: the arrays alive for the whole run (the splitting's state,
its scratch pools, the solver's buffers, the copies of the weights, the data
copies) plus the largest temporary alive at any moment next to them (the
forward pass of the read-out refit, the Gram and factor matrices of a block,
the monitor's forward pass), plus a slack for untraced memory. It errs on the
large side (1.2 to 1.8 times the peak traced by ``tracemalloc`` on the tested
configurations, the most where the weights dominate) because a fit that
almost fits still leaves the machine swapping.
"""

import math

import scipy.sparse as sp

from ._embeddings import encoded_shape, resolve_n_bins
from ._limits import memory_limit
from ._rows import block_rows, blocks_per_group
from ._solvers import SOLVERS
from ._splitting._reset_hooks import caches_first_layer
from ._stages import STAGE_DTYPE, stage_dtype, stages_on_all_rows
from ._wide import dual_step_elements, use_dual

# Untraced memory next to the arrays (BLAS buffers, allocator slack, Python
# objects), as a fraction of the counted bytes.
_SLACK = 0.1
# Square matrices of one (primal) block solve (of the layer's fan-in): the Gram matrix,
# the scaled system, the right-hand side, the solution and (three-splitting
# hidden blocks) the ``n x n`` inverse with the identity it is solved from.
_FACTOR_MATRICES = 6


def block_solve_elements(n_rows, n_cols, n_outputs, weighted):
    """Elements of the temporaries of one weight step on an ``n_cols``-wide input.

    An input much wider than its rows takes the dual step
    (:mod:`skadmm._wide`), which forms no ``n_cols x n_cols`` matrix.
    """
    if use_dual(n_rows, n_cols):
        return dual_step_elements(n_rows, n_cols, n_outputs)
    # With row weights a Gram matrix is formed from a weighted copy of its input.
    return (
        _FACTOR_MATRICES * n_cols**2
        + 3 * n_cols * n_outputs
        + (n_rows * n_cols if weighted else 0)
    )


def fit_memory_parts(
    n_samples,
    n_features,
    n_outputs,
    *,
    width,
    n_blocks,
    itemsize,
    solver="reset",
    splitting="three",
    update="proximal",
    early_stopping=False,
    validation_fraction=0.1,
    refit_readout=True,
    weighted=False,
    n_regions=1,
    n_workers=1,
    threaded_blas=False,
    input_nnz=None,
    index_itemsize=4,
    embedded=False,
    row_blocks=1,
    quantize=None,
    quantize_bits=8,
    classifier=False,
):
    """Bytes of each group of arrays alive at the peak of a fit, by name.

    The parameters are those of the estimator and of its parallel plan
    (``threaded_blas``: numpy's BLAS runs on more than one thread, so the
    block updates work on all the rows at once instead of row blocks). The
    entry ``"largest temporary: ..."`` names the temporary that sets the peak.
    ``input_nnz``: the stored entries of a sparse ``X`` (``None``: dense), whose
    copies then count their CSR bytes (values and ``index_itemsize`` indices,
    the column of ones included) instead of ``n_samples * n_features``.
    ``embedded``: ``X`` (``n_features`` columns, ``input_nnz`` entries) is the
    numeric embedding of the user's table, one more copy held by the fit.
    ``row_blocks``: the training rows' blocks (see ``skadmm._row_blocks``),
    which keep no state between calls but their ``[X, 1]``: the rest of the
    state then exists for one block per worker at a time. ``quantize``,
    ``quantize_bits``: pdADMM-G-Q's quantized variables (``None``: none) and
    bits per code. ``classifier``: the classifier's fit, whose row blocks
    hold the features of both line-search trials for every row (its
    cross-entropy read-out refits read them several times; a staged fit's
    in its float32 stage on all the rows, whose copy of ``X`` and ``Y`` cast
    to float32 it also holds, see ``skadmm._stages``).
    See :func:`estimate_fit_nbytes`.
    """
    N, d, m, n = n_samples, n_features, n_outputs, width
    H = n_blocks + 1
    n_val = math.ceil(validation_fraction * N) if early_stopping else 0
    N_tr = N - n_val
    # Rows whose state is alive at once.
    N_st = N_tr if row_blocks <= 1 else n_workers * math.ceil(N_tr / row_blocks)
    solver_cls = SOLVERS[solver]
    splitting_cls = solver_cls.problem_class(splitting)
    chunk_rows = N_st if threaded_blas else min(N_st, block_rows(n))
    weights = (d + 1) * n + n_blocks * (n + 1) * n + (n + 1) * m
    copies = solver_cls.weight_copies + (1 if early_stopping else 0)

    # Row blocks keep their [X, 1] from call to call (see skadmm._shard).
    N_in = N_tr if row_blocks > 1 else N_st
    if input_nnz is None:
        x_copy = N * d
        x_aug = N_in * (d + 1)
    else:
        # CSR in elements of the data's type: values, column indices, row starts.
        ratio = 1.0 + index_itemsize / itemsize
        x_copy = math.ceil(ratio * input_nnz + (N + 1) * index_itemsize / itemsize)
        nnz_tr = input_nnz * N_in / max(N, 1) + N_in
        x_aug = math.ceil(ratio * nnz_tr + (N_in + 1) * index_itemsize / itemsize)
    inputs = 2 * N * m + (N if weighted else 0) + (x_copy if embedded else 0)
    if early_stopping:
        # train_test_split copies every row of X, Y (and the weights).
        inputs += x_copy + N * m + (N if weighted else 0)
    live = {"data copies": inputs}
    for name, size in splitting_cls.state_arrays(N_st, d, n, H, m).items():
        live[f"state: {name}"] = x_aug if name == "augmented input [X, 1]" else size
    pool = splitting_cls.scratch_arrays(
        N_st,
        n,
        chunk_rows,
        update == "linearized",
        reset=solver_cls.reset_hooks,
        group_blocks=blocks_per_group(f"f{itemsize}"),
    )
    for name, size in pool.items():
        live[f"scratch: {name}"] = n_regions * size
    for name, size in solver_cls.buffer_arrays(N_st, n, H, m).items():
        live[f"solver: {name}"] = size
    if solver_cls.reset_hooks and caches_first_layer(d + 1, input_nnz is not None):
        # The line search's first-layer pre-activations, one per feature buffer.
        live["solver: first-layer pre-activations"] = 2 * N_tr * n
    live[f"weights ({copies} copies)"] = copies * weights
    held = 0
    if classifier and row_blocks > 1 and solver_cls.reset_hooks:
        # Two trials' features of every row, held for the read-out refits: by
        # the float32 stage on all rows of a staged fit (its final run redoes
        # them), in the data's type otherwise; and that stage's float32 copies.
        staged = solver_cls.staged and stages_on_all_rows(N_tr, False)
        held = 2 * N_tr * (n + 1) * (4 / itemsize if staged else 1)
        live["classifier: held trial features"] = held
        live["classifier stage: float32 X, Y"] = 4 / itemsize * N_tr * (d + m)
    elif (
        row_blocks > 1
        and solver_cls.staged
        and stages_on_all_rows(N_tr, True)
        # In the data's dtype (the largest tables) it holds the data themselves.
        and stage_dtype(N_tr, N_tr, None) is STAGE_DTYPE
    ):
        # The regressor's last stage on a large table: all rows in float32.
        live["stage on all rows: float32 X, Y"] = 4 / itemsize * N_tr * (d + m)

    # Each of these is freed before the next one is made.
    first = block_solve_elements(N_st, d + 1, n, weighted)
    if input_nnz is not None:
        # A sparse input's weighted copy (and the dual step's scaled copy of X)
        # is sparse too: one more copy of [X, 1] instead of N * (d + 1).
        dense_copy = N_st * (d + 1) if weighted or use_dual(N_st, d + 1) else 0
        first = first - dense_copy + (x_aug if dense_copy else 0)
    solve = max(
        first,
        block_solve_elements(N_st, n + 1, n, weighted),
    )
    temporaries = {
        # Every worker solves a block at once.
        "block solves": n_workers * solve,
        # Fused forward pass: two buffers of a row chunk per worker, the output.
        "monitor forward pass": 2 * n * max(chunk_rows, n_workers * block_rows(n))
        + N_tr * m,
        **solver_cls.transient_arrays(N_st, n, H, m),
    }
    if quantize is not None:
        # Codes in elements of the data's type.
        code = quantize_bits / 8 / itemsize
        # Each boundary keeps the codes of its last change of each quantized
        # variable until it is sent (see skadmm._splitting._pdadmm).
        live["quantized codes"] = len(quantize) * H * N_st * n * code
        # A quantized step works on all the rows at once: the right-hand side,
        # the gradient, the exact and the trial changes, two products of a
        # change (its codes, its gain) and three arrays of codes.
        temporaries["quantized steps"] = n_workers * N_st * n * (6 + 3 * code)
    if solver_cls.reset_hooks:
        # The hidden weight steps run at once, one per worker, each beside its
        # block solve.
        step = sum(splitting_cls.reset_step_arrays(N_st, n, chunk_rows).values())
        if step:
            temporaries["reset weight steps"] = n_workers * (step + solve)
    # The read-out refit: the forward features, a layer's product and
    # activation, then [U, 1] (and its weighted copy); on row blocks the
    # features of every row (kept by a Newton refit, which first drops the
    # held trials' features) and a block's others.
    refit = (3 + (1 if weighted else 0)) * N_st * (n + 1)
    if row_blocks > 1:
        refit += max(0, N_tr * (n + 1) - held)
    if refit_readout:
        temporaries["read-out refit"] = refit
    name, size = max(temporaries.items(), key=lambda item: item[1])
    live[f"largest temporary: {name}"] = size
    # The first read-out refit runs before the state exists.
    start = inputs + 2 * weights + refit
    total = sum(live.values())
    if start > total:
        live = {"data copies": inputs, "weights (2 copies)": 2 * weights}
        live["largest temporary: initial read-out refit"] = refit
    parts = {name: int(size * itemsize) for name, size in live.items()}
    parts["untraced slack"] = int(_SLACK * sum(parts.values()))
    return parts


def estimate_fit_nbytes(n_samples, n_features, n_outputs, **params):
    """Peak bytes a fit allocates, before any of it is allocated.

    Parameters
    ----------
    n_samples, n_features, n_outputs : int
        Shape of the training data (all rows, before a validation split).
    **params
        Keyword arguments of :func:`fit_memory_parts`: ``width``,
        ``n_blocks``, ``itemsize`` (required), ``solver``, ``splitting``,
        ``update``, ``early_stopping``, ``validation_fraction``,
        ``refit_readout``, ``weighted``, ``n_regions``, ``n_workers``,
        ``threaded_blas``, ``classifier``.

    Returns
    -------
    nbytes : int
        Arrays alive at the peak of the fit, plus a slack for untraced memory.
    """
    return sum(fit_memory_parts(n_samples, n_features, n_outputs, **params).values())


def params_memory_parts(params, X, n_outputs, weighted, plan, classifier=False):
    """:func:`fit_memory_parts` of a fit of an estimator with parameters
    ``params`` (``get_params``) on ``X``, with ``n_outputs`` network outputs,
    sample weights or not (``weighted``), run with the parallel ``plan``
    (``classifier``: the estimator is the classifier)."""
    # The network's input is the embedded X, at its widest (sample weights,
    # not yet validated here, are taken as ones; see skadmm._embeddings).
    kind = params["embedding"]
    n_bins = resolve_n_bins(params["n_bins"], X.shape[0])
    n_columns, nnz = encoded_shape(kind, n_bins, X)
    return fit_memory_parts(
        X.shape[0],
        n_columns,
        n_outputs,
        width=params["width"],
        n_blocks=params["n_blocks"],
        itemsize=X.dtype.itemsize,
        solver=params["solver"],
        splitting=params["splitting"],
        update=params["update"],
        early_stopping=params["early_stopping"],
        validation_fraction=params["validation_fraction"],
        refit_readout=params["refit_readout"],
        weighted=weighted,
        n_regions=plan.n_regions,
        n_workers=plan.n_workers,
        threaded_blas=plan.threaded_blas,
        input_nnz=nnz,
        index_itemsize=X.indices.itemsize if sp.issparse(X) else 4,
        embedded=kind != "none",
        row_blocks=plan.row_blocks,
        quantize=params.get("quantize"),
        quantize_bits=params.get("quantize_bits", 8),
        classifier=classifier,
    )


def check_fit_memory(params, X, n_outputs, weighted, plan, classifier=False):
    """Raise ``MemoryError`` if the fit of :func:`params_memory_parts` cannot
    fit in memory.

    Called by ``fit`` right after input validation, before any allocation of
    the fit itself. An unknown limit never blocks a fit.
    """
    parts = params_memory_parts(params, X, n_outputs, weighted, plan, classifier)
    limit, source = memory_limit()
    nbytes = sum(parts.values())
    if limit is None or nbytes <= limit:
        return
    largest = sorted(parts.items(), key=lambda item: -item[1])[:3]
    detail = ", ".join(f"{name} {_gib(size)}" for name, size in largest)
    remedies = ["reduce `width` or `n_blocks`", "fit on fewer samples"]
    if X.dtype.itemsize > 4:
        remedies.append("pass float32 data (half the bytes)")
    if params["solver"] != "radmm":
        remedies.append("use solver='radmm' (fewer weight copies and buffers)")
    if params["splitting"] != "two":
        remedies.append("use splitting='two' (one array less per layer)")
    remedies.append("or raise the memory limit")
    raise MemoryError(
        f"Fitting needs about {_gib(nbytes)} (largest parts: {detail}) for "
        f"{X.shape[0]} samples, width={params['width']}, "
        f"n_blocks={params['n_blocks']}, solver={params['solver']!r}, "
        f"splitting={params['splitting']!r} and {X.dtype} data, but only "
        f"{_gib(limit)} can be allocated (limit: {source}). To fit: "
        f"{', '.join(remedies)}."
    )


def _gib(nbytes):
    return f"{nbytes / 2**30:.3g} GiB"

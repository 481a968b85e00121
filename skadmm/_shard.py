"""The rows of a sharded fit that one Dask worker holds (worker side).

A :class:`RowShard` lives on a worker as a Dask actor (see
:mod:`skadmm._pinned`) and holds that worker's row chunks of the training data:
each training chunk as a :class:`~skadmm._splitting._three.ThreeSplitRelaxation` over
its rows (data, auxiliaries, multipliers), each validation chunk as its
arrays. The driver (:mod:`skadmm._sharded`) sends weights and receives, *per
chunk*, what the block updates sum over rows: Gram matrices ``A^T S A``, cross
products ``A^T S B`` and weighted sums (losses, links). Every per-row
operation is the in-process problem's own code on the chunk's rows, with the
row weights normalised over all the training rows (not the chunk's), so a
chunk's sums are its rows' terms of the whole problem's sums.
"""

from contextlib import contextmanager

import numpy as np
import scipy.sparse as sp
from threadpoolctl import ThreadpoolController

from ._activations import get_activation
from ._checks import column_scale
from ._heap import kept_heap
from ._linalg import augment
from ._losses import SquaredLoss
from ._network import augmented_hidden_into, forward, hidden_features
from ._rows import RowWeights, feature_chunk_rows, product_chunk_rows, window_of
from ._splitting._buffers import RowArrays, Workspace
from ._splitting._three import ThreeSplitRelaxation
from ._targets import RegressionTarget, as_columns


class RowShard:
    """One worker's row chunks and their state (a Dask actor).

    Parameters
    ----------
    blas_threads : int or None
        BLAS threads of every computation here (``None``: the worker's own).
        Fixed, so that the products round as the driver's reference.
    chunks : list of tuple
        ``(index, X, y, sample_weight, validation)`` per chunk: its position
        in the table, its raw arrays (``sample_weight`` may be ``None``), and
        whether it is a validation chunk.
    """

    def __init__(self, blas_threads, chunks):
        self.blas_threads = blas_threads
        self.index = [c[0] for c in chunks]
        self.raw = [(_dense(c[1]), _column(c[2]), _column(c[3])) for c in chunks]
        self.validation = [bool(c[4]) for c in chunks]
        self.problems, self.features = [], {}
        self.val_data = []
        self._controller = None

    @classmethod
    def of_rows(cls, index, X, Y, sample_weight, norm, activation):
        """A shard of rows already validated and encoded in this process (a
        row block of an in-process fit, see :mod:`skadmm._row_blocks`).

        Its computations run on the caller's BLAS threads: the fit fixes them.
        """
        shard = cls(None, [])
        shard.index, shard.validation = [index], [False]
        shard.raw, shard.target, shard.dtype = None, None, X.dtype
        shard.data = [(X, Y, sample_weight)]
        shard.set_norm(norm, activation)
        return shard

    @contextmanager
    def _blas(self):
        """A computation's context on a worker: its BLAS threads, and freed
        memory kept in the process while it runs (:mod:`skadmm._heap`)."""
        if self.blas_threads is None:
            # The caller's (a thread of an in-process fit): threadpoolctl's
            # limits are process-wide, so threads must not change them.
            yield
            return
        if self._controller is None:
            # Found once: looking the libraries up costs more than a small call.
            self._controller = ThreadpoolController()
        with (
            self._controller.limit(limits=self.blas_threads, user_api="blas"),
            kept_heap(),
        ):
            yield

    # ------------------------------------------------------------ loading
    def summary(self):
        """Per chunk: rows, features, finiteness, ``max|X|``, the columns'
        :func:`~skadmm._checks.column_scale` (rows of positive weight, as in
        process), weight range and sum."""
        out = []
        for (X, y, sw), val in zip(self.raw, self.validation, strict=True):
            numeric = np.issubdtype(X.dtype, np.number)
            finite = bool(numeric and np.isfinite(X).all())
            positive = None if sw is None else sw[sw > 0]
            kept = X if sw is None or positive.size == sw.size else X[sw > 0]
            out.append(
                dict(
                    rows=X.shape[0],
                    features=X.shape[1] if X.ndim == 2 else None,
                    finite=finite,
                    max_abs=float(np.max(np.abs(X))) if finite and X.size else 0.0,
                    columns=column_scale(kept)
                    if finite and X.ndim == 2 and kept.shape[0]
                    else None,
                    validation=val,
                    weight_sum=None if sw is None else float(sw.sum()),
                    weight_min=None if sw is None else float(sw.min(initial=np.inf)),
                    weight_pos=None
                    if positive is None or not positive.size
                    else (float(positive.min()), float(positive.max())),
                    negative=bool(sw is not None and (sw < 0).any()),
                    y_finite=not np.issubdtype(y.dtype, np.number)
                    or bool(np.isfinite(y).all()),
                    y_outputs=1 if y.ndim == 1 else y.shape[1],
                )
            )
        return out

    def labels(self):
        """Per chunk, the distinct labels of its rows of positive weight."""
        return [np.unique(y if sw is None else y[sw > 0]) for _, y, sw in self.raw]

    def target_top(self):
        """Per chunk, ``max|y|`` of every output (rows of positive weight)."""
        return [
            np.max(
                np.abs(as_columns(y if sw is None else y[sw > 0], np.float64)),
                axis=0,
                initial=0.0,
            )
            for _, y, sw in self.raw
        ]

    def target_moments(self, top, mean):
        """Per chunk, ``(sum w, sum w y/top, sum w (y/top - mean)^2)``; ``mean``
        ``None`` for the first pass."""
        out = []
        for _, y, sw in self.raw:
            Y = as_columns(y, np.float64) / top
            w = np.ones(Y.shape[0]) if sw is None else sw
            first = w @ Y
            second = None if mean is None else w @ ((Y - mean) ** 2)
            out.append((float(w.sum()), first, second))
        return out

    def encode(self, target, dtype):
        """The chunks in the fit's dtype with encoded targets; rows of weight 0
        dropped (they contribute nothing)."""
        self.dtype = np.dtype(dtype)
        self.target = target
        data = []
        for X, y, sw in self.raw:
            if sw is not None and not (sw > 0).all():
                keep = sw > 0
                X, y, sw = X[keep], y[keep], sw[keep]
            # Aligned: a chunk received from another process is a view into
            # its message at any byte offset, and numpy and BLAS copy or take
            # slow paths on misaligned rows at every use.
            X = np.require(X, self.dtype, "CA")
            Y = np.require(target.encode(y, self.dtype), self.dtype, "CA")
            sw = None if sw is None else np.require(sw, self.dtype, "CA")
            data.append((X, Y, sw))
        self.raw = None
        self.data = data
        self.val_data = [d for d, v in zip(data, self.validation, strict=True) if v]
        return [d[0].shape[0] for d in data]

    def set_norm(self, norm, activation):
        """The normalisation of the training rows' weights (see
        :meth:`~skadmm._rows.RowWeights.part_of`) and the activation."""
        self.norm, self.act = norm, get_activation(activation)
        self.train = [
            d for d, v in zip(self.data, self.validation, strict=True) if not v
        ]
        self.rws = [
            RowWeights.part_of(sw, X.shape[0], self.dtype, norm)
            for X, _, sw in self.train
        ]

    # ------------------------------------------------------------- stages
    def set_stage_order(self, state, n_rows, offsets):
        """The stages' row order: the permutation of the ``n_rows`` training
        rows that ``RandomState`` ``state`` draws (as an in-process fit's
        ``stage_rows``); ``offsets``: the first row of each of this shard's
        training chunks among all training rows."""
        rng = np.random.RandomState()
        rng.set_state(state)
        rank = np.empty(n_rows, dtype=np.intp)
        rank[rng.permutation(n_rows)] = np.arange(n_rows)
        self.n_ranked = n_rows
        self.ranks = [
            rank[o : o + X.shape[0]].copy()
            for (X, _, _), o in zip(self.train, offsets, strict=True)
        ]

    def begin_stage(self, m, dtype, start=0):
        """Hold only the rows of the stage of ``m`` rows (ranks ``start`` to
        ``start + m``, wrapping around: ``skadmm._stages.window_of``), in
        ``dtype``, until :meth:`end_stage`.

        Returns per training chunk ``(rows, weight sum, weight min, weight
        max)`` of its stage rows (weights ``None`` without sample weights);
        chunks without stage rows are left out of the stage's calls.
        """
        self._full = (self.train, self.rws, self.problems)
        stage, out = [], []
        for (X, Y, sw), ranks in zip(self.train, self.ranks, strict=True):
            rows = np.flatnonzero(window_of(ranks, start, m, self.n_ranked))
            # A stage on all the rows in the data's dtype holds the data itself.
            take = slice(None) if rows.size == X.shape[0] else rows
            part = (
                X[take].astype(dtype, copy=False),
                Y[take].astype(dtype, copy=False),
                None if sw is None else sw[take].astype(dtype, copy=False),
            )
            w = part[2]
            out.append(
                (
                    rows.size,
                    None if w is None else float(w.sum(dtype=np.float64)),
                    None if w is None or not w.size else float(w.min()),
                    None if w is None or not w.size else float(w.max()),
                )
            )
            if rows.size:
                stage.append(part)
        self.train, self.problems, self.rws = stage, [], []
        self.features = {}
        return out

    def set_stage_norm(self, norm):
        """The stage rows' weights, normalised over all the stage's rows."""
        self.rws = [
            RowWeights.part_of(sw, X.shape[0], X.dtype, norm) for X, _, sw in self.train
        ]

    def end_stage(self):
        """Back to all the training rows (the stage's state is dropped)."""
        self.train, self.rws, self.problems = self._full
        self.features = {}
        del self._full

    def training_rows(self):
        """Per training chunk its ``(X, Y, sample_weight)`` (small tables only:
        ``alpha="auto"``'s cross-validation runs on the driver)."""
        return list(self.train)

    # ------------------------------------------- read-out sums on a key's features
    def refit_features(self, hidden, passes=None):
        """``[U, 1]`` of the forward pass of ``hidden`` on every training chunk,
        as the in-process read-out refit computes them (key ``"refit"``).

        ``passes``: how many times the refit reads them (``None``: many), which
        a :class:`StreamedRowShard` weighs against keeping them."""
        with self._blas():
            self.features["refit"] = [
                augment(hidden_features(X, hidden, self.act)) for X, _, _ in self.train
            ]

    def drop_features(self, key):
        self.features.pop(key, None)

    def hold_features(self, key):
        """Keep the features ``key`` while a read-out refit reads them many
        times (a stored shard keeps them anyway; see :class:`StreamedRowShard`)."""

    def release_features(self, key):
        """End :meth:`hold_features`."""

    def _features(self, key):
        if key in ("slot0", "slot1"):
            # The problems' own buffers (see skadmm._splitting._reset_hooks).
            return [p.feature_buffer(int(key[-1])) for p in self.problems]
        return self.features[key]

    def _outputs(self, key, W, product=True):
        """Per chunk, the features ``key`` and their product with ``W``
        (``product=False``: ``None`` in its place, for a caller that
        multiplies them in pieces, see :func:`_gradient_sums`)."""
        for A in self._features(key):
            yield A, (A @ W if product else None)

    def _threaded(self):
        """Whether this shard's products run on several BLAS threads (a Dask
        worker's): they then take whole arrays, not row chunks."""
        return self.blas_threads is not None and self.blas_threads > 1

    def gram_cross(self, key):
        """Per chunk ``(A^T S A, A^T S Y)`` of the key's features ``A``."""
        with self._blas():
            return [
                (rw.gram(A), rw.cross(A, Y))
                for A, (_, Y, _), rw in zip(
                    self._features(key), self.train, self.rws, strict=True
                )
            ]

    def gram(self, key):
        with self._blas():
            return [
                rw.gram(A) for A, rw in zip(self._features(key), self.rws, strict=True)
            ]

    def loss_value(self, key, W, loss):
        """Per chunk, the weighted loss of ``A W``."""
        with self._blas():
            return [
                loss.value(output, Y, rw)
                for (_, output), (_, Y, _), rw in zip(
                    self._outputs(key, W), self.train, self.rws, strict=True
                )
            ]

    def loss_gradient(self, key, W, loss):
        """Per chunk ``A^T S grad``: the majorised read-out step's gradient."""
        chunk = not self._threaded()
        with self._blas():
            return [
                _gradient_sums(A, output, Y, W, loss, rw, chunk)
                for (A, output), (_, Y, _), rw in zip(
                    self._outputs(key, W, product=not chunk),
                    self.train,
                    self.rws,
                    strict=True,
                )
            ]

    def newton_terms(self, key, W, loss):
        """Per chunk the weighted loss and its gradient in float64 (Newton-CG)."""
        out = []
        for A, (_, Y, _), rw in zip(
            self._features(key), self.train, self.rws, strict=True
        ):
            A64 = A.astype(np.float64, copy=False)
            rows, G = loss.rows_and_gradient(A64 @ W, Y.astype(np.float64, copy=False))
            out.append((rw.total(rows), rw.cross(A64, G)))
        return out

    def hessian_product(self, key, W, D, loss):
        """Per chunk ``A^T S H(A W) (A D)`` in float64 (Newton-CG)."""
        out = []
        for A, rw in zip(self._features(key), self.rws, strict=True):
            A64 = A.astype(np.float64, copy=False)
            out.append(rw.cross(A64, loss.hessian_product(A64 @ W, A64 @ D)))
        return out

    def newton_hessian(self, key, W, loss):
        """Per chunk the loss's Hessian in ``W`` as a matrix, in float64 (the
        exact Newton read-out, ``loss.hessian_matrix``)."""
        with self._blas():
            return [
                loss.hessian_matrix(A.astype(np.float64, copy=False), W, rw)
                for A, rw in zip(self._features(key), self.rws, strict=True)
            ]

    # ------------------------------------------------------------- problems
    def build(self, weights, params, update, loss):
        """A three-splitting over each training chunk's rows, at ``weights``."""
        with self._blas():
            self.problems = []
            for (X, Y, sw), rw in zip(self.train, self.rws, strict=True):
                # The chunk's row weights, normalised over all training rows.
                problem = ThreeSplitRelaxation(
                    X,
                    Y,
                    sw,
                    weights,
                    self.act,
                    update=update,
                    loss=loss,
                    row_weights=rw,
                    **params,
                )
                self.problems.append(problem)
            self.features.pop("refit", None)

    def set_weights(self, weights, **penalties):
        for p in self.problems:
            p.set_weights(weights)
            p.set_penalties(**penalties)

    # ----------------------------------------------------- forward reset mode
    def prepare_reset(self, first_order_targets, top_alternations):
        with self._blas():
            for p in self.problems:
                p.prepare_reset(first_order_targets, top_alternations)

    def reset_to_forward(self, weights):
        with self._blas():
            self.set_weights(weights)
            for p in self.problems:
                p.reset_to_forward()

    def reset_sweep(self, beta):
        """Per chunk, the links ``||.||_S^2`` of the backward sweep at ``beta``."""
        with self._blas():
            out = []
            for p in self.problems:
                p.backward_sweep(beta)
                out.append(p.link_sq.copy())
            return out

    def reset_w_sums(self, with_input_gram, with_output_gram=False):
        """Per chunk and hidden layer ``k``: ``(A_k^T S A_k, A_k^T S Z_k, F_k)``
        (the first layer's Gram only ``with_input_gram``: it never changes;
        ``F_k``, the Gram of the sweep's moves, only ``with_output_gram``)."""
        with self._blas():
            return [
                _w_sums(p, with_input_gram, with_output_gram) for p in self.problems
            ]

    def reset_sweep_sums(self, beta, with_input_gram, with_output_gram=False):
        """:meth:`reset_sweep` and :meth:`reset_w_sums` in one call: per chunk
        ``(links, W-step sums)`` (one exchange fewer per iteration)."""
        with self._blas():
            out = []
            for p in self.problems:
                p.backward_sweep(beta)
                sums = _w_sums(p, with_input_gram, with_output_gram)
                out.append((p.link_sq.copy(), sums))
            return out

    def objective_terms(self, hidden, readout, slot, hold=True):
        """Per chunk, the weighted loss of the forward pass of ``hidden`` +
        ``readout``; its features stay in buffer ``slot`` (``hold``: whether
        a streamed shard keeps them, see :class:`StreamedRowShard`)."""
        with self._blas():
            out = []
            for p in self.problems:
                output = p.forward_features_into(hidden, slot) @ readout
                out.append(p.loss.value(output, p.Y, p.rw))
            return out

    def forward_slot(self, hidden, slot):
        """The forward features of ``hidden`` into buffer ``slot``."""
        with self._blas():
            for p in self.problems:
                p.forward_features_into(hidden, slot)

    # ------------------------------------------------------------------ RADMM
    def radmm_begin(self):
        """Per chunk ``(A_0^T S A_0, beta A_0^T S Z_0)``: the first W block's sums."""
        with self._blas():
            for p in self.problems:
                p.set_threaded_blas(False)
            return self._layer_sums(0)

    def radmm_advance(self, k, W):
        """Set ``W_k``, run layer ``k``'s Z and U blocks, return the next block's
        sums (layer ``k + 1``, or the read-out's ``(G, A^T S (rho O + Lam))``)."""
        with self._blas():
            for p in self.problems:
                p.set_layer_weights(k, W)
                p.update_preactivation(k)
                p.update_hidden(k)
            return self._layer_sums(k + 1)

    def _layer_sums(self, k):
        out = []
        for p in self.problems:
            A = p.input_of(k)
            if k == p.H:
                out.append((p.rw.gram(A), p.rw.cross(A, p.rho * p.O + p.Lam)))
            else:
                cross = p.rw.cross(A, p.Z[k])
                cross *= p.beta
                out.append((p.input_gram(k), cross))
        return out

    def radmm_finish(self, readout):
        """Set the read-out, run the O and multiplier steps; :meth:`lrho_terms`."""
        with self._blas():
            for p in self.problems:
                p.set_layer_weights(p.H, readout)
                p.set_readout_output()
                p.update_output()
                p.update_multiplier()
        return self.lrho_terms()

    def lrho_terms(self):
        """Per chunk the terms of ``L_rho``: ``(loss, links, <Lam, O - R>_S,
        ||O - R||_S^2)``."""
        with self._blas():
            out = []
            for p in self.problems:
                gap = p.O - p.R
                out.append(
                    (
                        p.loss.value(p.O, p.Y, p.rw),
                        p.link_sq.copy(),
                        p.rw.inner(p.Lam, gap),
                        p.rw.sq_norm(gap),
                    )
                )
            return out

    # ------------------------------------------------- monitor and final checks
    def curve_terms(self, weights, validation):
        """Per chunk ``(sum w loss_i, sum w, score sums)`` of the network
        ``weights`` on the training (or validation) chunks.

        The loss is the target's curve loss per row; the score sums are
        ``sum w (Y - out)^2`` per output (regression: R^2) or ``sum w hit``
        (classification: accuracy).
        """
        chunks = self.val_data if validation else self.train
        target = self.target
        out = []
        with self._blas():
            for X, Y, sw in chunks:
                pred = forward(X, weights, self.act)
                w = np.ones(X.shape[0]) if sw is None else sw
                if isinstance(target, RegressionTarget):
                    err = (pred - Y) * target.scale
                    per_row = (err**2).mean(axis=1)
                    score = w @ ((Y - pred) ** 2) if validation else None
                else:
                    per_row = target.loss.rows(pred, Y)
                    hit = (
                        (pred[:, 0] > 0).astype(np.intp)
                        if target.binary
                        else pred.argmax(axis=1)
                    ) == target.true_index(Y)
                    score = float(w @ hit) if validation else None
                out.append((float(w @ per_row), float(w.sum()), score))
        return out

    def validation_spread(self, mean):
        """Per validation chunk ``sum w (Y - mean)^2`` per output (R^2's base)."""
        return [
            (np.ones(X.shape[0]) if sw is None else sw) @ ((Y - mean) ** 2)
            for X, Y, sw in self.val_data
        ]

    def validation_sums(self):
        """Per validation chunk ``(sum w, sum w Y)``."""
        return [
            (
                float((np.ones(X.shape[0]) if sw is None else sw).sum()),
                (np.ones(X.shape[0]) if sw is None else sw) @ Y,
            )
            for X, Y, sw in self.val_data
        ]

    def forward_finite(self, weights):
        """Whether the network ``weights`` stays finite on every training chunk."""
        with np.errstate(over="ignore", invalid="ignore"), self._blas():
            return [
                bool(np.isfinite(forward(X, weights, self.act)).all())
                for X, _, _ in self.train
            ]

    def nbytes(self):
        """Bytes of the arrays this shard holds (tests: nothing after a fit)."""
        total = 0
        for p in self.problems:
            total += sum(
                a.nbytes for a in vars(p).values() if isinstance(a, np.ndarray)
            )
        return total


class StreamedRowShard(RowShard):
    """A :class:`RowShard` of the forward-reset mode that keeps no state of its
    rows between calls: only its data and the weights.

    That mode resets its auxiliaries to the forward pass of the weights at
    every iteration, so each call rebuilds what it needs of a chunk (the
    relaxation at the weights, the forward features of a line-search trial)
    from the weights it was last sent, uses it and drops it: memory of one
    chunk's state at a time instead of every row's, for the price of the
    forward passes redone (one per sweep, and one per read of a line-search
    trial's features).
    The arithmetic is the stored shard's, so the iterates are bit-identical.
    RADMM, whose multipliers are state, needs :class:`RowShard`.

    What a call builds lives in :attr:`workspace`, arrays reused from call to
    call (one chunk's worth per thread); the row blocks of an in-process fit
    share one (:func:`~skadmm._row_blocks.row_block_problem`).
    """

    def __init__(self, blas_threads, chunks):
        super().__init__(blas_threads, chunks)
        #: The hidden weights of each key's features (see :meth:`_features`).
        self._hidden = {}
        #: Features computed once and kept during a refit (:meth:`hold_features`).
        self._held = {}
        self._reset = self._spec = None
        self.workspace = Workspace()
        #: This shard's buffers of held features (:meth:`hold_features`): its
        #: own, not per thread, since any of the fit's threads may run it.
        self._buffers = RowArrays()
        #: ``[X, 1]`` of each training chunk (:meth:`_inputs`).
        self._augmented = None

    def set_norm(self, norm, activation):
        super().set_norm(norm, activation)
        self._augmented = None

    def begin_stage(self, m, dtype, start=0):
        self._augmented = None
        return super().begin_stage(m, dtype, start)

    def end_stage(self):
        super().end_stage()
        self._augmented = None

    def _inputs(self):
        """``[X, 1]`` of each training chunk, built at the first use and kept
        while the training rows stay: every sweep and every forward pass reads
        it, and copying it at each use took 5 % of a fit's time (200,000 rows,
        one thread), for one copy of the training data kept."""
        if self._augmented is None:
            self._augmented = [augment(X) for X, _, _ in self.train]
        return self._augmented

    def build(self, weights, params, update, loss):
        self._spec = dict(update=update, loss=loss, **params)
        self._reset = None
        self._weights = [np.array(W, copy=True) for W in weights]
        self.problems = []

    def set_weights(self, weights, **penalties):
        self._weights = [np.array(W, copy=True) for W in weights]
        self._spec.update(penalties)

    def prepare_reset(self, first_order_targets, top_alternations):
        self._reset = (first_order_targets, top_alternations)

    def reset_to_forward(self, weights):
        # The forward pass is redone where it is used (reset_sweep_sums).
        self.set_weights(weights)

    def _relaxations(self):
        """Each training chunk's relaxation at the weights, reset to their
        forward pass, one at a time (the stored shard's state at a reset)."""
        for (X, Y, sw), rw, X_aug in zip(
            self.train, self.rws, self._inputs(), strict=True
        ):
            p = ThreeSplitRelaxation(
                X,
                Y,
                sw,
                self._weights,
                self.act,
                row_weights=rw,
                workspace=self.workspace,
                augmented_input=X_aug,
                **self._spec,
            )
            if self._reset is not None:
                p.prepare_reset(*self._reset, feature_buffers=False)
            yield p

    def reset_sweep(self, beta):
        return [links for links, _ in self.reset_sweep_sums(beta, False)]

    def reset_w_sums(self, with_input_gram, with_output_gram=False):
        raise NotImplementedError(
            "A streamed shard keeps no sweep: call reset_sweep_sums."
        )

    def reset_sweep_sums(self, beta, with_input_gram, with_output_gram=False):
        with self._blas():
            out = []
            for p in self._relaxations():
                p.backward_sweep(beta)
                sums = _w_sums(p, with_input_gram, with_output_gram)
                out.append((p.link_sq.copy(), sums))
            return out

    def objective_terms(self, hidden, readout, slot, hold=True):
        self.forward_slot(hidden, slot)
        key, loss = f"slot{slot}", self._spec["loss"]
        # The cross-entropy's read-out is refitted on the chosen trial's
        # features (seven reads): each trial's are kept until that refit,
        # unless the driver asks otherwise. The squared loss's trials are
        # redone if the read-out is refitted on them.
        if hold and not isinstance(loss, SquaredLoss):
            self.hold_features(key)
        return self.loss_value(key, readout, loss)

    def forward_slot(self, hidden, slot):
        key = f"slot{slot}"
        self._held.pop(key, None)
        self._hidden[key] = [np.array(W, copy=True) for W in hidden]

    def refit_features(self, hidden, passes=None):
        # A refit that reads them many times (Newton-CG) keeps them, as
        # RowShard does; it runs outside the iterations, when no other state
        # is alive. One that reads them twice (the ridge read-out) redoes them.
        if passes is None or passes > 2:
            self._hidden.pop("refit", None)
            # The line search's held features go first: the refit after a
            # run would hold every row's features three times over.
            self._held.clear()
            self._buffers = RowArrays()
            super().refit_features(hidden)
        else:
            self._hidden["refit"] = [np.array(W, copy=True) for W in hidden]

    def drop_features(self, key):
        self._hidden.pop(key, None)
        super().drop_features(key)

    def hold_features(self, key):
        """Compute a line-search slot's features once and keep them until
        :meth:`release_features`: the cross-entropy's read-out refit inside
        the iterations reads them seven times (its Gram matrix, five
        majorised steps, its loss), each a forward pass otherwise. The fit's
        memory estimate counts every row's features for a refit (see
        ``skadmm._memory``); the values are those computed one chunk at a time."""
        if key in self._hidden and key not in self._held:
            # In this shard's own buffers: the workspace's are reused by the
            # next block on the same thread.
            with self._blas():
                self._held[key] = list(self._features(key, own=True))

    def release_features(self, key):
        # Every slot's: after a refit the next trials start afresh.
        self._held.clear()

    def _features(self, key, own=False):
        """The features ``key`` of each training chunk: a line-search slot's
        computed as the stored shard computes them, one chunk at a time
        (``own``: into buffers of this shard, one per slot and chunk, kept
        from call to call)."""
        if key in self._held:
            yield from self._held[key]
        elif key not in self._hidden:
            yield from self.features[key]
        else:
            for A, _ in self._computed(key, own):
                yield A

    def _outputs(self, key, W, product=True):
        # A slot's product with the read-out is taken chunk by chunk, from
        # its features still in cache: one read of every row's fewer.
        if key in self._held or key not in self._hidden or not self._hidden[key]:
            yield from super()._outputs(key, W, product)
        else:
            yield from self._computed(key, False, W)

    def _computed(self, key, own, readout=None):
        """Per chunk, the features of slot ``key``'s hidden weights and,
        with a ``readout``, their product with it (else ``None``)."""
        hidden, space = self._hidden[key], self.workspace
        # A chunk's features are activated while in cache, unless the shard's
        # products are threaded (a Dask worker's BLAS threads).
        threaded = self._threaded()
        for i, X_aug in enumerate(self._inputs()):
            # One key's features at a time (each caller reads one key): the
            # keys share their buffers.
            if not hidden:
                yield X_aug, None
                continue
            n, width, dtype = X_aug.shape[0], hidden[-1].shape[1], X_aug.dtype
            chunk_rows = None if threaded else feature_chunk_rows(width + 1, dtype)
            if own:
                A = self._buffers.rows(f"{key}:{i}", n, width, dtype, True)
            else:
                A = space.rows("features", n, width, dtype, augmented=True)
            spare = space.rows("features:spare", n, width, dtype)
            output = None
            if readout is not None:
                output = space.rows("features:output", n, readout.shape[1], dtype)
            augmented_hidden_into(
                X_aug,
                hidden,
                self.act,
                A,
                spare=spare,
                chunk_rows=chunk_rows,
                readout=readout,
                output=output,
            )
            yield A, output

    def radmm_begin(self):
        raise NotImplementedError("RADMM keeps multipliers: use RowShard.")


def _gradient_sums(A, output, Y, W, loss, rw, chunk):
    """``A^T S grad`` of the loss of the outputs ``A W`` (``output``, or
    ``None``: computed here).

    With ``chunk``, a dense ``A`` is taken in pieces of
    :func:`~skadmm._rows.product_chunk_rows` rows: each piece's ``A W`` (if
    not given) and ``A^T S grad`` while it is in cache. A row block's kept
    features (8,192 rows of 101 float32 columns, 3.3 MB) outgrow the L2
    cache, and the two whole products read them from memory twice: 3
    classes, 7,500 rows, one thread, 737 us whole against 422 us in pieces
    (float64: 1627 against 827 us). The pieces' sums are added in row order,
    so the result depends on the block's shape only, not on the threads, and
    given outputs (a forward pass's fused product) give the same bits.
    """
    # A chunk without training rows takes the whole products: its sums are
    # zeros of the right shape.
    if chunk and not sp.issparse(A) and A.shape[0]:
        step = product_chunk_rows(A.shape[1], A.dtype)
        total = None
        for start in range(0, A.shape[0], step):
            rows = slice(start, start + step)
            piece = A[rows] @ W if output is None else output[rows]
            _, G = loss.rows_and_gradient(piece, Y[rows])
            part = rw.cross(A[rows], G, rows=rows)
            total = part if total is None else np.add(total, part, out=total)
        return total
    if output is None:
        output = A @ W
    _, G = loss.rows_and_gradient(output, Y)
    return rw.cross(A, G)


def _w_sums(p, with_input_gram, with_output_gram):
    """Per hidden layer ``k`` of the relaxation ``p``: ``(A_k^T S A_k, A_k^T S
    Z_k, F_k)`` (the first layer's Gram only ``with_input_gram``; ``F_k``,
    the Gram of the sweep's moves, only ``with_output_gram``, else
    ``None``)."""
    sums = []
    for k in range(p.H):
        G = p.input_gram(k) if k or with_input_gram else None
        F = p.output_gram(k) if with_output_gram else None
        sums.append((G, p.rw.cross(p.input_of(k), p.Z[k]), F))
    return sums


def _dense(X):
    """A chunk of X as a 2-D array (a DataFrame partition's values)."""
    values = getattr(X, "to_numpy", None)
    X = values() if values is not None else np.asarray(X)
    return X.reshape(X.shape[0], -1) if X.ndim == 1 else X


def _column(y):
    if y is None:
        return None
    values = getattr(y, "to_numpy", None)
    y = values() if values is not None else np.asarray(y)
    return y

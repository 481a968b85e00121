"""Dask collections as estimator input: detection, row chunks, predictions.

Dask is an optional dependency (the ``distributed`` extra): detection looks at
the type's module name and never imports dask, so estimators work without it.
"""

import numpy as np


def is_dask_collection(obj):
    """Whether ``obj`` is a Dask array, DataFrame or Series (dask not imported)."""
    module = type(obj).__module__ or ""
    return (module == "dask" or module.startswith("dask.")) and hasattr(
        obj, "__dask_graph__"
    )


def as_dask_array(obj, name):
    """``obj`` as a Dask array with known row chunks (a DataFrame's
    partitions become row chunks); a NumPy-like ``obj`` is returned as is."""
    if obj is None or not is_dask_collection(obj):
        return obj
    if hasattr(obj, "to_dask_array"):
        obj = obj.to_dask_array(lengths=True)
    if any(np.isnan(c) for c in obj.chunks[0]):
        raise ValueError(
            f"{name} has row chunks of unknown size; compute them first "
            "(dask array: X.compute_chunk_sizes(); DataFrame: "
            "X.to_dask_array(lengths=True))."
        )
    return obj


def feature_names(X):
    """The string column names of a DataFrame ``X``, else ``None``."""
    columns = getattr(X, "columns", None)
    if columns is None:
        return None
    names = np.asarray(list(columns), dtype=object)
    return names if all(isinstance(c, str) for c in names) else None


def predict_blocks(estimator, name, X):
    """``estimator.name`` applied to every row chunk of the Dask collection ``X``.

    Returns a Dask array with ``X``'s row chunks (lazy: nothing is computed
    until the caller computes it); its columns and dtype are those of the
    method on one row (computed here, on zeros).
    """
    from sklearn.utils.validation import _check_feature_names, check_is_fitted

    check_is_fitted(estimator)
    # The column names as scikit-learn checks a DataFrame's (an error for
    # other or reordered names, a warning for a missing name), from the
    # collection's metadata: its chunks reach the method as arrays, which
    # dropped the names (reordered columns gave wrong predictions, silently).
    columns = getattr(X, "columns", None)
    if columns is not None:
        import pandas as pd

        # An empty frame of the collection's columns (scikit-learn reads the
        # names of pandas frames only).
        _check_feature_names(estimator, pd.DataFrame(columns=columns), reset=False)
    else:
        _check_feature_names(estimator, np.empty((0, 0)), reset=False)
    names = getattr(estimator, "feature_names_in_", None)
    method = _named(getattr(estimator, name), names)
    n_features = estimator.n_features_in_
    X = as_dask_array(X, "X")
    if X.ndim != 2 or X.shape[1] != n_features:
        raise ValueError(
            f"X has shape {X.shape}, but the estimator was fitted with "
            f"{n_features} features."
        )
    X = X.rechunk({1: -1})
    dtype = X.dtype if X.dtype in (np.float32, np.float64) else np.float64
    sample = np.asarray(method(np.zeros((1, n_features), dtype=dtype)))

    def block(chunk):
        return np.asarray(method(chunk))

    if sample.ndim == 1:
        return X.map_blocks(block, drop_axis=1, dtype=sample.dtype, meta=sample[:0])
    return X.map_blocks(
        block,
        chunks=(X.chunks[0], (sample.shape[1],)),
        dtype=sample.dtype,
        meta=sample[:0],
    )


def _named(method, names):
    """``method`` on arrays whose columns are ``names`` (checked already), as a
    DataFrame of those columns, so that each chunk does not warn again that
    it has none (``method`` itself without names)."""
    if names is None:
        return method
    import pandas as pd

    def named(chunk):
        return method(pd.DataFrame(chunk, columns=names, copy=False))

    return named

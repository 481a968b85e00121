"""Loader for the UCI Wine Quality dataset shipped with the package."""

import gzip
from importlib.resources import files

import numpy as np
from sklearn.utils import Bunch

try:
    from sklearn.utils._optional_dependencies import check_pandas_support
except ImportError:  # private scikit-learn helper: absent in some versions

    def check_pandas_support(caller_name):
        try:
            import pandas
        except ImportError as exc:
            raise ImportError(f"{caller_name} requires pandas.") from exc
        return pandas


_VARIANTS = ("red", "white", "all")


#: Upper bounds of the three quality classes of the classification task:
#: ``quality <= 5``, ``quality == 6``, ``quality >= 7``.
QUALITY_BINS = (5.5, 6.5)


def quality_classes(quality):
    """The three classes of a Wine Quality score: 0 (<= 5), 1 (6), 2 (>= 7)."""
    return np.digitize(np.asarray(quality, dtype=float), QUALITY_BINS)


def _read_csv(variant):
    """Return (data, target, feature_names, target_name) of one shipped file."""
    resource = files("skadmm.datasets") / "data" / f"winequality-{variant}.csv.gz"
    with resource.open("rb") as raw, gzip.open(raw, "rt", encoding="ascii") as f:
        names = [name.strip('"') for name in f.readline().strip().split(";")]
        values = np.loadtxt(f, delimiter=";", dtype=np.float64, ndmin=2)
    return values[:, :-1], values[:, -1], names[:-1], names[-1]


def load_wine_quality(variant="red", *, return_X_y=False, as_frame=False):
    """Load the Wine Quality dataset (regression or ordinal classification).

    Physicochemical measurements of Portuguese "Vinho Verde" wines with their
    sensory quality score (an integer from 0 to 10, returned as float).

    =================   ===========================
    Samples             1599 (red), 4898 (white)
    Features            11 real (12 with "all")
    Target              quality, integer 3 to 9
    =================   ===========================

    Parameters
    ----------
    variant : {"red", "white", "all"}, default="red"
        Which wines to load. ``"all"`` stacks the red rows followed by the
        white rows and appends a 12th feature ``is_red`` (1.0 for red wines,
        0.0 for white) so that the two can be told apart.

    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch object.

    as_frame : bool, default=False
        If True, ``data`` is a pandas DataFrame, ``target`` a pandas Series
        named ``"quality"`` and ``frame`` a DataFrame holding both. Requires
        pandas; without it only NumPy is needed.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the following attributes.

        data : {ndarray, DataFrame} of shape (n_samples, n_features)
            The float64 feature matrix, with ``n_features`` 11, or 12 when
            ``variant="all"``.
        target : {ndarray, Series} of shape (n_samples,)
            The float64 quality scores.
        feature_names : list of str
            The names of the feature columns.
        target_names : list of str
            ``["quality"]``.
        frame : DataFrame of shape (n_samples, n_features + 1) or None
            Features and target together; only when ``as_frame=True``.
        DESCR : str
            The full description of the dataset.
        variant : str
            The loaded variant.

    (data, target) : tuple if ``return_X_y`` is True
        The feature matrix and the target, as described above.

    Notes
    -----
    The shipped files are byte-identical copies of the UCI Machine Learning
    Repository files (dataset id 186, licence CC BY 4.0) and keep their exact
    duplicate rows (240 in red, 937 in white).

    P. Cortez, A. Cerdeira, F. Almeida, T. Matos and J. Reis, "Modeling wine
    preferences by data mining from physicochemical properties", Decision
    Support Systems 47(4):547-553, 2009.

    Examples
    --------
    >>> from skadmm.datasets import load_wine_quality
    >>> X, y = load_wine_quality(return_X_y=True)
    >>> X.shape
    (1599, 11)
    >>> wine = load_wine_quality("all")
    >>> wine.data.shape
    (6497, 12)
    >>> wine.feature_names[-1]
    'is_red'
    """
    if variant not in _VARIANTS:
        raise ValueError(
            f"variant must be one of {', '.join(map(repr, _VARIANTS))}; "
            f"got {variant!r}."
        )

    if variant == "all":
        red_X, red_y, feature_names, target_name = _read_csv("red")
        white_X, white_y, _, _ = _read_csv("white")
        is_red = np.concatenate([np.ones(len(red_y)), np.zeros(len(white_y))])
        data = np.column_stack([np.concatenate([red_X, white_X]), is_red])
        target = np.concatenate([red_y, white_y])
        feature_names = [*feature_names, "is_red"]
    else:
        data, target, feature_names, target_name = _read_csv(variant)
    target_names = [target_name]

    frame = None
    if as_frame:
        pd = check_pandas_support("load_wine_quality with as_frame=True")
        frame = pd.DataFrame(
            np.column_stack([data, target]), columns=feature_names + target_names
        )
        data, target = frame[feature_names], frame[target_name]

    if return_X_y:
        return data, target

    descr = files("skadmm.datasets") / "descr" / "wine_quality.rst"
    return Bunch(
        data=data,
        target=target,
        feature_names=feature_names,
        target_names=target_names,
        frame=frame,
        DESCR=descr.read_text(encoding="utf-8"),
        variant=variant,
    )

"""Parameter constraints shared by the estimators and functions.

scikit-learn's ``Interval(Integral, ...)`` admits ``True`` and ``False``
(``bool`` is an ``Integral``), so ``width=True`` passed the check and failed
deep inside the fit with ``TypeError: an integer is required``. A count is
an integer that is not a bool.
"""

from numbers import Integral

from sklearn.utils._param_validation import Interval


class Count(Interval):
    """``Interval(Integral, left, right, closed=...)`` without the bools."""

    def __init__(self, left, right, *, closed):
        super().__init__(Integral, left, right, closed=closed)

    def is_satisfied_by(self, val):
        return not isinstance(val, bool) and super().is_satisfied_by(val)

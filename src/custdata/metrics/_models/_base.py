"""What every fitted model shares: reading the data, weighted maximum likelihood, standard errors,
JSON save/load, reprs and output shaped like the input."""

from __future__ import annotations

import json
import logging
import math
import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, TypeVar

from custdata.exceptions import BoundaryFitWarning, ConvergenceError, MissingExtraError, ValidationError
from custdata.metrics._input import get, is_dataframe, number

try:
    import numpy as np
    import scipy  # noqa: F401 - fail early, with the install hint, when scipy is missing
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingExtraError("models", "the CLV models", ["numpy", "scipy"]) from exc

logger = logging.getLogger(__name__)

M = TypeVar("M", bound="FittedModel")
Array = Any  # numpy arrays; kept loose so the public signatures stay readable
Objective = Callable[[Array], tuple[float, Array | None]]

FORMAT = 1


# ------------------------------------------------------------------------------------------------ input
def columns(data: Any, names: Sequence[str], aliases: Mapping[str, Sequence[str]]) -> list[Array]:
    """Float arrays of the named fields from summaries, mappings, a DataFrame or a mapping of arrays."""
    if is_dataframe(data):
        out = []
        for name in names:
            col = next((c for c in (name, *aliases.get(name, ())) if c in data.columns), None)
            if col is None:
                raise ValidationError(f"the DataFrame has no {name!r} column", field=name)
            out.append(data[col].to_numpy(dtype=float))
        return out
    if isinstance(data, Mapping):
        return [np.asarray(get(data, n, *aliases.get(n, ())), dtype=float).ravel() for n in names]
    items = data if isinstance(data, Sequence) else list(data)
    return [np.fromiter((get(r, n, *aliases.get(n, ())) for r in items), float, len(items)) for n in names]


def customer_ids(data: Any) -> list[str] | None:
    """The customer ids of the rows, when they carry one."""
    if is_dataframe(data):
        for c in ("customer_id", "id", "ID"):
            if c in data.columns:
                return [str(v) for v in data[c]]
        return [str(v) for v in data.index]
    if isinstance(data, Mapping):
        got = get(data, "customer_id", default=None)
        return None if got is None else [str(v) for v in got]
    return [str(get(r, "customer_id", "id", "ID", default=n)) for n, r in enumerate(data)]


def _codes(col: Array) -> tuple[Array, Array]:
    """Distinct values of a column and each row's index into them.

    Summaries are usually whole periods, or days counted in weeks (days / 7): such columns are coded by
    counting, without sorting a million floats.
    """
    if col.size and col.dtype.kind == "f":
        lo, hi = float(col.min()), float(col.max())
        for scale in (1.0, 7.0):
            if lo < 0 or hi * scale >= 1e6:
                break
            scaled = col * scale if scale != 1.0 else col
            whole = np.rint(scaled)
            if np.all(np.abs(scaled - whole) <= 1e-9 * max(hi, 1.0)):
                ints = whole.astype(np.int64)
                counts = np.bincount(ints)
                present = counts > 0
                first = np.flatnonzero(present)
                lookup = np.cumsum(present) - 1
                # each distinct value as it occurs in the data (not as whole / scale): exact round trip
                values = np.empty(len(first))
                values[lookup[ints]] = col
                return values, lookup[ints]
    values = np.unique(col)
    return values, np.searchsorted(values, col)


def collapse_coded(
    cols: Sequence[Array], weights: Array | None = None
) -> tuple[list[tuple[Array, Array]], Array]:
    """Unique rows of the columns and how many times (or with what total weight) each occurs.

    One million customers observed in days or weeks collapse to a few tens of thousands of rows, so a
    likelihood evaluation costs a fraction of the naive one. Each column of the unique rows comes as
    (distinct values, codes): ``values[codes]`` is the column, and a function of the column needs to be
    computed on the few distinct values only.
    """
    n = len(cols[0])
    if n == 0:
        return [(np.empty(0), np.empty(0, dtype=np.int64)) for _ in cols], np.empty(0)
    key = np.zeros(n, dtype=np.int64)
    coded = [_codes(np.asarray(col, dtype=float)) for col in cols]
    if math.prod(len(u) for u, _ in coded) >= 2**62:  # pragma: no cover - astronomically many values
        stacked = np.stack(cols, axis=1)
        rows_, counts_ = np.unique(stacked, axis=0, return_counts=True)
        return [_codes(rows_[:, i]) for i in range(len(cols))], counts_.astype(float)
    for values, codes in coded:
        key = key * len(values) + codes
    space = math.prod(len(u) for u, _ in coded)
    if space <= max(4 * n, 10_000_000):  # count by key directly: no sort
        counts = np.bincount(key, weights=weights, minlength=space)
        ukey = (
            np.flatnonzero(np.bincount(key, minlength=space))
            if weights is not None
            else np.flatnonzero(counts)
        )
        w = counts[ukey].astype(float)
        out = []
        stride = space
        for values, _ in coded:
            stride //= len(values)
            out.append((values, (ukey // stride) % len(values)))
        return out, w
    ukey, first, inv = np.unique(key, return_index=True, return_inverse=True)
    if weights is None:
        w = np.bincount(inv.ravel(), minlength=len(ukey)).astype(float)
    else:
        w = np.bincount(inv.ravel(), weights=weights, minlength=len(ukey))
    return [(values, codes[first]) for values, codes in coded], w


def collapse(cols: Sequence[Array], weights: Array | None = None) -> tuple[list[Array], Array]:
    """Unique rows of the columns (as plain columns) and their counts or total weights."""
    coded, w = collapse_coded(cols, weights)
    return [values[codes] for values, codes in coded], w


# ------------------------------------------------------------------------------------------------ maths
def dot(a: Any, b: Any) -> float:
    """Σ a·b without BLAS: OpenBLAS spreads long dot products over threads, and on a busy machine their
    spin-waiting made a whole fit several times slower."""
    return float(np.multiply(a, b).sum())


def hyp2f1(a: Any, b: Any, c: Any, z: Any) -> Array:
    """scipy's Gauss hypergeometric function, guarded against its degenerate cases.

    With integer a, b and c (c - a - b an integer) and z above 0.9, ``scipy.special.hyp2f1`` can return
    inf or NaN for perfectly finite values. The function is smooth in c, so those points are evaluated at
    c * (1 + 1e-9) instead (relative error far below 1e-6).
    """
    from scipy import special

    with np.errstate(all="ignore"):
        value = np.asarray(special.hyp2f1(a, b, c, z), dtype=float)
        bad = ~np.isfinite(value) & (np.asarray(z) < 1.0)
        if np.any(bad):
            nudged = np.asarray(
                special.hyp2f1(a, b, np.asarray(c, dtype=float) * (1.0 + 1e-9), z), dtype=float
            )
            value = np.where(bad, nudged, value)
    return value


def log_beta_ratio(a: float, b: float, n: Any) -> Array:
    """log[B(a, b+n) / B(a, b)] for whole n >= 0, as Σ_{k<n} log(1 - a/(a+b+k)).

    The difference of two ``betaln`` values loses about |betaln| · 1e-16: with a and b in the millions (a
    fit whose heterogeneity is gone) that is 1e-8 of the result. The sum is exact to rounding; beyond a
    million terms the difference is used.
    """
    nn = np.asarray(n, dtype=float)
    top = int(nn.max()) if nn.size else 0
    if top > 1_000_000:
        from scipy import special

        return np.asarray(special.betaln(a, b + nn) - special.betaln(a, b))
    steps = np.log1p(-a / (a + b + np.arange(top, dtype=float)))
    cum = np.concatenate([[0.0], np.cumsum(steps)])
    return np.asarray(cum[nn.astype(np.int64)])


# ------------------------------------------------------------------------------------------------ output
def shape_like(value: Array, *inputs: Any) -> Any:
    """Return ``value`` shaped as the caller passed it: a float for scalars, a Series for Series, a list
    for lists, a numpy array for arrays."""
    first = next((x for x in inputs if not np.isscalar(x) and x is not None), None)
    if first is None:
        return float(np.asarray(value).reshape(-1)[0]) if np.size(value) == 1 else np.asarray(value)
    if type(first).__module__.startswith("pandas") and hasattr(first, "index"):
        import pandas as pd

        return pd.Series(np.asarray(value, dtype=float), index=first.index)
    if isinstance(first, (list, tuple)):
        return [float(v) for v in np.asarray(value, dtype=float).ravel()]
    return np.asarray(value, dtype=float)


def arrays(*values: Any) -> list[Array]:
    """Broadcast float arrays of the inputs."""
    return list(np.broadcast_arrays(*[np.asarray(v, dtype=float) for v in values]))


def check_summary(x: Array, t_x: Array, T: Array) -> None:  # noqa: N803 - the papers' name
    """Validate frequency/recency/T columns."""
    problems = []
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(t_x)) and np.all(np.isfinite(T))):
        problems.append("frequency, recency and T must be finite numbers")
    elif np.any(x < 0) or np.any(t_x < 0) or np.any(T < 0):
        problems.append("frequency, recency and T must be >= 0")
    elif np.any(t_x > T + 1e-9):
        problems.append("recency must be <= T (recency is the time from the first to the last purchase)")
    elif np.any((x == 0) & (t_x > 0)):
        problems.append("a customer without repeat purchases (frequency 0) must have recency 0")
    if problems:
        raise ValidationError("; ".join(problems), field="summary")


def numeric_hessian(grad: Callable[[Array], Array], x: Array, h: float = 1e-5) -> Array:
    """Forward-difference Hessian from a gradient function (the gradient at ``x`` is usually cached from
    the optimizer's last step; relative error about ``h``, plenty for standard errors)."""
    k = len(x)
    hess = np.empty((k, k))
    g0 = grad(x)
    for i in range(k):
        step = np.zeros(k)
        step[i] = h
        hess[:, i] = (grad(x + step) - g0) / h
    return (hess + hess.T) / 2


def cached(objective: Objective) -> Objective:
    """The objective, remembering its last evaluation (the optimizer's final point is evaluated again
    for the log-likelihood and the Hessian)."""
    last: list[Any] = [None, None]

    def wrapped(theta: Array) -> tuple[float, Array | None]:
        key = np.asarray(theta, dtype=float).tobytes()
        if last[0] != key:
            last[0], last[1] = key, objective(theta)
        result: tuple[float, Array | None] = last[1]
        return result

    return wrapped


def numeric_hessian_f(f: Callable[[Array], float], x: Array, h: float = 1e-3) -> Array:
    """Central-difference Hessian from function values."""
    k = len(x)
    hess = np.empty((k, k))
    f0 = f(x)
    for i in range(k):
        ei = np.zeros(k)
        ei[i] = h
        hess[i, i] = (f(x + ei) - 2 * f0 + f(x - ei)) / h**2
        for j in range(i):
            ej = np.zeros(k)
            ej[j] = h
            v = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)) / (4 * h * h)
            hess[i, j] = hess[j, i] = v
    return hess


# ------------------------------------------------------------------------------------------------ model
class FittedModel:
    """Base of the models: parameters by maximum likelihood, standard errors, JSON, repr."""

    _names: ClassVar[tuple[str, ...]] = ()
    _label: ClassVar[str] = ""
    _advice: ClassVar[str] = (
        "try a small penalizer (e.g. penalizer=0.001), check the summary's units (weeks rather than "
        "days keep the numbers moderate), and check that frequency counts repeat purchases only"
    )

    #: (kind, shape, partner, meaning): a heterogeneity distribution that can degenerate. "beta": both
    #: parameters of a beta running off to infinity together; "gamma": the shape of a gamma running off
    #: (its rate follows). The meaning is given the parameters and says what the limit model is.
    _limits: ClassVar[tuple[tuple[str, str, str, Callable[[dict[str, float]], str]], ...]] = ()
    #: parameter -> what it means when the fit drives it towards 0
    _near_zero: ClassVar[Mapping[str, str]] = {}

    def __init__(self, *, penalizer: float = 0.0) -> None:
        value = number(penalizer, "penalizer")
        if not value >= 0:
            raise ValidationError(f"penalizer must be >= 0, got {penalizer!r}", field="penalizer")
        self.penalizer = value
        self._params: dict[str, float] | None = None
        self._se: dict[str, float] = {}
        self._ll: float = math.nan
        self._n: int = 0

    # -- fitted state
    @property
    def fitted(self) -> bool:
        """Has the model parameters (fitted or loaded)?"""
        return self._params is not None

    @property
    def params(self) -> dict[str, float]:
        """The parameters by the papers' names, as plain floats."""
        return dict(self._need())

    @property
    def standard_errors(self) -> dict[str, float]:
        """Standard errors of the parameters (from the inverse Hessian of the log-likelihood; NaN when
        the Hessian is not positive definite)."""
        self._need()
        return dict(self._se)

    @property
    def log_likelihood(self) -> float:
        """The total (not mean) log-likelihood at the fitted parameters."""
        self._need()
        return self._ll

    @property
    def n_customers(self) -> int:
        """The number of customers (rows, counted with their weights) the model was fitted on."""
        return self._n

    def _need(self) -> dict[str, float]:
        if self._params is None:
            raise ValidationError(f"{type(self).__name__} is not fitted yet: call .fit(summary) first")
        return self._params

    def _p(self) -> tuple[float, ...]:
        p = self._need()
        return tuple(p[n] for n in self._names)

    # -- fitting
    def _run_fit(self, objective: Objective, x0: Array, total_weight: float, has_grad: bool) -> None:
        """Maximise the likelihood and set the parameters, standard errors and log-likelihood."""
        objective = cached(objective)
        theta = self._maximize(objective, x0, total_weight, has_grad)
        self._set_fit(theta, objective, total_weight, has_grad)
        explained, notes = self._boundaries()
        # a parameter far out (below 1e-6 or above 1e6) that the data do not pin down (standard error a
        # hundred times its size, or none) means the likelihood is still climbing towards a boundary;
        # unless it is a known limit (a heterogeneity that vanished), the predictions cannot be trusted
        loose = [
            n
            for n, th in zip(self._names, theta, strict=True)
            if abs(th) >= 13.8
            and not self._se[n] < 100 * self._params[n]  # type: ignore[index]
            and n not in explained
        ]
        if loose:
            shown = ", ".join(f"{k}={v:.3g}" for k, v in (self._params or {}).items())
            self._params, self._se, self._ll, self._n = None, {}, math.nan, 0
            raise ConvergenceError(
                f"{self._label} fit did not converge: {', '.join(loose)} ran off towards 0 or infinity "
                f"({shown}), so the data do not pin the model down; {self._advice}"
            )
        for note in notes:
            warnings.warn(BoundaryFitWarning(note), stacklevel=4)

    def _boundaries(self) -> tuple[set[str], list[str]]:
        """The parameters explained by a known limit, and a note per limit reached.

        A limit is reached when the parameters run large (>= 10) and the data do not pin them down
        (standard error larger than the value, or none): the likelihood is flat along the direction in
        which the heterogeneity vanishes, and the predictions are those of the limit model. A parameter
        driven towards 0 (<= 0.01, loose) gets a note too; below 1e-6 it is pinned at the bound and the
        fit is refused (:class:`ConvergenceError`).
        """
        p, se = self._params or {}, self._se

        def loose(name: str) -> bool:
            return not se.get(name, math.nan) <= p[name]

        explained: set[str] = set()
        notes: list[str] = []
        for kind, shape, other, meaning in self._limits:
            big = p[shape] >= 10 and loose(shape)
            if kind == "beta":
                big = big and p[other] >= 10 and loose(other)
            if big:
                explained |= {shape, other}
                notes.append(
                    f"{self._label} fit ended on a boundary: {shape}={p[shape]:.4g} and "
                    f"{other}={p[other]:.4g} run off towards infinity together (the data do not pin them "
                    f"down): {meaning(p)}"
                )
        for name, meaning_text in self._near_zero.items():
            if name not in explained and 1e-6 < p[name] <= 1e-2 and loose(name):
                notes.append(
                    f"{self._label} fit ended on a boundary: {name}={p[name]:.3g} is near 0: {meaning_text}"
                )
        return explained, notes

    def _maximize(self, objective: Objective, x0: Array, total_weight: float, has_grad: bool) -> Array:
        """Minimise the penalised negative log-likelihood over log-parameters; set ``_ll``, ``_se``."""
        pen = self.penalizer
        scale = max(total_weight, 1.0)

        def scaled(theta: Array) -> Any:
            value, grad = objective(theta)
            value = value / scale + pen * dot(theta, theta)
            if not has_grad:
                return value
            return value, grad / scale + 2 * pen * theta  # type: ignore[operator]

        def guarded(theta: Array) -> Any:
            """The objective inside the box [-30, 30] (parameters from 1e-13 to 1e13), a steep quadratic
            wall outside it, and a large finite value where the likelihood overflows: unconstrained BFGS
            then never steps into NaN."""
            inside = np.clip(theta, -30.0, 30.0)
            excess = theta - inside
            out = scaled(inside)
            value, grad = out if has_grad else (out, None)
            if not math.isfinite(value) or (grad is not None and not np.all(np.isfinite(grad))):
                value, grad = 1e10, -1e3 * inside
            value += 1e3 * dot(excess, excess)
            if not has_grad:
                return value
            return value, grad + 2e3 * excess

        from scipy import optimize  # imported on the first fit: predictions alone do not need it

        with np.errstate(all="ignore"):
            # BFGS first: for a handful of parameters it is much cheaper per step than L-BFGS-B, whose
            # compiled core calls BLAS (slow on a busy machine); L-BFGS-B, with bounds, as the fallback
            res = optimize.minimize(
                guarded, x0, jac=has_grad, method="BFGS", options={"maxiter": 2000, "gtol": 1e-8}
            )
            theta = np.clip(np.asarray(res.x, dtype=float), -30.0, 30.0)
            out = scaled(theta)
            value = float(out[0] if has_grad else out)
            grad_norm = float(np.max(np.abs(out[1]))) if has_grad else 0.0
            if not (math.isfinite(value) and grad_norm < 1e-5 and (res.success or has_grad)):
                logger.debug("%s: BFGS stopped with %r; trying L-BFGS-B", self._label, res.message)
                res2 = optimize.minimize(
                    scaled,
                    x0,
                    jac=has_grad,
                    method="L-BFGS-B",
                    bounds=[(-30.0, 30.0)] * len(x0),
                    options={"maxiter": 2000, "ftol": 1e-13, "gtol": 1e-9},
                )
                theta2 = np.asarray(res2.x, dtype=float)
                out2 = scaled(theta2)
                value2 = float(out2[0] if has_grad else out2)
                if math.isfinite(value2) and not value2 > value:
                    res, theta, value = res2, theta2, value2
        if not math.isfinite(value):
            raise ConvergenceError(f"{self._label} fit did not converge ({res.message}): {self._advice}")
        runaway = [n for n, th in zip(self._names, theta, strict=True) if abs(th) >= 20.0]
        if runaway:
            shown = ", ".join(f"{n}={math.exp(th):.3g}" for n, th in zip(self._names, theta, strict=True))
            raise ConvergenceError(
                f"{self._label} fit did not converge: {', '.join(runaway)} ran off towards "
                f"{'0 or infinity'} ({shown}), so the data do not pin the model down; {self._advice}"
            )
        if not res.success:
            logger.debug(
                "%s: optimizer stopped with %r; accepted at a stationary point", self._label, res.message
            )
        return theta

    def _set_fit(
        self,
        theta: Array,
        objective: Objective,
        n: float,
        has_grad: bool,
    ) -> None:
        pen = self.penalizer
        values = np.exp(theta)
        with np.errstate(all="ignore"):
            ll = -objective(theta)[0]
            if has_grad:

                def grad(th: Array) -> Array:
                    return np.asarray(objective(th)[1]) + 2 * pen * n * th

                hess = numeric_hessian(grad, theta)
            else:

                def f(th: Array) -> float:
                    return float(objective(th)[0]) + pen * n * dot(th, th)

                hess = numeric_hessian_f(f, theta)
            try:
                cov = np.linalg.inv(hess)
                var = np.diag(cov) * values**2  # delta method from log-parameters
                se = np.where(var > 0, np.sqrt(np.abs(var)), np.nan)
            except np.linalg.LinAlgError:
                se = np.full(len(theta), np.nan)
        if not math.isfinite(ll):
            raise ConvergenceError(
                f"{self._label}: the log-likelihood at the fit is not finite: {self._advice}"
            )
        self._params = {k: float(v) for k, v in zip(self._names, values, strict=True)}
        self._se = {k: float(v) for k, v in zip(self._names, se, strict=True)}
        self._ll = float(ll)
        self._n = round(n)
        logger.info("%s fitted on %d customers: %s, LL %.3f", self._label, self._n, self._params, self._ll)

    # -- persistence
    def to_dict(self) -> dict[str, Any]:
        """The model as plain JSON-ready data (parameters, standard errors, log-likelihood)."""
        from custdata._version import __version__

        return {
            "model": type(self).__name__,
            "format": FORMAT,
            "params": self.params,
            "standard_errors": {k: (None if math.isnan(v) else v) for k, v in self._se.items()},
            "log_likelihood": None if math.isnan(self._ll) else self._ll,
            "n_customers": self._n,
            "penalizer": self.penalizer,
            "custdata_version": __version__,
        }

    def to_json(self) -> str:
        """The model as JSON text; :meth:`from_json` gives back a model with identical predictions."""
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_dict(cls: type[M], data: Mapping[str, Any]) -> M:
        """A model from :meth:`to_dict` output."""
        if data.get("model") != cls.__name__:
            raise ValidationError(
                f"this JSON holds a {data.get('model')!r}, not a {cls.__name__}", field="model"
            )
        if data.get("format", FORMAT) > FORMAT:
            raise ValidationError(
                f"unknown model format {data.get('format')}: upgrade custdata", field="format"
            )
        params = data.get("params") or {}
        missing = [n for n in cls._names if n not in params]
        if missing:
            raise ValidationError(f"parameters missing: {', '.join(missing)}", field="params")
        model = cls(penalizer=float(data.get("penalizer", 0.0)))
        model._params = {n: float(params[n]) for n in cls._names}
        se = data.get("standard_errors") or {}
        model._se = {n: math.nan if se.get(n) is None else float(se[n]) for n in cls._names}
        ll = data.get("log_likelihood")
        model._ll = math.nan if ll is None else float(ll)
        model._n = int(data.get("n_customers", 0))
        return model

    @classmethod
    def from_json(cls: type[M], text: str) -> M:
        """A model from :meth:`to_json` text."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValidationError(f"not model JSON: {exc}") from None
        return cls.from_dict(data)

    @classmethod
    def from_params(cls: type[M], **params: float) -> M:
        """A model with given parameters (e.g. published ones), without fitting."""
        return cls.from_dict({"model": cls.__name__, "params": params})

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write :meth:`to_json` to a file."""
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(self.to_json())

    @classmethod
    def load(cls: type[M], path: str | os.PathLike[str]) -> M:
        """Read a model written by :meth:`save`."""
        with open(path, encoding="utf-8") as fh:
            return cls.from_json(fh.read())

    def __repr__(self) -> str:
        name = type(self).__name__
        if self._params is None:
            pen = f"penalizer={self.penalizer}" if self.penalizer else ""
            return f"{name}({pen}) <not fitted>"
        parts = []
        for k, v in self._params.items():
            se = self._se.get(k, math.nan)
            parts.append(f"{k}={v:.4g}" + ("" if math.isnan(se) else f" (±{se:.2g})"))
        ll = "" if math.isnan(self._ll) else f", log-likelihood {self._ll:,.2f}"
        fit = f" on {self._n:,} customers" if self._n else ""
        return f"<{name} {self._label}{fit}: {', '.join(parts)}{ll}>"

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self) or not isinstance(other, FittedModel):
            return NotImplemented
        return bool(self._params == other._params and self.penalizer == other.penalizer)

    __hash__ = None  # type: ignore[assignment]

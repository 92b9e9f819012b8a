"""Compile a Pyomo model once into vectorised numpy programs for f, ∇f, g, ∂g/∂x and ∇²L.

Pyomo's own `cyipopt` interface needs the PyNumero ASL library, which no package registry ships, so cfopt feeds
Ipopt itself. Walking Pyomo expression trees at every Ipopt callback would be far too slow for the models we care
about (thousands of variables, hundreds of thousands of expression nodes), so the model is compiled **once** into a
flat computational graph and every callback is a handful of numpy calls per graph level:

* **Graph.** Every distinct sub-expression becomes a node (common sub-expressions shared by object identity, named
  ``Expression`` components shared once). Linear structure (sums, monomials, negation, products and quotients with
  a constant factor) is folded into *linear-combination* nodes; the remaining nodes are variables, constants,
  unary functions (log, exp, sqrt, trig, ...), powers with a constant exponent, products, quotients and general
  powers. Nodes are grouped by *level* (1 + the deepest child) and by operation, so one level costs one numpy call
  per operation present in it.
* **Values** (forward pass): level by level. Linear nodes are one sparse matrix–vector product per level.
* **First derivatives** (forward mode with a fixed sparsity structure): each node ``n`` keeps the values of
  ``∂n/∂x_j`` for the fixed set of variables ``S_n`` it depends on. With the local partials ``∂n/∂c`` ("edge
  weights"), ``∂n/∂x = Σ_c (∂n/∂c)(∂c/∂x)``; the index arrays that route each child entry into its parent entry are
  computed at compile time, so the pass is a gather, a multiply and a segmented sum (``np.add.reduceat``) per level.
  The objective gradient and the constraint Jacobian are read off the root nodes' entries, in a fixed sparse order.
* **Hessian of the Lagrangian** ``σ∇²f + Σ_i λ_i∇²g_i``: with adjoints ``v̄_n = ∂L/∂n`` from a reverse pass, the
  second-order chain rule unrolled over the graph gives
  ``∇²L = Σ_{nonlinear n} v̄_n · J_{c(n)}ᵀ ∇²φ_n J_{c(n)}`` where ``φ_n`` is the node's local operation and
  ``J_{c(n)}`` the Jacobian of its children (already known from the forward pass). Each term is routed, through index
  arrays built at compile time, into the fixed lower-triangular pattern: one ``np.bincount`` per evaluation.
  The number of such pairs is known before they are built; above ``hessian_max_pairs`` the bridge declines the exact
  Hessian and the adapter switches Ipopt to its limited-memory (L-BFGS) approximation.

Mutable ``Param`` values, fixed variables and variable/constraint bounds are **re-read at every solve**
(:meth:`CompiledNLP.refresh`), so a sweep that changes mutable parameters reuses the compiled program.

Supported: everything Pyomo's algebraic expressions offer except ``Expr_if``, ``min``/``max`` and external
functions, which raise :class:`instances.errors.InputError` naming the construct (field ``model``).
"""
from __future__ import annotations

import functools
import math
import sys
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyomo.environ as pe
import scipy.sparse as sp
from pyomo.core.expr import numeric_expr as ne

from instances.errors import InputError
from solvers_adapters.algorithms.loop import Clock

# ----------------------------------------------------------------------------------------------- node operations
VAR, CONST, LIN, UNARY, POWK, MUL, DIV, POW = range(8)


def _d_sqrt(x):
    return 0.5 / np.sqrt(x)


# name -> (f, f', f'')
_UNARY: dict[str, tuple] = {
    "log": (np.log, lambda x: 1.0 / x, lambda x: -1.0 / (x * x)),
    "log10": (np.log10, lambda x: 1.0 / (x * math.log(10.0)), lambda x: -1.0 / (x * x * math.log(10.0))),
    "exp": (np.exp, np.exp, np.exp),
    "sqrt": (np.sqrt, _d_sqrt, lambda x: -0.25 * x ** -1.5),
    "sin": (np.sin, np.cos, lambda x: -np.sin(x)),
    "cos": (np.cos, lambda x: -np.sin(x), lambda x: -np.cos(x)),
    "tan": (np.tan, lambda x: 1.0 / np.cos(x) ** 2, lambda x: 2.0 * np.tan(x) / np.cos(x) ** 2),
    "asin": (np.arcsin, lambda x: 1.0 / np.sqrt(1 - x * x), lambda x: x / (1 - x * x) ** 1.5),
    "acos": (np.arccos, lambda x: -1.0 / np.sqrt(1 - x * x), lambda x: -x / (1 - x * x) ** 1.5),
    "atan": (np.arctan, lambda x: 1.0 / (1 + x * x), lambda x: -2.0 * x / (1 + x * x) ** 2),
    "sinh": (np.sinh, np.cosh, np.sinh),
    "cosh": (np.cosh, np.sinh, np.cosh),
    "tanh": (np.tanh, lambda x: 1.0 - np.tanh(x) ** 2,
             lambda x: -2.0 * np.tanh(x) * (1.0 - np.tanh(x) ** 2)),
    "asinh": (np.arcsinh, lambda x: 1.0 / np.sqrt(x * x + 1), lambda x: -x / (x * x + 1) ** 1.5),
    "acosh": (np.arccosh, lambda x: 1.0 / np.sqrt(x * x - 1), lambda x: -x / (x * x - 1) ** 1.5),
    "atanh": (np.arctanh, lambda x: 1.0 / (1 - x * x), lambda x: 2.0 * x / (1 - x * x) ** 2),
    "abs": (np.abs, np.sign, np.zeros_like),
}
_UNARY_IDS = {name: i for i, name in enumerate(_UNARY)}
_UNARY_LIST = list(_UNARY.values())


class _Coef:
    """A linear coefficient ``c`` or ``c * value(expr)`` with ``expr`` a Pyomo fixed (NPV) expression that is
    re-evaluated at every :meth:`CompiledNLP.refresh` (mutable Params, fixed variables)."""

    __slots__ = ("c", "e")

    def __init__(self, c: float = 1.0, e: Any = None):
        self.c = float(c)
        self.e = e

    def __mul__(self, other: "_Coef") -> "_Coef":
        if self.e is None:
            return _Coef(self.c * other.c, other.e)
        if other.e is None:
            return _Coef(self.c * other.c, self.e)
        return _Coef(self.c * other.c, self.e * other.e)

    def __add__(self, other: "_Coef") -> "_Coef":
        if self.e is None and other.e is None:
            return _Coef(self.c + other.c)
        return _Coef(1.0, self.as_pyomo() + other.as_pyomo())

    def __neg__(self) -> "_Coef":
        return _Coef(-self.c, self.e)

    def as_pyomo(self):
        return self.c if self.e is None else self.c * self.e

    @property
    def fixed(self) -> bool:
        return self.e is None

    def value(self) -> float:
        return self.c if self.e is None else self.c * float(pe.value(self.e))


def _npv_coef(e) -> _Coef:
    """Coefficient for a fixed sub-expression: a plain float if it can never change, else a refreshable one."""
    if e.__class__ in (int, float) or e.is_constant():
        return _Coef(pe.value(e))
    return _Coef(1.0, e)


@dataclass
class _Level:
    lin_nodes: np.ndarray | None = None
    lin_matrix: sp.csr_matrix | None = None
    lin_edges: np.ndarray | None = None       # edge ids in lin_matrix.data order
    lin_const_slot: np.ndarray | None = None  # index into const_terms per lin node
    unary: list = field(default_factory=list)  # (func_id, nodes, child, edge_ids, nl_ids)
    powk: tuple | None = None                  # (nodes, child, kslot, edge_ids, nl_ids)
    mul: tuple | None = None                   # (nodes, a, b, edge_a, edge_b, nl_ids)
    div: tuple | None = None
    pow: tuple | None = None
    # forward-mode Jacobian routing
    jac_src: np.ndarray | None = None
    jac_edge: np.ndarray | None = None
    jac_starts: np.ndarray | None = None
    jac_tgt: np.ndarray | None = None
    # reverse routing (edges whose parent is on this level)
    rev_parent: np.ndarray | None = None
    rev_child: np.ndarray | None = None
    rev_edge: np.ndarray | None = None


class CompiledNLP:
    """A Pyomo model compiled into numpy programs. Build with :func:`compile_model`.

    Attributes: ``n`` variables (``vars`` in order), ``m`` constraints (``cons`` in order), ``jac_rows/jac_cols``
    (fixed sparse Jacobian structure), ``hess_rows/hess_cols`` (lower triangle, or None when the exact Hessian was
    declined), ``sense`` (+1 minimise, −1 maximise; :meth:`objective` returns the model's objective, Ipopt gets
    ``sense * objective``).
    """

    # ------------------------------------------------------------------ construction (see compile_model)
    def __init__(self) -> None:
        self.compile_time_s = 0.0
        self._x_cache: np.ndarray | None = None
        self._jac_cache: np.ndarray | None = None

    # ------------------------------------------------------------------ refresh: re-read Pyomo data
    def refresh(self) -> None:
        """Re-read everything that may change between solves without changing structure: mutable parameter
        values (coefficients, constants, exponents), fixed variables' values, variable and constraint bounds."""
        ew = self.edge_w
        for eid, coef in self._lin_edge_coefs:
            ew[eid] = coef.value()
        for lv in self.levels:
            if lv.lin_matrix is not None:
                lv.lin_matrix.data[:] = ew[lv.lin_edges]
        for i, coef in self._const_refresh:
            self.const_vals[i] = coef.value()
        for i, coef in self._const_refresh_lin:
            self.lin_const[i] = coef.value()
        for i, coef in self._powk_refresh:
            self.powk_exp[i] = coef.value()
        self.values[self.const_nodes] = self.const_vals[self.const_node_slot]
        lb = np.full(self.n, -np.inf)
        ub = np.full(self.n, np.inf)
        x0 = np.zeros(self.n)
        self.integer_vars = []
        for j, v in enumerate(self.vars):
            if v.fixed:
                lb[j] = ub[j] = float(v.value)
            else:
                if v.lb is not None:
                    lb[j] = float(v.lb)
                if v.ub is not None:
                    ub[j] = float(v.ub)
                if not v.is_continuous():
                    self.integer_vars.append(v)
            x0[j] = np.nan if v.value is None else float(v.value)
        self.x_lb, self.x_ub, self.x_init = lb, ub, x0
        cl = np.full(self.m, -np.inf)
        cu = np.full(self.m, np.inf)
        for i, c in enumerate(self.cons):
            off = self.con_offset_terms[i].value()
            if c.has_lb():
                cl[i] = float(pe.value(c.lower)) - off
            if c.has_ub():
                cu[i] = float(pe.value(c.upper)) - off
        self.g_lb, self.g_ub = cl, cu
        self.obj_offset = self.obj_offset_term.value()
        self._x_cache = None

    # ------------------------------------------------------------------ forward pass
    def _forward(self, x: np.ndarray) -> None:
        if self._x_cache is not None and np.array_equal(x, self._x_cache):
            return
        v = self.values
        ew = self.edge_w
        hl = self.hl
        v[self.var_nodes] = x
        for lv in self.levels:
            if lv.lin_nodes is not None:
                v[lv.lin_nodes] = lv.lin_matrix @ v + self.lin_const[lv.lin_const_slot]
            for fid, nodes, ch, eid, nl in lv.unary:
                f, df, ddf = _UNARY_LIST[fid]
                c = v[ch]
                v[nodes] = f(c)
                ew[eid] = df(c)
                hl[nl, 0] = ddf(c)
            if lv.powk is not None:
                nodes, ch, kslot, eid, nl = lv.powk
                c = v[ch]
                k = self.powk_exp[kslot]
                with np.errstate(divide="ignore", invalid="ignore"):
                    v[nodes] = c ** k
                    ew[eid] = np.where(k == 0, 0.0, k * c ** (k - 1))
                    hl[nl, 0] = np.where((k == 0) | (k == 1), 0.0, k * (k - 1) * c ** (k - 2))
            if lv.mul is not None:
                nodes, a, b, ea, eb, nl = lv.mul
                va, vb = v[a], v[b]
                v[nodes] = va * vb
                ew[ea] = vb
                ew[eb] = va
            if lv.div is not None:
                nodes, a, b, ea, eb, nl = lv.div
                va, vb = v[a], v[b]
                inv = 1.0 / vb
                q = va * inv
                v[nodes] = q
                ew[ea] = inv
                ew[eb] = -q * inv
                hl[nl, 1] = -inv * inv
                hl[nl, 2] = 2.0 * q * inv * inv
            if lv.pow is not None:
                nodes, a, b, ea, eb, nl = lv.pow
                va, vb = v[a], v[b]
                with np.errstate(divide="ignore", invalid="ignore"):
                    r = va ** vb
                    lna = np.log(va)
                    v[nodes] = r
                    ew[ea] = vb * va ** (vb - 1)
                    ew[eb] = r * lna
                    hl[nl, 0] = vb * (vb - 1) * va ** (vb - 2)
                    hl[nl, 1] = va ** (vb - 1) * (1 + vb * lna)
                    hl[nl, 2] = r * lna * lna
        self._x_cache = np.array(x, dtype=float, copy=True)
        self._jac_cache = None

    def _forward_jac(self) -> np.ndarray:
        if self._jac_cache is not None:
            return self._jac_cache
        J = self.jvals
        ew = self.edge_w
        for lv in self.levels:
            if lv.jac_src is None:
                continue
            prod = ew[lv.jac_edge] * J[lv.jac_src]
            J[lv.jac_tgt] = np.add.reduceat(prod, lv.jac_starts)
        self._jac_cache = J
        return J

    # ------------------------------------------------------------------ public callbacks (model sense)
    def objective(self, x: np.ndarray) -> float:
        self._forward(x)
        return float(self.values[self.obj_node]) + self.obj_offset

    def gradient(self, x: np.ndarray) -> np.ndarray:
        self._forward(x)
        J = self._forward_jac()
        g = np.zeros(self.n)
        g[self.obj_grad_vars] = J[self.obj_grad_entries]
        return g

    def constraints(self, x: np.ndarray) -> np.ndarray:
        self._forward(x)
        return self.values[self.con_nodes]

    def jacobian(self, x: np.ndarray) -> np.ndarray:
        self._forward(x)
        return self._forward_jac()[self.jac_entries]

    def jacobian_sparse(self, x: np.ndarray) -> sp.csr_matrix:
        return sp.csr_matrix((self.jacobian(x), (self.jac_rows, self.jac_cols)), shape=(self.m, self.n))

    def hessian(self, x: np.ndarray, lagrange: np.ndarray, obj_factor: float) -> np.ndarray:
        """Values of ``obj_factor·∇²f + Σ λ_i ∇²g_i`` on (hess_rows, hess_cols), f the model's objective."""
        if self.hess_rows is None:
            raise RuntimeError("the exact Hessian was declined for this model (too many pairs); use L-BFGS")
        self._forward(x)
        J = self._forward_jac()
        adj = np.zeros(self.n_nodes)
        adj[self.obj_node] += obj_factor
        np.add.at(adj, self.con_nodes, lagrange)
        ew = self.edge_w
        for lv in reversed(self.levels):
            if lv.rev_parent is None:
                continue
            adj += np.bincount(lv.rev_child, weights=ew[lv.rev_edge] * adj[lv.rev_parent], minlength=self.n_nodes)
        w = (adj[self.nl_nodes][:, None] * self.hl).ravel()
        contrib = w[self.pair_w] * J[self.pair_a] * J[self.pair_b]
        if self.pair_mult is not None:
            contrib *= self.pair_mult
        return np.bincount(self.pair_tgt, weights=contrib, minlength=len(self.hess_rows))

    def hessian_dense(self, x, lagrange, obj_factor) -> np.ndarray:
        vals = self.hessian(x, lagrange, obj_factor)
        H = np.zeros((self.n, self.n))
        np.add.at(H, (self.hess_rows, self.hess_cols), vals)
        return H + np.tril(H, -1).T

    # ------------------------------------------------------------------ load back
    def load(self, x: np.ndarray) -> None:
        for v, val in zip(self.vars, x):
            if not v.fixed:
                v.set_value(float(val), skip_validation=True)

    def stats(self) -> dict[str, Any]:
        return {
            "variables": self.n, "constraints": self.m, "nodes": self.n_nodes, "levels": len(self.levels),
            "jacobian_nnz": len(self.jac_rows), "jacobian_entries_all_nodes": int(self.jvals.size),
            "hessian_nnz": None if self.hess_rows is None else len(self.hess_rows),
            "hessian_pairs": self.hessian_pairs, "compile_time_s": self.compile_time_s,
        }


# ===================================================================================================== compiler
class _Builder:
    """Walks the Pyomo expressions once and records the graph."""

    def __init__(self) -> None:
        self.op: list[int] = []
        self.children: list[tuple] = []
        self.aux: list[Any] = []          # per node: func id (UNARY), exponent _Coef (POWK), (coefs, const) (LIN), ...
        self.level: list[int] = []
        self.memo: dict[int, int] = {}    # id(pyomo object) -> node
        self.keep: list[Any] = []         # keep memoised objects alive (ids must stay unique)
        self.var_index: dict[int, int] = {}
        self.vars: list[Any] = []
        self.var_nodes: list[int] = []
        self.const_memo: dict[float, int] = {}

    # -------------------------------------------------------------- node creation
    def _new(self, op: int, children: tuple, aux: Any = None) -> int:
        self.op.append(op)
        self.children.append(children)
        self.aux.append(aux)
        self.level.append(1 + max((self.level[c] for c in children), default=-1))
        return len(self.op) - 1

    def var_node(self, v) -> int:
        k = id(v)
        node = self.var_index.get(k)
        if node is None:
            node = self._new(VAR, (), len(self.vars))
            self.var_index[k] = node
            self.vars.append(v)
            self.var_nodes.append(node)
        return node

    def const_node(self, coef: _Coef) -> int:
        if coef.fixed:
            node = self.const_memo.get(coef.c)
            if node is None:
                node = self._new(CONST, (), coef)
                self.const_memo[coef.c] = node
            return node
        return self._new(CONST, (), coef)

    # -------------------------------------------------------------- expression walk
    def node(self, e) -> int:
        """Node for a potentially variable expression ``e``."""
        if e.__class__ in (int, float):
            return self.const_node(_Coef(e))
        if not e.is_potentially_variable():
            return self.const_node(_npv_coef(e))
        if e.is_variable_type():
            if e.fixed:
                return self.const_node(_Coef(1.0, e))
            return self.var_node(e)
        k = id(e)
        hit = self.memo.get(k)
        if hit is not None:
            return hit
        if e.is_named_expression_type():
            node = self.node(e.expr)
        else:
            node = self._expr_node(e)
        self.memo[k] = node
        self.keep.append(e)
        return node

    def _is_linear_kind(self, e) -> bool:
        cls = e.__class__
        if cls is ne.ProductExpression:
            a, b = e.args
            return not _pv(a) or not _pv(b)
        if cls is ne.DivisionExpression:
            return not _pv(e.args[1])
        return isinstance(e, (ne.SumExpression, ne.MonomialTermExpression, ne.NegationExpression))

    def _expr_node(self, e) -> int:
        if self._is_linear_kind(e):
            acc: dict[int, _Coef] = {}
            const = [_Coef(0.0)]
            self._collect(e, _Coef(1.0), acc, const)
            return self.lin_node(acc, const[0])
        cls = e.__class__
        if isinstance(e, ne.UnaryFunctionExpression) or cls is ne.AbsExpression:
            name = e.getname()
            if name not in _UNARY:
                raise InputError("model", f"unsupported function {name!r} in the NLP bridge")
            c = self.node(e.args[0])
            return self._new(UNARY, (c,), _UNARY_IDS[name])
        if cls is ne.PowExpression:
            base, expo = e.args
            if not _pv(expo):
                k = _npv_coef(expo) if not isinstance(expo, (int, float)) else _Coef(expo)
                if k.fixed and k.c == 1.0:
                    return self.node(base)
                if k.fixed and k.c == 0.0:
                    return self.const_node(_Coef(1.0))
                return self._new(POWK, (self.node(base),), k)
            return self._new(POW, (self.node(base), self.node(expo)))
        if cls is ne.ProductExpression:
            a, b = e.args
            return self._new(MUL, (self.node(a), self.node(b)))
        if cls is ne.DivisionExpression:
            a, b = e.args
            return self._new(DIV, (self.node(a), self.node(b)))
        raise InputError("model", f"expression type {cls.__name__} is not supported by the NLP bridge "
                                  "(no Expr_if, min/max or external functions)")

    def _collect(self, e, coef: _Coef, acc: dict, const: list) -> None:
        """Accumulate ``coef * e`` into the linear combination ``acc`` (node -> coefficient) + ``const``."""
        if e.__class__ in (int, float):
            const[0] = const[0] + coef * _Coef(e)
            return
        if not e.is_potentially_variable():
            const[0] = const[0] + coef * _npv_coef(e)
            return
        if e.is_variable_type():
            if e.fixed:
                const[0] = const[0] + coef * _Coef(1.0, e)
                return
            node = self.var_node(e)
            acc[node] = acc[node] + coef if node in acc else coef
            return
        cls = e.__class__
        if not e.is_named_expression_type() and self._is_linear_kind(e):
            if isinstance(e, ne.SumExpression):
                for arg in e.args:
                    self._collect(arg, coef, acc, const)
                return
            if cls is ne.MonomialTermExpression:
                c, v = e.args
                self._collect(v, coef * _npv_coef(c) if not isinstance(c, (int, float)) else coef * _Coef(c), acc,
                              const)
                return
            if cls is ne.NegationExpression:
                self._collect(e.args[0], -coef, acc, const)
                return
            if cls is ne.ProductExpression:
                a, b = e.args
                if not _pv(a):
                    self._collect(b, coef * _fixed_coef(a), acc, const)
                else:
                    self._collect(a, coef * _fixed_coef(b), acc, const)
                return
            if cls is ne.DivisionExpression:
                a, b = e.args
                inv = _Coef(1.0 / b) if isinstance(b, (int, float)) else (
                    _Coef(1.0 / pe.value(b)) if b.is_constant() else _Coef(1.0, 1.0 / b))
                self._collect(a, coef * inv, acc, const)
                return
        node = self.node(e)
        acc[node] = acc[node] + coef if node in acc else coef

    def lin_node(self, acc: dict, const: _Coef) -> int:
        if len(acc) == 1 and const.fixed and const.c == 0.0:
            (child, c), = acc.items()
            if c.fixed and c.c == 1.0:
                return child
        if not acc:
            return self.const_node(const)
        children = tuple(acc.keys())
        return self._new(LIN, children, (tuple(acc.values()), const))

    def root(self, e) -> tuple[int, _Coef]:
        """Node for a constraint body / objective, with its constant offset split off."""
        if e.__class__ in (int, float) or not e.is_potentially_variable():
            return self.const_node(_Coef(0.0)), _npv_coef(e) if not isinstance(e, (int, float)) else _Coef(e)
        if not e.is_variable_type() and not e.is_named_expression_type() and self._is_linear_kind(e):
            acc: dict[int, _Coef] = {}
            const = [_Coef(0.0)]
            self._collect(e, _Coef(1.0), acc, const)
            return self.lin_node(acc, _Coef(0.0)), const[0]
        return self.node(e), _Coef(0.0)


@functools.lru_cache(maxsize=4096)
def _triu(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Upper-triangle index pairs of an n×n block (cached: most nonlinear nodes have a few small sizes)."""
    ia, ib = np.triu_indices(n)
    ia.setflags(write=False)
    ib.setflags(write=False)
    return ia, ib


def _pv(x) -> bool:
    return x.__class__ not in (int, float) and x.is_potentially_variable()


def _fixed_coef(x) -> _Coef:
    return _Coef(x) if x.__class__ in (int, float) else _npv_coef(x)


# ----------------------------------------------------------------------------------------------- assembly
def compile_model(model: pe.ConcreteModel, *, hessian: str = "auto", hessian_max_pairs: int = 4_000_000) -> CompiledNLP:
    """Compile the active objective and constraints of ``model``.

    ``hessian``: ``"exact"`` (always build the exact Hessian program), ``"none"`` (never; Ipopt then uses
    L-BFGS) or ``"auto"`` (exact when it needs at most ``hessian_max_pairs`` second-order pairs).
    """
    if hessian not in ("exact", "auto", "none"):
        raise InputError("hessian", f"must be 'auto', 'exact' or 'none', got {hessian!r}")
    clock = Clock()
    old_limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old_limit, 20000))
    try:
        b = _Builder()
        objs = list(model.component_data_objects(pe.Objective, active=True, descend_into=True))
        if len(objs) != 1:
            raise InputError("objective", f"the model must have exactly one active objective, found {len(objs)}")
        obj = objs[0]
        obj_node, obj_off = b.root(obj.expr)
        cons, con_nodes, con_offs = [], [], []
        for c in model.component_data_objects(pe.Constraint, active=True, descend_into=True):
            if c.body.__class__ not in (int, float) and not c.body.is_potentially_variable():
                continue  # a constant constraint: nothing for Ipopt to do (checked by max_violation afterwards)
            node, off = b.root(c.body)
            cons.append(c)
            con_nodes.append(node)
            con_offs.append(off)
    finally:
        sys.setrecursionlimit(old_limit)

    nlp = CompiledNLP()
    nlp.model_name = model.name
    nlp.sense = -1.0 if obj.sense == pe.maximize else 1.0
    nlp.vars = b.vars
    nlp.cons = cons
    nlp.n = len(b.vars)
    nlp.m = len(cons)
    nlp.obj_node = obj_node
    nlp.obj_offset_term = obj_off
    nlp.con_nodes = np.asarray(con_nodes, dtype=np.int64)
    nlp.con_offset_terms = con_offs
    _assemble(nlp, b, hessian, hessian_max_pairs)
    nlp.compile_time_s = clock.elapsed()
    nlp.refresh()
    return nlp


@dataclass
class _Graph:
    """The flat graph arrays shared by the assembly steps of :func:`_assemble`."""

    op: np.ndarray
    # edges: one per (node, child position)
    n_children: np.ndarray | None = None
    edge_start: np.ndarray | None = None
    edge_parent: np.ndarray | None = None
    edge_child: np.ndarray | None = None
    lin_const_slot: np.ndarray | None = None
    # nonlinear nodes' slot in hl; POWK nodes' slot in powk_exp
    nl_id: np.ndarray | None = None
    powk_slot: np.ndarray | None = None
    # nodes sorted by level (stable) and the start of each level 0..nlevels+1 in that order
    by_level: np.ndarray | None = None
    bounds: np.ndarray | None = None
    # forward-mode Jacobian structure: S_n (sorted var indices) per node, entries in one flat array
    S: list | None = None
    sizes: np.ndarray | None = None
    entry_start: np.ndarray | None = None
    entry_var: np.ndarray | None = None

    def nodes_of(self, L: int) -> np.ndarray:
        """The nodes on level ``L``."""
        return self.by_level[self.bounds[L]:self.bounds[L + 1]]


def _assemble(nlp: CompiledNLP, b: _Builder, hessian: str, max_pairs: int) -> None:
    """Turn the recorded graph into the numpy programs of ``nlp`` (values, Jacobian routing, Hessian pairs)."""
    N = len(b.op)
    nlp.n_nodes = N
    g = _Graph(op=np.asarray(b.op, dtype=np.int64))
    level = np.asarray(b.level, dtype=np.int64)
    nlp.values = np.zeros(N)
    nlp.var_nodes = np.asarray(b.var_nodes, dtype=np.int64)
    _assemble_constants(nlp, b, g)
    _assemble_edges(nlp, b, g)
    _assemble_nonlinear(nlp, b, g)
    nlevels = int(level.max()) if N else 0
    g.by_level = np.argsort(level, kind="stable")
    g.bounds = np.searchsorted(level[g.by_level], np.arange(nlevels + 2))
    nlp.levels = [_eval_level(nlp, b, g, g.nodes_of(L)) for L in range(1, nlevels + 1)]
    _jacobian_structure(nlp, b, g)
    _jacobian_routing(nlp.levels, b, g)
    _reverse_routing(nlp.levels, g)
    _root_entries(nlp, g)
    _hessian_pairs(nlp, b, g, hessian, max_pairs)


def _assemble_constants(nlp: CompiledNLP, b: _Builder, g: _Graph) -> None:
    const_nodes = np.flatnonzero(g.op == CONST)
    nlp.const_nodes = const_nodes
    nlp.const_vals = np.array([b.aux[i].value() for i in const_nodes], dtype=float)
    nlp.const_node_slot = np.arange(len(const_nodes))
    nlp._const_refresh = [(s, b.aux[i]) for s, i in enumerate(const_nodes) if not b.aux[i].fixed]


def _assemble_edges(nlp: CompiledNLP, b: _Builder, g: _Graph) -> None:
    """Edges (one per (node, child position)), the linear nodes' edge weights and their constants."""
    N = len(g.op)
    n_children = np.fromiter((len(c) for c in b.children), dtype=np.int64, count=N)
    edge_start = np.concatenate(([0], np.cumsum(n_children)))
    E = int(edge_start[-1])
    g.n_children, g.edge_start = n_children, edge_start
    g.edge_parent = np.repeat(np.arange(N), n_children)
    g.edge_child = np.fromiter((c for ch in b.children for c in ch), dtype=np.int64, count=E)
    nlp.edge_w = np.zeros(E)
    nlp._lin_edge_coefs = []
    lin_const_terms: list[_Coef] = []
    lin_const_slot = np.full(N, -1, dtype=np.int64)
    for i in np.flatnonzero(g.op == LIN):
        coefs, const = b.aux[i]
        e0 = edge_start[i]
        for j, cf in enumerate(coefs):
            nlp.edge_w[e0 + j] = cf.value()
            if not cf.fixed:
                nlp._lin_edge_coefs.append((e0 + j, cf))
        lin_const_slot[i] = len(lin_const_terms)
        lin_const_terms.append(const)
    g.lin_const_slot = lin_const_slot
    nlp.lin_const = np.array([t.value() for t in lin_const_terms] + [0.0])
    nlp._const_refresh_lin = [(s, t) for s, t in enumerate(lin_const_terms) if not t.fixed]


def _assemble_nonlinear(nlp: CompiledNLP, b: _Builder, g: _Graph) -> None:
    """Nonlinear nodes' local Hessian slots (aa, ab, bb) and the constant exponents of POWK nodes."""
    op, N = g.op, len(g.op)
    nl_mask = np.isin(op, (UNARY, POWK, MUL, DIV, POW))
    nl_nodes = np.flatnonzero(nl_mask)
    g.nl_id = nl_id = np.full(N, -1, dtype=np.int64)
    nl_id[nl_nodes] = np.arange(len(nl_nodes))
    nlp.nl_nodes = nl_nodes
    nlp.hl = np.zeros((len(nl_nodes), 3))
    nlp.hl[nl_id[op == MUL], 1] = 1.0  # d²(ab)/da db = 1, constant

    powk_nodes = np.flatnonzero(op == POWK)
    g.powk_slot = np.full(N, -1, dtype=np.int64)
    g.powk_slot[powk_nodes] = np.arange(len(powk_nodes))
    nlp.powk_exp = np.array([b.aux[i].value() for i in powk_nodes], dtype=float)
    nlp._powk_refresh = [(s, b.aux[i]) for s, i in enumerate(powk_nodes) if not b.aux[i].fixed]


def _eval_level(nlp: CompiledNLP, b: _Builder, g: _Graph, nodes_L: np.ndarray) -> _Level:
    """The evaluation groups of one level: one numpy call per operation present in it."""
    edge_start, edge_child, nl_id = g.edge_start, g.edge_child, g.nl_id
    lv = _Level()
    opL = g.op[nodes_L]
    lin = nodes_L[opL == LIN]
    if len(lin):
        counts = g.n_children[lin]
        indptr = np.concatenate(([0], np.cumsum(counts)))
        eids = np.concatenate([np.arange(edge_start[i], edge_start[i + 1]) for i in lin])
        mat = sp.csr_matrix((nlp.edge_w[eids].copy(), edge_child[eids], indptr), shape=(len(lin), nlp.n_nodes))
        lv.lin_nodes, lv.lin_matrix, lv.lin_edges = lin, mat, eids
        lv.lin_const_slot = g.lin_const_slot[lin]
    un = nodes_L[opL == UNARY]
    if len(un):
        fids = np.array([b.aux[i] for i in un])
        for fid in np.unique(fids):
            sel = un[fids == fid]
            lv.unary.append((int(fid), sel, edge_child[edge_start[sel]], edge_start[sel], nl_id[sel]))
    pk = nodes_L[opL == POWK]
    if len(pk):
        lv.powk = (pk, edge_child[edge_start[pk]], g.powk_slot[pk], edge_start[pk], nl_id[pk])
    for code, attr in ((MUL, "mul"), (DIV, "div"), (POW, "pow")):
        sel = nodes_L[opL == code]
        if len(sel):
            ea = edge_start[sel]
            setattr(lv, attr, (sel, edge_child[ea], edge_child[ea + 1], ea, ea + 1, nl_id[sel]))
    return lv


def _jacobian_structure(nlp: CompiledNLP, b: _Builder, g: _Graph) -> None:
    """S_n (sorted var indices each node depends on) per node; the flat entry layout (node order) of jvals."""
    op, N = g.op, len(g.op)
    var_of_node = np.full(N, -1, dtype=np.int64)
    var_of_node[nlp.var_nodes] = np.arange(len(nlp.var_nodes))
    S: list[np.ndarray] = [None] * N  # type: ignore[list-item]
    empty = np.zeros(0, dtype=np.int64)
    entry_start = np.zeros(N + 1, dtype=np.int64)
    # process nodes level by level so children are known; entries laid out in node order afterwards
    for i in g.by_level:
        o = op[i]
        if o == VAR:
            S[i] = np.array([var_of_node[i]], dtype=np.int64)
        elif o == CONST:
            S[i] = empty
        else:
            ch = b.children[i]
            if len(ch) == 1:
                S[i] = S[ch[0]]
            else:
                S[i] = np.unique(np.concatenate([S[c] for c in ch]))
    sizes = np.fromiter((len(s) for s in S), dtype=np.int64, count=N)
    entry_start[1:] = np.cumsum(sizes)
    n_entries = int(entry_start[-1])
    nlp.jvals = np.zeros(n_entries)
    nlp.jvals[entry_start[nlp.var_nodes]] = 1.0
    g.S, g.sizes, g.entry_start = S, sizes, entry_start
    g.entry_var = np.concatenate(S) if n_entries else empty


def _jacobian_routing(levels: list[_Level], b: _Builder, g: _Graph) -> None:
    """Per level, the gather/multiply/segmented-sum index arrays routing child entries into parent entries."""
    S, entry_start, edge_start = g.S, g.entry_start, g.edge_start
    for L, lv in enumerate(levels, start=1):
        nodes_L = g.nodes_of(L)
        nodes_L = nodes_L[g.sizes[nodes_L] > 0]
        if not len(nodes_L):
            continue
        src, edg, tgt = [], [], []
        for i in nodes_L:
            base = entry_start[i]
            Si = S[i]
            for pos, c in enumerate(b.children[i]):
                Sc = S[c]
                if not len(Sc):
                    continue
                eid = edge_start[i] + pos
                src.append(np.arange(entry_start[c], entry_start[c + 1]))
                edg.append(np.full(len(Sc), eid, dtype=np.int64))
                tgt.append(base + (np.searchsorted(Si, Sc) if Si is not Sc else np.arange(len(Sc))))
        src = np.concatenate(src)
        edg = np.concatenate(edg)
        tgt = np.concatenate(tgt)
        order = np.argsort(tgt, kind="stable")
        src, edg, tgt = src[order], edg[order], tgt[order]
        starts = np.flatnonzero(np.r_[True, tgt[1:] != tgt[:-1]])
        lv.jac_src, lv.jac_edge, lv.jac_starts, lv.jac_tgt = src, edg, starts, tgt[starts]


def _reverse_routing(levels: list[_Level], g: _Graph) -> None:
    """Per level, the edges whose parent is on this level (and whose child depends on a variable)."""
    for L, lv in enumerate(levels, start=1):
        nodes_L = g.nodes_of(L)
        nodes_L = nodes_L[g.op[nodes_L] != CONST]
        if not len(nodes_L):
            continue
        eids = np.concatenate([np.arange(g.edge_start[i], g.edge_start[i + 1]) for i in nodes_L])
        if not len(eids):
            continue
        keep = g.sizes[g.edge_child[eids]] > 0
        eids = eids[keep]
        lv.rev_parent, lv.rev_child, lv.rev_edge = g.edge_parent[eids], g.edge_child[eids], eids


def _root_entries(nlp: CompiledNLP, g: _Graph) -> None:
    """The objective gradient and the constraint Jacobian entries, read off the root nodes."""
    S, sizes, entry_start = g.S, g.sizes, g.entry_start
    empty = np.zeros(0, dtype=np.int64)
    o = nlp.obj_node
    nlp.obj_grad_entries = np.arange(entry_start[o], entry_start[o + 1])
    nlp.obj_grad_vars = S[o]
    rows, cols, ents = [], [], []
    for r, cn in enumerate(nlp.con_nodes):
        rows.append(np.full(sizes[cn], r, dtype=np.int64))
        cols.append(S[cn])
        ents.append(np.arange(entry_start[cn], entry_start[cn + 1]))
    nlp.jac_rows = np.concatenate(rows) if rows else empty
    nlp.jac_cols = np.concatenate(cols) if cols else empty
    nlp.jac_entries = np.concatenate(ents) if ents else empty


#: op -> the local Hessian terms (slot in hl: 0 aa, 1 ab, 2 bb; child position 1; child position 2)
_HESS_KINDS = {UNARY: ((0, 0, 0),), POWK: ((0, 0, 0),), MUL: ((1, 0, 1),), DIV: ((1, 0, 1), (2, 1, 1)),
               POW: ((0, 0, 0), (1, 0, 1), (2, 1, 1))}


def _hessian_pairs(nlp: CompiledNLP, b: _Builder, g: _Graph, hessian: str, max_pairs: int) -> None:
    """Count the second-order pairs; build the Hessian pattern and pair routing unless it is declined."""
    sizes = g.sizes
    total_pairs = 0
    for i in nlp.nl_nodes:
        for kind, p1, p2 in _HESS_KINDS[g.op[i]]:
            s1, s2 = sizes[b.children[i][p1]], sizes[b.children[i][p2]]
            total_pairs += s1 * (s1 + 1) // 2 if p1 == p2 else s1 * s2
    nlp.hessian_pairs = int(total_pairs)
    want = hessian == "exact" or (hessian == "auto" and total_pairs <= max_pairs)
    if not want:
        nlp.hess_rows = nlp.hess_cols = None
        return
    _build_hessian_pairs(nlp, b, g)


def _build_hessian_pairs(nlp: CompiledNLP, b: _Builder, g: _Graph) -> None:
    """Every term ``v̄_n · J_cᵀ ∇²φ_n J_c`` as entry pairs routed into the fixed lower-triangular pattern."""
    sizes, entry_start, entry_var = g.sizes, g.entry_start, g.entry_var
    pa, pb, pw, pmult, pi, pj = [], [], [], [], [], []
    any_mult = False
    for i in nlp.nl_nodes:
        k_nl = g.nl_id[i]
        for kind, p1, p2 in _HESS_KINDS[g.op[i]]:
            c1, c2 = b.children[i][p1], b.children[i][p2]
            n1, n2 = sizes[c1], sizes[c2]
            if not n1 or not n2:
                continue
            if p1 == p2:  # J_cᵀ J_c: upper triangle of entry pairs
                ia, ib = _triu(int(n1))
                ea = entry_start[c1] + ia
                eb = entry_start[c1] + ib
                mult = None
            else:        # J_1ᵀJ_2 + J_2ᵀJ_1: all cross pairs, doubled on the diagonal
                ia = np.repeat(np.arange(n1), n2)
                ib = np.tile(np.arange(n2), n1)
                ea = entry_start[c1] + ia
                eb = entry_start[c2] + ib
                mult = np.where(entry_var[ea] == entry_var[eb], 2.0, 1.0)
                any_mult = any_mult or bool((mult != 1.0).any())
            pa.append(ea)
            pb.append(eb)
            pw.append(np.full(len(ea), 3 * k_nl + kind, dtype=np.int64))
            pmult.append(np.ones(len(ea)) if mult is None else mult)
            va, vb = entry_var[ea], entry_var[eb]
            pi.append(np.maximum(va, vb))
            pj.append(np.minimum(va, vb))
    empty = np.zeros(0, dtype=np.int64)
    if pa:
        pa, pb, pw = np.concatenate(pa), np.concatenate(pb), np.concatenate(pw)
        pi, pj = np.concatenate(pi), np.concatenate(pj)
        key = pi * nlp.n + pj
        uniq, inv = np.unique(key, return_inverse=True)
        nlp.hess_rows, nlp.hess_cols = uniq // nlp.n, uniq % nlp.n
        nlp.pair_a, nlp.pair_b, nlp.pair_w, nlp.pair_tgt = pa, pb, pw, inv
        nlp.pair_mult = np.concatenate(pmult) if any_mult else None
    else:
        nlp.hess_rows = nlp.hess_cols = empty
        nlp.pair_a = nlp.pair_b = nlp.pair_w = nlp.pair_tgt = empty
        nlp.pair_mult = None

"""The walk of one spec at many resolutions at once, as integer arrays over (resolution, layer).

Channel counts depend on α and the width rule, never on the input size, so one walk per
(spec, α, width rule) gives the layer structure of every resolution; only the spatial
sizes differ. :func:`walk_resolutions` runs the ordinary block ``expand`` functions
(every registered block type, without any per-block code here) with H and W given as
int64 arrays of resolutions. Their integer arithmetic (``ops.py``) then works
elementwise. A branch on an array is taken only when it goes the same way at every
resolution (:class:`Sizes`); anything else that cannot run on arrays (a mixed branch,
``int()``, ``range()``, a float) makes the walk fall back to the scalar walk, one
resolution at a time, which is always exact.

Exactness: counts are int64. Each vectorised walk is checked against the scalar walk
(Python ints) at its largest resolution, every field of every layer; since the counts
grow with the input size, that also bounds every other resolution's values (no int64
overflow: a mismatch or a count ≥ 2**62 falls back to the scalar walk).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import operator

import numpy as np

from .blocks import BLOCK_TYPES
from .errors import MncostError, OptionError
from .ops import GROUPS, LayerCost, numel
from .spec import ArchSpec
from .walker import Walk, block_instances, check_alpha, make_context, walk

FIELDS = ("macs", "params", "bn_params", "act_read_elems", "act_write_elems", "in_elems", "out_elems", "elementwise_ops", "attention_macs")
_LIMIT = 2**62  # headroom below int64 for the sums over layers and the batch


class Sizes:
    """Spatial sizes at every resolution: an int64 array with the integer operators of ``int``.

    Only what integer size arithmetic needs is defined (+, -, *, //, %, unary -,
    comparisons); anything else a block might do with a size (``/``, ``int()``,
    ``round()``, ``range()``, indexing, hashing) raises, and the walk falls back to the
    scalar walk. A truth value must be the same at every element: ``if h_out < 1``
    behaves as the scalar code would at each resolution when all agree, and raises
    when they do not. (A thin wrapper rather than an ndarray subclass: half the
    overhead per operation, and no float or array behaviour leaks in.)
    """

    __slots__ = ("a",)
    __array_ufunc__ = None  # numpy scalars defer to the reflected operators below
    # Inside walk_grid, results are memoised by operand identity: a network computes the
    # same few spatial products (H·W of the same map, the same conv_out_size) in every
    # layer and at every α. Entries keep their operands alive, so ids stay theirs.
    memo: dict[tuple[Any, ...], tuple[Sizes, Any, Any]] | None = None

    def __init__(self, a: np.ndarray) -> None:
        self.a = a

    def _apply(self, op: Any, other: Any, reflected: bool = False) -> Sizes:
        o = other.a if type(other) is Sizes else other
        memo = Sizes.memo
        if memo is not None:
            if type(other) is Sizes:
                key: tuple[Any, ...] = (op, reflected, id(self.a), id(o))
            elif type(other) is int:
                key = (op, reflected, id(self.a), o)
            else:
                return Sizes(op(o, self.a) if reflected else op(self.a, o))
            hit = memo.get(key)
            if hit is not None:
                return hit[0]
            result = Sizes(op(o, self.a) if reflected else op(self.a, o))
            memo[key] = (result, self.a, o)
            return result
        return Sizes(op(o, self.a) if reflected else op(self.a, o))

    def __add__(self, o: Any) -> Sizes:
        return self._apply(operator.add, o)

    def __radd__(self, o: Any) -> Sizes:
        return self._apply(operator.add, o, True)

    def __sub__(self, o: Any) -> Sizes:
        return self._apply(operator.sub, o)

    def __rsub__(self, o: Any) -> Sizes:
        return self._apply(operator.sub, o, True)

    def __mul__(self, o: Any) -> Sizes:
        return self._apply(operator.mul, o)

    def __rmul__(self, o: Any) -> Sizes:
        return self._apply(operator.mul, o, True)

    def __floordiv__(self, o: Any) -> Sizes:
        return self._apply(operator.floordiv, o)

    def __rfloordiv__(self, o: Any) -> Sizes:
        return self._apply(operator.floordiv, o, True)

    def __mod__(self, o: Any) -> Sizes:
        return self._apply(operator.mod, o)

    def __rmod__(self, o: Any) -> Sizes:
        return self._apply(operator.mod, o, True)

    def __neg__(self) -> Sizes:
        return self._apply(operator.sub, 0, True)

    def __lt__(self, o: Any) -> Sizes:
        return self._apply(operator.lt, o)

    def __le__(self, o: Any) -> Sizes:
        return self._apply(operator.le, o)

    def __gt__(self, o: Any) -> Sizes:
        return self._apply(operator.gt, o)

    def __ge__(self, o: Any) -> Sizes:
        return self._apply(operator.ge, o)

    def __eq__(self, o: object) -> Sizes:  # type: ignore[override]
        return self._apply(operator.eq, o)

    def __ne__(self, o: object) -> Sizes:  # type: ignore[override]
        return self._apply(operator.ne, o)

    __hash__ = None  # type: ignore[assignment]

    def __bool__(self) -> bool:
        if self.a.all():
            return True
        if not self.a.any():
            return False
        raise _Mixed("a branch differs between resolutions")

    def __repr__(self) -> str:
        return f"Sizes({self.a.tolist()})"


class _Mixed(ValueError):
    pass


@dataclass(frozen=True, eq=False)
class LayerCounts:
    """Per-image counts of R configurations that share one layer structure.

    Count arrays have shape (R, L), int64 (object arrays of Python ints only if built
    from scalar walks too large for int64); ``group`` holds indices into ``GROUPS``.
    """

    spec: ArchSpec
    alpha: float
    width_rule: str
    resolutions: np.ndarray  # (R,)
    names: tuple[str, ...]
    ops: tuple[str, ...]
    kinds: tuple[str, ...]
    group: np.ndarray  # (L,)
    act_class: np.ndarray  # (L,): indices into roofline.ACT_CLASSES
    macs: np.ndarray
    params: np.ndarray
    bn_params: np.ndarray
    act_read_elems: np.ndarray
    act_write_elems: np.ndarray
    in_elems: np.ndarray
    out_elems: np.ndarray
    elementwise_ops: np.ndarray
    attention_macs: np.ndarray
    vectorized: bool = True  # False: built from scalar walks (the fallback)

    def total(self, field: str) -> np.ndarray:
        """Σ over layers, (R,)."""
        values: np.ndarray = getattr(self, field)
        return values.sum(axis=1)


def _numel(shape: tuple[Any, ...], memo: dict[int, Any] | None) -> Any:
    if memo is None:
        return numel(shape)
    hit = memo.get(id(shape))
    if hit is None or hit[0] is not shape:
        hit = memo[id(shape)] = (shape, numel(shape))
    return hit[1]


def _layer_values(layer: LayerCost, memo: dict[int, Any] | None = None) -> tuple[Any, ...]:
    return (layer.macs, layer.params, layer.bn_params, layer.act_read_elems, layer.act_write_elems,
            _numel(layer.in_shape, memo), _numel(layer.out_shape, memo), layer.elementwise_ops, layer.attention_macs)


def counts_from_walk(w: Walk) -> LayerCounts:
    """One scalar walk as :class:`LayerCounts` with R = 1."""
    rows = [_layer_values(layer) for layer in w.layers]
    big = any(v >= _LIMIT for row in rows for v in row)
    dtype: Any = object if big else np.int64
    columns = {f: np.array([[row[i] for row in rows]], dtype=dtype).reshape(1, len(rows)) for i, f in enumerate(FIELDS)}
    return LayerCounts(
        spec=w.spec, alpha=w.alpha, width_rule=w.width_rule, resolutions=np.array([w.resolution], dtype=np.int64),
        names=tuple(x.name for x in w.layers), ops=tuple(x.op for x in w.layers), kinds=tuple(x.kind for x in w.layers),
        group=np.array([GROUPS.index(x.group) for x in w.layers], dtype=np.int64),
        act_class=np.array([x.act_class_index for x in w.layers], dtype=np.int64), vectorized=False, **columns,
    )


def _vector_walk(spec: ArchSpec, alpha: float, resolutions: np.ndarray, width_rule: str | None, fused_attention: bool) -> LayerCounts | None:
    """The walk with array sizes, or None when some block cannot run on arrays."""
    ctx = make_context(spec, alpha=alpha, width_rule=width_rule, fused_attention=fused_attention)
    sizes = Sizes(resolutions)
    shape: tuple[Any, ...] = (spec.in_channels, sizes, sizes)
    layers: list[LayerCost] = []
    try:
        with np.errstate(all="raise"):
            for label, block in block_instances(spec):
                new, shape = BLOCK_TYPES[block.TYPE].expand(block, ctx, shape, label)
                layers.extend(new)
    except Exception:  # noqa: BLE001 - anything a block cannot do on arrays: the scalar walk decides
        return None
    r = len(resolutions)
    out = np.empty((len(FIELDS), len(layers), r), dtype=np.int64)
    scalars = np.zeros((len(FIELDS), len(layers)), dtype=np.int64)
    is_scalar = np.zeros((len(FIELDS), len(layers)), dtype=bool)
    sizes_of: dict[int, Any] = {}  # numel per shape object: a layer's input is usually the previous output
    try:
        for j, layer in enumerate(layers):
            for i, value in enumerate(_layer_values(layer, sizes_of)):
                kind = type(value)
                if kind is int:
                    if not -_LIMIT < value < _LIMIT:
                        return None
                    scalars[i, j] = value
                    is_scalar[i, j] = True
                elif kind is Sizes and value.a.dtype == np.int64 and value.a.shape == (r,):
                    out[i, j] = value.a
                else:
                    return None  # a float, a plain array, a count too large: the scalar walk decides
    except (TypeError, ValueError, OverflowError):
        return None
    out = np.where(is_scalar[:, :, None], scalars[:, :, None], out)
    columns = {f: out[i].T for i, f in enumerate(FIELDS)}
    return LayerCounts(
        spec=spec, alpha=check_alpha(alpha), width_rule=ctx.rule_name, resolutions=resolutions.astype(np.int64),  # α as asked, as Walk.alpha
        names=tuple(x.name for x in layers), ops=tuple(x.op for x in layers), kinds=tuple(x.kind for x in layers),
        group=np.array([GROUPS.index(x.group) for x in layers], dtype=np.int64),
        act_class=np.array([x.act_class_index for x in layers], dtype=np.int64), **columns,
    )


def _agrees(counts: LayerCounts, w: Walk, column: int) -> bool:
    """The vectorised counts at one resolution equal the scalar walk's, field by field."""
    if (counts.names, counts.ops, counts.kinds) != (tuple(x.name for x in w.layers), tuple(x.op for x in w.layers), tuple(x.kind for x in w.layers)):
        return False
    if counts.group.tolist() != [GROUPS.index(x.group) for x in w.layers]:
        return False
    if counts.act_class.tolist() != [x.act_class_index for x in w.layers]:
        return False
    rows = [_layer_values(x) for x in w.layers]
    if any(v >= _LIMIT or v < 0 for row in rows for v in row):
        return False
    vector = np.stack([getattr(counts, f)[column] for f in FIELDS], axis=1).tolist()
    return vector == [list(row) for row in rows]


def check_resolutions(resolutions: Sequence[int]) -> list[int]:
    for res in resolutions:
        if isinstance(res, bool) or not isinstance(res, (int, np.integer)) or res < 1:
            raise OptionError(f"--resolution must be a positive integer, got {res!r}")
    return [int(r) for r in resolutions]


def _checked(counts: LayerCounts, spec: ArchSpec, alpha: float, resolution: int, column: int, width_rule: str | None, fused_attention: bool) -> bool:
    try:
        scalar = walk(spec, alpha=alpha, resolution=resolution, width_rule=width_rule, fused_attention=fused_attention)
    except MncostError:  # the scalar walks, in order, will report the first failing configuration
        return False
    return _agrees(counts, scalar, column)


def _scalar_chunks(spec: ArchSpec, alpha: float, res: list[int], width_rule: str | None, fused_attention: bool) -> list[LayerCounts]:
    return [counts_from_walk(walk(spec, alpha=alpha, resolution=r, width_rule=width_rule, fused_attention=fused_attention)) for r in res]


def _in_range(counts: LayerCounts) -> bool:
    return all(getattr(counts, f).size == 0 or (getattr(counts, f).min() >= 0 and getattr(counts, f).max() < _LIMIT) for f in FIELDS)


def walk_resolutions(
    spec: ArchSpec,
    resolutions: Sequence[int],
    *,
    alpha: float = 1.0,
    width_rule: str | None = None,
    fused_attention: bool = False,
) -> list[LayerCounts]:
    """Counts of ``spec`` at α for every resolution, in order, as few chunks as possible.

    Equal, field by field, to ``walk(spec, alpha=α, resolution=r, ...)`` for each r
    (tests/test_vector_walk.py proves it on random specs); errors are the scalar walk's.
    The vectorised result is checked against the scalar walk at the largest resolution.
    """
    return walk_grid(spec, [alpha], resolutions, width_rule=width_rule, fused_attention=fused_attention)


def walk_grid(
    spec: ArchSpec,
    alphas: Sequence[float],
    resolutions: Sequence[int],
    *,
    width_rule: str | None = None,
    fused_attention: bool = False,
) -> list[LayerCounts]:
    """:func:`walk_resolutions` for every α (α-major order), with one scalar check for all:
    :func:`iter_grid`'s chunks as a list."""
    return list(iter_grid(spec, alphas, resolutions, width_rule=width_rule, fused_attention=fused_attention))


def iter_grid(
    spec: ArchSpec,
    alphas: Sequence[float],
    resolutions: Sequence[int],
    *,
    width_rule: str | None = None,
    fused_attention: bool = False,
) -> Iterator[LayerCounts]:
    """The chunks of :func:`walk_grid`, one α at a time, so that a large sweep holds one
    α's arrays (layers × resolutions per field) rather than every α's.

    Counts never decrease as α or the resolution grows (tests/test_properties.py), so
    the scalar walk at the largest α and resolution bounds every vectorised count below
    int64's limit; each α's arrays are also checked to lie in [0, 2**62).
    """
    res = check_resolutions(resolutions)
    alphas = [check_alpha(a) for a in alphas]
    if not res:
        return
    array = np.asarray(res, dtype=np.int64)
    top_res = int(array.argmax())
    top_alpha = max(range(len(alphas)), key=lambda i: alphas[i])
    memo: dict[tuple[Any, ...], tuple[Sizes, Any, Any]] = {}  # shared by every α, set only while one walks

    def vector(alpha: float) -> LayerCounts | None:
        if len(res) == 1:
            return None
        Sizes.memo = memo
        try:
            return _vector_walk(spec, alpha, array, width_rule, fused_attention)
        finally:
            Sizes.memo = None

    top = vector(alphas[top_alpha])
    bounded = top is not None and _checked(top, spec, alphas[top_alpha], res[top_res], top_res, width_rule, fused_attention)
    for i, alpha in enumerate(alphas):
        counts = top if i == top_alpha else vector(alpha)
        if counts is not None and not bounded:  # no common bound: check this α on its own
            counts = counts if _checked(counts, spec, alpha, res[top_res], top_res, width_rule, fused_attention) else None
        if counts is not None and _in_range(counts):
            yield counts
        else:
            yield from _scalar_chunks(spec, alpha, res, width_rule, fused_attention)
        if i == top_alpha:
            top = None  # held only until its turn

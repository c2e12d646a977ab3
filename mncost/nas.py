"""Scoring many candidate networks at once, for architecture search (NAS).

A search over a backbone changes a few blocks at a time, so most (block, input shape)
pairs recur across candidates. :class:`Scorer` expands each distinct pair once with
the block's own ``expand`` function (every registered block type works, with no code
here), prices its layers on every profile with the roofline core
(:func:`mncost.roofline.network_times`, refinements included), and then scores a
candidate by adding up its blocks' cached totals. Counts are exact Python ints;
latencies equal ``analyze``'s up to float summation order.

Two ways in:

- :func:`evaluate` takes ArchSpecs (e.g. generated with ``dataclasses.replace``);
- :class:`SearchSpace` takes a base spec and alternative blocks per position;
  candidates are rows of an integer choice matrix, never built as specs (fastest;
  ``space.spec(row)`` builds one when you want to ``analyze`` or ``crosscheck`` it).

Both return one DataFrame row per (candidate, profile) with the sweep's columns.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .analysis import check_batch
from .blocks import BLOCK_TYPES, Block, BlockContext
from .errors import OptionError, SpecError
from .hardware import HardwareProfile
from .ops import GROUPS, Shape, numel
from .roofline import ProfileArrays, network_times, profile_arrays
from .spec import ArchSpec, Published, Stage
from .walker import block_instances, instance_label, make_context, resolve_resolution

if TYPE_CHECKING:
    import pandas as pd

COLUMNS = ["candidate", "model", "alpha", "resolution", "width_rule", "hardware", "macs", "params", "weight_bytes",
           "activation_bytes", "latency_s", "refined_latency_s", "memory_bound_share", "layers"]


@dataclass(frozen=True, eq=False)
class _Entry:
    """One block instance at one input shape: its totals and its times on every profile."""

    slot: int  # index in the scorer's table
    out_shape: Shape
    counts: tuple[int, int, int, int, int]  # macs, params, bn_params, act_elems, layers
    latency_s: np.ndarray  # (P,)
    memory_s: np.ndarray  # (P,) time in memory-bound layers
    refined_s: np.ndarray  # (P,) without the per-inference invoke time


def _value_key(block: Block) -> tuple[Any, ...]:
    """A hashable key of what a block computes (not its name or where it was written)."""
    values: list[Any] = [type(block)]
    for f in dataclasses.fields(block):
        if f.name in ("where", "line", "name"):
            continue
        values.append(_frozen(getattr(block, f.name)))
    return tuple(values)


def _frozen(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((str(k), _frozen(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(_frozen(v) for v in value)
    return value


# One executed block of a candidate: (instance key, block, first of its repeats, label).
Instance = tuple[int, Block, bool, str]


class Scorer:
    """Expands and prices each distinct (block, context, input shape) once, on ``profiles``.

    ``include_bn_params`` and ``batch`` follow ``analyze``'s conventions. Blocks, contexts
    and (block, context, shape) entries are interned as small integers, so scoring a
    candidate is a dictionary look-up per executed block.
    """

    def __init__(self, profiles: Sequence[HardwareProfile], *, batch: int = 1, include_bn_params: bool = False) -> None:
        if not profiles:
            raise OptionError("no hardware profiles to score on")
        self.profiles = list(profiles)
        self.arrays: ProfileArrays = profile_arrays(self.profiles)
        self.batch = check_batch(batch)
        self.include_bn_params = include_bn_params
        self.entries: list[_Entry] = []
        self._entries: dict[tuple[int, int, Shape], _Entry] = {}
        self._by_value: dict[tuple[Any, ...], int] = {}
        self._by_id: dict[int, tuple[Block, int]] = {}  # id → (block kept alive, its value's number)
        self._contexts: dict[tuple[Any, ...], tuple[int, BlockContext]] = {}
        self._spec_contexts: dict[tuple[int, str | None, float, bool], tuple[ArchSpec, int, BlockContext]] = {}

    def instance_key(self, block: Block, first: bool) -> int:
        """A number per (what the block computes, whether it keeps its stride)."""
        hit = self._by_id.get(id(block))
        if hit is None or hit[0] is not block:
            key = _value_key(block)
            try:
                hash(key)
            except TypeError:  # a field this module cannot freeze: the block object itself is the key
                key = ("object", id(block))
            value = self._by_value.setdefault(key, len(self._by_value))
            hit = self._by_id[id(block)] = (block, value)
        return 2 * hit[1] + (0 if first or getattr(block, "stride", 1) == 1 else 1)

    def instances(self, stages: Iterable[tuple[str, Sequence[Block]]]) -> list[Instance]:
        """The executed blocks of stages: repeats expanded (walk.block_instances' labels)."""
        out: list[Instance] = []
        for stage_name, blocks in stages:
            position = 0
            for block in blocks:
                for repeat in range(block.n):
                    label = block.name if block.name and block.n == 1 else f"{stage_name}.{position}"
                    out.append((self.instance_key(block, repeat == 0), block, repeat == 0, label))
                    position += 1
        return out

    def context(self, spec: ArchSpec, alpha: float, width_rule: str | None, fused_attention: bool) -> tuple[int, BlockContext]:
        key = (id(spec), width_rule, alpha, fused_attention)
        hit = self._spec_contexts.get(key)
        if hit is None or hit[0] is not spec:
            # one context per spec object: whatever spec-level setting a block reads, entries
            # of different specs never mix (candidates of a SearchSpace share their base)
            value = (len(self._contexts),)
            self._contexts[value] = (len(self._contexts), make_context(spec, alpha=alpha, width_rule=width_rule, fused_attention=fused_attention))
            number, ctx = self._contexts[value]
            hit = self._spec_contexts[key] = (spec, number, ctx)
        return hit[1], hit[2]

    def entry(self, instance: Instance, ctx_number: int, ctx: BlockContext, shape: Shape, spec: ArchSpec) -> _Entry:
        key, block, first, label = instance
        found = self._entries.get((key, ctx_number, shape))
        if found is not None:
            return found
        expanded = block if first or getattr(block, "stride", 1) == 1 else dataclasses.replace(block, stride=1)  # type: ignore[call-arg]
        try:
            layers, out_shape = BLOCK_TYPES[expanded.TYPE].expand(expanded, ctx, shape, label)
        except ValueError as exc:
            raise SpecError(f"{exc} (α={ctx.alpha:g}, resolution {shape[1] if len(shape) > 1 else '?'} in)", file=spec.file, key=block.where, line=block.line) from None
        p = len(self.profiles)
        if layers:
            def row(values: list[int]) -> np.ndarray:
                return np.asarray([values], dtype=np.int64 if max(values, default=0) < 2**62 else object)

            weights = [x.params + (x.bn_params if self.include_bn_params else 0) for x in layers]
            times = network_times(
                row([x.macs for x in layers]), row(weights), row([x.act_read_elems for x in layers]), row([x.act_write_elems for x in layers]),
                row([numel(x.in_shape) for x in layers]), row([numel(x.out_shape) for x in layers]),
                np.asarray([GROUPS.index(x.group) for x in layers], dtype=np.int64), self.arrays, batch=self.batch,
                act_class=np.asarray([x.act_class_index for x in layers], dtype=np.int64),
            )
            invoke = np.where(self.arrays.refined, self.arrays.invoke_s, 0.0)
            latency = times.latency_s[:, 0]
            memory = latency * times.memory_bound_share[:, 0]
            refined = np.nan_to_num(times.refined_latency_s[:, 0] - invoke, nan=0.0)
        else:
            latency = memory = refined = np.zeros(p)
        counts = (sum(x.macs for x in layers), sum(x.params for x in layers), sum(x.bn_params for x in layers),
                  sum(x.act_elems for x in layers), len(layers))
        found = _Entry(len(self.entries), tuple(out_shape), counts, latency, memory, refined)
        self.entries.append(found)
        self._entries[(key, ctx_number, shape)] = found
        return found

    def score(self, candidates: Iterable[tuple[str, ArchSpec, Sequence[Instance]]], *, alpha: float = 1.0,
              resolution: int | None = None, width_rule: str | None = None, fused_attention: bool = False) -> pd.DataFrame:
        """Score ``(label, spec, instances)`` candidates (instances from :meth:`instances`)."""
        names: list[str] = []
        models: list[str] = []
        rules: list[str] = []
        resolutions: list[int] = []
        lengths: list[int] = []
        slots: list[int] = []
        append = slots.append
        lookup = self._entries.get
        for label, spec, instances in candidates:
            ctx_number, ctx = self.context(spec, alpha, width_rule, fused_attention)
            res = resolve_resolution(spec, resolution)
            shape: Shape = (spec.in_channels, res, res)
            for instance in instances:
                e = lookup((instance[0], ctx_number, shape)) or self.entry(instance, ctx_number, ctx, shape, spec)
                append(e.slot)
                shape = e.out_shape
            lengths.append(len(instances))
            names.append(label)
            models.append(spec.name)
            rules.append(ctx.rule_name)
            resolutions.append(res)
        return self._frame(names, models, rules, resolutions, lengths, slots, alpha)

    def _frame(self, names: list[str], models: list[str], rules: list[str], resolutions: list[int], lengths: list[int],
               slots: list[int], alpha: float) -> pd.DataFrame:
        import pandas as pd

        n, p = len(names), len(self.profiles)
        entries = self.entries
        ids = np.asarray(slots, dtype=np.int64)
        own = np.repeat(np.arange(n, dtype=np.int64), np.asarray(lengths, dtype=np.int64))
        longest = max(lengths, default=0)

        def total_int(column: int) -> list[int]:
            values = [int(e.counts[column]) for e in entries]
            if not values or max(values) * max(longest, 1) < 2**62:  # int64 is exact here
                out = np.zeros(n, dtype=np.int64)
                np.add.at(out, own, np.asarray(values, dtype=np.int64)[ids])
                return [int(v) for v in out.tolist()]
            exact = [0] * n
            for owner, i in zip(own.tolist(), slots):
                exact[owner] += values[i]
            return exact

        def total_float(attr: str) -> np.ndarray:
            out = np.zeros((n, p))
            if len(ids):
                np.add.at(out, own, np.stack([getattr(e, attr) for e in entries])[ids])
            return out

        macs, params, bn, act, layers = (total_int(c) for c in range(5))
        latency = total_float("latency_s")
        memory = total_float("memory_s")
        refined = total_float("refined_s") + np.where(self.arrays.refined, self.arrays.invoke_s, np.nan)[None, :]
        if self.include_bn_params:
            params = [a + b for a, b in zip(params, bn)]
        share = np.divide(memory, latency, out=np.zeros_like(latency), where=latency > 0)
        wbytes = [int(v) for v in self.arrays.weight_bytes_per_param]
        abytes = [int(v) for v in self.arrays.activation_bytes_per_elem]
        df = pd.DataFrame({
            "candidate": np.repeat(np.asarray(names, dtype=object), p),
            "model": np.repeat(np.asarray(models, dtype=object), p),
            "alpha": float(alpha),
            "resolution": np.repeat(np.asarray(resolutions, dtype=np.int64), p),
            "width_rule": np.repeat(np.asarray(rules, dtype=object), p),
            "hardware": np.tile(np.asarray(self.arrays.names, dtype=object), n),
            "macs": _ints([m * self.batch for m in macs for _ in range(p)]),
            "params": _ints([v for v in params for _ in range(p)]),
            "weight_bytes": _ints([v * wbytes[i] for v in params for i in range(p)]),
            "activation_bytes": _ints([v * self.batch * abytes[i] for v in act for i in range(p)]),
            "latency_s": latency.reshape(-1),
            "refined_latency_s": refined.reshape(-1),
            "memory_bound_share": share.reshape(-1),
            "layers": np.repeat(np.asarray(layers, dtype=np.int64), p),
        })
        return df[COLUMNS]


def _ints(values: list[int]) -> np.ndarray:
    if not values or max(values) < 2**63:
        return np.asarray(values, dtype=np.int64)
    return np.asarray(values, dtype=object)


def _stages(spec: ArchSpec) -> list[tuple[str, Sequence[Block]]]:
    return [(stage.name, stage.blocks) for stage in spec.stages]


def evaluate(
    specs: Sequence[ArchSpec],
    profiles: Sequence[HardwareProfile],
    *,
    alpha: float = 1.0,
    resolution: int | None = None,
    width_rule: str | None = None,
    batch: int = 1,
    include_bn_params: bool = False,
    fused_attention: bool = False,
    labels: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Score every spec on every profile: one row per (spec, profile), the sweep's numbers.

    >>> import mncost
    >>> from mncost.nas import evaluate
    >>> df = evaluate([mncost.load_spec("v2")], [mncost.load_hardware("cpu")])
    >>> int(df.macs[0])
    300774272
    """
    names = list(labels) if labels is not None else [s.name for s in specs]
    if len(names) != len(specs):
        raise OptionError("one label per spec")
    scorer = Scorer(profiles, batch=batch, include_bn_params=include_bn_params)

    def instances(spec: ArchSpec) -> list[Instance]:  # the walk's own repeats (depth scaling included)
        return [(scorer.instance_key(block, True), block, True, label) for label, block in block_instances(spec)]

    return scorer.score(((n, s, instances(s)) for n, s in zip(names, specs)), alpha=alpha, resolution=resolution,
                        width_rule=width_rule, fused_attention=fused_attention)


class SearchSpace:
    """A base spec whose blocks at some positions may be swapped for alternatives.

    ``choices`` maps a position (``"stage3.1"``: stage name and index of the block in
    that stage's list, as written in the spec) to its alternative blocks; alternative 0
    is always the base block. A candidate is one integer per position, in the order of
    :attr:`positions`.
    """

    def __init__(self, base: ArchSpec, choices: dict[str, Sequence[Block]]) -> None:
        if getattr(base, "depth_multiplier", 1.0) != 1.0:
            raise OptionError(f"{base.name} scales its depth (depth_multiplier); a SearchSpace needs a base spec without it")
        self.base = base
        index = {f"{stage.name}.{i}": (s, i) for s, stage in enumerate(base.stages) for i in range(len(stage.blocks))}
        unknown = [p for p in choices if p not in index]
        if unknown:
            raise OptionError(f"no block at {', '.join(unknown)} in {base.name} (positions are stage.index: {', '.join(index)})")
        self.positions = list(choices)
        self._where = [index[p] for p in self.positions]
        self.options: list[list[Block]] = []
        for p, (s, i) in zip(self.positions, self._where):
            self.options.append([base.stages[s].blocks[i], *choices[p]])

    @property
    def sizes(self) -> list[int]:
        return [len(o) for o in self.options]

    def sample(self, n: int, seed: int = 0) -> np.ndarray:
        """``n`` random candidates (rows of choice indices), reproducible by ``seed``."""
        rng = np.random.default_rng(seed)
        return np.stack([rng.integers(0, k, size=n) for k in self.sizes], axis=1) if self.sizes else np.zeros((n, 0), np.int64)

    def _stage_lists(self, row: Sequence[int]) -> list[tuple[str, Sequence[Block]]]:
        stages: list[list[Block]] = [list(stage.blocks) for stage in self.base.stages]
        for (s, i), options, choice in zip(self._where, self.options, row):
            stages[s][i] = options[int(choice)]
        return [(stage.name, blocks) for stage, blocks in zip(self.base.stages, stages)]

    def spec(self, row: Sequence[int]) -> ArchSpec:
        """The candidate as an ArchSpec (for ``analyze``, ``crosscheck``, a YAML file).

        A candidate is not the published network: it carries none of the base's
        ``expected`` counts, ``published`` top-1 or file (which would make it the built-in
        and give it the built-in's accuracy rows)."""
        stages = tuple(Stage(name=stage.name, note=stage.note, blocks=tuple(blocks)) for stage, (_, blocks) in zip(self.base.stages, self._stage_lists(row)))
        return dataclasses.replace(self.base, stages=stages, expected=None, published=Published(), file="")

    def candidates(self, rows: np.ndarray, scorer: Scorer) -> Iterator[tuple[str, ArchSpec, list[Instance]]]:
        """Each row as the scorer's instances, joined from pieces expanded once per option."""
        # the executed blocks between two searchable positions never change: expand them once
        order = sorted(range(len(self.positions)), key=lambda k: self._where[k])
        pieces: list[Any] = []  # fixed instance lists and, between them, (position, options' instance lists)
        stage_lists = [list(stage.blocks) for stage in self.base.stages]
        cursor = (0, 0)
        done: list[Instance] = []

        def fixed(upto: tuple[int, int]) -> None:
            nonlocal cursor
            s, i = cursor
            while (s, i) < upto and s < len(stage_lists):
                if i >= len(stage_lists[s]):
                    s, i = s + 1, 0
                    continue
                done.extend(self._labelled(scorer, s, i, stage_lists[s][i]))
                i += 1
            cursor = (s, i)

        for k in order:
            fixed(self._where[k])
            pieces.append(list(done))
            done.clear()
            s, i = self._where[k]
            pieces.append((k, [self._labelled(scorer, s, i, option) for option in self.options[k]]))
            cursor = (s, i + 1)
        fixed((len(stage_lists), 0))
        pieces.append(list(done))
        for row in rows.tolist():
            instances: list[Instance] = []
            for piece in pieces:
                if isinstance(piece, list):
                    instances += piece
                else:
                    instances += piece[1][row[piece[0]]]
            yield "-".join(map(str, row)), self.base, instances

    def _labelled(self, scorer: Scorer, s: int, i: int, block: Block) -> list[Instance]:
        """The instances of block ``i`` of stage ``s``, labelled as the walk labels them."""
        stage = self.base.stages[s]
        position = sum(b.n for b in stage.blocks[:i])  # repeats before it in the same stage
        out: list[Instance] = []
        for repeat in range(block.n):
            out.append((scorer.instance_key(block, repeat == 0), block, repeat == 0, instance_label(stage.name, block, position + repeat)))
        return out

    def evaluate(
        self,
        rows: np.ndarray,
        profiles: Sequence[HardwareProfile],
        *,
        alpha: float = 1.0,
        resolution: int | None = None,
        width_rule: str | None = None,
        batch: int = 1,
        include_bn_params: bool = False,
        fused_attention: bool = False,
    ) -> pd.DataFrame:
        """Score candidate rows on every profile (``candidate`` = the choices joined by '-')."""
        rows = np.asarray(rows, dtype=np.int64).reshape(-1, len(self.positions))
        if rows.size and ((rows < 0) | (rows >= np.asarray(self.sizes))).any():
            raise OptionError(f"choice indices must lie in [0, size) per position (sizes {self.sizes})")
        scorer = Scorer(profiles, batch=batch, include_bn_params=include_bn_params)
        return scorer.score(self.candidates(rows, scorer), alpha=alpha, resolution=resolution, width_rule=width_rule, fused_attention=fused_attention)

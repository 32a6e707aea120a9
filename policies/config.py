"""Policy parameters per sku|location or per category from a config file, overridden by the item master.

The caller parses the file (TOML) and passes the mapping; this module validates it into a frozen
:class:`PolicyConfig` and resolves arrays for a batch of series with the precedence

    item master (non-nan) > [series."SKU|LOC"] > [category.NAME] > [default] > built-in default

e.g.::

    [default]
    lead_time_days = 5
    service_level = 0.95

    [category.toys]
    service_measure = "fill_rate"
    service_level = 0.98
    lost_sales = true

    [series."SKU1|LOC1"]
    moq = 24

    [location.LOC1]
    budget = 5000.0

Built-in defaults (those of :meth:`ItemParams.uniform`): lead_time_std_days 0, review_days 1, case_pack 1,
moq 1, max_order_qty inf, shelf_capacity inf, service_level 0.95, service_measure cycle_service_level,
lost_sales false, costs unknown (nan); lead_time_days has none and must come from somewhere.
Errors are :class:`~policies.errors.PolicyError` naming the parameter and the section or series id.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from types import MappingProxyType

import numpy as np
import numpy.typing as npt

from policies.costs import CostParams
from policies.errors import PolicyError
from policies.kinds import ServiceMeasure
from policies.params import ItemParams

__all__ = ["ItemMaster", "ParamOverrides", "PolicyConfig", "ResolvedParams", "location_budgets", "resolve_params"]


@dataclass(frozen=True, slots=True)
class ParamOverrides:
    """One config section; None = not set here. Units and meaning as :class:`ItemParams` and :class:`CostParams`."""

    lead_time_days: float | None = None
    lead_time_std_days: float | None = None
    review_days: float | None = None
    case_pack: int | None = None
    moq: int | None = None
    max_order_qty: float | None = None
    shelf_capacity: float | None = None
    service_level: float | None = None
    service_measure: ServiceMeasure | None = None
    lost_sales: bool | None = None
    unit_cost: float | None = None
    price: float | None = None
    holding_cost: float | None = None
    stockout_penalty: float | None = None
    ordering_cost: float | None = None
    salvage: float | None = None


_NUMBER_RULES: dict[str, tuple[float, bool, bool]] = {
    # name: (lower bound, lower bound inclusive, may be inf)
    "lead_time_days": (0.0, True, False),
    "lead_time_std_days": (0.0, True, False),
    "review_days": (0.0, True, False),
    "max_order_qty": (1.0, True, True),
    "shelf_capacity": (1.0, True, True),
    "unit_cost": (0.0, True, False),
    "price": (0.0, True, False),
    "holding_cost": (0.0, True, False),
    "stockout_penalty": (0.0, True, False),
    "ordering_cost": (0.0, True, False),
    "salvage": (0.0, True, False),
}
_INT_FIELDS = ("case_pack", "moq")
_PARAM_NAMES = tuple(f.name for f in fields(ParamOverrides))
_MEASURES = {m.label: m for m in ServiceMeasure}


def _number(where: str, name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PolicyError(f"{name}: expected a number in {where}, got {value!r}")
    number = float(value)
    low, inclusive, may_be_inf = _NUMBER_RULES[name]
    if math.isnan(number) or (math.isinf(number) and not (may_be_inf and number > 0)):
        raise PolicyError(f"{name}: expected a finite number in {where}, got {value!r}")
    if number < low or (number == low and not inclusive):
        raise PolicyError(f"{name}: must be >= {low:g} in {where}, got {value!r}")
    return number


def _overrides(where: str, raw: object) -> ParamOverrides:
    if not isinstance(raw, Mapping):
        raise PolicyError(f"{where}: expected a table of parameters, got {type(raw).__name__}")
    unknown = sorted(str(k) for k in raw if k not in _PARAM_NAMES)
    if unknown:
        raise PolicyError(f"{unknown[0]}: unknown parameter in {where} (known: {', '.join(_PARAM_NAMES)})")
    values: dict[str, float | int | bool | ServiceMeasure] = {}
    for name, value in raw.items():
        if name in _NUMBER_RULES:
            values[name] = _number(where, name, value)
        elif name in _INT_FIELDS:
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise PolicyError(f"{name}: expected an int >= 1 in {where}, got {value!r}")
            values[name] = value
        elif name == "service_level":
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 < float(value) < 1.0:
                raise PolicyError(f"service_level: expected a number in (0, 1) in {where}, got {value!r}")
            values[name] = float(value)
        elif name == "service_measure":
            if value not in _MEASURES:
                raise PolicyError(f"service_measure: expected one of {sorted(_MEASURES)} in {where}, got {value!r}")
            values[name] = _MEASURES[str(value)]
        else:  # lost_sales
            if not isinstance(value, bool):
                raise PolicyError(f"lost_sales: expected true or false in {where}, got {value!r}")
            values[name] = value
    return ParamOverrides(**values)  # type: ignore[arg-type]  # keys and value types checked above


def _sections(where: str, raw: object) -> Mapping[str, ParamOverrides]:
    if raw is None:
        return MappingProxyType({})
    if not isinstance(raw, Mapping):
        raise PolicyError(f"{where}: expected a table of tables, got {type(raw).__name__}")
    return MappingProxyType({str(key): _overrides(f"{where}.{key}", value) for key, value in raw.items()})


@dataclass(frozen=True, slots=True)
class PolicyConfig:
    """Validated policy configuration.

    Attributes:
        default: parameters for every series.
        category: per category name.
        series: per series id ``"SKU|LOC"``.
        location_budget: money per location and decision pass (absent: no budget).
    """

    default: ParamOverrides = field(default_factory=ParamOverrides)
    category: Mapping[str, ParamOverrides] = field(default_factory=lambda: MappingProxyType({}))
    series: Mapping[str, ParamOverrides] = field(default_factory=lambda: MappingProxyType({}))
    location_budget: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def from_mapping(cls, raw: Mapping[str, object]) -> PolicyConfig:
        """Validate a parsed file: top-level tables ``default``, ``category``, ``series``, ``location``."""
        if not isinstance(raw, Mapping):
            raise PolicyError(f"config: expected a table, got {type(raw).__name__}")
        unknown = sorted(str(k) for k in raw if k not in ("default", "category", "series", "location"))
        if unknown:
            raise PolicyError(f"{unknown[0]}: unknown config table (known: default, category, series, location)")
        budgets: dict[str, float] = {}
        locations = raw.get("location") or {}
        if not isinstance(locations, Mapping):
            raise PolicyError(f"location: expected a table of tables, got {type(locations).__name__}")
        for name, table in locations.items():
            where = f"location.{name}"
            if not isinstance(table, Mapping) or set(table) - {"budget"}:
                raise PolicyError(f"{where}: expected a table with only 'budget', got {table!r}")
            if "budget" in table:
                value = table["budget"]
                if isinstance(value, bool) or not isinstance(value, int | float) or not float(value) >= 0:
                    raise PolicyError(f"budget: expected a number >= 0 in {where}, got {value!r}")
                budgets[str(name)] = float(value)
        default = raw.get("default")
        return cls(
            default=ParamOverrides() if default is None else _overrides("default", default),
            category=_sections("category", raw.get("category")),
            series=_sections("series", raw.get("series")),
            location_budget=MappingProxyType(budgets),
        )


@dataclass(frozen=True, slots=True)
class ItemMaster:
    """Item-master values per series from InventoryEvent, ``[n]`` float arrays with nan = unknown; None = absent."""

    lead_time_days: npt.NDArray[np.float64] | None = None
    lead_time_std_days: npt.NDArray[np.float64] | None = None
    case_pack: npt.NDArray[np.float64] | None = None
    moq: npt.NDArray[np.float64] | None = None
    unit_cost: npt.NDArray[np.float64] | None = None
    shelf_capacity: npt.NDArray[np.float64] | None = None


@dataclass(frozen=True, slots=True)
class ResolvedParams:
    """Parameters of a batch after precedence: what the policies take."""

    items: ItemParams
    costs: CostParams


_BUILTIN: dict[str, float] = {
    "lead_time_days": math.nan,
    "lead_time_std_days": 0.0,
    "review_days": 1.0,
    "case_pack": 1.0,
    "moq": 1.0,
    "max_order_qty": math.inf,
    "shelf_capacity": math.inf,
    "service_level": 0.95,
    "service_measure": float(ServiceMeasure.CYCLE_SERVICE_LEVEL),
    "lost_sales": 0.0,
    "unit_cost": math.nan,
    "price": math.nan,
    "holding_cost": math.nan,
    "stockout_penalty": math.nan,
    "ordering_cost": math.nan,
    "salvage": math.nan,
}


def _value(section: ParamOverrides, name: str) -> float | None:
    value = getattr(section, name)
    return None if value is None else float(value)


def _overlay(
    result: npt.NDArray[np.float64], keys: npt.NDArray[np.str_], table: Mapping[str, ParamOverrides], name: str
) -> None:
    """Set ``result[i]`` from ``table[keys[i]]`` where that section sets ``name`` (vectorised lookup)."""
    names = [key for key, section in table.items() if getattr(section, name) is not None]
    if not names:
        return
    table_keys = np.asarray(names, dtype=np.str_)
    table_values = np.asarray([_value(table[key], name) for key in names], dtype=np.float64)
    sorter = np.argsort(table_keys)
    position = np.clip(np.searchsorted(table_keys, keys, sorter=sorter), 0, len(names) - 1)
    hit = table_keys[sorter[position]] == keys
    result[hit] = table_values[sorter[position]][hit]


def _column(
    name: str, n: int, ids: npt.NDArray[np.str_], cats: npt.NDArray[np.str_], config: PolicyConfig
) -> npt.NDArray[np.float64]:
    default = _value(config.default, name)
    result = np.full(n, _BUILTIN[name] if default is None else default, dtype=np.float64)
    _overlay(result, cats, config.category, name)
    _overlay(result, ids, config.series, name)
    return result


def _strings(name: str, values: Sequence[str | None] | npt.ArrayLike, n: int | None) -> npt.NDArray[np.str_]:
    array = np.asarray([("" if v is None else str(v)) for v in np.asarray(values, dtype=object).ravel()], dtype=np.str_)
    if np.asarray(values, dtype=object).ndim != 1:
        raise PolicyError(f"{name}: expected shape [n]")
    if n is not None and array.shape[0] != n:
        raise PolicyError(f"{name}: expected length {n}, got {array.shape[0]}")
    return array


_ROW = re.compile(r"first failing row (\d+)")


def resolve_params(
    config: PolicyConfig,
    series_ids: Sequence[str] | npt.ArrayLike,
    categories: Sequence[str | None] | npt.ArrayLike,
    item_master: ItemMaster | None = None,
) -> ResolvedParams:
    """Parameter arrays for ``n`` series: item master (non-nan) > series > category > default > built-in.

    Args:
        config: the validated file (:meth:`PolicyConfig.from_mapping`).
        series_ids: ``[n]`` ids ``"SKU|LOC"``, matched exactly against ``[series."..."]``.
        categories: ``[n]`` category names (None or "" for none), matched against ``[category.NAME]``.
        item_master: optional item-master arrays; a non-nan value wins over the config.

    Raises :class:`~policies.errors.PolicyError` naming the parameter and the series id for an invalid
    item-master value, a missing lead time, or an inconsistent combination (e.g. max_order_qty below the MOQ).
    """
    ids = _strings("series_ids", series_ids, None)
    n = ids.shape[0]
    cats = _strings("categories", categories, n)
    columns = {name: _column(name, n, ids, cats, config) for name in _PARAM_NAMES}
    master = item_master or ItemMaster()
    for item_field in fields(ItemMaster):
        name = item_field.name
        raw = getattr(master, name)
        if raw is None:
            continue
        values = np.asarray(raw, dtype=np.float64)
        if values.shape != (n,):
            raise PolicyError(f"{name}: item master expected shape [{n}], got {values.shape}")
        given = ~np.isnan(values)
        if name in _INT_FIELDS:
            bad = given & ~(np.isfinite(values) & (values >= 1) & (values == np.floor(values)))
            requirement = "an int >= 1"
        else:
            low, _, may_be_inf = _NUMBER_RULES[name]
            bad = given & ~((np.isfinite(values) | (may_be_inf & (values > 0))) & (values >= low))
            requirement = f"a number >= {low:g}"
        if np.any(bad):
            row = int(np.flatnonzero(bad)[0])
            raise PolicyError(
                f"{name}: item master value {float(values[row])!r} for series {str(ids[row])!r} must be {requirement}"
            )
        columns[name] = np.where(given, values, columns[name])

    missing = np.isnan(columns["lead_time_days"])
    if np.any(missing):
        row = int(np.flatnonzero(missing)[0])
        raise PolicyError(
            f"lead_time_days: no value for series {str(ids[row])!r} (set it in [default], its category, the series"
            " or the item master)"
        )
    try:
        items = ItemParams(
            lead_time_days=columns["lead_time_days"],
            lead_time_std_days=columns["lead_time_std_days"],
            review_days=columns["review_days"],
            case_pack=columns["case_pack"].astype(np.int64),
            moq=columns["moq"].astype(np.int64),
            max_order_qty=columns["max_order_qty"],
            shelf_capacity=columns["shelf_capacity"],
            service_level=columns["service_level"],
            lost_sales=columns["lost_sales"].astype(np.bool_),
            service_measure=columns["service_measure"].astype(np.int8),
        )
        costs = CostParams(
            unit_cost=columns["unit_cost"],
            price=columns["price"],
            holding_cost=columns["holding_cost"],
            stockout_penalty=columns["stockout_penalty"],
            ordering_cost=columns["ordering_cost"],
            salvage=columns["salvage"],
        )
    except PolicyError as exc:
        found = _ROW.search(str(exc))
        if found is None:
            raise
        raise PolicyError(f"{exc} (series {str(ids[int(found.group(1))])!r})") from exc
    return ResolvedParams(items=items, costs=costs)


def location_budgets(
    config: PolicyConfig, series_ids: Sequence[str] | npt.ArrayLike
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.str_]]:
    """``(location index [n], budget [m], location names [m])`` for :func:`policies.apply_budget`.

    The location of ``"SKU|LOC"`` is the part after the first ``|``; a location without a configured budget
    gets inf (no budget).
    """
    ids = _strings("series_ids", series_ids, None)
    parts = np.char.partition(ids, "|")
    if np.any(parts[:, 1] != "|"):
        row = int(np.flatnonzero(parts[:, 1] != "|")[0])
        raise PolicyError(f"series_ids: expected 'SKU|LOC', got {str(ids[row])!r}")
    names, index = np.unique(parts[:, 2], return_inverse=True)
    budget = np.array([config.location_budget.get(str(name), math.inf) for name in names], dtype=np.float64)
    return index.astype(np.int64), budget, names

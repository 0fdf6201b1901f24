"""Row-model registry: which Pydantic class a `-- name: ... :many Trade` block means.

Models are looked up by class name. Users pass ``models=`` as a mapping of names to classes or
a module (every model class defined in it); their names win over a layer's own base registry
(``tradestore.load_queries`` starts from the trading schema's models, the kit's loader from
none).
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from types import ModuleType

from pydantic import BaseModel

ModelsArg = Mapping[str, type[BaseModel]] | ModuleType | None


def models_of(module: ModuleType) -> dict[str, type[BaseModel]]:
    """Every BaseModel subclass defined (not merely imported) in `module`."""
    found: dict[str, type[BaseModel]] = {}
    for name, value in vars(module).items():
        if (
            inspect.isclass(value)
            and issubclass(value, BaseModel)
            and value.__module__ == module.__name__
        ):
            found[name] = value
    return found


def build_registry(
    models: ModelsArg = None, base: Mapping[str, type[BaseModel]] | None = None
) -> dict[str, type[BaseModel]]:
    """`base` (a layer's own models, e.g. the trading schema's) overlaid with `models`."""
    registry = dict(base or {})
    if isinstance(models, ModuleType):
        registry.update(models_of(models))
    elif models is not None:
        registry.update(models)
    return registry

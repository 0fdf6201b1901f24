"""Row-model registry: which Pydantic class a `-- name: ... :many Trade` block means.

The built-in registry is every `pydantic.BaseModel` subclass defined in `tradestore.models`,
looked up by class name. Users pass ``models=`` as a mapping of names to classes or a module
(every model class defined in it); their names win over the built-in ones.
"""

from __future__ import annotations

import importlib
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


def builtin_models() -> dict[str, type[BaseModel]]:
    """The trading schema's row models; empty while `tradestore.models` does not exist."""
    try:
        module = importlib.import_module("tradestore.models")
    except ModuleNotFoundError as exc:
        if exc.name != "tradestore.models":
            raise
        return {}
    return models_of(module)


def build_registry(models: ModelsArg = None) -> dict[str, type[BaseModel]]:
    """Built-in models overlaid with the caller's `models`."""
    registry = builtin_models()
    if isinstance(models, ModuleType):
        registry.update(models_of(models))
    elif models is not None:
        registry.update(models)
    return registry

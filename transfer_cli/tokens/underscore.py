"""Custom attributes under `._` (e.g. `doc._.trf_data`), registered with
`Doc.set_extension(name, default=..., getter=..., setter=..., method=...)`.
Values live in `doc.user_data`, keyed by the object's token/char range, so Token and
Span views made later see the same values."""
import functools
from typing import Any, Callable, Dict, Optional, Tuple

Extension = Tuple[Any, Optional[Callable], Optional[Callable], Optional[Callable]]  # default, method, getter, setter


class Underscore:
    def __init__(self, extensions: Dict[str, Extension], obj: Any, start: Optional[int] = None,
                 end: Optional[int] = None) -> None:
        object.__setattr__(self, "_extensions", extensions)
        object.__setattr__(self, "_obj", obj)
        object.__setattr__(self, "_doc", getattr(obj, "doc", obj))
        object.__setattr__(self, "_start", start)
        object.__setattr__(self, "_end", end)

    def _key(self, name: str) -> tuple:
        return ("._.", name, self._start, self._end)

    def __getattr__(self, name: str) -> Any:
        if name not in self._extensions:
            raise AttributeError(f"No extension '{name}' is registered: call set_extension('{name}', ...) first")
        default, method, getter, _ = self._extensions[name]
        if getter is not None:
            return getter(self._obj)
        if method is not None:
            return functools.partial(method, self._obj)
        return self._doc.user_data.get(self._key(name), default)

    def __setattr__(self, name: str, value: Any) -> None:
        if name not in self._extensions:
            raise AttributeError(f"No extension '{name}' is registered: call set_extension('{name}', ...) first")
        _, _, getter, setter = self._extensions[name]
        if setter is not None:
            setter(self._obj, value)
        elif getter is not None:
            raise AttributeError(f"Extension '{name}' has a getter and no setter: it cannot be assigned")
        else:
            self._doc.user_data[self._key(name)] = value

    def has(self, name: str) -> bool:
        return name in self._extensions

    def get(self, name: str) -> Any:
        return getattr(self, name)

    def set(self, name: str, value: Any) -> None:
        setattr(self, name, value)


def register_extension(registry: Dict[str, Extension], name: str, *, default: Any = None,
                       method: Optional[Callable] = None, getter: Optional[Callable] = None,
                       setter: Optional[Callable] = None, force: bool = False) -> None:
    if name in registry and not force:
        raise ValueError(f"Extension '{name}' already exists: pass force=True to overwrite it")
    if sum(x is not None for x in (method, getter)) > 1 or (setter is not None and getter is None):
        raise ValueError(f"Extension '{name}': give a default, a method, or a getter (with an optional setter)")
    registry[name] = (default, method, getter, setter)


class HasExtensions:
    """Class methods for custom attributes; each subclass sets its own `_extensions` dict."""

    __slots__ = ()
    _extensions: Dict[str, Extension]

    @classmethod
    def set_extension(cls, name: str, **kwargs: Any) -> None:
        register_extension(cls._extensions, name, **kwargs)

    @classmethod
    def has_extension(cls, name: str) -> bool:
        return name in cls._extensions

    @classmethod
    def get_extension(cls, name: str) -> Optional[Extension]:
        return cls._extensions.get(name)

    @classmethod
    def remove_extension(cls, name: str) -> Extension:
        return cls._extensions.pop(name)

"""Type annotations of registered functions as JSON, for registry_snapshot.json: what
validation needs to check a config's values without importing the functions.

An annotation made of builtins, pathlib and typing constructs is recorded exactly and
rebuilt equal to itself. Anything else (thinc's Model, array types, type variables ...) is
recorded as opaque and rebuilt as Unknown, which no value matches: a config giving such an
argument a plain value (not a block) then has a problem on the snapshot's side, and is
validated with the live registry instead. A ValueCheck is recorded by its spec, or by the
values it accepts (a value outside them raises NotInSnapshot when checked)."""
import importlib
import inspect
import json
import types
import typing
from typing import Any, Callable, Dict, List, Optional

from .schemas import ValueCheck, value_check

# typing's generic aliases recorded by name (typing.List[int] is rebuilt as typing.List[int])
_TYPING_NAMES = ("List", "Dict", "Tuple", "Set", "FrozenSet", "Sequence", "Iterable", "Iterator", "Mapping",
                 "Callable", "Type", "Generator")
# modules whose classes are recorded by name (light to import when rebuilt)
_CLASS_MODULES = ("builtins", "pathlib", "collections.abc")


class NotInSnapshot(Exception):
    """The snapshot cannot decide: fill or validate with the live registry."""


class Unknown:
    """Stands for a type the snapshot does not record: no value is an instance of it."""


def canonical(value: Any) -> str:
    """A config value as one JSON text (1, 1.0 and true differ)."""
    return json.dumps(value, sort_keys=True)


def describe_annotation(annotation: Any, certify: Callable[[ValueCheck], Optional[Dict[str, Any]]]) -> Any:
    """JSON for `annotation`; certify(check) gives the spec of a ValueCheck without one
    (None: not recordable)."""
    if annotation is inspect.Parameter.empty:
        return None
    if annotation is Any:
        return "Any"
    if annotation is None or annotation is type(None):
        return "None"
    if isinstance(annotation, str):  # a forward reference left as text (its hints did not resolve)
        return {"text": annotation}
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        checks = []
        for meta in annotation.__metadata__:
            spec = (meta.spec or certify(meta)) if isinstance(meta, ValueCheck) else None
            if spec is None:
                return {"opaque": repr(annotation)}
            checks.append(spec)
        return {"annotated": describe_annotation(args[0], certify), "checks": checks}
    if origin is typing.Union:
        return {"union": [describe_annotation(a, certify) for a in args]}
    if origin is typing.Literal:
        if all(a is None or isinstance(a, (str, int, bool)) for a in args):
            return {"literal": list(args)}
        return {"opaque": repr(annotation)}
    name = getattr(annotation, "_name", None)
    if getattr(annotation, "__module__", None) == "typing" and name in _TYPING_NAMES:
        if not args:
            return {"typing": name}
        described = []
        for arg in args:
            if arg is Ellipsis:
                described.append({"ellipsis": True})
            elif isinstance(arg, list):  # Callable's parameters
                described.append({"params": [describe_annotation(a, certify) for a in arg]})
            else:
                described.append(describe_annotation(arg, certify))
        return {"typing": name, "args": described}
    if isinstance(annotation, types.GenericAlias) and origin.__module__ == "builtins":
        return {"builtin": origin.__name__, "args": [describe_annotation(a, certify) for a in args]}
    if isinstance(annotation, type) and annotation.__module__ in _CLASS_MODULES and \
            getattr(importlib.import_module(annotation.__module__), annotation.__qualname__, None) is annotation:
        return {"class": f"{annotation.__module__}:{annotation.__qualname__}"}
    return {"opaque": repr(annotation)}


def build_annotation(described: Any) -> Any:
    """The annotation describe_annotation recorded (Unknown for an opaque one)."""
    if described is None:
        return inspect.Parameter.empty
    if described == "Any":
        return Any
    if described == "None":
        return type(None)
    if "text" in described:
        return described["text"]
    if "opaque" in described:
        return Unknown
    if "annotated" in described:
        checks = [_build_check(spec) for spec in described["checks"]]
        return typing.Annotated[(build_annotation(described["annotated"]), *checks)]  # type: ignore[return-value]
    if "union" in described:
        return typing.Union[tuple(build_annotation(a) for a in described["union"])]
    if "literal" in described:
        return typing.Literal[tuple(described["literal"])]
    if "typing" in described:
        alias = getattr(typing, described["typing"])
        if "args" not in described:
            return alias
        args: List[Any] = []
        for arg in described["args"]:
            if isinstance(arg, dict) and "ellipsis" in arg:
                args.append(Ellipsis)
            elif isinstance(arg, dict) and "params" in arg:
                args.append([build_annotation(a) for a in arg["params"]])
            else:
                args.append(build_annotation(arg))
        return alias[tuple(args)]
    if "builtin" in described:
        origin = getattr(importlib.import_module("builtins"), described["builtin"])
        return types.GenericAlias(origin, tuple(build_annotation(a) for a in described["args"]))
    if "class" in described:
        module, name = described["class"].split(":")
        return getattr(importlib.import_module(module), name)
    raise NotInSnapshot()


def _build_check(spec: Dict[str, Any]) -> ValueCheck:
    if "accepts" in spec:
        accepted = set(spec["accepts"])

        def known(value: Any) -> Optional[str]:
            if canonical(value) not in accepted:
                raise NotInSnapshot()  # a value the package's configs do not give: checked live
            return None

        return ValueCheck(known)
    check = value_check(spec)
    if check is None:
        raise NotInSnapshot()
    return check

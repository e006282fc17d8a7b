"""Validation of a whole config, collecting every problem with its full key path:
unknown registries, functions and factories (with the closest names), missing,
unexpected and mistyped arguments of registered functions and factories,
section settings, misspelled section names, and references between sections
(pipeline names, corpora).

What it asks of the registered functions and factories goes through a Registrations:
the live registry (registrations.py) or its snapshot (snapshot.py), so that this module
imports neither."""
import importlib.util
import inspect
import json
import re
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence

from confection import VARIABLE_RE, Config
from confection import registry as confection_registry
from confection.validation import validate_type

from ..errors import ConfigError
from .interpolation import dotted_keys, interpolate_config
from .names import component_name_problems
from .schemas import SECTIONS, TOP_LEVEL_SECTIONS, FunctionBlock, ValueCheck
from .source import ConfigSource
from .suggest import close_matches, suggest

is_promise = confection_registry.is_promise  # a block naming a registered function (thinc's is the same)

ARGS_FIELD = "*"  # confection's key for positional arguments ([block.*.name])


@dataclass
class ConfigProblem:
    key: str
    message: str

    def format(self, source: Optional[ConfigSource] = None) -> str:
        return str(self.as_error(source))

    def as_error(self, source: Optional[ConfigSource] = None) -> ConfigError:
        path = source.path if source else None
        line = source.line_of(self.key) if source else None
        return ConfigError(self.message, path=path, line=line, key=self.key or None)


class ConfigValidationFailed(ConfigError):
    """One or more config problems; the message has one line per problem."""

    def __init__(self, problems: Sequence[ConfigProblem], source: Optional[ConfigSource] = None) -> None:
        self.problems = list(problems)
        self.source = source
        lines = [p.format(source) for p in self.problems]
        super().__init__("\n".join(lines))


@dataclass
class Parameters:
    """A registered function's or factory's parameters as validation reads them: its
    signature (None when it has none to read) and the type of each parameter."""
    signature: Optional[inspect.Signature]
    hints: Dict[str, Any]


class Registrations:
    """What validation asks of the registered functions and component factories."""

    def lookup_problem(self, registry_name: str, func_name: Any) -> Optional[str]:
        """None when `@registry_name = func_name` names a registered function, else why not."""
        raise NotImplementedError

    def function_parameters(self, registry_name: str, func_name: str) -> Parameters:
        raise NotImplementedError

    def factory_parameters(self, name: Any) -> Optional[Parameters]:
        """The parameters of a registered factory; None when there is none of that name."""
        raise NotImplementedError

    def unknown_factory_message(self, name: Any) -> str:
        raise NotImplementedError


@dataclass
class ConfigCheck:
    """A config filled, interpolated and validated in one pass (filling.check_config)."""
    filled: Config                  # every default filled in, variables kept: what fill-config writes
    values: Optional[Config]        # the same with its variables replaced; None if they do not resolve
    problems: List[ConfigProblem]   # [] when the config is valid
    source: Optional[ConfigSource] = None
    unused_sections: List[str] = field(default_factory=list)  # extra sections nothing refers to

    def valid(self) -> "ConfigCheck":
        """self, or ConfigValidationFailed with one line per problem."""
        raise_problems(self.problems, self.source)
        return self


def find_problems(config: Dict[str, Any], registrations: Registrations) -> List[ConfigProblem]:
    """Every problem in an (interpolated or not) config, its registered functions and
    factories read through `registrations`; [] when it is valid."""
    if isinstance(config, Config) and not config.is_interpolated:
        try:
            config = interpolate_config(config)
        except ConfigError as e:
            return [ConfigProblem(e.key or "", e.bare_message)]
    names = component_name_problems(config)
    if names:  # a name that is a path: say only that, before anything uses it
        return [ConfigProblem(key, message) for key, message in names]
    problems: List[ConfigProblem] = []
    for name, value in config.items():
        if name == "components":
            check_components(value, problems, registrations)
        elif name in SECTIONS:
            check_section(name, value, problems, registrations)
        elif name == "corpora":
            check_corpora(value, problems, registrations)
        else:
            check_extra_section(name, problems)
            walk_blocks(value, name, problems, registrations)
    for name, (_, _, required) in SECTIONS.items():
        if required and name not in config:
            problems.append(ConfigProblem(name, f"missing section [{name}]"))
    _check_references(config, problems)
    return problems


def walk_blocks(node: Any, path: str, problems: List[ConfigProblem], registrations: Registrations) -> None:
    """Check every registered-function block at or below `node`."""
    if isinstance(node, dict):
        if is_promise(node):
            check_function_block(node, path, problems, registrations)
            children = {k: v for k, v in node.items() if not str(k).startswith("@")}
        else:
            children = node
        for key, value in children.items():
            walk_blocks(value, f"{path}.{key}" if path else str(key), problems, registrations)
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            walk_blocks(value, f"{path}.{i}", problems, registrations)


def check_function_block(block: Dict[str, Any], path: str, problems: List[ConfigProblem],
                         registrations: Registrations) -> None:
    """The block's registry and function exist; its arguments match the signature."""
    reg_keys = [k for k in block if str(k).startswith("@")]
    if len(reg_keys) > 1:
        problems.append(ConfigProblem(path, f"a block names one registered function, this one names "
                                            f"{len(reg_keys)}: {', '.join(reg_keys)}"))
        return
    reg_name, func_name = reg_keys[0][1:], block[reg_keys[0]]
    problem = registrations.lookup_problem(reg_name, func_name)
    if problem is not None:
        problems.append(ConfigProblem(path, problem))
        return
    args = {k: v for k, v in block.items() if k not in reg_keys}
    check_arguments(registrations.function_parameters(reg_name, func_name), args, path, f"'{func_name}'", problems)
    check_argument_ranges(reg_name, func_name, args, path, problems)


def _number(check: Callable[[float], bool], expected: str) -> Callable[[Any], Optional[str]]:
    """A check of a number (schedules, variables and other types are checked elsewhere)."""
    def run(value: Any) -> Optional[str]:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or check(value):
            return None
        return f"must be {expected}, got {value}"
    return run


_POSITIVE = _number(lambda v: v > 0, "more than 0")
_NOT_NEGATIVE = _number(lambda v: v >= 0, "0 or more")
_BETA = _number(lambda v: 0 <= v < 1, "at least 0.0 and below 1.0")
_LAYERS = _number(lambda v: v >= 1, "1 or more (with 0 layers each token's vector would see no context)")
# Ranges the functions' type hints cannot say (thinc's optimizers take any float): a
# negative learning rate trains away from the data, silently. By registry, then function
# ("*": every function of the registry), then argument.
ARGUMENT_RANGES: Dict[str, Dict[str, Dict[str, Callable[[Any], Optional[str]]]]] = {
    "optimizers": {"*": {"learn_rate": _POSITIVE, "beta1": _BETA, "beta2": _BETA, "eps": _POSITIVE,
                         "L2": _NOT_NEGATIVE, "grad_clip": _NOT_NEGATIVE}},
    "architectures": {name: {"depth": _LAYERS} for name in (
        "spacy.MaxoutWindowEncoder.v1", "spacy.MaxoutWindowEncoder.v2", "spacy.MishWindowEncoder.v1",
        "spacy.MishWindowEncoder.v2", "spacy.HashEmbedCNN.v1", "spacy.HashEmbedCNN.v2")},
}


def check_argument_ranges(reg_name: str, func_name: str, args: Dict[str, Any], path: str,
                          problems: List[ConfigProblem]) -> None:
    ranges = ARGUMENT_RANGES.get(reg_name, {})
    checks = {**ranges.get("*", {}), **ranges.get(func_name, {})}
    for name, check in checks.items():
        error = check(args[name]) if name in args else None
        if error:
            problems.append(ConfigProblem(f"{path}.{name}", error))


def function_parameters(func: Callable) -> Parameters:
    """The parameters of a live function (or class) as validation reads them."""
    try:
        signature: Optional[inspect.Signature] = inspect.signature(func)
    except (TypeError, ValueError):
        signature = None
    return Parameters(signature, _type_hints(func))


def check_arguments(parameters: Parameters, args: Dict[str, Any], path: str, what: str,
                    problems: List[ConfigProblem], skip: Sequence[str] = ()) -> None:
    """Missing, unexpected and mistyped arguments of a function given `args`."""
    signature, hints = parameters.signature, parameters.hints
    if signature is None:
        return
    params = {name: p for name, p in signature.parameters.items() if name not in skip}
    takes_kwargs = any(p.kind == p.VAR_KEYWORD for p in params.values())
    takes_args = any(p.kind == p.VAR_POSITIONAL for p in params.values())
    for name, param in params.items():
        if param.kind in (param.VAR_KEYWORD, param.VAR_POSITIONAL):
            continue
        annotation = hints.get(name, param.annotation)
        key = f"{path}.{name}"
        if name not in args:
            if param.default is param.empty and not (ARGS_FIELD in args and param.kind == param.POSITIONAL_ONLY):
                problems.append(ConfigProblem(key, f"missing required argument of {what}"
                                                   + _expected_suffix(annotation)))
            continue
        error = check_value(args[name], annotation)
        if error:
            problems.append(ConfigProblem(key, error))
    for name in args:
        if name in params or (name == ARGS_FIELD and takes_args) or takes_kwargs:
            continue
        accepted = [n for n, p in params.items() if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)]
        hint = suggest(str(name), accepted, n=1)
        problems.append(ConfigProblem(f"{path}.{name}", f"unexpected argument of {what}"
                                      + (f"; did you mean {hint}?" if hint else
                                         f" (it takes: {', '.join(accepted) or 'no arguments'})")))


def check_value(value: Any, annotation: Any) -> Optional[str]:
    """None if `value` fits the type, else 'expected T, got V'. Blocks naming a
    registered function are checked by their own signature, not here. For
    `Annotated[T, ValueCheck(check)]`, a value of type T is then given to check()."""
    if typing.get_origin(annotation) is typing.Annotated:
        base = typing.get_args(annotation)[0]
        error = check_value(value, base)
        if error or contains_promise(value):
            return error
        for meta in annotation.__metadata__:
            error = meta.check(value) if isinstance(meta, ValueCheck) else None
            if error:
                return error
        return None
    if isinstance(annotation, FunctionBlock):
        if value is None and annotation.optional:
            return None
        if isinstance(value, dict) and is_promise(value):
            return None
        return f"expected {annotation!r}, got {describe_value(value)}"
    if annotation is inspect.Parameter.empty or annotation is Any:
        return None
    if contains_promise(value):
        return None
    value = _coerce(value, annotation)
    try:
        error = validate_type(value, annotation)
    except Exception:  # an annotation the checker does not understand: don't guess
        return None
    if not error:
        return None
    detail = ""
    match = re.match(r"at (\S+): ", error)
    if match and match.group(1) != "root":
        detail = f" (item {match.group(1)} is wrong)"
    return f"expected {type_name(annotation)}, got {describe_value(value)}{detail}"


def contains_promise(value: Any) -> bool:
    if isinstance(value, dict):
        return is_promise(value) or any(contains_promise(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(contains_promise(v) for v in value)
    return False


def _coerce(value: Any, annotation: Any) -> Any:
    # JSON has lists only: accept them where a tuple is annotated
    origin = typing.get_origin(annotation)
    if isinstance(value, list) and (annotation is tuple or origin is tuple):
        return tuple(value)
    return value


def _type_hints(func: Callable) -> Dict[str, Any]:
    target = func
    if not (inspect.isfunction(func) or inspect.ismethod(func)) and hasattr(func, "__call__"):
        target = getattr(func, "__init__", func) if inspect.isclass(func) else func.__call__
    try:
        return typing.get_type_hints(target, include_extras=True)  # keeps Annotated[T, ValueCheck(...)]
    except Exception:
        return {}


def _expected_suffix(annotation: Any) -> str:
    if annotation is inspect.Parameter.empty or annotation is Any:
        return ""
    return f" (expected {type_name(annotation)})"


def type_name(annotation: Any) -> str:
    """A short readable name for a type annotation: 'int', 'List[str]', 'Model[List[Doc], Floats2d]'."""
    if isinstance(annotation, FunctionBlock):
        return repr(annotation)
    if typing.get_origin(annotation) is typing.Annotated:
        return type_name(typing.get_args(annotation)[0])
    if annotation is type(None):
        return "null"
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Union:
        non_null = [a for a in args if a is not type(None)]
        names = " or ".join(type_name(a) for a in non_null)
        return f"{names} or null" if len(non_null) < len(args) else names
    if origin is typing.Literal:
        return " or ".join(json.dumps(a) for a in args)
    if isinstance(annotation, type) and not args:
        return annotation.__name__
    text = str(annotation)
    return re.sub(r"\b(?:[A-Za-z_]\w*\.)+(?=[A-Za-z_])", "", text).replace("NoneType", "null")


def describe_value(value: Any) -> str:
    """The value as it would be written in a config, with its kind."""
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    if value is None:
        return "null"
    kind = {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "a list",
            dict: "a section"}.get(type(value), type(value).__name__)
    return f"{text} ({kind})"


# -- sections --------------------------------------------------------------------------------------
def check_section(name: str, section: Any, problems: List[ConfigProblem], registrations: Registrations) -> None:
    fields, extra_allowed, required = SECTIONS[name]
    if not isinstance(section, dict):
        problems.append(ConfigProblem(name, f"expected a section [{name}], got {describe_value(section)}"))
        return
    if name == "pretraining" and not section:
        return  # no pretraining configured
    for key, annotation in fields.items():
        if key not in section:
            problems.append(ConfigProblem(f"{name}.{key}", f"missing setting (expected {type_name(annotation)})"))
            continue
        error = check_value(section[key], annotation)
        if error:
            problems.append(ConfigProblem(f"{name}.{key}", error))
    for key, value in section.items():
        if key not in fields and not extra_allowed:
            hint = suggest(key, list(fields), n=1)
            problems.append(ConfigProblem(f"{name}.{key}", f"unknown setting in [{name}]"
                                          + (f"; did you mean {hint}?" if hint else "")))
        walk_blocks(value, f"{name}.{key}", problems, registrations)


def is_section(value: Any, name: str, problems: List[ConfigProblem]) -> bool:
    """Whether `value` is a section; a problem is noted when it is not."""
    if not isinstance(value, dict):
        problems.append(ConfigProblem(name, f"expected a section, got {describe_value(value)}"))
        return False
    return True


def check_corpora(corpora: Any, problems: List[ConfigProblem], registrations: Registrations) -> None:
    if not is_section(corpora, "corpora", problems):
        return
    for name, block in corpora.items():
        if not (isinstance(block, dict) and is_promise(block)):
            problems.append(ConfigProblem(f"corpora.{name}", "expected a reader block "
                                          '(@readers = "spacy.Corpus.v1", path = ...), got '
                                          + describe_value(block)))
        walk_blocks(block, f"corpora.{name}", problems, registrations)


def check_components(components: Any, problems: List[ConfigProblem], registrations: Registrations) -> None:
    if not is_section(components, "components", problems):
        return
    for name, block in components.items():
        path = f"components.{name}"
        if not isinstance(block, dict):
            problems.append(ConfigProblem(path, f"expected a [{path}] block, got {describe_value(block)}"))
            continue
        if "source" in block:
            check_source_block(block, path, problems)
        elif "factory" in block:
            parameters = registrations.factory_parameters(block["factory"])
            if parameters is None:
                problems.append(ConfigProblem(f"{path}.factory",
                                              registrations.unknown_factory_message(block["factory"])))
            else:
                check_factory_settings(block["factory"], parameters, block, path, problems)
        elif "source" not in block:
            problems.append(ConfigProblem(path, 'a component needs factory = "name" (or source = "pipeline")'))
        for key, value in block.items():
            walk_blocks(value, f"{path}.{key}", problems, registrations)


def check_source_block(block: Dict[str, Any], path: str, problems: List[ConfigProblem]) -> None:
    """A component taken from a trained pipeline: source = "path", optionally component =
    "its name there" and replace_listeners = ["model.tok2vec"]; its settings come from there."""
    if not isinstance(block["source"], str) or not block["source"]:
        problems.append(ConfigProblem(f"{path}.source", "expected the path of a trained pipeline directory or the name of an installed pipeline package, got "
                                      + describe_value(block["source"])))
    if "component" in block and (not isinstance(block["component"], str) or not block["component"]):
        problems.append(ConfigProblem(f"{path}.component", "expected the component's name in the source "
                                      "pipeline, got " + describe_value(block["component"])))
    replace = block.get("replace_listeners", [])
    if not isinstance(replace, list) or not all(isinstance(item, str) for item in replace):
        problems.append(ConfigProblem(f"{path}.replace_listeners", 'expected a list of paths to listener layers, '
                                      'e.g. ["model.tok2vec"], got ' + describe_value(replace)))
    for key in block:
        if key not in ("source", "component", "replace_listeners"):
            problems.append(ConfigProblem(f"{path}.{key}", "a component with source = \"...\" takes its settings "
                                          "from the source pipeline: only source, component and replace_listeners "
                                          "may be set here"))


def check_factory_settings(name: str, parameters: Parameters, block: Dict[str, Any], path: str,
                           problems: List[ConfigProblem]) -> None:
    settings = {k: v for k, v in block.items() if k != "factory"}
    check_arguments(parameters, settings, path, f"component factory '{name}'", problems, skip=("nlp", "name"))


def _check_references(config: Dict[str, Any], problems: List[ConfigProblem]) -> None:
    components = config.get("components") if isinstance(config.get("components"), dict) else {}
    nlp = config.get("nlp") if isinstance(config.get("nlp"), dict) else {}
    pipeline = nlp.get("pipeline") if isinstance(nlp.get("pipeline"), list) else []
    for name in pipeline:
        if isinstance(name, str) and name not in components:
            hint = suggest(name, list(components), n=1)
            problems.append(ConfigProblem("nlp.pipeline", f"'{name}' has no [components.{name}] block"
                                          + (f"; did you mean {hint}?" if hint else "")))
    training = config.get("training") if isinstance(config.get("training"), dict) else {}
    for key in ("disabled",):
        _check_names_in_pipeline(nlp.get(key), f"nlp.{key}", pipeline, problems)
    for key in ("frozen_components", "annotating_components"):
        _check_names_in_pipeline(training.get(key), f"training.{key}", pipeline, problems)
    for key in ("train_corpus", "dev_corpus"):
        _check_dotted_reference(config, training.get(key), f"training.{key}", problems)
    pretraining = config.get("pretraining")
    if isinstance(pretraining, dict) and pretraining:
        # pretraining.component is checked by the pretrain command: a config may be
        # filled with a [pretraining] block before its tok2vec component is named
        _check_dotted_reference(config, pretraining.get("corpus"), "pretraining.corpus", problems)


def _check_names_in_pipeline(names: Any, key: str, pipeline: List[Any], problems: List[ConfigProblem]) -> None:
    if not isinstance(names, list):
        return
    for name in names:
        if isinstance(name, str) and name not in pipeline:
            problems.append(ConfigProblem(key, f"'{name}' is not in nlp.pipeline ({', '.join(map(str, pipeline))})"))


def _check_dotted_reference(config: Dict[str, Any], target: Any, key: str, problems: List[ConfigProblem]) -> None:
    if not isinstance(target, str):
        return
    node: Any = config
    for part in target.split("."):
        if not isinstance(node, dict) or part not in node:
            hint = suggest(target, dotted_keys(config), n=1)
            problems.append(ConfigProblem(key, f"'{target}' is not a section of this config"
                                          + (f"; did you mean {hint}?" if hint else "")))
            return
        node = node[part]
    if not (isinstance(node, dict) and is_promise(node)):
        problems.append(ConfigProblem(key, f"[{target}] must name a registered reader (@readers = ...)"))


def check_extra_section(name: str, problems: List[ConfigProblem]) -> None:
    """A top-level section training does not read is fine (configs keep values
    for variables in them), unless its name is close to one it reads: then it is
    most likely a misspelling whose settings would silently be ignored."""
    likely = _likely_section(name)
    if likely:
        problems.append(ConfigProblem(str(name), f"unknown section [{name}]; did you mean [{likely}]?"))


def _likely_section(name: Any) -> Optional[str]:
    if name in TOP_LEVEL_SECTIONS:
        return None
    matches = close_matches(str(name), list(TOP_LEVEL_SECTIONS), n=1)
    return matches[0] if matches else None


def unreferenced_sections(config: Dict[str, Any]) -> List[str]:
    """Top-level sections that training does not read and that no variable or
    corpus setting refers to: most likely left over, or a mistake."""
    extra = [name for name in config if name not in TOP_LEVEL_SECTIONS and _likely_section(name) is None]
    if not extra:
        return []
    used = set()
    for top, section in config.items():
        stack: List[Any] = [section]
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                stack.extend(node.values())
            elif isinstance(node, (list, tuple)):
                stack.extend(node)
            elif isinstance(node, str):
                for match in VARIABLE_RE.finditer(node):
                    name = match.group(0)[2:-1].replace(":", ".").split(".")[0]
                    if name != top:  # a section using its own values does not make it used
                        used.add(name)
    for section, key in (("training", "train_corpus"), ("training", "dev_corpus"), ("pretraining", "corpus")):
        target = config.get(section, {}).get(key) if isinstance(config.get(section), dict) else None
        if isinstance(target, str):
            used.add(target.split(".")[0])
    return [name for name in extra if name not in used]


def raise_problems(problems: Sequence[ConfigProblem], source: Optional[ConfigSource] = None) -> None:
    if problems:
        raise ConfigValidationFailed(problems, source)


def missing_paths(values: Dict[str, Any]) -> List[ConfigProblem]:
    """The files and directories an interpolated config names that do not exist:
    [paths] values, the corpora's `path`, [initialize] vectors and init_tok2vec (each
    path once, under the first key that names it). Not a validation problem: a config is
    often checked before its data is in place."""
    named: List[tuple] = [(f"paths.{key}", value) for key, value in (values.get("paths") or {}).items()]
    for name, block in (values.get("corpora") or {}).items():
        if isinstance(block, dict):
            named.append((f"corpora.{name}.path", block.get("path")))
    initialize = values.get("initialize") or {}
    named += [("initialize.vectors", initialize.get("vectors")), ("initialize.init_tok2vec",
                                                                   initialize.get("init_tok2vec"))]
    problems: List[ConfigProblem] = []
    seen = set()
    for key, value in named:
        if not isinstance(value, str) or not value or value in seen:
            continue
        seen.add(value)
        if not Path(value).exists():
            problems.append(ConfigProblem(key, f"{value} does not exist"))
    return problems


# spacy.LookupsDataLoader.v1 reads its tables from this package (pipeline/lookups.py)
LOOKUPS_PACKAGE = "spacy_lookups_data"
LOOKUPS_LOADER = "spacy.LookupsDataLoader.v1"


def missing_lookups_package_message() -> str:
    return (f"{LOOKUPS_LOADER} loads its tables from the spacy-lookups-data package (module {LOOKUPS_PACKAGE}), "
            f"which is not installed: "
            f"install it with `pip install spacy-lookups-data`, or set `[initialize] lookups = null` in the config")


def missing_packages(values: Dict[str, Any]) -> List[ConfigProblem]:
    """The packages an interpolated config needs at training time that are not installed
    (spacy-lookups-data for [initialize.lookups]): a warning, as missing_paths."""
    initialize = values.get("initialize") if isinstance(values.get("initialize"), dict) else {}
    lookups = initialize.get("lookups")
    if isinstance(lookups, dict) and lookups.get("@misc") == LOOKUPS_LOADER \
            and importlib.util.find_spec(LOOKUPS_PACKAGE) is None:
        return [ConfigProblem("initialize.lookups", missing_lookups_package_message())]
    return []

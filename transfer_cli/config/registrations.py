"""The live registry and component factories as validation reads them (validation.py's
Registrations; snapshot.py reads the same from registry_snapshot.json), and
validate_config: a config's problems checked against them."""
from typing import Any, Dict, List, Optional

from .factories import get_factory_meta, has_factory, unknown_factory_message
from .registry import lookup_problem, registry
from .validation import ConfigProblem, Parameters, Registrations, find_problems, function_parameters


class LiveRegistrations(Registrations):
    def lookup_problem(self, registry_name: str, func_name: Any) -> Optional[str]:
        return lookup_problem(registry_name, func_name)

    def function_parameters(self, registry_name: str, func_name: str) -> Parameters:
        return function_parameters(registry.get(registry_name, func_name))

    def factory_parameters(self, name: Any) -> Optional[Parameters]:
        return function_parameters(get_factory_meta(name).func) if has_factory(name) else None

    def unknown_factory_message(self, name: Any) -> str:
        return unknown_factory_message(name)


LIVE = LiveRegistrations()


def validate_config(config: Dict[str, Any]) -> List[ConfigProblem]:
    """Every problem in an (interpolated or not) config; [] when it is valid."""
    return find_problems(config, LIVE)

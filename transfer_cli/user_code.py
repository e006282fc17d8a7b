"""Users' Python files (`--code`): imported by path so the functions they register can be
named in configs. Each is kept in sys.modules as `transfer_cli_user_code_STEM`, which is
also the record of what was imported: worker processes (`nlp.pipe(n_process=K)`) import
the same files before they load a pipeline. A light module: the CLI imports it at start."""
import importlib.util
import sys
import traceback
from pathlib import Path
from typing import List, Optional, Union

from .errors import UserError

USER_CODE_PREFIX = "transfer_cli_user_code_"


def import_code(code_path: Optional[Union[str, Path]]) -> None:
    """Import a user's Python file so the functions it registers can be used by name."""
    if code_path is None:
        return
    path = Path(code_path)
    if not path.exists():
        raise UserError(f"Code file not found: {path} (--code expects a Python file)")
    spec = importlib.util.spec_from_file_location(f"{USER_CODE_PREFIX}{path.stem}", str(path))
    if spec is None or spec.loader is None:
        raise UserError(f"Cannot import {path}: --code expects a Python (.py) file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException as e:
        sys.modules.pop(spec.name, None)  # as Python's own import does: a failed module is not kept
        if isinstance(e, UserError) or not isinstance(e, Exception):
            raise
        # the user's own code failed: show it as theirs
        tb = traceback.extract_tb(e.__traceback__)
        frames = [f for f in tb if Path(f.filename).resolve() == path.resolve()]
        where = f"{path}:{frames[-1].lineno}" if frames else str(path)
        if isinstance(e, SyntaxError) and e.filename and Path(e.filename).resolve() == path.resolve():
            where = f"{path}:{e.lineno}"  # a syntax error has no frame in the file
        raise UserError(f"error in --code file {where}: {type(e).__name__}: {e}") from e


def imported_code_files() -> List[Path]:
    """The files import_code has imported in this process, in import order."""
    return [Path(module.__file__) for name, module in list(sys.modules.items())
            if name.startswith(USER_CODE_PREFIX) and getattr(module, "__file__", None)]

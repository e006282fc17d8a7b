"""thinc architectures. Importing this registers them."""
import importlib.util

from . import listeners, tagger

listeners.register()
tagger.register()
if importlib.util.find_spec(__name__ + ".architectures") is not None:
    from . import architectures  # noqa: F401

"""thinc architectures. Importing this registers them."""
import importlib.util

from . import listeners, tagger
from . import textcat
from . import parser
from . import static_vectors

listeners.register()
tagger.register()
parser.register()
textcat.register()
static_vectors.register()
if importlib.util.find_spec(__name__ + ".architectures") is not None:
    from . import architectures  # noqa: F401

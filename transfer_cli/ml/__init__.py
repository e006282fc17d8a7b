"""thinc architectures. Importing this registers them (each is decorated where it is defined)."""
from . import (character_embed, embeddings, encoders, featurize, listeners, parser,  # noqa: F401
               pretraining, static_vectors, tagger, textcat, tok2vec, transformer, transformer_listener)

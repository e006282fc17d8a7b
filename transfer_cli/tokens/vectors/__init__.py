"""Static word vectors: the Vectors table (vectors.py), file loaders (loaders.py,
parse.py, spacy_format.py), truncation and pruning (npy.py, prune.py) and floret
tables (floret.py, hashing.py).

Part of the tokens layer (a Vocab holds a table; Token/Span/Doc vectors read it): it
needs nothing above tokens, not even the config registry. Putting a table into a
pipeline is pipeline/vectors.py."""
from .vectors import Vectors

__all__ = ["Vectors"]

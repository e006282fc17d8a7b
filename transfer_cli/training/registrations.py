"""Registered training functions: batchers, loggers, readers."""
from ..config.registry import registry
from .batchers import (configure_minibatch_by_padded_size, configure_minibatch_by_sequence,
                       configure_minibatch_by_words)

registry.batchers.register("spacy.batch_by_words.v1", func=configure_minibatch_by_words)
registry.batchers.register("spacy.batch_by_sequence.v1", func=configure_minibatch_by_sequence)
registry.batchers.register("spacy.batch_by_padded.v1", func=configure_minibatch_by_padded_size)

from . import loggers  # noqa: E402

loggers.register()

from . import corpus  # noqa: E402

corpus.register()

"""Registered tokenizer factories."""
from ..config.registry import registry
from . import tokenizer_factory

registry.tokenizers.register("spacy.Tokenizer.v1", func=tokenizer_factory)

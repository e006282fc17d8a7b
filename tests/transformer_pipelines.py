"""Pipelines of the transformer component and its listeners over the tiny random models
of transformer_fixtures, for tests/test_transformer_*.py.

    nlp = trf_pipeline(tiny_bert_dir, {"tagger": listener()}, drop_trf_data_after_listeners=True)
    examples = tagged_examples(nlp)
"""
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest

import transfer_cli
from transfer_cli.tokens.example import Example

# Sentences made of words the tiny vocabularies have whole, with their tags.
SENTENCES = [
    ("the cat sat on the mat", "DT NN VBD IN DT NN", "DET NOUN VERB ADP DET NOUN"),
    ("a dog is in new york", "DT NN VBZ IN NNP NNP", "DET NOUN AUX ADP PROPN PROPN"),
    ("hello world", "UH NN", "INTJ NOUN"),
    ("the dog sat on a cat", "DT NN VBD IN DT NN", "DET NOUN VERB ADP DET NOUN"),
]
TEXTS = [text for text, _, _ in SENTENCES]


@pytest.fixture(autouse=True)
def one_torch_thread():
    """torch's own thread pool spins against the other processes of a busy machine (a tiny
    forward pass measured ~90x slower with 2 threads than with 1)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def transformer_block(model_dir: Path, **settings: Any) -> Dict[str, Any]:
    """A transformer component over `model_dir`, one span per doc."""
    return {"model": {"@architectures": "spacy-transformers.TransformerModel.v3", "name": str(model_dir),
                      "get_spans": {"@span_getters": "spacy-transformers.doc_spans.v1"}}, **settings}


def listener(grad_factor: Any = 1.0, pooling: str = "reduce_mean.v1", upstream: str = "*",
             width: Optional[int] = None) -> Dict[str, Any]:
    block = {"@architectures": "spacy-transformers.TransformerListener.v1", "grad_factor": grad_factor,
             "upstream": upstream, "pooling": {"@layers": pooling}}
    if width is not None:
        block["width"] = width
    return block


def tagger_block(tok2vec: Dict[str, Any], attr: str = "tag") -> Dict[str, Any]:
    return {"attr": attr, "model": {"@architectures": "spacy.Tagger.v2", "tok2vec": tok2vec}}


def trf_pipeline(model_dir: Path, listeners: Optional[Dict[str, Dict[str, Any]]] = None, **settings: Any):
    """blank("en") + a transformer + one tagger per entry of `listeners` (name → listener
    block; a name starting with "pos" tags POS)."""
    nlp = transfer_cli.blank("en")
    nlp.add_pipe("transformer", config=transformer_block(model_dir, **settings))
    for name, block in (listeners if listeners is not None else {"tagger": listener()}).items():
        nlp.add_pipe("tagger", name=name, config=tagger_block(block, "pos" if name.startswith("pos") else "tag"))
    return nlp


def tagged_examples(nlp) -> List[Example]:
    return [Example.from_dict(nlp.make_doc(text), {"tags": tags.split(), "pos": pos.split()})
            for text, tags, pos in SENTENCES]


def torch_state(nlp, name: str = "transformer") -> Dict[str, Any]:
    """A copy of the component's torch weights."""
    from transfer_cli.ml.transformer.model import hf_model

    return {key: value.detach().clone() for key, value in hf_model(nlp.get_pipe(name).model).state_dict().items()}


def changed(before: Dict[str, Any], after: Dict[str, Any]) -> List[str]:
    return [key for key in before if not bool((before[key] == after[key]).all())]

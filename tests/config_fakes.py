"""Stand-ins for the spaCy-named functions and factories, used only by the
tests/test_config*.py files. Each has the signature spaCy 3.8 gives the name (a
fact, so configs written by spaCy fill and validate against them) and records
its arguments instead of building a network. `spacy_like()` registers them for
the duration of a test and restores whatever was registered before, so real
implementations registered by the package are untouched for other tests."""
import contextlib
from typing import Any, Callable, Dict, Iterator, List, Literal, Optional, Sequence, Tuple, Union

import catalogue
from thinc.api import Model

from transfer_cli.config import factories as factories_module
from transfer_cli.config import load_registrations, registry
from transfer_cli.config.factories import FactoryMeta, parse_default_config


class Built(dict):
    """What a stand-in returns: its name and arguments."""


def _built(name: str) -> Callable[..., Built]:
    def record(**kwargs: Any) -> Built:
        return Built(function=name, **kwargs)
    return record


# fmt: off
def tok2vec_v2(embed: Model, encode: Model) -> Model: return _built("spacy.Tok2Vec.v2")(embed=embed, encode=encode)
def tok2vec_v1(embed: Model, encode: Model) -> Model: return _built("spacy.Tok2Vec.v1")(embed=embed, encode=encode)
def multi_hash_embed_v2(width: int, attrs: List[Union[str, int]], rows: List[int], include_static_vectors: bool) -> Model:
    return _built("spacy.MultiHashEmbed.v2")(width=width, attrs=attrs, rows=rows)
def multi_hash_embed_v1(width: int, rows: Union[int, List[int]], attrs: Optional[List[Union[str, int]]] = None,
                        include_static_vectors: Optional[bool] = None, also_embed_subwords: Optional[bool] = None,
                        also_use_static_vectors: Optional[bool] = None) -> Model:
    return _built("spacy.MultiHashEmbed.v1")(width=width, rows=rows)
def maxout_window_encoder(width: int, window_size: int, maxout_pieces: int, depth: int) -> Model:
    return _built("spacy.MaxoutWindowEncoder")(width=width, depth=depth)
def hash_embed_cnn(*, width: int, depth: int, embed_size: int, window_size: int, maxout_pieces: int,
                   subword_features: bool, pretrained_vectors: Optional[bool]) -> Model:
    return _built("spacy.HashEmbedCNN.v2")(width=width)
def tok2vec_listener(width: int, upstream: str = "*") -> Model: return _built("spacy.Tok2VecListener.v1")(width=width)
def tagger_v2(tok2vec: Model, nO: Optional[int] = None, normalize: bool = False) -> Model:
    return _built("spacy.Tagger.v2")(tok2vec=tok2vec)
def parser_v2(tok2vec: Model, state_type: Literal["parser", "ner"], extra_state_tokens: bool, hidden_width: int,
              maxout_pieces: int, use_upper: bool, nO: Optional[int] = None) -> Model:
    return _built("spacy.TransitionBasedParser.v2")(tok2vec=tok2vec, hidden_width=hidden_width)
def parser_v1(tok2vec: Model, state_type: Literal["parser", "ner"], extra_state_tokens: bool, hidden_width: int,
              maxout_pieces: int, use_upper: bool = True, nO: Optional[int] = None) -> Model:
    return _built("spacy.TransitionBasedParser.v1")(tok2vec=tok2vec, hidden_width=hidden_width)
def textcat_bow_v3(exclusive_classes: bool, ngram_size: int, no_output_layer: bool, length: int = 262144,
                   nO: Optional[int] = None) -> Model:
    return _built("spacy.TextCatBOW.v3")(exclusive_classes=exclusive_classes)
def textcat_ensemble_v2(tok2vec: Model, linear_model: Model, nO: Optional[int] = None) -> Model:
    return _built("spacy.TextCatEnsemble.v2")(tok2vec=tok2vec)
def textcat_cnn_v2(tok2vec: Model, exclusive_classes: bool, nO: Optional[int] = None) -> Model:
    return _built("spacy.TextCatCNN.v2")(tok2vec=tok2vec)
def pretrain_characters(maxout_pieces: int, hidden_size: int, n_characters: int) -> Callable:
    return _built("spacy.PretrainCharacters.v1")(n_characters=n_characters)
def pretrain_vectors(maxout_pieces: int, hidden_size: int, loss: str) -> Callable:
    return _built("spacy.PretrainVectors.v1")(loss=loss)
def transformer_v3(name: str, get_spans: Callable, tokenizer_config: dict = {}, transformer_config: dict = {},
                   mixed_precision: bool = False, grad_scaler_config: dict = {}) -> Model:
    return _built("spacy-transformers.TransformerModel.v3")(name=name)
def transformer_v1(name: str, get_spans: Callable, tokenizer_config: dict = {}) -> Model:
    return _built("spacy-transformers.TransformerModel.v1")(name=name)
def transformer_listener(pooling: Model, grad_factor: float = 1.0, upstream: str = "*") -> Model:
    return _built("spacy-transformers.TransformerListener.v1")(grad_factor=grad_factor)
def strided_spans(window: int, stride: int) -> Callable: return _built("strided_spans")(window=window, stride=stride)
def doc_spans() -> Callable: return _built("doc_spans")()
def null_annotation_setter() -> Callable: return _built("null_annotation_setter")()
def scorer() -> Callable: return _built("scorer")()
def corpus(path: Optional[str], gold_preproc: bool, max_length: int = 0, limit: int = 0,
           augmenter: Optional[Callable] = None) -> Callable:
    return _built("spacy.Corpus.v1")(path=path)
def jsonl_corpus(path: Optional[str], min_length: int = 0, max_length: int = 0, limit: int = 0) -> Callable:
    return _built("spacy.JsonlCorpus.v1")(path=path)
def batch_by_words(*, size: Union[Sequence[int], int], tolerance: float, discard_oversize: bool,
                   get_length: Optional[Callable] = None) -> Callable:
    return _built("spacy.batch_by_words.v1")(size=size)
def batch_by_padded(*, size: Union[Sequence[int], int], buffer: int, discard_oversize: bool,
                    get_length: Optional[Callable] = None) -> Callable:
    return _built("spacy.batch_by_padded.v1")(size=size)
def console_logger(progress_bar: bool = False) -> Callable: return _built("spacy.ConsoleLogger.v1")()
def tokenizer() -> Callable: return _built("spacy.Tokenizer.v1")()
def vectors() -> Callable: return _built("spacy.Vectors.v1")()


FUNCTIONS: List[Tuple[str, str, Callable]] = [
    ("architectures", "spacy.Tok2Vec.v2", tok2vec_v2),
    ("architectures", "spacy.Tok2Vec.v1", tok2vec_v1),
    ("architectures", "spacy.MultiHashEmbed.v2", multi_hash_embed_v2),
    ("architectures", "spacy.MultiHashEmbed.v1", multi_hash_embed_v1),
    ("architectures", "spacy.MaxoutWindowEncoder.v2", maxout_window_encoder),
    ("architectures", "spacy.MaxoutWindowEncoder.v1", maxout_window_encoder),
    ("architectures", "spacy.HashEmbedCNN.v2", hash_embed_cnn),
    ("architectures", "spacy.HashEmbedCNN.v1", hash_embed_cnn),
    ("architectures", "spacy.Tok2VecListener.v1", tok2vec_listener),
    ("architectures", "spacy.Tagger.v2", tagger_v2),
    ("architectures", "spacy.TransitionBasedParser.v2", parser_v2),
    ("architectures", "spacy.TransitionBasedParser.v1", parser_v1),
    ("architectures", "spacy.TextCatBOW.v3", textcat_bow_v3),
    ("architectures", "spacy.TextCatEnsemble.v2", textcat_ensemble_v2),
    ("architectures", "spacy.TextCatCNN.v2", textcat_cnn_v2),
    ("architectures", "spacy.PretrainCharacters.v1", pretrain_characters),
    ("architectures", "spacy.PretrainVectors.v1", pretrain_vectors),
    ("architectures", "spacy-transformers.TransformerModel.v3", transformer_v3),
    ("architectures", "spacy-transformers.TransformerModel.v1", transformer_v1),
    ("architectures", "spacy-transformers.TransformerListener.v1", transformer_listener),
    ("span_getters", "spacy-transformers.strided_spans.v1", strided_spans),
    ("span_getters", "spacy-transformers.doc_spans.v1", doc_spans),
    ("annotation_setters", "spacy-transformers.null_annotation_setter.v1", null_annotation_setter),
    ("scorers", "spacy.tagger_scorer.v1", scorer),
    ("scorers", "spacy.ner_scorer.v1", scorer),
    ("scorers", "spacy.senter_scorer.v1", scorer),
    ("scorers", "spacy.textcat_scorer.v2", scorer),
    ("scorers", "spacy.textcat_multilabel_scorer.v2", scorer),
    ("readers", "spacy.Corpus.v1", corpus),
    ("readers", "spacy.JsonlCorpus.v1", jsonl_corpus),
    ("batchers", "spacy.batch_by_words.v1", batch_by_words),
    ("batchers", "spacy.batch_by_padded.v1", batch_by_padded),
    ("loggers", "spacy.ConsoleLogger.v1", console_logger),
    ("tokenizers", "spacy.Tokenizer.v1", tokenizer),
    ("vectors", "spacy.Vectors.v1", vectors),
]

HASH_EMBED = """
[model.tok2vec]
@architectures = "spacy.HashEmbedCNN.v2"
pretrained_vectors = null
width = 96
depth = 4
embed_size = 2000
window_size = 1
maxout_pieces = 3
subword_features = true
"""


def make_tok2vec(nlp, name: str, model: Model): return Built(factory="tok2vec", name=name, model=model)
def make_tagger(nlp, name: str, model: Model, overwrite: bool, scorer: Optional[Callable], neg_prefix: str,
                label_smoothing: float): return Built(factory="tagger", name=name, model=model)
def make_ner(nlp, name: str, model: Model, moves: Optional[Any], update_with_oracle_cut_size: int,
             incorrect_spans_key: Optional[str], scorer: Optional[Callable]):
    return Built(factory="ner", name=name, model=model)
def make_textcat(nlp, name: str, model: Model, threshold: float, scorer: Optional[Callable]):
    return Built(factory="textcat", name=name, model=model)
def make_senter(nlp, name: str, model: Model, overwrite: bool, scorer: Optional[Callable]):
    return Built(factory="senter", name=name, model=model)
def make_transformer(nlp, name: str, model: Model, set_extra_annotations: Callable, max_batch_items: int):
    return Built(factory="transformer", name=name, model=model)


_CATS = {"cats_score": 1.0, "cats_score_desc": None, "cats_micro_p": None, "cats_micro_r": None,
         "cats_micro_f": None, "cats_macro_p": None, "cats_macro_r": None, "cats_macro_f": None,
         "cats_macro_auc": None, "cats_f_per_type": None}
FACTORIES: List[Tuple[str, Callable, Dict[str, Any], Dict[str, Optional[float]]]] = [
    ("tok2vec", make_tok2vec, {"model": "[model]\n@architectures = \"spacy.HashEmbedCNN.v2\"\npretrained_vectors = null\n"
                                        "width = 96\ndepth = 4\nembed_size = 2000\nwindow_size = 1\n"
                                        "maxout_pieces = 3\nsubword_features = true"}, {}),
    ("tagger", make_tagger, {"model": "[model]\n@architectures = \"spacy.Tagger.v2\"\n" + HASH_EMBED,
                             "overwrite": False, "scorer": {"@scorers": "spacy.tagger_scorer.v1"},
                             "neg_prefix": "!", "label_smoothing": 0.0},
     {"tag_acc": 1.0, "pos_acc": 0.0, "tag_micro_p": None, "tag_micro_r": None, "tag_micro_f": None}),
    ("ner", make_ner, {"moves": None, "update_with_oracle_cut_size": 100,
                       "model": "[model]\n@architectures = \"spacy.TransitionBasedParser.v2\"\nstate_type = \"ner\"\n"
                                "extra_state_tokens = false\nhidden_width = 64\nmaxout_pieces = 2\nuse_upper = true\n"
                                + HASH_EMBED,
                       "incorrect_spans_key": None, "scorer": {"@scorers": "spacy.ner_scorer.v1"}},
     {"ents_f": 1.0, "ents_p": 0.0, "ents_r": 0.0, "ents_per_type": None}),
    ("textcat", make_textcat, {"threshold": 0.0, "model": {"@architectures": "spacy.TextCatBOW.v3",
                                                           "exclusive_classes": True, "ngram_size": 1,
                                                           "no_output_layer": False},
                               "scorer": {"@scorers": "spacy.textcat_scorer.v2"}}, _CATS),
    ("textcat_multilabel", make_textcat, {"threshold": 0.5, "model": {"@architectures": "spacy.TextCatBOW.v3",
                                                                      "exclusive_classes": False, "ngram_size": 1,
                                                                      "no_output_layer": False},
                                          "scorer": {"@scorers": "spacy.textcat_multilabel_scorer.v2"}}, _CATS),
    ("senter", make_senter, {"model": "[model]\n@architectures = \"spacy.Tagger.v2\"\n" + HASH_EMBED.replace(
        "width = 96", "width = 12").replace("depth = 4", "depth = 1").replace("maxout_pieces = 3", "maxout_pieces = 2"),
        "overwrite": False, "scorer": {"@scorers": "spacy.senter_scorer.v1"}},
     {"sents_f": 1.0, "sents_p": 0.0, "sents_r": 0.0}),
    ("transformer", make_transformer, {
        "set_extra_annotations": {"@annotation_setters": "spacy-transformers.null_annotation_setter.v1"},
        "max_batch_items": 4096,
        "model": {"@architectures": "spacy-transformers.TransformerModel.v3", "name": "roberta-base",
                  "tokenizer_config": {"use_fast": True}, "transformer_config": {}, "mixed_precision": False,
                  "grad_scaler_config": {},
                  "get_spans": {"@span_getters": "spacy-transformers.strided_spans.v1", "window": 128,
                                "stride": 96}}}, {}),
]
# fmt: on


@contextlib.contextmanager
def registered(functions: Sequence[Tuple[str, str, Callable]] = (),
               factories: Sequence[Tuple[str, Callable, Dict[str, Any], Dict[str, Optional[float]]]] = ()
               ) -> Iterator[None]:
    """Register functions and factories for a block of code, then restore the
    previous registrations exactly."""
    load_registrations()  # real modules first, so restoring never hides them
    saved_functions = []
    for reg_name, func_name, func in functions:
        namespace = tuple(getattr(registry, reg_name).namespace) + (func_name,)
        saved_functions.append((namespace, catalogue.REGISTRY.get(namespace)))
        getattr(registry, reg_name).register(func_name, func=func)
    saved_factories = []
    for name, func, default_config, weights in factories:
        namespace = tuple(registry.factories.namespace) + (name,)
        saved_factories.append((name, namespace, catalogue.REGISTRY.get(namespace),
                                factories_module._FACTORIES.get(name)))
        factories_module.register_factory(name, default_config=default_config, default_score_weights=weights,
                                          func=func)
    try:
        yield
    finally:
        for namespace, previous in reversed(saved_functions):
            _restore(namespace, previous)
        for name, namespace, previous, meta in reversed(saved_factories):
            _restore(namespace, previous)
            if meta is None:
                factories_module._FACTORIES.pop(name, None)
            else:
                factories_module._FACTORIES[name] = meta


def _restore(namespace: Tuple[str, ...], previous: Optional[Callable]) -> None:
    if previous is None:
        catalogue.REGISTRY.pop(namespace, None)
    else:
        catalogue.REGISTRY[namespace] = previous


@contextlib.contextmanager
def spacy_like() -> Iterator[None]:
    """The spaCy-named stand-ins and factories above, registered for the block."""
    with registered(FUNCTIONS, FACTORIES):
        yield


__all__ = ["spacy_like", "registered", "Built", "FactoryMeta", "parse_default_config"]

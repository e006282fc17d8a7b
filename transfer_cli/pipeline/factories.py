"""Component factories of this package, registered with their default settings
(the same defaults spaCy 3.8 writes, so fill-config output matches)."""
from typing import Callable, Optional

from thinc.api import Model

from ..config.factories import register_factory
from .tagger import Tagger
from .tok2vec import Tok2Vec

DEFAULT_TOK2VEC_MODEL = """
[model]
@architectures = "spacy.Tok2Vec.v2"

[model.embed]
@architectures = "spacy.MultiHashEmbed.v2"
width = 96
attrs = ["NORM", "PREFIX", "SUFFIX", "SHAPE"]
rows = [5000, 1000, 2500, 2500]
include_static_vectors = false

[model.encode]
@architectures = "spacy.MaxoutWindowEncoder.v2"
width = 96
depth = 4
window_size = 1
maxout_pieces = 3
"""

DEFAULT_TAGGER_MODEL = """
[model]
@architectures = "spacy.Tagger.v2"
nO = null
normalize = false

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


@register_factory("tok2vec", default_config={"model": DEFAULT_TOK2VEC_MODEL})
def make_tok2vec(nlp, name: str, model: Model) -> Tok2Vec:
    return Tok2Vec(nlp.vocab, model, name)


@register_factory(
    "tagger",
    default_config={"model": DEFAULT_TAGGER_MODEL, "overwrite": False,
                    "scorer": {"@scorers": "spacy.tagger_scorer.v1"}, "neg_prefix": "!",
                    "label_smoothing": 0.0},
    default_score_weights={"tag_acc": 1.0, "pos_acc": 0.0, "tag_micro_p": None, "tag_micro_r": None,
                           "tag_micro_f": None},
    assigns=["token.tag"],
)
def make_tagger(nlp, name: str, model: Model, overwrite: bool, scorer: Optional[Callable], neg_prefix: str,
                label_smoothing: float, attr: str = "tag") -> Tagger:
    """`attr = "pos"` predicts universal POS (e.g. CoNLL-U UPOS) instead of fine-grained tags."""
    return Tagger(nlp.vocab, model, name, overwrite=overwrite, scorer=scorer, neg_prefix=neg_prefix,
                  label_smoothing=label_smoothing, attr=attr)

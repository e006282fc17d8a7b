"""Registers the embedding and encoding architectures under their spaCy names, so
spaCy training configs resolve unchanged (`@architectures = "spacy.Tok2Vec.v2"`).
Importing this module is what registers them (see config.registry
REGISTRATION_MODULES)."""
from ..config.registry import registry
from .character_embed import CharacterEmbed_v1, CharacterEmbed_v2, CharEmbed
from .embeddings import MultiHashEmbed_v1, MultiHashEmbed_v2
from .encoders import MaxoutWindowEncoder, MishWindowEncoder
from .featurize import FeatureExtractor
from .tok2vec import build_hash_embed_cnn_tok2vec, build_Tok2Vec_model, build_Tok2Vec_model_v1

ARCHITECTURES = {
    "spacy.Tok2Vec.v1": build_Tok2Vec_model_v1,
    "spacy.Tok2Vec.v2": build_Tok2Vec_model,
    "spacy.MultiHashEmbed.v1": MultiHashEmbed_v1,
    "spacy.MultiHashEmbed.v2": MultiHashEmbed_v2,
    "spacy.MaxoutWindowEncoder.v1": MaxoutWindowEncoder,
    "spacy.MaxoutWindowEncoder.v2": MaxoutWindowEncoder,
    "spacy.MishWindowEncoder.v1": MishWindowEncoder,
    "spacy.MishWindowEncoder.v2": MishWindowEncoder,
    "spacy.HashEmbedCNN.v1": build_hash_embed_cnn_tok2vec,
    "spacy.HashEmbedCNN.v2": build_hash_embed_cnn_tok2vec,
    "spacy.CharacterEmbed.v1": CharacterEmbed_v1,
    "spacy.CharacterEmbed.v2": CharacterEmbed_v2,
}
LAYERS = {
    "spacy.FeatureExtractor.v1": FeatureExtractor,
    "spacy.CharEmbed.v1": CharEmbed,
}

for _name, _func in ARCHITECTURES.items():
    registry.architectures.register(_name, func=_func)
for _name, _func in LAYERS.items():
    registry.layers.register(_name, func=_func)

"""Hugging Face transformers as thinc models: the data classes a transformer produces
(data.py), the span getters that cut docs into model inputs (span_getters.py), spans to
wordpieces (wordpieces.py), the wordpiece-to-token alignment (alignment.py), local
loading and saving (hf.py) and the TransformerModel architectures
(model.py). torch and transformers are imported only inside the functions that load or
run a model, so importing this package stays light."""
from . import model, span_getters  # noqa: F401
from .data import FullTransformerBatch, ModelOutput, TransformerData, WordpieceBatch  # noqa: F401

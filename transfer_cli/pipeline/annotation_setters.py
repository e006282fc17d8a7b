"""Annotation setters: what the transformer component does with its output beyond
storing `doc._.trf_data`. A setter is called as `setter(docs, full_batch)` after each
batch, `full_batch` being the batch's FullTransformerBatch. Register your own with
`@transfer_cli.registry.annotation_setters("my_setter.v1")` in a file passed with
--code, or assign one at run time: `nlp.get_pipe("transformer").set_extra_annotations = fn`."""
from typing import Callable, List

from ..config.registry import registry
from ..ml.transformer.data import FullTransformerBatch
from ..tokens import Doc

AnnotationSetter = Callable[[List[Doc], FullTransformerBatch], None]


def null_annotation_setter(docs: List[Doc], trf_data: FullTransformerBatch) -> None:
    """Sets nothing: doc._.trf_data is all the transformer stores."""


@registry.annotation_setters("spacy-transformers.null_annotation_setter.v1")
def configure_null_annotation_setter() -> AnnotationSetter:
    return null_annotation_setter

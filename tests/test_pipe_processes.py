"""nlp.pipe as spaCy users call it (batch_size, as_tuples, disable, n_process) and
`apply --n-process`: worker processes give the same docs, in input order, as one
process; user code from --code works in the workers; a worker's error is one clear
error and no worker is left behind. Each n_process=2 call starts two interpreters
(seconds), so the checks share a few calls."""
import itertools
import json
import multiprocessing
import pickle
import sys

import numpy
import pytest
from thinc.api import Adam, fix_random_seed

from conftest import NER_DEV, NER_TRAIN, TEXTCAT_TRAIN, cli, listener, shared_config, tagger, tok2vec_model
from transfer_cli.errors import PipelineError
from transfer_cli.pipeline.build import blank, load, pipeline_from_config
from transfer_cli.pipeline.processes import Workers
from transfer_cli.tokens import Doc, Span
from transfer_cli.tokens.doc_state import pack_docs, unpack_docs
from transfer_cli.tokens.docbin import DocBin
from transfer_cli.tokens.example import Example
from transfer_cli.user_code import USER_CODE_PREFIX, import_code
from transformer_fixtures import tiny_bert_dir  # noqa: F401
from transformer_pipelines import TEXTS, one_torch_thread, tagged_examples  # noqa: F401


def read_jsonl(path, limit=None):
    return [json.loads(line) for line in path.read_text(encoding="utf8").splitlines()[:limit]]


def word_tag(word: str) -> str:
    """Made-up tags a tiny tagger learns in a few steps."""
    return "NUM" if word[:1].isdigit() else "CAP" if word[:1].isupper() else "LOW" if word.isalpha() else "SYM"


@pytest.fixture(scope="module")
def nlp():
    """tok2vec + tagger + ner + textcat, trained a little so every one annotates."""
    fix_random_seed(0)
    textcat = {"factory": "textcat",
               "model": {"@architectures": "spacy.TextCatEnsemble.v2", "tok2vec": listener(32),
                         "linear_model": {"@architectures": "spacy.TextCatBOW.v3", "exclusive_classes": True,
                                          "ngram_size": 1, "no_output_layer": False}}}
    ner = {"factory": "ner", "model": {"@architectures": "spacy.TransitionBasedParser.v2", "state_type": "ner",
                                       "extra_state_tokens": False, "hidden_width": 16, "maxout_pieces": 2,
                                       "use_upper": True, "tok2vec": listener(32)}}
    config = shared_config(tok2vec_model(width=32, depth=1, rows=(500, 200, 200, 200)),
                           {"tagger": tagger(listener(32)), "ner": ner, "textcat": textcat}, NER_TRAIN, NER_DEV)
    nlp = pipeline_from_config(config)
    cats = [record["label"] for record in read_jsonl(TEXTCAT_TRAIN)[::13]]  # the genres come in runs
    examples = []
    for record, label in zip(read_jsonl(NER_TRAIN)[::13], cats):
        doc = nlp.make_doc(record["text"])
        examples.append(Example.from_dict(doc, {"tags": [word_tag(t.text) for t in doc],
                                                "entities": [tuple(e) for e in record["entities"]],
                                                "cats": {c: float(c == label) for c in sorted(set(cats))}}))
    nlp.initialize(lambda: examples)
    optimizer = Adam(0.01)
    for _ in range(8):
        for start in range(0, len(examples), 20):
            nlp.update(examples[start:start + 20], sgd=optimizer)
    return nlp


@pytest.fixture(scope="module")
def texts():
    return [record["text"] for record in read_jsonl(NER_DEV, 41)]


def annotations(doc):
    return (doc.text, [t.tag_ for t in doc], [(e.start, e.end, e.label_) for e in doc.ents], doc.cats)


def docbin_bytes(docs):
    return DocBin(store_user_data=True, docs=docs).to_bytes()


def no_workers_left():
    return not [p for p in multiprocessing.active_children() if p.name.startswith("transfer-cli-pipe")]


@pytest.fixture
def to_workers_only(monkeypatch):
    """Every batch goes to the workers (by default this process annotates while they start,
    and a short input may never reach them)."""
    monkeypatch.setattr(Workers, "sends_next_batch", lambda self: True)


@pytest.fixture
def alternating(monkeypatch):
    """Batches go to the workers and stay here in turn: docs from both, merged in order."""
    turns = itertools.cycle([False, True])
    monkeypatch.setattr(Workers, "sends_next_batch", lambda self: next(turns))


# -- in one process: the arguments ----------------------------------------------------------------
def test_disable_skips_components_for_this_call_only(nlp, texts):
    docs = list(nlp.pipe(texts[:5], disable=["ner", "textcat"]))
    assert all(t.tag_ for d in docs for t in d)
    assert not any(d.has_annotation("ENT_IOB") or d.cats for d in docs)
    assert nlp.pipe_names == ["tok2vec", "tagger", "ner", "textcat"]
    doc = next(nlp.pipe(texts[:1], disable="textcat"))  # one name as a string
    assert doc.has_annotation("ENT_IOB") and not doc.cats


def test_as_tuples_yields_docs_with_their_contexts(nlp, texts):
    contexts = [{"id": i} for i in range(7)]
    pairs = list(nlp.pipe(zip(texts[:7], contexts), as_tuples=True, batch_size=3))
    assert [c for _, c in pairs] == contexts
    assert [d.text for d, _ in pairs] == texts[:7]


@pytest.mark.parametrize("call, message", [
    (lambda nlp: nlp.pipe(["a"], disable=["tagger", "parser"]), r"no component named 'parser'.*'tok2vec'"),
    (lambda nlp: nlp.pipe(["a"], n_process=0), "n_process must be a positive number of processes or -1"),
    (lambda nlp: nlp.pipe(["a"], batch_size=0), "batch_size must be a positive number"),
])
def test_bad_arguments_are_clear_errors_at_the_call(nlp, call, message):
    with pytest.raises(PipelineError, match=message):
        call(nlp)


@pytest.mark.parametrize("n_process", [1, 2])
def test_bad_items_are_clear_errors(nlp, n_process):
    with pytest.raises(PipelineError, match=r"as_tuples=True\) expects \(text, context\) pairs; input 1 is str"):
        list(nlp.pipe([("a", 1), "b"], as_tuples=True, n_process=n_process))
    with pytest.raises(PipelineError, match="expects texts \\(str\\) or Docs; input 2 is a int"):
        list(nlp.pipe(["a", "b", 3], n_process=n_process))
    assert no_workers_left()


def test_doc_batch_round_trip_keeps_everything(nlp, texts):
    Doc.set_extension("pipe_test_note", default=None, force=True)
    docs = list(nlp.pipe(texts[:3])) + [nlp.make_doc("")]  # an empty doc: no tensor rows to stack
    docs[0]._.pipe_test_note = {"seen": [1, 2]}
    docs[0].user_data["unpicklable"] = lambda: None
    docs[0].spans["sc"] = [Span(docs[0], 0, 2, label="A_NEW_LABEL")]
    docs[1].tensor = numpy.ones((2, 3), dtype="float64")  # one unlike the others travels on its own
    batch = pack_docs(docs)
    assert batch.states[0].dropped == ["'unpicklable'"] and batch.tensors.shape == (len(docs[0]) + len(docs[2]), 32)
    other = blank("en")  # a vocab that has never seen these words or labels
    again = list(unpack_docs(other.vocab, pickle.loads(pickle.dumps(batch))))
    for doc, copy in zip(docs, again):
        assert set(vars(copy)) == set(vars(doc))  # a new Doc attribute must be sent too
        assert annotations(copy) == annotations(doc)
        numpy.testing.assert_array_equal(copy.cols, doc.cols)
        numpy.testing.assert_array_equal(copy.tensor, doc.tensor)
        assert copy.tensor.dtype == doc.tensor.dtype
        assert [t.shape_ + t.norm_ + t.prefix_ for t in copy] == [t.shape_ + t.norm_ + t.prefix_ for t in doc]
    assert again[0]._.pipe_test_note == {"seen": [1, 2]} and "unpicklable" not in again[0].user_data
    assert [(s.start, s.end, s.label_) for s in again[0].spans["sc"]] == [(0, 2, "A_NEW_LABEL")]
    assert len(again) == 4 and len(again[3]) == 0


# -- in two processes ------------------------------------------------------------------------------
def test_two_processes_give_the_same_docs_in_order(nlp, texts, alternating):
    # texts and Docs, with contexts that stay here (they need not pickle)
    inputs = [nlp.make_doc(text) if i % 3 == 0 else text for i, text in enumerate(texts)]
    inputs[6].cats = {"kept": 1.0}  # what an input Doc holds goes to the worker (batch 1) and back
    contexts = [lambda: i for i in range(len(texts))]
    one = list(nlp.pipe(zip([x.copy() if isinstance(x, Doc) else x for x in inputs], contexts), as_tuples=True,
                        batch_size=4))
    two = list(nlp.pipe(zip(inputs, contexts), as_tuples=True, batch_size=4, n_process=2))  # 11 batches
    assert [c for _, c in two] == contexts
    one_docs, two_docs = [d for d, _ in one], [d for d, _ in two]
    assert [annotations(d) for d in two_docs] == [annotations(d) for d in one_docs]
    assert any(d.ents for d in one_docs) and all(d.cats for d in one_docs)  # every component annotated
    assert two_docs[6].cats["kept"] == 1.0 and "kept" not in two_docs[7].cats
    assert not any(doc is given for doc, given in zip(two_docs, inputs))  # new Docs, from here or a worker
    for a, b in zip(one_docs, two_docs):
        numpy.testing.assert_array_equal(a.cols, b.cols)
        numpy.testing.assert_allclose(a.tensor, b.tensor, rtol=1e-6)
    assert [d.to_bytes() for d in two_docs] == [d.to_bytes() for d in one_docs]
    assert docbin_bytes(two_docs) == docbin_bytes(one_docs)
    assert no_workers_left()


BOOM_CODE = '''
import os

from transfer_cli.config.factories import register_factory
from transfer_cli.pipeline.component import Component


class Boom(Component):
    def __call__(self, doc):
        if "boom" in doc.text:
            raise ValueError(f"cannot annotate {doc.text!r}")
        if "die" in doc.text:
            os._exit(3)  # as if killed: no exception, no message
        return doc


@register_factory("pipe_test_boom")
def make_boom(nlp, name):
    return Boom()
'''


def test_worker_error_or_death_is_one_clear_error_and_stops_every_worker(tmp_path, to_workers_only):
    code = tmp_path / "boom.py"
    code.write_text(BOOM_CODE, encoding="utf8")
    import_code(code)  # the factory exists only in the code file: workers import it too
    try:
        nlp = blank("en")
        nlp.add_pipe("pipe_test_boom")
        texts = [f"text {i}" for i in range(20)]
        texts[10] = "boom here"
        with pytest.raises(PipelineError, match=r"worker process failed on input texts 9-11: ValueError: cannot "
                                                r"annotate 'boom here'") as info:
            list(nlp.pipe(texts, batch_size=3, n_process=2))
        assert "raise ValueError" in str(info.value.__cause__)  # the worker's traceback, for --verbose
        assert no_workers_left()
        texts[10] = "die here"
        with pytest.raises(PipelineError, match=r"worker process transfer-cli-pipe-\d stopped unexpectedly "
                                                r"\(exit code 3"):
            list(nlp.pipe(texts, batch_size=3, n_process=2))
        assert no_workers_left()
        # the workers keep nlp.max_length (not saved with the pipeline); a UserError keeps its type
        nlp.max_length = 8
        texts[10] = "too long here"
        with pytest.raises(PipelineError, match=r"longer than nlp.max_length \(8\).* \(in an nlp.pipe worker "
                                                r"process, input texts 9-11\)"):
            list(nlp.pipe(texts, batch_size=3, n_process=2))
        assert no_workers_left()
    finally:
        sys.modules.pop(f"{USER_CODE_PREFIX}boom")


TRF_CODE = '''
from transfer_cli import registry
from transfer_cli.tokens import Doc

Doc.set_extension("pipe_test_pieces", default=None, force=True)


@registry.span_getters("pipe_test_halves.v1")
def configure_halves():
    def get_halves(docs):
        return [[doc[: len(doc) // 2], doc[len(doc) // 2:]] if len(doc) > 1 else [doc[:]] for doc in docs]
    return get_halves


@registry.annotation_setters("pipe_test_count_pieces.v1")
def configure_count_pieces():
    def set_counts(docs, full_batch):
        for doc, data in zip(docs, full_batch.doc_data):
            doc._.pipe_test_pieces = [int(n) for n in data.wordpieces.lengths]
    return set_counts
'''


def test_transformer_with_user_span_getter_and_setter_in_two_processes(tiny_bert_dir, tmp_path, to_workers_only):
    code = tmp_path / "trf_code.py"
    code.write_text(TRF_CODE, encoding="utf8")
    import_code(code)
    try:
        nlp = blank("en")
        nlp.add_pipe("transformer", config={
            "model": {"@architectures": "spacy-transformers.TransformerModel.v3", "name": str(tiny_bert_dir),
                      "get_spans": {"@span_getters": "pipe_test_halves.v1"}},
            "set_extra_annotations": {"@annotation_setters": "pipe_test_count_pieces.v1"}})
        nlp.add_pipe("tagger", config={"model": {"@architectures": "spacy.Tagger.v2", "tok2vec": {
            "@architectures": "spacy-transformers.TransformerListener.v1", "grad_factor": 1.0,
            "pooling": {"@layers": "reduce_mean.v1"}}}})
        nlp.initialize(lambda: tagged_examples(nlp))
        texts = TEXTS * 3
        one = list(nlp.pipe(texts, batch_size=2))
        two = list(nlp.pipe(texts, batch_size=2, n_process=2, disable=["tagger"]))
        assert all(t.tag_ for d in one for t in d) and not any(t.tag_ for d in two for t in d)  # disabled there
        assert [annotations(d)[0] for d in two] == texts
        assert [d._.pipe_test_pieces for d in two] == [d._.pipe_test_pieces for d in one]
        assert [len(d._.pipe_test_pieces) for d in one[:3]] == [2, 2, 2]  # the user's getter: two spans
        for a, b in zip(one, two):
            assert b._.trf_data.wordpieces.strings == a._.trf_data.wordpieces.strings
            numpy.testing.assert_allclose(b._.trf_data.model_output.last_hidden_state,
                                          a._.trf_data.model_output.last_hidden_state, rtol=1e-5, atol=1e-6)
    finally:
        sys.modules.pop(f"{USER_CODE_PREFIX}trf_code")


# -- apply --------------------------------------------------------------------------------------------
def test_apply_with_two_processes_writes_the_same_bytes(nlp, texts, tmp_path, alternating):
    nlp.to_disk(tmp_path / "model")
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts), encoding="utf8")
    outputs = {}
    for n in (1, 2):
        outputs[n] = tmp_path / f"out{n}.spacy"
        status, output = cli("apply", tmp_path / "model", source, outputs[n], "--n-process", n, "-b", 5, "-q")
        assert status == 0, output
        assert f"Annotated {len(texts)} docs" in output
    assert outputs[2].read_bytes() == outputs[1].read_bytes()
    docs = list(DocBin().from_disk(outputs[2]).get_docs(load(tmp_path / "model").vocab))
    assert [d.text for d in docs] == texts and any(d.ents for d in docs)


def test_apply_bad_input_in_two_processes_leaves_no_output(nlp, texts, tmp_path, to_workers_only):
    nlp.to_disk(tmp_path / "model")
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts[:12]) + "{oops\n", encoding="utf8")
    status, output = cli("apply", tmp_path / "model", source, tmp_path / "out.jsonl", "-n", 2, "-b", 2, "-q")
    assert status == 1 and f"{source}:13: invalid JSON" in output
    assert not list(tmp_path.glob("*out*")) and no_workers_left()

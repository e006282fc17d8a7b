"""Several components on one shared tok2vec: tagger + senter + textcat trained together
on sample_data/en_ewt (5-sentence docs labelled with their web genre), the saved
pipeline reloading to identical predictions, init-config's shared/independent
blocks, and per-component gradient weighting with transfer_cli.Tok2VecListener.v1."""
import json
from collections import Counter

import numpy
import pytest
from conftest import (SAMPLE, TEXTCAT_DEV, TEXTCAT_TRAIN, hash_embed_cnn, listener, shared_config, tagger,
                      tok2vec_model)
from thinc.api import fix_random_seed

import transfer_cli
from transfer_cli.config.quickstart import init_config
from transfer_cli.tokens.docbin import DocBin
from transfer_cli.training.corpus import Corpus
from transfer_cli.training.initialize import init_pipeline
from transfer_cli.training.readers import read_docs
from transfer_cli.training.train import train_from_config



def genre_docs(split: str, vocab):
    """EWT docs of 5 sentences with tags and sentence starts, cats = the genre of their
    first sentence (sample_data/textcat has each sentence's genre, in the same order)."""
    genres = [json.loads(line)["label"] for line in (SAMPLE / "textcat" / f"{split}.jsonl").read_text().splitlines()]
    labels = sorted(set(genres))
    docs, first = [], 0
    for doc in read_docs(SAMPLE / "en_ewt" / f"{split}.conllu", vocab=vocab, n_sents=5):
        doc.cats = {label: float(label == genres[first]) for label in labels}
        first += len(list(doc.sents))
        docs.append(doc)
    assert first == len(genres)
    return docs


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    out = tmp_path_factory.mktemp("multitask_corpus")
    vocab = transfer_cli.blank("en").vocab
    for split in ("train", "dev"):
        DocBin(docs=genre_docs(split, vocab)).to_disk(out / f"{split}.spacy")
    return out / "train.spacy", out / "dev.spacy"


def multitask_config(train, dev):
    """tagger, senter (sending back half its gradient) and textcat on one small tok2vec."""
    textcat = {"factory": "textcat",
               "model": {"@architectures": "spacy.TextCatEnsemble.v2", "tok2vec": listener(48),
                         "linear_model": {"@architectures": "spacy.TextCatBOW.v3", "exclusive_classes": True,
                                          "ngram_size": 1, "no_output_layer": False}}}
    components = {"tagger": tagger(listener(48)), "senter": tagger(listener(48, grad_factor=0.5), factory="senter"),
                  "textcat": textcat}
    training = {"optimizer": {"@optimizers": "Adam.v1", "learn_rate": 0.002},
                "batcher": {"@batchers": "spacy.batch_by_words.v1", "size": 1000}}
    return shared_config(tok2vec_model(width=48, depth=1, rows=(2000, 500, 1000, 500)), components, train, dev,
                         max_steps=100, eval_frequency=50, sections={"training": training})


@pytest.fixture(scope="module")
def trained(corpus, tmp_path_factory):
    train, dev = corpus
    out = tmp_path_factory.mktemp("multitask")
    config = multitask_config(train, dev)
    summary = train_from_config(config, out, quiet=True)
    return out, summary, dev


def test_three_components_learn_together_on_one_tok2vec(trained):
    out, summary, dev = trained
    scores = summary["best_scores"]
    vocab = transfer_cli.blank("en").vocab
    train_docs = genre_docs("train", vocab)
    dev_docs = genre_docs("dev", vocab)
    # majority baselines: the most frequent train tag / genre, and one sentence per doc
    top_tag = Counter(t.tag_ for d in train_docs for t in d).most_common(1)[0][0]
    tag_baseline = numpy.mean([t.tag_ == top_tag for d in dev_docs for t in d])
    assert scores["tag_acc"] > tag_baseline + 0.3, scores
    assert scores["sents_f"] > 0.3, scores  # one sentence per doc would score ~0
    top_genre = Counter(max(d.cats, key=d.cats.get) for d in train_docs).most_common(1)[0][0]
    genre_baseline = numpy.mean([max(d.cats, key=d.cats.get) == top_genre for d in dev_docs])
    assert scores["cats_micro_f"] > genre_baseline + 0.07, (scores, genre_baseline)
    assert scores["cats_macro_auc"] > 0.6, scores
    # one copy of the embedding, three listeners linked to it
    nlp = transfer_cli.load(out / "model-last")
    assert len(nlp.get_pipe("tok2vec").listeners) == 3
    sizes = {name: (out / "model-last" / name / "model").stat().st_size for name in ("tok2vec", "tagger", "senter")}
    assert sizes["senter"] < sizes["tok2vec"] / 10 and sizes["tagger"] < sizes["tok2vec"], sizes


def test_multitask_pipeline_reloads_to_identical_predictions(trained):
    out, summary, dev = trained
    nlp1 = transfer_cli.load(out / "model-best")
    nlp2 = transfer_cli.load(out / "model-best")
    texts = [eg.text for eg in Corpus(dev)(nlp1)]
    for d1, d2 in zip(nlp1.pipe(texts), nlp2.pipe(texts)):
        assert [t.tag_ for t in d1] == [t.tag_ for t in d2]
        assert [t.is_sent_start for t in d1] == [t.is_sent_start for t in d2]
        assert d1.cats == d2.cats and len(d1.cats) == 5
    # a single text through the reloaded pipeline gets every annotation
    doc = nlp1("Thanks for the quick reply. I will call you tomorrow about the meeting.")
    assert all(t.tag_ for t in doc) and len(list(doc.sents)) >= 1
    assert sum(doc.cats.values()) == pytest.approx(1.0, abs=1e-5)


def test_init_config_shared_and_independent_embeddings():
    shared = init_config(pipeline=["tagger", "textcat", "senter"], optimize="accuracy")
    components = shared["components"]
    assert list(components) == ["tok2vec", "tagger", "textcat", "senter"]
    assert components["tagger"]["model"]["tok2vec"]["@architectures"] == "spacy.Tok2VecListener.v1"
    assert components["textcat"]["model"]["@architectures"] == "spacy.TextCatEnsemble.v2"
    assert components["textcat"]["model"]["tok2vec"]["@architectures"] == "spacy.Tok2VecListener.v1"
    # beside other components the senter listens too (alone, it keeps spaCy's small embedding)
    assert components["senter"]["model"]["tok2vec"]["@architectures"] == "spacy.Tok2VecListener.v1"
    alone = init_config(pipeline=["senter"])["components"]
    assert alone["senter"]["model"]["tok2vec"]["@architectures"] == "spacy.HashEmbedCNN.v2"
    independent = init_config(pipeline=["tagger", "textcat"], optimize="accuracy", shared=False)
    assert "tok2vec" not in independent["components"]
    for name in ("tagger", "textcat"):
        assert independent["components"][name]["model"]["tok2vec"]["@architectures"] == "spacy.Tok2Vec.v2"


def weighted_config(grad_factor: float):
    """A CNN textcat whose listener sends back `grad_factor` times its gradient."""
    textcat = {"factory": "textcat", "model": {"@architectures": "spacy.TextCatCNN.v2", "exclusive_classes": True,
                                               "tok2vec": listener(32, grad_factor=grad_factor)}}
    return shared_config(hash_embed_cnn(width=32, depth=1, embed_size=500, maxout_pieces=2), {"textcat": textcat},
                         TEXTCAT_TRAIN, TEXTCAT_DEV)


def _tok2vec_gradients(factor: float):
    fix_random_seed(0)
    setup = init_pipeline(weighted_config(factor))
    nlp = setup.nlp
    examples = list(setup.train_corpus(nlp))[:32]
    # the output layer starts at zero, so it passes no gradient back before its first step
    nlp.update(examples, drop=0.0, sgd=setup.optimizer)
    nlp.update(examples, drop=0.0)
    tok2vec = nlp.get_pipe("tok2vec").model
    grads = [node.get_grad(name).copy() for node in tok2vec.walk() for name in node.param_names
             if node.has_grad(name)]
    textcat_grads = [node.get_grad(name).copy() for node in nlp.get_pipe("textcat").model.walk()
                     for name in node.param_names if node.has_grad(name)]
    return grads, textcat_grads


def test_grad_factor_scales_the_gradient_a_listener_sends_back():
    base, base_textcat = _tok2vec_gradients(1.0)
    doubled, doubled_textcat = _tok2vec_gradients(2.0)
    zero, zero_textcat = _tok2vec_gradients(0.0)
    assert base and any(numpy.abs(g).sum() > 0 for g in base)
    for g1, g2 in zip(base, doubled):
        numpy.testing.assert_allclose(g2, 2.0 * g1, rtol=1e-4, atol=1e-7)
    assert all(not numpy.abs(g).any() for g in zero)
    # the component's own layers learn the same whatever the factor
    for g1, g0 in zip(base_textcat, zero_textcat):
        numpy.testing.assert_allclose(g0, g1, rtol=1e-5, atol=1e-8)

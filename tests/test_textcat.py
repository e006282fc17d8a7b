"""textcat and textcat_multilabel: learning on sample_data/textcat, save/load, the
architectures (BOW v1-v3, CNN, ensemble v1/v2), n-gram features, the cats scorer with
its multilabel threshold, and bad input (no labels, two exclusive labels, unknown
labels at evaluation, wrong values)."""
import json
import warnings
from collections import Counter

import numpy
import pytest
from conftest import TEXTCAT_DEV as DEV
from conftest import TEXTCAT_TRAIN as TRAIN
from conftest import cli, starter_config
from thinc.api import NumpyOps

import transfer_cli
from transfer_cli.config.loading import load_config_from_str
from transfer_cli.ml.textcat import extract_ngrams
from transfer_cli.scoring import roc_auc, score_cats
from transfer_cli.tokens import Doc
from transfer_cli.tokens.example import Example
from transfer_cli.training.corpus import Corpus
from transfer_cli.training.train import train_from_config


def bow_config(**overrides):
    return starter_config(["textcat"], TRAIN, DEV, max_steps=300, eval_frequency=100, overrides=overrides)


def labels_of(path):
    return [json.loads(line)["label"] for line in path.read_text().splitlines()]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("textcat")
    summary = train_from_config(bow_config(), out, quiet=True)
    return out, summary


def test_bow_textcat_learns_beyond_majority_baseline(trained):
    out, summary = trained
    scores = summary["best_scores"]
    top = Counter(labels_of(TRAIN)).most_common(1)[0][0]
    dev = labels_of(DEV)
    baseline = sum(label == top for label in dev) / len(dev)
    # every dev text has one gold label, so micro F = accuracy
    assert scores["cats_micro_f"] > baseline + 0.12, (scores, baseline)
    assert scores["cats_score"] == scores["cats_macro_f"] and scores["cats_score_desc"] == "macro F"
    assert scores["cats_score"] > 0.3 and scores["cats_macro_auc"] > 0.7
    assert set(scores["cats_f_per_type"]) == set(dev)
    meta = json.loads((out / "model-best" / "meta.json").read_text())
    assert sorted(meta["labels"]["textcat"]) == sorted(set(dev))


def test_saved_textcat_reloads_to_identical_cats(trained):
    out, summary = trained
    nlp1, nlp2 = transfer_cli.load(out / "model-best"), transfer_cli.load(out / "model-best")
    texts = [json.loads(line)["text"] for line in DEV.read_text().splitlines()][:50]
    for d1, d2 in zip(nlp1.pipe(texts), nlp2.pipe(texts)):
        assert d1.cats == d2.cats
        assert sum(d1.cats.values()) == pytest.approx(1.0, abs=1e-5)
    code, output = cli("evaluate", out / "model-best", DEV, "--output", out / "metrics.json")
    assert code == 0, output
    assert "cats_score_desc macro F" in output and "cats f per type" in output
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["cats_score"] == pytest.approx(summary["best_scores"]["cats_score"], abs=1e-9)


# -- architectures -------------------------------------------------------------------------------
TOK2VEC = """
[components.textcat.model.tok2vec]
@architectures = "spacy.HashEmbedCNN.v2"
pretrained_vectors = null
width = 32
depth = 1
embed_size = 500
window_size = 1
maxout_pieces = 2
subword_features = true
"""
ARCHITECTURES = {
    "bow_v1": ('@architectures = "spacy.TextCatBOW.v1"\nexclusive_classes = EXCL\nngram_size = 2\n'
               'no_output_layer = false', ""),
    "bow_v2": ('@architectures = "spacy.TextCatBOW.v2"\nexclusive_classes = EXCL\nngram_size = 1\n'
               'no_output_layer = false', ""),
    "bow_v3_trigrams": ('@architectures = "spacy.TextCatBOW.v3"\nexclusive_classes = EXCL\nngram_size = 3\n'
                        'no_output_layer = false\nlength = 5000', ""),
    "cnn_v1": ('@architectures = "spacy.TextCatCNN.v1"\nexclusive_classes = EXCL', TOK2VEC),
    "cnn_v2": ('@architectures = "spacy.TextCatCNN.v2"\nexclusive_classes = EXCL', TOK2VEC),
    "ensemble_v2": ('@architectures = "spacy.TextCatEnsemble.v2"', TOK2VEC + """
[components.textcat.model.linear_model]
@architectures = "spacy.TextCatBOW.v3"
exclusive_classes = EXCL
ngram_size = 1
no_output_layer = false
"""),
    "ensemble_v1": ('@architectures = "spacy.TextCatEnsemble.v1"\nwidth = 32\nembed_size = 500\n'
                    'pretrained_vectors = null\nexclusive_classes = EXCL\nngram_size = 1\nwindow_size = 1\n'
                    'conv_depth = 1\ndropout = null', ""),
}


def arch_config(arch: str, multilabel: bool, limit: int = 0) -> str:
    model, extra = ARCHITECTURES[arch]
    factory = "textcat_multilabel" if multilabel else "textcat"
    text = f"""
[nlp]
lang = "en"
pipeline = ["textcat"]

[components.textcat]
factory = "{factory}"

[components.textcat.model]
{model}
{extra}
[corpora.train]
@readers = "spacy.Corpus.v1"
path = ${{paths.train}}
limit = LIMIT

[corpora.dev]
@readers = "spacy.Corpus.v1"
path = ${{paths.dev}}
limit = LIMIT

[training]
max_steps = 12
eval_frequency = 12
"""
    return text.replace("EXCL", "false" if multilabel else "true").replace("LIMIT", str(limit))


@pytest.mark.parametrize("arch,multilabel", [(arch, False) for arch in ARCHITECTURES] + [
    ("bow_v3_trigrams", True), ("cnn_v2", True), ("ensemble_v2", True), ("ensemble_v1", True)])
def test_architecture_trains_and_reloads(arch, multilabel, tmp_path):
    config = load_config_from_str(arch_config(arch, multilabel, limit=150),
                                  {"paths.train": str(TRAIN), "paths.dev": str(DEV)})
    summary = train_from_config(config, tmp_path, quiet=True)
    assert summary["best_scores"]["cats_score_desc"] == ("macro AUC" if multilabel else "macro F")
    nlp, reloaded = transfer_cli.load(tmp_path / "model-last"), transfer_cli.load(tmp_path / "model-last")
    texts = ["I loved the food and the staff were friendly .", "Please send me the contract by Friday .", "ok"]
    for d1, d2 in zip(nlp.pipe(texts), reloaded.pipe(texts)):
        scores = numpy.array(list(d1.cats.values()))
        assert len(scores) == 5 and ((scores >= 0) & (scores <= 1)).all()
        if not multilabel:
            assert scores.sum() == pytest.approx(1.0, abs=1e-5)
        assert d1.cats == d2.cats


def test_ngram_features_match_per_doc_ngrams():
    nlp = transfer_cli.blank("en")
    docs = [nlp.make_doc(t) for t in ["a b a b c", "", "x", "a b", "b a b a b a"]]
    (keys, values, lengths), _ = extract_ngrams(3, attr="ORTH")(docs, is_train=False)
    ops = NumpyOps()
    assert lengths.tolist() == [5 + 4 + 3, 0, 1, 2 + 1, 6 + 5 + 4] and (values == 1.0).all()
    start = 0
    for doc, n in zip(docs, lengths.tolist()):
        orth = numpy.ascontiguousarray(doc.to_array("ORTH"))
        expected = list(orth) + [k for size in (2, 3) if len(orth) >= size for k in ops.ngrams(size, orth)]
        assert Counter(keys[start:start + n].tolist()) == Counter(int(k) for k in expected)
        start += n


# -- the scorer -------------------------------------------------------------------------------------
def scored_examples(vocab, rows):
    """rows: (predicted cats, gold cats)"""
    examples = []
    for pred, gold in rows:
        doc = Doc(vocab, ["w"])
        eg = Example(doc, doc.copy())
        eg.predicted.cats, eg.reference.cats = dict(pred), dict(gold)
        examples.append(eg)
    return examples


def test_multilabel_threshold_decides_what_counts_as_predicted():
    vocab = transfer_cli.blank("en").vocab
    examples = scored_examples(vocab, [
        ({"a": 0.9, "b": 0.6}, {"a": 1.0, "b": 0.0}),
        ({"a": 0.7, "b": 0.2}, {"a": 1.0, "b": 1.0}),
        ({"a": 0.3, "b": 0.55}, {"a": 0.0}),  # b unknown for this example: not scored
    ])
    at_half = score_cats(examples, labels=["a", "b"], multi_label=True, threshold=0.5)
    assert at_half["cats_f_per_type"]["a"] == {"p": 1.0, "r": 1.0, "f": 1.0}
    assert at_half["cats_f_per_type"]["b"]["p"] == 0.0 and at_half["cats_f_per_type"]["b"]["r"] == 0.0
    assert at_half["cats_micro_p"] == pytest.approx(2 / 3) and at_half["cats_micro_r"] == pytest.approx(2 / 3)
    at_high = score_cats(examples, labels=["a", "b"], multi_label=True, threshold=0.8)
    assert at_high["cats_f_per_type"]["a"] == pytest.approx({"p": 1.0, "r": 0.5, "f": 2 / 3})
    assert at_high["cats_f_per_type"]["b"] == {"p": 0.0, "r": 0.0, "f": 0.0}
    # the overall multilabel score is the macro AUC, and the threshold does not change it
    assert at_half["cats_score"] == at_high["cats_score"] == at_half["cats_macro_auc"]
    assert at_half["cats_auc_per_type"] == {"a": 1.0, "b": 0.0} and at_half["cats_macro_auc"] == pytest.approx(0.5)


def test_roc_auc_counts_ties_half():
    assert roc_auc([0, 1, 1, 0], [0.1, 0.9, 0.5, 0.5]) == pytest.approx(0.875)
    assert roc_auc([1, 1], [0.2, 0.3]) is None


def test_textcat_multilabel_component_uses_its_threshold(tmp_path):
    rows = [{"text": f"good {i} great", "cats": {"POS": 1.0, "LONG": 0.0}} for i in range(20)]
    rows += [{"text": f"bad {i} awful and long and boring", "cats": {"POS": 0.0, "LONG": 1.0}} for i in range(20)]
    for name in ("train", "dev"):
        (tmp_path / f"{name}.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    config = load_config_from_str(arch_config("bow_v2", True), {
        "paths.train": str(tmp_path / "train.jsonl"), "paths.dev": str(tmp_path / "dev.jsonl"),
        "training.max_steps": 60, "training.eval_frequency": 60})
    train_from_config(config, tmp_path / "out", quiet=True)
    nlp = transfer_cli.load(tmp_path / "out" / "model-last")
    textcat = nlp.get_pipe("textcat")
    assert textcat.threshold == 0.5  # the factory default, saved and reloaded
    examples = list(Corpus(tmp_path / "dev.jsonl")(nlp))
    at_half = nlp.evaluate(examples)
    assert at_half["cats_micro_f"] == pytest.approx(1.0) and at_half["cats_macro_auc"] == pytest.approx(1.0)
    doc = nlp("good 3 great")
    assert textcat.predicted_labels(doc) == ["POS"]
    textcat.threshold = 0.99999
    at_high = nlp.evaluate(examples)
    assert at_high["cats_micro_f"] < 0.5  # hardly any score reaches the threshold
    assert at_high["cats_macro_auc"] == at_half["cats_macro_auc"]
    assert textcat.predicted_labels(doc) == []


# -- bad input --------------------------------------------------------------------------------------
def write_jsonl(path, rows):
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


def train_cli(tmp_path, train_rows, dev_rows=None, factory="textcat"):
    train = write_jsonl(tmp_path / "train.jsonl", train_rows)
    dev = write_jsonl(tmp_path / "dev.jsonl", dev_rows or train_rows)
    (tmp_path / "config.cfg").write_text(arch_config("bow_v2", factory == "textcat_multilabel"))
    return cli("train", tmp_path / "config.cfg", "--output", tmp_path / "out", "--paths.train", train,
               "--paths.dev", dev, "--training.max_steps", 10, "--training.eval_frequency", 10)


def test_examples_without_labels_are_skipped(tmp_path):
    rows = [{"text": "great film", "label": "pos"}, {"text": "awful film", "label": "neg"}] * 5
    rows += [{"text": "no label here"}] * 5
    code, output = train_cli(tmp_path, rows)
    assert code == 0, output
    nlp = transfer_cli.load(tmp_path / "out" / "model-last")
    assert set(nlp("great").cats) == {"pos", "neg"}


def test_no_labelled_example_at_all_is_a_clear_error(tmp_path):
    code, output = train_cli(tmp_path, [{"text": "nothing"}, {"text": "to learn"}])
    assert code == 1
    assert "none of the 2 training examples has text categories" in output and "Traceback" not in output


def test_two_positive_exclusive_labels_name_the_example(tmp_path):
    rows = [{"text": "great film", "label": "pos"}, {"text": "awful film", "label": "neg"},
            {"text": "a film both good and bad at once, which is odd", "label": ["pos", "neg"]}]
    code, output = train_cli(tmp_path, rows)
    assert code == 1 and "Traceback" not in output
    assert "mutually exclusive" in output and "'a film both good and bad at once, which is odd'" in output
    assert "2 positive labels (pos, neg)" in output and "textcat_multilabel" in output
    # the same data is fine for textcat_multilabel
    code, output = train_cli(tmp_path, rows, factory="textcat_multilabel")
    assert code == 0, output


def test_cats_values_must_be_zero_or_one(tmp_path):
    rows = [{"text": "great", "cats": {"pos": 0.7, "neg": 0.3}}, {"text": "bad", "cats": {"pos": 0.0, "neg": 1.0}}]
    code, output = train_cli(tmp_path, rows)
    assert code == 1 and "value 0.7" in output and "must be 1.0 (positive) or 0.0 (negative)" in output


def test_single_label_exclusive_textcat_is_a_clear_error(tmp_path):
    code, output = train_cli(tmp_path, [{"text": "great", "label": "pos"}, {"text": "fine", "label": "pos"}])
    assert code == 1 and "needs at least 2 labels" in output and "textcat_multilabel" in output


@pytest.mark.filterwarnings("ignore:.*gold data has labels it was not trained on")
def test_unknown_labels_at_evaluation_warn_and_are_left_out(trained, tmp_path):
    out, _ = trained
    rows = [json.loads(line) for line in DEV.read_text().splitlines()][:40]
    rows += [{"text": "What a wonderful poem about the sea .", "label": "poetry"}] * 3
    dev = write_jsonl(tmp_path / "dev.jsonl", rows)
    nlp = transfer_cli.load(out / "model-best")
    examples = list(Corpus(dev)(nlp))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scores = nlp.evaluate(examples)
    messages = [str(w.message) for w in caught]
    assert any("'poetry' (3 examples)" in m and "left out" in m for m in messages), messages
    assert "poetry" not in scores["cats_f_per_type"]
    code, output = cli("evaluate", out / "model-best", dev)
    assert code == 0 and "cats_score" in output


@pytest.mark.parametrize("factory", ["textcat", "textcat_multilabel"])
def test_add_pipe_with_the_default_model(factory):
    """The factory's default model (the ensemble: a tok2vec of width 64 and a bag of words)
    builds from code, with no config given, and predicts."""
    nlp = transfer_cli.blank("en")
    textcat = nlp.add_pipe(factory)
    from transfer_cli.training import Example

    examples = [Example.from_dict(nlp.make_doc(text), {"cats": {"A": float(a), "B": float(not a)}})
                for text, a in (("a short text", True), ("another one", False))]
    nlp.initialize(lambda: examples)
    assert nlp("a short text").cats.keys() == {"A", "B"}
    assert nlp.config["components"][factory]["model"]["tok2vec"]["encode"]["width"] == 64

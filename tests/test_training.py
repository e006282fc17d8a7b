"""Training end to end on sample_data: the tagger learns, saved pipelines reload to
identical predictions, shared and independent setups, and bad input is reported."""
import json
from collections import Counter

import numpy
import pytest
from conftest import EWT_DEV as DEV
from conftest import EWT_TRAIN as TRAIN
from conftest import cli, listener, shared_config, starter_config, tagger

import transfer_cli
from transfer_cli.training.corpus import Corpus
from transfer_cli.training.train import train_from_config


def tagger_config(**overrides):
    return starter_config(["tagger"], TRAIN, DEV, max_steps=120, eval_frequency=40, overrides=overrides)


def majority_tag_accuracy() -> float:
    vocab = transfer_cli.blank("en")
    counts = Counter(t.tag_ for eg in Corpus(TRAIN)(vocab) for t in eg.reference)
    top = counts.most_common(1)[0][0]
    dev = [t.tag_ for eg in Corpus(DEV)(vocab) for t in eg.reference]
    return sum(tag == top for tag in dev) / len(dev)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("tagger")
    summary = train_from_config(tagger_config(), out, quiet=True)
    return out, summary


def test_tagger_learns_beyond_baseline(trained):
    out, summary = trained
    assert summary["best_score"] is not None
    baseline = majority_tag_accuracy()
    assert summary["best_scores"]["tag_acc"] > max(0.6, baseline + 0.4), (summary["best_scores"], baseline)
    log = [json.loads(line) for line in (out / "training_log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [40, 80, 120]
    assert sum(r["is_best"] for r in log) >= 1


def test_saved_pipeline_reloads_to_identical_predictions(trained):
    out, _ = trained
    nlp1 = transfer_cli.load(out / "model-best")
    nlp2 = transfer_cli.load(out / "model-best")
    texts = [eg.text for eg in Corpus(DEV, limit=30)(nlp1)]
    docs1, docs2 = list(nlp1.pipe(texts)), list(nlp2.pipe(texts))
    for d1, d2 in zip(docs1, docs2):
        assert numpy.array_equal(d1.tensor, d2.tensor)
        assert [t.tag_ for t in d1] == [t.tag_ for t in d2]
    meta = json.loads((out / "model-best" / "meta.json").read_text())
    assert meta["pipeline"] == ["tok2vec", "tagger"] and len(meta["labels"]["tagger"]) > 20
    # evaluating the reloaded pipeline reproduces the score recorded at training time
    code, output = cli("evaluate", out / "model-best", DEV, "--output", out / "metrics.json")
    assert code == 0, output
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["tag_acc"] == pytest.approx(meta["performance"]["tag_acc"], abs=1e-9)


def test_in_memory_and_reloaded_pipelines_agree(tmp_path):
    config = tagger_config(**{"training.max_steps": 10, "training.eval_frequency": 10})
    from transfer_cli.training.initialize import init_pipeline

    setup = init_pipeline(config)
    nlp = setup.nlp
    examples = list(setup.train_corpus(nlp))[:40]
    for _ in range(3):
        nlp.update(examples, sgd=setup.optimizer)
    nlp.to_disk(tmp_path / "m")
    reloaded = transfer_cli.load(tmp_path / "m")
    text = "The quick brown fox jumps over the lazy dog ."
    a, b = nlp(text), reloaded(text)
    assert numpy.array_equal(a.tensor, b.tensor) and [t.tag_ for t in a] == [t.tag_ for t in b]


def test_same_seed_same_result(tmp_path):
    config = tagger_config(**{"training.max_steps": 20, "training.eval_frequency": 20})
    first = train_from_config(config, None, quiet=True)
    second = train_from_config(config, None, quiet=True)
    assert first["best_scores"]["tag_acc"] == second["best_scores"]["tag_acc"]


def two_taggers_config():
    """A tag and a POS tagger listening to one tok2vec."""
    components = {"tagger": tagger(listener(96)), "pos": tagger(listener(96), attr="pos")}
    return shared_config(None, components, TRAIN, DEV, max_steps=60, eval_frequency=30,
                         sections={"training": {"score_weights": {"tag_acc": 0.5, "pos_acc": 0.5}}})


def test_shared_tok2vec_two_taggers_one_copy_of_weights(tmp_path):
    config = two_taggers_config()
    summary = train_from_config(config, tmp_path, quiet=True)
    scores = summary["best_scores"]
    assert scores["tag_acc"] > 0.5 and scores["pos_acc"] > 0.5
    model_dir = tmp_path / "model-last"
    tok2vec_bytes = (model_dir / "tok2vec" / "model").stat().st_size
    for name in ("tagger", "pos"):
        # the taggers hold only their output layers; the embedding is stored once, in tok2vec
        assert (model_dir / name / "model").stat().st_size < tok2vec_bytes / 20
    nlp = transfer_cli.load(model_dir)
    doc = nlp("The dog barked .")
    assert all(t.tag_ and t.pos_ for t in doc)


def test_independent_setup_trains(tmp_path):
    config = starter_config(["tagger"], TRAIN, DEV, max_steps=60, eval_frequency=30, shared=False)
    assert "tok2vec" not in config["nlp"]["pipeline"]
    summary = train_from_config(config, tmp_path, quiet=True)
    assert summary["best_scores"]["tag_acc"] > 0.5
    nlp = transfer_cli.load(tmp_path / "model-best")
    assert nlp.pipe_names == ["tagger"]


def test_train_cli_with_conllu_and_bad_paths(tmp_path):
    cfg = tmp_path / "config.cfg"
    assert cli("init-config", cfg, "-p", "tagger")[0] == 0
    code, output = cli("train", cfg, "--paths.train", tmp_path / "missing.spacy", "--paths.dev", DEV)
    assert code == 1 and "missing.spacy" in output and "does not exist" in output
    empty = tmp_path / "empty.conllu"
    empty.write_text("")
    code, output = cli("train", cfg, "--paths.train", empty, "--paths.dev", DEV, "--training.max_steps", "5")
    assert code == 1 and "no" in output.lower() and "Traceback" not in output
    code, output = cli("train", cfg, "--paths.train", TRAIN, "--paths.dev", DEV, "--training.max_stepz", "5")
    assert code == 1 and "training.max_steps" in output


def test_listener_without_upstream_is_a_clear_error(tmp_path):
    config = two_taggers_config()
    config["nlp"]["pipeline"] = ["tagger", "pos"]
    with pytest.raises(transfer_cli.errors.UserError, match="upstream"):
        train_from_config(config, None, quiet=True)


def test_interrupt_saves_model_last(tmp_path):
    code_file = tmp_path / "interrupt.py"
    code_file.write_text(
        "import transfer_cli\n"
        "@transfer_cli.registry.callbacks('test.interrupt_at.v1')\n"
        "def make(step: int):\n"
        "    def before_update(nlp, info):\n"
        "        if info['step'] >= step:\n"
        "            raise KeyboardInterrupt\n"
        "    return before_update\n")
    cfg = tmp_path / "config.cfg"
    assert cli("init-config", cfg, "-p", "tagger")[0] == 0
    text = cfg.read_text().replace("before_update = null", "")
    text += '\n[training.before_update]\n@callbacks = "test.interrupt_at.v1"\nstep = 12\n'
    cfg.write_text(text)
    code, output = cli("train", cfg, "--code", code_file, "--output", tmp_path / "out", "--paths.train", TRAIN,
                       "--paths.dev", DEV, "--training.eval_frequency", "5")
    assert code == 130, output
    assert "Interrupted at step 12" in output
    assert (tmp_path / "out" / "model-last" / "config.cfg").exists()
    transfer_cli.load(tmp_path / "out" / "model-last")


def test_empty_and_very_long_docs(trained):
    out, _ = trained
    nlp = transfer_cli.load(out / "model-best")
    empty = nlp("")
    assert len(empty) == 0
    long_text = " ".join(["The cat sat on the mat ."] * 7200)  # 50,400 tokens
    doc = nlp(long_text)
    assert len(doc) == 50_400 and doc.tensor.shape == (50_400, 96) and all(t.tag_ for t in doc[:100])


def test_label_unseen_in_training_is_scored_not_crashing(trained):
    from transfer_cli.tokens import Doc, Example

    out, _ = trained
    nlp = transfer_cli.load(out / "model-best")
    words = ["The", "cat", "sat"]
    gold = Doc(nlp.vocab, words, tags=["DT", "NEVER_SEEN_TAG", "VBD"])
    scores = nlp.evaluate([Example(Doc(nlp.vocab, words), gold)])
    assert 0.0 <= scores["tag_acc"] <= 2 / 3


def test_blank_pipeline_with_added_pipes_saves_and_reloads(tmp_path):
    nlp = transfer_cli.blank("en")
    nlp.add_pipe("tok2vec")
    nlp.add_pipe("tagger", config={"model": {"@architectures": "spacy.Tagger.v2",
                                             "tok2vec": {"@architectures": "spacy.Tok2VecListener.v1", "width": 96}}})
    examples = list(Corpus(TRAIN, limit=20)(nlp))
    optimizer = nlp.initialize(lambda: examples)
    nlp.update(examples, sgd=optimizer)
    nlp.to_disk(tmp_path / "blank")
    reloaded = transfer_cli.load(tmp_path / "blank")
    assert reloaded.pipe_names == ["tok2vec", "tagger"]
    text = "A short test sentence ."
    assert [t.tag_ for t in reloaded(text)] == [t.tag_ for t in nlp(text)]


def test_corpus_reports_dropped_entity_offsets_once(tmp_path):
    from transfer_cli.errors import DataWarning

    path = tmp_path / "ents.jsonl"
    path.write_text('{"text": "Hello New York", "entities": [[6, 9, "GPE"], [0, 3, "X"]]}\n')
    nlp = transfer_cli.blank("en")
    corpus = Corpus(path)
    with pytest.warns(DataWarning, match="1 annotation"):
        examples = list(corpus(nlp))
    assert [(e.text, e.label_) for e in examples[0].reference.ents] == [("New", "GPE")]
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        list(corpus(nlp))  # the second epoch does not repeat it

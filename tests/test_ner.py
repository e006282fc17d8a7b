"""The entity recognizer: BILUO transitions always valid, gradients right, learning on
sample_data/ner beyond a rule baseline, missing annotation not punished, save/load
identity, multi-task training on a shared tok2vec, and bad input reported clearly."""
import json
import re
from pathlib import Path

import numpy
import pytest
from conftest import EWT_DEV, EWT_TRAIN
from conftest import NER_DEV as DEV
from conftest import NER_TRAIN as TRAIN
from conftest import cli, starter_config
from thinc.api import fix_random_seed, set_dropout_rate

import transfer_cli
from transfer_cli.errors import ConfigError, DataError, UserError
from transfer_cli.ml.ner_transitions import BiluoMoves, greedy_decode, is_well_formed
from transfer_cli.pipeline.ner import EntityRecognizerWarning, marginal_log_loss
from transfer_cli.scoring import get_ner_prf
from transfer_cli.tokens import Doc
from transfer_cli.tokens.example import Example
from transfer_cli.training.corpus import Corpus
from transfer_cli.training.train import train_from_config

# a small, fast version of the efficiency config (same architectures)
SMALL = {"components.tok2vec.model.encode.width": 64, "components.tok2vec.model.encode.depth": 2,
         "components.ner.model.hidden_width": 32, "training.batcher.size.start": 200,
         "training.batcher.size.stop": 500}


def ner_config(pipeline=("ner",), **overrides):
    return starter_config(pipeline, TRAIN, DEV, max_steps=100, eval_frequency=50,
                          overrides={"training.optimizer.learn_rate": 0.005, **SMALL, **overrides})


def blank_ner(labels=("NAME", "NUMBER"), **model_settings):
    nlp = transfer_cli.blank("en")
    config = {"model": {"@architectures": "spacy.TransitionBasedParser.v2", "state_type": "ner",
                        "extra_state_tokens": False, "hidden_width": 16, "maxout_pieces": 2, "use_upper": True,
                        "tok2vec": {"@architectures": "spacy.HashEmbedCNN.v2", "pretrained_vectors": None,
                                    "width": 16, "depth": 1, "embed_size": 300, "window_size": 1,
                                    "maxout_pieces": 2, "subword_features": True}}}
    config["model"].update(model_settings)
    ner = nlp.add_pipe("ner", config=config)
    return nlp, ner


def rule_baseline_f(nlp) -> float:
    """Capitalized words after the first are NAME, numbers are NUMBER (one-token entities)."""
    examples = list(Corpus(DEV)(nlp))
    for eg in examples:
        doc = eg.predicted
        ents = []
        for i, token in enumerate(doc):
            if re.fullmatch(r"[0-9][0-9,.]*", token.text):
                ents.append(("NUMBER", i, i + 1))
            elif i > 0 and token.text[:1].isupper():
                ents.append(("NAME", i, i + 1))
        doc.ents = ents
    return get_ner_prf(examples)["ents_f"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("ner")
    summary = train_from_config(ner_config(), out, quiet=True)
    return out, summary


# -- transitions ------------------------------------------------------------------------------------
@pytest.mark.parametrize("n_labels", [1, 3])
def test_random_scores_always_give_well_formed_sequences(n_labels):
    moves = BiluoMoves([f"L{i}" for i in range(n_labels)])
    rng = numpy.random.default_rng(n_labels)
    lengths = numpy.concatenate([[0, 1, 2], rng.integers(0, 40, size=60)])

    def score(ids):
        return (rng.normal(size=(len(ids[0]), moves.n_actions)) * 30).astype("float32")

    for _ in range(5):
        actions = greedy_decode(moves, lengths, score, 3, int(lengths.sum()))
        offsets = numpy.concatenate([[0], numpy.cumsum(lengths)])
        for i in range(len(lengths)):
            assert is_well_formed(actions[offsets[i]:offsets[i + 1]], moves)
    # some of everything was produced, so the check above had something to check
    assert set(moves.move[actions].tolist()) == {0, 1, 2, 3, 4}


def test_component_outputs_are_valid_entities_whatever_the_weights():
    nlp, ner = blank_ner(labels=None)
    docs = [nlp.make_doc("Ann met Bob in Paris on 3 May 2020 , said Carl ."), nlp.make_doc("x"), nlp.make_doc("")]
    examples = [Example.from_dict(docs[0], {"entities": [(0, 3, "NAME"), (24, 25, "NUMBER")]})]
    nlp.initialize(lambda: examples)
    lower = ner.model.get_ref("lower")
    rng = numpy.random.default_rng(0)
    for trial in range(5):  # random weights, large enough to make arbitrary choices
        for name in ("W", "b", "pad"):
            lower.set_param(name, (rng.normal(size=lower.get_param(name).shape) * 5).astype("float32"))
        upper = ner.model.get_ref("upper")
        upper.set_param("W", (rng.normal(size=upper.get_param("W").shape) * 5).astype("float32"))
        for doc in nlp.pipe([d.blank_copy() for d in docs]):
            tags = [t.ent_iob_ for t in doc]
            assert all(tag in ("B", "I", "O") for tag in tags)
            for ent in doc.ents:
                assert ent.label_ in ("NAME", "NUMBER") and len(ent) >= 1
                assert all(t.ent_type_ == ent.label_ for t in ent)
            assert sum(len(e) for e in doc.ents) == sum(t.ent_iob_ != "O" for t in doc)


def test_gold_actions_teacher_states_and_oracle_costs():
    moves = BiluoMoves(["A", "B"])
    tags = ["O", "B-A", "I-A", "L-A", "U-B", "-", "I-A", "L-A", "B-B", "L-B", "U-Z", "O"]
    gold = moves.tags_to_actions(tags)
    assert gold[5] == -1 and gold[10] == -1  # missing, unknown label
    gold = moves.sanitize(gold, numpy.array([0]))
    assert gold[6] == -1 and gold[7] == -1  # an I/L with no B before it cannot be gold
    is_open, start, label = moves.teacher_states(gold, numpy.array([0]))
    assert is_open.tolist() == [False, False, True, True, False, False, False, False, False, True, False, False]
    assert start[3] == 1 and label[3] == 0 and start[9] == 8 and label[9] == 1
    n = len(gold)
    next_gold = numpy.concatenate([gold[1:], [-1]])
    costs = moves.costs((is_open, start, label), gold, (is_open, start, label), next_gold)
    is_last = numpy.arange(n) == n - 1
    valid = moves.valid_table[moves.state_rows(is_open, label, is_last)]
    for i in range(n):
        zero = set(numpy.flatnonzero(valid[i] & (costs[i] == 0)).tolist())
        if gold[i] >= 0:
            assert zero == {int(gold[i])}, (i, tags[i], zero)
        else:
            assert zero == set(numpy.flatnonzero(valid[i]).tolist())  # missing: nothing is wrong


def test_dynamic_oracle_costs_off_track_states():
    moves = BiluoMoves(["A"])
    # gold: O B-A L-A O; predicted state at token 2: an entity opened at token 0 (wrong)
    gold = moves.tags_to_actions(["O", "B-A", "L-A", "O"])
    teacher = moves.teacher_states(gold, numpy.array([0]))
    state = (numpy.array([False, True, True, False]), numpy.array([0, 0, 0, 3]), numpy.array([-1, 0, 0, -1]))
    next_gold = numpy.concatenate([gold[1:], [-1]])
    costs = moves.costs(state, gold, teacher, next_gold)
    i_a, l_a = 2, 3
    # at token 1 (open, off track) the gold entity starting there is lost whatever we do
    assert costs[1, i_a] == costs[1, l_a] == 0
    # a closed state at token 0 with gold O: beginning an entity costs, O does not
    assert costs[0, 0] == 0 and costs[0, 1] > 0


# -- gradients --------------------------------------------------------------------------------------
def test_marginal_log_loss_gradient_matches_finite_differences():
    rng = numpy.random.default_rng(1)
    scores = rng.normal(size=(4, 5))
    penalty = numpy.where(rng.random((4, 5)) < 0.3, -1e9, 0.0)
    penalty[:, 0] = 0.0
    zero_cost = numpy.zeros((4, 5), dtype=bool)
    zero_cost[:, 0] = True
    zero_cost[1, 2] = penalty[1, 2] == 0
    scored = numpy.array([True, True, False, True])
    loss, grad = marginal_log_loss(scores, penalty, zero_cost, scored)
    assert not grad[2].any()
    eps = 1e-6
    for i, j in [(0, 0), (0, 3), (1, 2), (3, 4), (2, 1)]:
        plus, minus = scores.copy(), scores.copy()
        plus[i, j] += eps
        minus[i, j] -= eps
        numeric = (marginal_log_loss(plus, penalty, zero_cost, scored)[0]
                   - marginal_log_loss(minus, penalty, zero_cost, scored)[0]) / (2 * eps)
        assert numeric == pytest.approx(grad[i, j], abs=1e-4)


@pytest.mark.parametrize("use_upper,pieces", [(True, 2), (False, 2), (True, 1)])
def test_model_gradients_match_finite_differences(use_upper, pieces, seed=0):
    fix_random_seed(seed)
    nlp, ner = blank_ner(use_upper=use_upper, maxout_pieces=pieces)
    ner.oracle = "static"  # states that do not move with the weights
    texts = ["Ann met Bob in Paris in 2020 .", "Nothing here", "Carl paid 30 dollars"]
    ents = [[(0, 3, "NAME"), (8, 11, "NAME"), (15, 20, "NAME"), (24, 28, "NUMBER")], [], [(0, 4, "NAME"), (10, 12, "NUMBER")]]
    examples = [Example.from_dict(nlp.make_doc(t), {"entities": e}) for t, e in zip(texts, ents)]
    nlp.initialize(lambda: examples)
    model = ner.model
    rng = numpy.random.default_rng(seed)
    if use_upper:  # move the zero-initialized output layer off zero so every path carries gradient
        upper = model.get_ref("upper")
        upper.set_param("W", rng.normal(size=upper.get_param("W").shape).astype("float32"))
    lower = model.get_ref("lower")
    lower.set_param("pad", rng.normal(size=lower.get_param("pad").shape).astype("float32"))

    set_dropout_rate(model, 0.0)
    docs = [eg.predicted for eg in examples]
    lengths = numpy.array([len(doc) for doc in docs])

    def loss_of():
        features, _ = model.begin_update(docs)
        return ner.get_loss(examples, features)[0]

    for node in model.walk():
        for name in node.param_names:
            if node.has_grad(name):
                node.set_grad(name, numpy.zeros_like(node.get_grad(name)))
    features, backprop = model.begin_update(docs)
    loss, d_scores, bp_scores = ner._batch_loss(features, examples, lengths)
    backprop(bp_scores(d_scores))
    projection = model.get_ref("tok2vec").layers[-1]
    checked = 0
    params = [(lower, "W"), (lower, "b"), (lower, "pad"), (projection, "W")]
    for layer, name in params + ([(model.get_ref("upper"), "W")] if use_upper else []):
        param = layer.get_param(name).copy()
        grad = layer.get_grad(name).copy()
        direction = rng.normal(size=param.shape)
        direction = (direction / numpy.linalg.norm(direction)).astype("float32")
        analytic = float((grad * direction).sum())
        numerics = []
        # central differences along a unit direction; maxout/relu kinks and float32 noise pull
        # in opposite directions as the step shrinks, so a few steps are tried
        for eps in (1e-3, 3e-4, 1e-4):
            layer.set_param(name, param + eps * direction)
            plus = loss_of()
            layer.set_param(name, param - eps * direction)
            minus = loss_of()
            numerics.append((plus - minus) / (2 * eps))
        layer.set_param(name, param)
        assert any(n == pytest.approx(analytic, rel=0.05, abs=1e-2) for n in numerics), (name, numerics, analytic)
        checked += 1
    assert checked >= 4 and loss > 0


# -- training ---------------------------------------------------------------------------------------
def test_ner_learns_beyond_rule_baseline(trained):
    out, summary = trained
    scores = summary["best_scores"]
    baseline = rule_baseline_f(transfer_cli.blank("en"))
    assert scores["ents_f"] > baseline + 0.05, (scores, baseline)
    assert set(scores["ents_per_type"]) == {"NAME", "NUMBER"}
    assert all(set(v) == {"p", "r", "f"} for v in scores["ents_per_type"].values())
    meta = json.loads((out / "model-best" / "meta.json").read_text())
    assert meta["labels"]["ner"] == ["NAME", "NUMBER"]


def test_saved_pipeline_reloads_to_identical_predictions(trained, tmp_path):
    out, _ = trained
    nlp1 = transfer_cli.load(out / "model-best")
    nlp2 = transfer_cli.load(out / "model-best")
    texts = [eg.text for eg in Corpus(DEV, limit=80)(nlp1)]
    docs1, docs2 = list(nlp1.pipe(texts)), list(nlp2.pipe(texts))
    ents1 = [[(e.start, e.end, e.label_) for e in d.ents] for d in docs1]
    assert ents1 == [[(e.start, e.end, e.label_) for e in d.ents] for d in docs2]
    assert sum(map(len, ents1)) > 20
    # one doc at a time gives what batches give (the batched decoder is exact)
    single = [[(e.start, e.end, e.label_) for e in nlp1(t).ents] for t in texts[:20]]
    assert single == ents1[:20]
    nlp2.to_disk(tmp_path / "again")
    nlp3 = transfer_cli.load(tmp_path / "again")
    assert [[(e.start, e.end, e.label_) for e in d.ents] for d in nlp3.pipe(texts)] == ents1
    code, output = cli("evaluate", out / "model-best", DEV, "--output", tmp_path / "metrics.json")
    assert code == 0, output
    assert "ents_f" in output and "NAME" in output and "NUMBER" in output
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    meta = json.loads((out / "model-best" / "meta.json").read_text())
    assert metrics["ents_f"] == pytest.approx(meta["performance"]["ents_f"], abs=1e-9)


def test_missing_annotation_is_not_punished():
    # every annotated token is an entity, everything else is missing ("-"): if missing
    # counted as O the model would learn to predict (almost) no entities
    nlp, ner = blank_ner()
    examples = []
    for eg in Corpus(TRAIN, limit=150)(nlp):
        ref = eg.reference
        ents = list(ref.ents)
        if ents:
            missing = [ref[i:i + 1] for i in range(len(ref)) if not any(e.start <= i < e.end for e in ents)]
            ref.set_ents(ents, missing=missing, default="outside")
            examples.append(eg)
    optimizer = nlp.initialize(lambda: examples)
    # the gradient rows of missing tokens are exactly zero, with either oracle
    for oracle in ("static", "dynamic"):
        ner.oracle = oracle
        features, _ = ner.model.begin_update([eg.predicted for eg in examples[:10]])
        _, d_scores = ner.get_loss(examples[:10], features)
        gold = ner.gold_actions(examples[:10])
        assert (gold == -1).any() and not d_scores[gold == -1].any() and d_scores[gold >= 0].any()
    for _ in range(12):
        nlp.update(examples, sgd=optimizer)
    docs = list(nlp.pipe([eg.text for eg in examples[:40]]))
    in_entities = sum(t.ent_iob_ != "O" for d in docs for t in d)
    assert in_entities > 0.5 * sum(len(d) for d in docs)


def test_shared_tok2vec_tagger_and_ner_train_together(tmp_path):
    # tags come from EWT (no entity annotation there), entities from the NER sample (no tags
    # there): each component sees the other's data as missing annotation
    corpus = tmp_path / "train"
    corpus.mkdir()
    (corpus / "a.conllu").write_text(EWT_TRAIN.read_text(encoding="utf8"), encoding="utf8")
    (corpus / "b.jsonl").write_text(TRAIN.read_text(encoding="utf8"), encoding="utf8")
    config = ner_config(pipeline=("tagger", "ner"), **{"paths.train": str(corpus), "paths.dev": str(DEV),
                                                       "training.max_steps": 80, "training.eval_frequency": 40})
    assert config["nlp"]["pipeline"] == ["tok2vec", "tagger", "ner"]
    summary = train_from_config(config, tmp_path / "out", quiet=True)
    assert summary["best_scores"]["ents_f"] > 0.3
    nlp = transfer_cli.load(tmp_path / "out" / "model-last")
    scores = nlp.evaluate(list(Corpus(EWT_DEV, limit=100)(nlp)))
    assert scores["tag_acc"] > 0.4 and scores["ents_f"] is None  # EWT dev has no entities to score
    doc = nlp("Elena met John Smith in Chernobyl in 1986 .")
    assert all(t.tag_ for t in doc) and all(t.ent_iob_ in ("B", "I", "O") for t in doc)


# -- labels, config and bad input ---------------------------------------------------------------------
def test_labels_from_initialize_setting():
    nlp, ner = blank_ner()
    examples = list(Corpus(TRAIN, limit=5)(nlp))
    nlp.initialize(lambda: examples, settings={"ner": {"labels": ["NAME", "NUMBER", "PLACE"]}})
    assert ner.labels == ("NAME", "NUMBER", "PLACE") and ner.model.get_ref("upper").get_dim("nO") == 13
    nlp, ner = blank_ner()
    spacy_form = {"0": {}, "1": {"ORG": 3, "PER": 1}, "2": {"ORG": 2}, "5": {"": 1}}
    nlp.initialize(lambda: examples, settings={"ner": {"labels": spacy_form}})
    assert ner.labels == ("ORG", "PER")
    with pytest.raises(ConfigError, match="B-PER"):
        blank_ner()[0].initialize(lambda: examples, settings={"ner": {"labels": ["B-PER"]}})


def test_no_entities_in_training_data_is_a_clear_error():
    nlp, ner = blank_ner()
    examples = list(Corpus(EWT_TRAIN, limit=20)(nlp))
    with pytest.raises(DataError, match="no entity annotation"):
        nlp.initialize(lambda: examples)


def test_ner_without_entities_beside_a_tagger_warns_and_the_tagger_trains(tmp_path):
    # spaCy's `-p tagger,ner` config trains on EWT, which has tags but no entities: the
    # tagger learns, the ner learns no labels and predicts none (a ner alone stays an error)
    config = ner_config(pipeline=("tagger", "ner"), **{"paths.train": str(EWT_TRAIN), "paths.dev": str(EWT_DEV),
                                                       "training.max_steps": 80, "training.eval_frequency": 40})
    with pytest.warns(EntityRecognizerWarning, match="no entity annotation.*while tagger train as usual"):
        summary = train_from_config(config, tmp_path / "out", quiet=True)
    assert summary["best_scores"]["tag_acc"] > 0.4
    nlp = transfer_cli.load(tmp_path / "out" / "model-last")
    assert nlp.get_pipe("ner").labels == ()
    doc = nlp("Elena met John Smith in Chernobyl in 1986 .")
    assert all(t.tag_ for t in doc) and doc.ents == () and all(t.ent_iob_ == "O" for t in doc)
    reloaded = transfer_cli.load(tmp_path / "out" / "model-last")
    assert [t.tag_ for t in reloaded(doc.text)] == [t.tag_ for t in doc]


def test_unsupported_settings_are_config_errors():
    nlp = transfer_cli.blank("en")
    with pytest.raises(ConfigError, match="incorrect_spans_key"):
        nlp.add_pipe("ner", config={"incorrect_spans_key": "incorrect"})
    with pytest.raises(ConfigError, match="parser"):
        nlp.add_pipe("ner", name="ner2", config={"model": {"@architectures": "spacy.TransitionBasedParser.v2",
                                                           "state_type": "parser", "extra_state_tokens": False,
                                                           "hidden_width": 8, "maxout_pieces": 2, "use_upper": True,
                                                           "tok2vec": {"@architectures": "spacy.HashEmbedCNN.v2",
                                                                       "pretrained_vectors": None, "width": 8,
                                                                       "depth": 1, "embed_size": 100,
                                                                       "window_size": 1, "maxout_pieces": 2,
                                                                       "subword_features": False}}})


def test_misaligned_entities_are_counted_and_reported():
    nlp, ner = blank_ner()
    vocab = nlp.vocab
    # the gold entity 'Francisco' ends inside the predicted token 'Francisco-based'
    ref = Doc(vocab, words=["Francisco", "-based", "firms", "hired", "Ann"], spaces=[False, True, True, True, False],
              ents=["U-NAME", "O", "O", "O", "U-NAME"])
    pred = Doc(vocab, words=["Francisco-based", "firms", "hired", "Ann"])
    example = Example(pred, ref)
    assert example.get_aligned_ner() == ["-", "O", "O", "U-NAME"]
    with pytest.warns(EntityRecognizerWarning, match=r"1 of 2 gold entities .*'Francisco' \[NAME\]"):
        nlp.initialize(lambda: [example])
    assert ner.init_report["misaligned_entities"] == 1


@pytest.mark.parametrize("line,message", [
    ('{"text": "Ann Lee met", "entities": [[0, 7, "NAME"], [4, 11, "NAME"]]}', "overlap"),
    ('{"text": "Ann Lee met", "entities": [[0, 70, "NAME"]]}', "range|outside|beyond"),
    ('{"text": "Ann Lee met", "entities": [[0, 3]]}', r"\[start, end, label\]"),
])
def test_bad_entity_offsets_are_clear_errors(tmp_path, line, message):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "Bob is here", "entities": [[0, 3, "NAME"]]}\n' + line + "\n")
    config = ner_config(**{"paths.train": str(path), "paths.dev": str(path), "training.max_steps": 2})
    with pytest.raises(UserError) as info:
        train_from_config(config, None, quiet=True)
    assert "bad.jsonl:2" in str(info.value) and re.search(message, str(info.value), re.I), str(info.value)


def test_unknown_labels_at_evaluation_are_reported_not_fatal(trained, tmp_path):
    out, _ = trained
    dev = tmp_path / "dev.jsonl"
    dev.write_text('{"text": "Ann lives in Paris since 1999 .", "entities": [[0, 3, "NAME"], [13, 18, "CITY"]]}\n')
    nlp = transfer_cli.load(out / "model-best")
    with pytest.warns(EntityRecognizerWarning, match=r"not trained on: CITY \(1\)"):
        scores = nlp.evaluate(list(Corpus(dev)(nlp)))
    assert scores["ents_per_type"]["CITY"]["r"] == 0.0
    # the CLI shows a DataWarning as one line of its output (not as a Python warning)
    code, output = cli("evaluate", out / "model-best", dev)
    assert code == 0 and "not trained on: CITY (1)" in output, output


def test_scorer_ignores_predictions_over_missing_gold():
    nlp = transfer_cli.blank("en")
    vocab = nlp.vocab
    ref = Doc(vocab, words=["Ann", "met", "Bob", "today"], ents=["U-NAME", "O", "-", "O"])
    pred = Doc(vocab, words=["Ann", "met", "Bob", "today"], ents=["U-NAME", "O", "U-NAME", "U-NAME"])
    scores = get_ner_prf([Example(pred, ref)])
    assert (scores["ents_p"], scores["ents_r"]) == (0.5, 1.0)  # Bob: not scored; today: wrong
    empty = get_ner_prf([Example(Doc(vocab, words=["a"]), Doc(vocab, words=["a"]))])
    assert empty == {"ents_p": None, "ents_r": None, "ents_f": None, "ents_per_type": None}


def test_spacy_written_ner_config_resolves():
    from transfer_cli.config.loading import load_config

    fixtures = Path(__file__).parent / "fixtures" / "spacy_configs"
    config = load_config(fixtures / "ner_eff.cfg")
    from transfer_cli.pipeline.build import pipeline_from_config

    nlp = pipeline_from_config(config)
    assert nlp.pipe_names == ["tok2vec", "ner"]
    ner = nlp.get_pipe("ner")
    assert ner.model.attrs["has_upper"] and ner.model.get_ref("lower").get_dim("nF") == 3


def test_gold_actions_from_columns_match_the_tag_strings():
    nlp, ner = blank_ner()
    examples = list(Corpus(TRAIN, limit=200)(nlp))
    nlp.initialize(lambda: examples)
    ref = examples[3].reference
    ref.set_ents(list(ref.ents)[:1], missing=[ref[len(ref) - 1:]], default="outside")  # some missing tokens too
    # a doc tokenized differently from its gold goes through the alignment instead
    vocab = nlp.vocab
    odd = Example(Doc(vocab, words=["Ann-Lee", "runs"]), Doc(vocab, words=["Ann", "-", "Lee", "runs"],
                                                              spaces=[False, False, True, False],
                                                              ents=["B-NAME", "I-NAME", "L-NAME", "O"]))
    batch = examples[:50] + [odd]
    from_columns = ner.gold_actions(batch)
    from_strings = numpy.concatenate([ner.moves.tags_to_actions(eg.get_aligned_ner()) for eg in batch])
    assert from_columns.tolist() == from_strings.tolist()
    assert (from_columns == -1).any() and (from_columns > 0).sum() > 50

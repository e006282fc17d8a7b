"""Data augmentation ([corpora.train.augmenter]: spacy.lower_case.v1, spacy.orth_variants.v1)
and [initialize.lookups] (spacy.LookupsDataLoader.v1)."""
import gzip
import importlib.util
import json
import random
import subprocess
import sys

import pytest
from conftest import EWT_DEV, EWT_TRAIN, ROOT, cli, starter_config

import transfer_cli
from transfer_cli.config.loading import load_config_from_str
from transfer_cli.config.registry import registry
from transfer_cli.errors import ConfigError
from transfer_cli.pipeline.lookups import Lookups, load_lookups_data
from transfer_cli.tokens import Doc
from transfer_cli.tokens.example import Example
from transfer_cli.training.batch_stream import BatchStream
from transfer_cli.training.augment import create_lower_casing_augmenter, create_orth_variants_augmenter
from transfer_cli.training.corpus import Corpus

ORTH_VARIANTS = {"single": [{"tags": [":"], "variants": ["--", "\u2014", "\u2013"]}],
                 "paired": [{"tags": ["``", "''"], "variants": [['"', '"'], ["\u201c", "\u201d"]]}]}


@pytest.fixture(scope="module")
def nlp():
    return transfer_cli.blank("en")


def handmade(nlp, *, gold_tokens: bool = False) -> Example:
    words = ['"', "Hello", "World", '"', "--", "said", "Ann", "Lee", "."]
    spaces = [False, True, False, True, True, True, True, False, False]
    reference = Doc(nlp.vocab, words, spaces, tags=["``", "UH", "NN", "''", ":", "VBD", "NNP", "NNP", "."],
                    lemmas=['"', "hello", "world", '"', "--", "say", "Ann", "Lee", "."],
                    ents=["O", "O", "O", "O", "O", "O", "B-PERSON", "L-PERSON", "O"])
    reference.cats = {"QUOTE": 1.0}
    predicted = Doc(nlp.vocab, words, spaces) if gold_tokens else nlp.make_doc(reference.text)
    return Example(predicted, reference)


def annotations(doc: Doc):
    return ([t.tag_ for t in doc], [t.lemma_ for t in doc], [(e.start, e.end, e.label_) for e in doc.ents],
            doc.spaces, doc.cats)


def run(augmenter, nlp, example):
    out = list(augmenter(nlp, example))
    assert len(out) == 1
    return out[0]


@pytest.mark.parametrize("gold_tokens", [False, True])
def test_lower_case_lowercases_text_and_tokens_and_keeps_annotation(nlp, gold_tokens):
    example = handmade(nlp, gold_tokens=gold_tokens)
    out = run(create_lower_casing_augmenter(1.0), nlp, example)
    assert out.reference.words == [w.lower() for w in example.reference.words]
    assert out.reference.text == example.reference.text.lower() == out.predicted.text
    assert annotations(out.reference) == annotations(example.reference)
    assert [e.text for e in out.reference.ents] == ["ann lee"]
    assert [t.tag_ for t in out.predicted] == [""] * len(out.predicted)  # the predicted side stays blank
    assert out.get_aligned("TAG", as_string=True) == [t.tag_ for t in example.reference]
    assert example.reference.words[1] == "Hello"  # the original is not changed


def test_level_zero_changes_nothing(nlp):
    example = handmade(nlp)
    random.seed(0)
    for augmenter in (create_lower_casing_augmenter(0.0), create_orth_variants_augmenter(0.0, 1.0, ORTH_VARIANTS)):
        for _ in range(20):
            assert run(augmenter, nlp, example) is example


def test_orth_variants_replace_punctuation_consistently(nlp):
    example = handmade(nlp)
    augmenter = create_orth_variants_augmenter(1.0, 0.0, ORTH_VARIANTS)
    random.seed(0)
    seen_dashes, seen_quotes = set(), set()
    for _ in range(60):
        out = run(augmenter, nlp, example)
        words = out.reference.words
        assert words[1:3] == ["Hello", "World"] and words[5:] == ["said", "Ann", "Lee", "."]
        assert (words[0], words[3]) in {('"', '"'), ("\u201c", "\u201d")}  # a pair, never mixed
        assert words[4] in ORTH_VARIANTS["single"][0]["variants"]
        seen_quotes.add(words[0])
        seen_dashes.add(words[4])
        assert annotations(out.reference) == annotations(example.reference)
        assert out.predicted.text == out.reference.text
        assert out.get_aligned("TAG", as_string=True) == [t.tag_ for t in example.reference]
        assert [e.text for e in out.reference.ents] == ["Ann Lee"]
    assert seen_quotes == {'"', "\u201c"} and seen_dashes == {"--", "\u2014", "\u2013"}


def test_orth_variants_level_one_varies_every_example(nlp):
    # one variant per entry, other than the text's own: level 1 changes every example
    data = {"single": [{"tags": [":"], "variants": ["--", "\u2014"]}],
            "paired": [{"tags": ["``", "''"], "variants": [['"', '"'], ["\u00ab", "\u00bb"]]}]}
    example = handmade(nlp)
    augmenter = create_orth_variants_augmenter(1.0, 0.0, data)
    random.seed(3)
    changed = sum(run(augmenter, nlp, example).reference.words != example.reference.words for _ in range(40))
    assert changed >= 25  # 3/4 of the draws change at least one of the two entries
    only_other = {"single": [{"tags": [":"], "variants": ["--"]}], "paired": []}
    out = run(create_orth_variants_augmenter(1.0, 1.0, only_other), nlp, example)
    assert out.reference.text == example.reference.text.lower()  # lower = 1: always lowercased


def test_orth_variants_need_the_gold_tag(nlp):
    example = handmade(nlp)
    data = {"single": [{"tags": ["HYPH"], "variants": ["--", "\u2014"]}]}  # "--" is tagged ":" here
    random.seed(0)
    for _ in range(10):
        assert run(create_orth_variants_augmenter(1.0, 0.0, data), nlp, example).reference.words[4] == "--"


def test_same_seed_same_augmented_corpus(nlp):
    augmenter = create_orth_variants_augmenter(0.5, 0.5, ORTH_VARIANTS)
    corpus = Corpus(EWT_TRAIN, limit=80, augmenter=augmenter)

    def texts(seed):
        random.seed(seed)
        return [eg.reference.text for eg in corpus(nlp)]

    first, again, other = texts(1), texts(1), texts(2)
    assert first == again and first != other
    lowered = Corpus(EWT_TRAIN, limit=80, augmenter=create_lower_casing_augmenter(0.5))
    random.seed(1)
    plain = [eg.reference.text for eg in Corpus(EWT_TRAIN, limit=80)(nlp)]
    out = [eg.reference.text for eg in lowered(nlp)]
    assert len(out) == len(plain) and 10 < sum(a != b for a, b in zip(out, plain)) < 70
    assert all(a == b or a == b.lower() for a, b in zip(out, plain))


SPACY_FRAGMENT = """
[corpora.train.augmenter]
@augmenters = "spacy.orth_variants.v1"
level = 0.1
lower = 0.5

[corpora.train.augmenter.orth_variants]
single = [{"tags":[":"],"variants":["-","--","\\u2014"]}]
paired = [{"tags":["``","''"],"variants":[["'","'"],["\\u2018","\\u2019"]]}]
"""


def base_config_text(tmp_path, augmenter_block: str) -> str:
    """A short tagger run's config.cfg, with `augmenter_block` (sections as a user writes
    them) in place of the null setting it replaces."""
    config = starter_config(["tagger"], EWT_TRAIN, EWT_DEV, max_steps=4, eval_frequency=4)
    del config["corpora"]["train"]["augmenter"], config["initialize"]["lookups"]
    path = tmp_path / "config.cfg"
    path.write_text(config.to_str() + "\n" + augmenter_block, encoding="utf8")
    return path


@pytest.mark.parametrize("block", [SPACY_FRAGMENT, """
[corpora.train.augmenter]
@augmenters = "spacy.lower_case.v1"
level = 0.3
"""], ids=["orth_variants", "lower_case"])
def test_trains_with_an_augmenter_from_the_command_line(tmp_path, block):
    config = base_config_text(tmp_path, block)
    result = subprocess.run([sys.executable, "-m", "transfer_cli", "train", str(config), "--output",
                             str(tmp_path / "out"), "--training.max_steps", "2", "--corpora.train.limit", "100",
                             "--corpora.dev.limit", "20"],
                            cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "out" / "model-last" / "meta.json").exists()


def test_resumed_batches_draw_the_same_augmentations(nlp):
    """The batches record the global generator's state when an epoch's corpus is read, so
    a stream restored from a position (a resumed run) yields the same augmented batches."""
    corpus = Corpus(EWT_TRAIN, limit=60, augmenter=create_orth_variants_augmenter(0.7, 0.5, ORTH_VARIANTS))
    batcher = registry.get("batchers", "spacy.batch_by_sequence.v1")(size=8)

    def stream():
        return BatchStream(corpus, nlp, batcher, max_epochs=3, seed=7)

    random.seed(7)
    full = [[eg.reference.text for eg in batch] for _, batch in stream()]
    random.seed(7)
    first = stream()
    taken = iter(first)
    for _ in range(11):  # into the second epoch
        next(taken)
    position = first.position()
    random.seed(12345)  # what a fresh process would have: restore puts the recorded states back
    resumed = stream()
    resumed.restore(position)
    rest = [[eg.reference.text for eg in batch] for _, batch in resumed]
    assert rest == full[11:]
    assert any(text != text.lower() for batch in full for text in batch)
    random.seed(8)
    assert [[eg.reference.text for eg in batch] for _, batch in stream()] != full


@pytest.mark.parametrize("setting, value, expected", [
    ("level", "1.5", "must be a probability from 0.0 to 1.0, got 1.5"),
    ("level", '"often"', "corpora.train.augmenter.level"),
    ("orth_variants", '{"single": [{"tags": [":"]}]}', "exactly the keys \"tags\" and \"variants\""),
    ("orth_variants", '{"singles": []}', "unknown key(s) ['singles']"),
    ("orth_variants", '{"paired": [{"tags": ["``"], "variants": [["a"]]}]}', "[open, close] pairs"),
])
def test_bad_augmenter_settings_are_one_clear_line(tmp_path, setting, value, expected):
    settings = {"level": "0.1", "lower": "0.5", "orth_variants": json.dumps(ORTH_VARIANTS)}
    settings[setting] = value
    block = '[corpora.train.augmenter]\n@augmenters = "spacy.orth_variants.v1"\n' + "".join(
        f"{key} = {val}\n" for key, val in settings.items())
    config = base_config_text(tmp_path, block)
    code, output = cli("debug-config", config)
    assert code == 1, output
    assert "corpora.train.augmenter" in output and expected in output, output
    assert "Traceback" not in output


def test_lookups_without_the_package_is_one_clear_line(tmp_path, monkeypatch):
    if importlib.util.find_spec("spacy_lookups_data") is not None:
        pytest.skip("spacy-lookups-data is installed here")
    block = '[initialize.lookups]\n@misc = "spacy.LookupsDataLoader.v1"\nlang = ${nlp.lang}\ntables = ["lexeme_norm"]\n'
    config = base_config_text(tmp_path, block)
    code, output = cli("train", config, "--output", tmp_path / "out")
    assert code == 1
    assert "[initialize.lookups]" in output and "spacy-lookups-data" in output, output
    assert "pip install spacy-lookups-data" in output and "lookups = null" in output
    assert "Traceback" not in output and not (tmp_path / "out" / "model-last").exists()


def fake_lookups_package(tmp_path):
    data = tmp_path / "site" / "spacy_lookups_data" / "data"
    data.mkdir(parents=True)
    (data.parent / "__init__.py").write_text("", encoding="utf8")
    (data / "en_lexeme_norm.json").write_text(json.dumps({"colour": "color", "gonna": "going to"}), encoding="utf8")
    (data / "en_lemma_lookup.json.gz").write_bytes(gzip.compress(json.dumps({"went": "go"}).encode("utf8")))
    return tmp_path / "site"


def test_lookups_load_from_the_package_and_set_norms(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(fake_lookups_package(tmp_path)))
    lookups = load_lookups_data("en", ["lexeme_norm", "lemma_lookup"])
    assert isinstance(lookups, Lookups)
    assert lookups.get_table("lemma_lookup") == {"went": "go"}
    with pytest.raises(ConfigError, match="no table 'lemma_rules' for language 'en' .*lemma_lookup, lexeme_norm"):
        load_lookups_data("en", ["lemma_rules"])
    block = ('[initialize.lookups]\n@misc = "spacy.LookupsDataLoader.v1"\nlang = ${nlp.lang}\n'
             'tables = ["lexeme_norm", "lemma_lookup"]\n')
    config = base_config_text(tmp_path, block)
    code, output = cli("train", config, "--output", tmp_path / "out")
    assert code == 0, output
    nlp = transfer_cli.load(tmp_path / "out" / "model-last")
    assert [t.norm_ for t in nlp.make_doc("The colour")] == ["the", "color"]  # saved with the pipeline
    assert nlp.vocab.lookups.get_table("lemma_lookup") == {"went": "go"}


def test_lookups_are_registered_where_spacy_has_them():
    assert registry.has("misc", "spacy.LookupsDataLoader.v1")
    assert registry.has("augmenters", "spacy.orth_variants.v1") and registry.has("augmenters", "spacy.lower_case.v1")

"""Token attributes by name: every name spaCy's Doc.to_array accepts works in
Doc.to_array, in the batch featurizer and wherever a config names attributes; an
unknown name is one config error naming its key."""
from pathlib import Path

import numpy
import pytest
from typer.testing import CliRunner

from transfer_cli.cli.app import _register_commands, app
from transfer_cli.config.quickstart import init_config
from transfer_cli.errors import ConfigError
from transfer_cli.ml.featurize import FeatureExtractor, extract_keys
from transfer_cli.tokens import Doc, Vocab, hash_string
from transfer_cli.tokens import attrs as A
from transfer_cli.tokens.lex_attrs import compute_flags, word_shape

SAMPLE = Path(__file__).parent.parent / "sample_data"
TRAIN = SAMPLE / "en_ewt" / "train.conllu"
DEV = SAMPLE / "en_ewt" / "dev.conllu"

# the names of spaCy's Doc.to_array (spacy.attrs.IDS without the FLAGnn/CLUSTER/PROB/LANG slots)
SPACY_NAMES = ["ID", "ORTH", "LOWER", "NORM", "SHAPE", "PREFIX", "SUFFIX", "LENGTH", "IS_ALPHA", "IS_ASCII",
               "IS_DIGIT", "IS_LOWER", "IS_PUNCT", "IS_SPACE", "IS_TITLE", "IS_UPPER", "LIKE_URL", "LIKE_NUM",
               "LIKE_EMAIL", "IS_STOP", "IS_OOV", "IS_OOV_DEPRECATED", "IS_BRACKET", "IS_QUOTE", "IS_LEFT_PUNCT",
               "IS_RIGHT_PUNCT", "IS_CURRENCY", "POS", "TAG", "DEP", "HEAD", "ENT_IOB", "ENT_TYPE", "ENT_KB_ID",
               "ENT_ID", "SENT_START", "SPACY", "LEMMA", "MORPH", "IDX"]
WORDS = ["Hello", "world", "(", "42", "www.x.org", "$", "A@b.co", "'", "THE", "is", ")"]

_register_commands()
runner = CliRunner()


def annotated_doc(vocab=None) -> Doc:
    n = len(WORDS)
    return Doc(vocab or Vocab(), words=WORDS, spaces=[True] * (n - 1) + [False],
               tags=["UH", "NN", "-LRB-", "CD", "ADD", "$", "ADD", "``", "DT", "VBZ", "-RRB-"],
               pos=["INTJ", "NOUN", "PUNCT", "NUM", "X", "SYM", "X", "PUNCT", "DET", "AUX", "PUNCT"],
               lemmas=["hello", "world", "(", "42", "www.x.org", "$", "a@b.co", "'", "the", "be", ")"],
               morphs=["", "Number=Sing", "", "NumType=Card", "", "", "", "", "Definite=Def", "Mood=Ind", ""],
               heads=[1, 1, 1, 1, 1, 1, 1, 1, 9, 9, 9], deps=["intj", "ROOT", "punct", "nummod", "appos", "dep",
                                                             "appos", "punct", "nsubj", "ROOT", "punct"],
               sent_starts=[True, False, False, False, False, False, False, False, True, False, None],
               ents=["O", "O", "O", "U-NUM", "B-URL", "I-URL", "L-URL", "O", "-", "O", "O"])


@pytest.mark.parametrize("name", SPACY_NAMES)
def test_every_spacy_attribute_name_works_in_to_array(name):
    doc = annotated_doc()
    for spelling in (name, name.lower(), A.intify_attr(name)):
        column = doc.to_array(spelling)
        assert column.dtype == numpy.uint64 and column.shape == (len(doc),)
    table = doc.to_array([name, "ORTH"])
    assert table.shape == (len(doc), 2)
    assert (table[:, 0] == doc.to_array(name)).all()


def test_to_array_values_are_spacys():
    doc = annotated_doc()
    hashes = [hash_string(w) for w in WORDS]
    assert doc.to_array("ORTH").tolist() == hashes
    assert doc.to_array("ID").tolist() == hashes  # the lexeme's orth, as hashed here
    assert doc.to_array("LOWER")[0] == hash_string("hello")
    assert doc.to_array("SHAPE")[0] == hash_string("Xxxxx") and doc.to_array("SHAPE")[3] == hash_string("dd")
    assert doc.to_array("PREFIX")[0] == hash_string("H") and doc.to_array("SUFFIX")[0] == hash_string("llo")
    assert doc.to_array("LENGTH").tolist() == [len(w) for w in WORDS]
    flags = {name: doc.to_array(name).tolist() for name in ("IS_ALPHA", "IS_DIGIT", "IS_PUNCT", "LIKE_NUM",
                                                             "LIKE_URL", "LIKE_EMAIL", "IS_CURRENCY", "IS_BRACKET",
                                                             "IS_LEFT_PUNCT", "IS_RIGHT_PUNCT", "IS_QUOTE",
                                                             "IS_UPPER", "IS_TITLE", "IS_OOV")}
    assert flags["IS_ALPHA"] == [1, 1, 0, 0, 0, 0, 0, 0, 1, 1, 0]
    assert flags["IS_DIGIT"] == flags["LIKE_NUM"] == [0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]
    assert flags["IS_PUNCT"] == [0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 1]
    assert flags["LIKE_URL"][4] == 1 and flags["LIKE_EMAIL"][6] == 1 and flags["IS_CURRENCY"][5] == 1
    assert flags["IS_BRACKET"] == [0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1]
    assert flags["IS_LEFT_PUNCT"][2] == 1 and flags["IS_RIGHT_PUNCT"][10] == 1 and flags["IS_QUOTE"][7] == 1
    assert flags["IS_UPPER"][8] == 1 and flags["IS_TITLE"][0] == 1
    assert flags["IS_OOV"] == [0] * len(WORDS)  # spaCy 3 never sets the deprecated flag either
    assert set(doc.to_array("IS_STOP").tolist()) <= {0, 1}
    assert doc.to_array("SPACY").tolist() == [1] * 10 + [0]
    # signed values are two's complement in the uint64 array, as in spaCy
    assert doc.to_array("SENT_START").view("int64").tolist() == [1, -1, -1, -1, -1, -1, -1, -1, 1, -1, 0]
    assert doc.to_array("HEAD").view("int64").tolist()[:3] == [1, 0, -1]
    assert doc.to_array("ENT_IOB").tolist() == [2, 2, 2, 3, 3, 1, 1, 2, 0, 2, 2]
    assert doc.to_array("ENT_TYPE")[3] == hash_string("NUM") and doc.to_array("ENT_TYPE")[0] == 0
    assert doc.to_array("POS")[1] == hash_string("NOUN") and doc.to_array("TAG")[1] == hash_string("NN")
    assert doc.to_array("DEP")[1] == hash_string("ROOT") and doc.to_array("LEMMA")[9] == hash_string("be")
    assert doc.to_array("MORPH")[1] == hash_string("Number=Sing")
    assert doc.to_array("IDX").tolist()[:3] == [0, 6, 12]


def test_from_array_round_trips_with_derived_attributes():
    doc = annotated_doc()
    names = ["ID", "LENGTH", "IS_ALPHA", "TAG", "HEAD", "ENT_IOB", "ENT_TYPE"]
    copy = Doc(doc.vocab, words=doc.words, spaces=doc.spaces).from_array(names, doc.to_array(names))
    assert (copy.to_array(names) == doc.to_array(names)).all()


def test_unknown_attribute_is_a_config_error_with_the_closest_name():
    doc = annotated_doc()
    expected = r"unknown attribute 'ORTHO' \(did you mean 'ORTH'\?\); expected one of ID, ORTH"
    with pytest.raises(ConfigError, match=expected):
        doc.to_array(["ORTHO"])
    for bad in (9999, True, None, "", "_"):
        with pytest.raises(ConfigError, match="unknown attribute"):
            A.intify_attr(bad)


def test_featurizer_matches_to_array_for_docs_and_spans():
    vocab = Vocab()
    docs = [annotated_doc(vocab), Doc(vocab, words=["Short", "one", "."]), Doc(vocab, words=[])]
    span = docs[0][2:6]
    ids = A.intify_attrs(SPACY_NAMES)
    keys, lengths = extract_keys(docs + [span], ids)
    expected = numpy.concatenate([d.to_array(ids) for d in docs] + [docs[0].to_array(ids)[2:6]])
    assert lengths.tolist() == [len(WORDS), 3, 0, 4]
    assert keys.dtype == numpy.uint64 and (keys == expected).all()
    extractor = FeatureExtractor(["orth", "length", "IS_ALPHA", "id"])
    output, _ = extractor(docs[:2], is_train=False)
    assert (output.data == numpy.concatenate([d.to_array(["ORTH", "LENGTH", "IS_ALPHA", "ID"])
                                              for d in docs[:2]])).all()


# -- configs -------------------------------------------------------------------------------------------
def write_config(path: Path, embed_block: str) -> Path:
    text = init_config(pipeline=["tagger"], optimize="efficiency").to_str()
    start = text.index("[components.tok2vec.model.embed]")
    end = text.index("\n[", start + 1)
    path.write_text(text[:start] + embed_block.strip() + "\n" + text[end:])
    return path


HUMAN_EMBED = """
[components.tok2vec.model.embed]
@architectures = "spacy.MultiHashEmbed.v1"
width = ${components.tok2vec.model.encode.width}
attrs = ["ORTH","LOWER","PREFIX","SUFFIX","SHAPE","ID"]
rows = [5000,5000,1000,2500,2500,1000]
include_static_vectors = false
"""


def test_human_written_multihashembed_v1_attrs_train(tmp_path):
    config = write_config(tmp_path / "config.cfg", HUMAN_EMBED)
    result = runner.invoke(app, ["train", str(config), "--output", str(tmp_path / "out"), "--paths.train", str(TRAIN),
                                 "--paths.dev", str(DEV), "--training.max_steps", "3",
                                 "--training.eval_frequency", "3", "--corpora.train.limit", "40",
                                 "--corpora.dev.limit", "20"])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    assert (tmp_path / "out" / "model-best").is_dir()


@pytest.mark.parametrize("block,key,bad", [
    (HUMAN_EMBED.replace('"ORTH","LOWER"', '"ORTHO","LOWER"'), "components.tok2vec.model.embed.attrs", "ORTHO"),
    (HUMAN_EMBED.replace('"SHAPE","ID"', '"SHAPE","lenght"'), "components.tok2vec.model.embed.attrs", "lenght"),
    (HUMAN_EMBED.replace("spacy.MultiHashEmbed.v1", "spacy.MultiHashEmbed.v2").replace('"ID"]', '"IS_FOO"]'),
     "components.tok2vec.model.embed.attrs", "IS_FOO"),
    ("""
[components.tok2vec.model.embed]
@architectures = "spacy.CharacterEmbed.v2"
width = ${components.tok2vec.model.encode.width}
rows = 2000
nM = 16
nC = 4
include_static_vectors = false
feature = "LOWR"
""", "components.tok2vec.model.embed.feature", "LOWR"),
])
def test_unknown_attribute_in_a_config_is_one_line_naming_the_key(tmp_path, block, key, bad):
    config = write_config(tmp_path / "config.cfg", block)
    for args in (["train", str(config), "--output", str(tmp_path / "out"), "--paths.train", str(TRAIN),
                  "--paths.dev", str(DEV)], ["debug-config", str(config)]):
        result = runner.invoke(app, args)
        assert result.exit_code == 1
        assert "Traceback" not in result.output
        errors = [line for line in result.output.splitlines() if "unknown attribute" in line]
        assert len(errors) == 1, result.output
        if args[0] == "train":
            assert errors[0].startswith("✘ ") and result.output.strip() == errors[0]
        assert f"[{key}]: unknown attribute '{bad}'" in errors[0]
    assert not (tmp_path / "out").exists()


def test_other_attribute_arguments_are_checked_too():
    from transfer_cli.config.registrations import LIVE
    from transfer_cli.config.registry import load_registrations, registry
    from transfer_cli.config.validation import check_function_block

    load_registrations()
    blocks = {
        "layer": {"@layers": "spacy.StaticVectors.v2", "nO": 8, "key_attr": "LOWR"},
        "ngrams": {"@layers": "spacy.extract_ngrams.v1", "ngram_size": 2, "attr": "ORTHH"},
        "columns": {"@layers": "spacy.FeatureExtractor.v1", "columns": ["ORTH", "NROM"]},
    }
    for name, block in blocks.items():
        problems = []
        check_function_block(block, name, problems, LIVE)
        assert len(problems) == 1 and problems[0].message.startswith("unknown attribute"), (name, problems)
        assert problems[0].key == name + "." + next(k for k in block if k not in ("@layers", "nO", "ngram_size"))
    good = {"@layers": "spacy.extract_ngrams.v1", "ngram_size": 2, "attr": "lower"}
    problems = []
    check_function_block(good, "ngrams", problems, LIVE)
    assert problems == []
    model = registry.resolve({"x": good})["x"]
    doc = annotated_doc()
    (keys, _, lengths), _ = model([doc], is_train=False)
    assert lengths.tolist() == [len(doc) * 2 - 1] and set(doc.to_array("LOWER").tolist()) <= set(keys.tolist())


def _shape_by_chars(text):
    """word_shape's rule, char by char: the reference for its string-method shortcut on ASCII."""
    if len(text) >= 100:
        return "LONG"
    shape, last, run = [], "", 0
    for char in text:
        kind = ("X" if char.isupper() else "x") if char.isalpha() else "d" if char.isdigit() else char
        run = run + 1 if kind == last else 0
        last = kind
        if run < 4:
            shape.append(kind)
    return "".join(shape)


@pytest.mark.parametrize("text", ["", "Apple", "Xxxxxxxxx", "ABCDEFG", "1999-2000!!!!!!", "\n\n\n\n\n\n\n", "a.b.c.d.e.f",
                                  "Straße", "ǅemal", "٣٤٥٦٧٨", "a" * 99, "a" * 100, "MiXeD123..."])
def test_word_shape_matches_char_rule(text):
    assert word_shape(text) == _shape_by_chars(text)


def test_flag_overrides_apply_to_letters_and_digits_too():
    # letters-and-digits strings skip the punctuation-like checks, but not a language's own check
    assert not compute_flags("abc") & (1 << A.IS_PUNCT)
    assert compute_flags("abc", overrides={A.IS_PUNCT: lambda t: True}) & (1 << A.IS_PUNCT)
    assert compute_flags("the", frozenset({"the"})) & (1 << A.IS_STOP)
    assert not compute_flags("the", frozenset({"the"}), {A.IS_STOP: lambda t: False}) & (1 << A.IS_STOP)
    assert compute_flags("!!") & (1 << A.IS_PUNCT) and compute_flags("ab1") & (1 << A.IS_ASCII)

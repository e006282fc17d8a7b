"""Corpus readers: CoNLL-U, CoNLL-2003/IOB, JSONL, .spacy, and the read_docs dispatcher."""
import re
from pathlib import Path

import pytest

from transfer_cli.errors import DataError, PathError, UserError
from transfer_cli.tokens import Doc, Vocab
from transfer_cli.tokens.docbin import DocBin
from transfer_cli.training.readers import detect_converter, read_conllu, read_docs, read_iob, read_jsonl

SAMPLE = Path(__file__).parent.parent / "sample_data"
EWT_DEV = SAMPLE / "en_ewt" / "dev.conllu"

CONLLU = """\
# newdoc id = d1
# sent_id = s1
# text = I don't know.
1\tI\tI\tPRON\tPRP\tCase=Nom|Number=Sing|Person=1|PronType=Prs\t4\tnsubj\t4:nsubj\t_
2-3\tdon't\t_\t_\t_\t_\t_\t_\t_\t_
2\tdo\tdo\tAUX\tVBP\tVerbForm=Fin|Tense=Pres|Mood=Ind\t4\taux\t4:aux\t_
3\tn't\tnot\tPART\tRB\t_\t4\tadvmod\t4:advmod\t_
4\tknow\tknow\tVERB\tVB\tVerbForm=Inf\t0\troot\t0:root\tSpaceAfter=No
4.1\tknow\tknow\tVERB\tVB\t_\t_\t_\t4:conj\t_
5\t.\t.\tPUNCT\t.\t_\t4\tpunct\t4:punct\t_

# sent_id = s2
# text = Won't go!
1-2\tWon't\t_\t_\t_\t_\t_\t_\t_\t_
1\tWo\twill\tAUX\tMD\tVerbForm=Fin\t3\taux\t3:aux\t_
2\tn't\tnot\tPART\tRB\t_\t3\tadvmod\t3:advmod\t_
3\tgo\tgo\tVERB\tVB\tVerbForm=Inf\t0\troot\t0:root\tSpaceAfter=No
4\t!\t!\tPUNCT\t.\t_\t3\tpunct\t3:punct\tSpaceAfter=No

# sent_id = s3
# text = Yes.
1\tYes\tyes\tINTJ\tUH\t_\t0\troot\t0:root\tSpaceAfter=No
2\t.\t.\tPUNCT\t_\t_\t1\tpunct\t1:punct\t_
"""


def simple_make_doc(vocab):
    """Whitespace + punctuation splitter (tests only): keeps exact text and spaces."""
    def make_doc(text: str) -> Doc:
        words, spaces = [], []
        for match in re.finditer(r"\w+|[^\w\s]", text):
            words.append(match.group())
            spaces.append(text[match.end():match.end() + 1] == " ")
        return Doc(vocab, words=words, spaces=spaces)
    return make_doc


def write(tmp_path, name, content, mode="w"):
    path = tmp_path / name
    if mode == "wb":
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf8")
    return path


# -- CoNLL-U -------------------------------------------------------------------------------------
def test_conllu_words_multiword_tokens_empty_nodes_and_spaces(tmp_path):
    path = write(tmp_path, "x.conllu", CONLLU)
    docs = list(read_conllu(path, Vocab()))
    assert len(docs) == 3
    first = docs[0]
    assert first.words == ["I", "do", "n't", "know", "."]  # syntactic words; 4.1 skipped
    assert first.text == "I don't know. "  # "." has no SpaceAfter=No
    assert [t.tag_ for t in first] == ["PRP", "VBP", "RB", "VB", "."]
    assert [t.pos_ for t in first] == ["PRON", "AUX", "PART", "VERB", "PUNCT"]
    assert [t.lemma_ for t in first] == ["I", "do", "not", "know", "."]
    assert first[1].morph == "Mood=Ind|Tense=Pres|VerbForm=Fin"  # normalised like spaCy
    assert [t.head.i for t in first] == [3, 3, 3, 3, 3]
    assert [t.dep_ for t in first] == ["nsubj", "aux", "advmod", "ROOT", "punct"]
    assert first.user_data["conllu"] == {"sent_ids": ["s1"], "texts": ["I don't know."],
                                         "multiword_tokens": [(1, 3, "don't")]}
    assert docs[1].text == "Won't go!"
    assert docs[2][1].tag_ == "PUNCT"  # XPOS "_" falls back to UPOS (as spaCy's converter)


def test_conllu_lemma_underscore_is_kept_as_spacy_keeps_it(tmp_path):
    # spaCy 3.8's conllu converter passes LEMMA through as written, so "_" is the lemma "_"
    # (it is not missing); the .spacy file written from it holds "_" too
    path = write(tmp_path, "u.conllu", "1\tThe\t_\tDET\tDT\t_\t2\tdet\t_\t_\n"
                                       "2\tcat\tcat\tNOUN\tNN\t_\t0\troot\t_\t_\n"
                                       "3\t_\t_\tPUNCT\tNFP\t_\t2\tpunct\t_\t_\n")
    [doc] = list(read_conllu(path, Vocab()))
    assert [t.lemma_ for t in doc] == ["_", "cat", "_"]
    assert doc.has_annotation("LEMMA", require_complete=True)
    docbin = DocBin()
    docbin.add(doc)
    [back] = list(DocBin().from_bytes(docbin.to_bytes()).get_docs(Vocab()))
    assert [t.lemma_ for t in back] == ["_", "cat", "_"]


def test_conllu_multiword_token_space_after(tmp_path):
    path = write(tmp_path, "x.conllu", "# text = Don't!\n1-2\tDon't\t_\t_\t_\t_\t_\t_\t_\tSpaceAfter=No\n"
                                       "1\tDo\tdo\tAUX\tVB\t_\t0\troot\t_\t_\n2\tn't\tnot\tPART\tRB\t_\t1\tadvmod\t_\t_\n"
                                       "3\t!\t!\tPUNCT\t.\t_\t1\tpunct\t_\tSpaceAfter=No\n")  # no final blank line
    [doc] = list(read_conllu(path, Vocab()))
    assert doc.words == ["Do", "n't", "!"] and doc.spaces == [False, False, False]
    assert doc.text == "Don't!"


def test_conllu_groups_n_sentences(tmp_path):
    path = write(tmp_path, "x.conllu", CONLLU)
    [doc] = list(read_conllu(path, Vocab(), n_sents=10))
    assert [s.text for s in doc.sents] == ["I don't know.", "Won't go!", "Yes."]
    # "!" has SpaceAfter=No, but sentences joined in one doc are separated by a space (as spaCy does)
    assert doc.text == "I don't know. Won't go! Yes. "
    assert [t.head.i for t in doc][5:9] == [7, 7, 7, 7]  # heads offset into the doc
    assert doc.user_data["conllu"]["multiword_tokens"] == [(1, 3, "don't"), (5, 7, "Won't")]
    docs = list(read_conllu(path, Vocab(), n_sents=2))
    assert [len(list(d.sents)) for d in docs] == [2, 1]


def test_conllu_sample_counts():
    # independent counts from the raw file: integer IDs are words; comment/blank structure gives sentences
    lines = EWT_DEV.read_text(encoding="utf8").splitlines()
    n_words = sum(1 for line in lines if re.match(r"^\d+\t", line))
    n_sents = sum(1 for line in lines if line.startswith("# text"))
    assert any(re.match(r"^\d+-\d+\t", line) for line in lines)
    assert any(re.match(r"^\d+\.\d+\t", line) for line in lines)
    docs = list(read_docs(EWT_DEV, n_sents=10))
    assert sum(len(d) for d in docs) == n_words == 3079
    assert sum(len(list(d.sents)) for d in docs) == n_sents == 276
    assert len(docs) == 28
    assert all(d.has_annotation("TAG", require_complete=True) for d in docs)


@pytest.mark.parametrize("line, message", [
    ("1\tI\tI\tPRON\tPRP\t_\t0\troot\t_", "expected 10 tab-separated columns (ID FORM LEMMA UPOS XPOS FEATS HEAD "
                                          "DEPREL DEPS MISC), found 9"),
    ("x\tI\tI\tPRON\tPRP\t_\t0\troot\t_\t_", "bad token ID 'x'"),
    ("3\tI\tI\tPRON\tPRP\t_\t0\troot\t_\t_", "token ID 3 out of sequence: expected 1"),
    ("1-x\tI\tI\tPRON\tPRP\t_\t0\troot\t_\t_", "bad multiword token ID '1-x'"),
    ("1\tI\tI\tPRON\tPRP\t_\tone\troot\t_\t_", "HEAD 'one' is not a word ID"),
    ("1\tI\tI\tPRON\tPRP\t_\t7\troot\t_\t_", "HEAD 7 points past the end of the sentence"),
    ("1\tI\tI\tPRON\tPRP\tCase\t0\troot\t_\t_", "invalid morphological feature 'Case'"),
])
def test_conllu_malformed_lines(tmp_path, line, message):
    path = write(tmp_path, "bad.conllu", "# text = I\n" + line + "\n\n")
    with pytest.raises(DataError) as exc_info:
        list(read_conllu(path, Vocab()))
    assert str(exc_info.value).startswith(f"{path}:2: ")
    assert message in str(exc_info.value)


def test_conllu_non_utf8(tmp_path):
    content = "# text = ok\n1\tok\tok\tINTJ\tUH\t_\t0\troot\t_\t_\n\n".encode() + b"1\tcaf\xe9\tx\tX\tX\t_\t0\troot\t_\t_\n"
    path = write(tmp_path, "latin1.conllu", content, mode="wb")
    with pytest.raises(DataError, match=r"latin1.conllu:4: not valid UTF-8: byte 0xe9 at column 6"):
        list(read_conllu(path, Vocab()))


# -- IOB / CoNLL-2003 -------------------------------------------------------------------------------
CONLL2003 = """\
-DOCSTART- -X- -X- O

EU NNP I-NP I-ORG
rejects VBZ I-VP O
German JJ I-NP I-MISC
call NN I-NP O
. . O O

Peter NNP I-NP I-PER
Blackburn NNP I-NP I-PER

-DOCSTART- -X- -X- O

Spain NNP I-NP I-LOC
and CC O O
France NNP I-NP B-LOC
"""


def test_conll2003_original_iob1(tmp_path):
    path = write(tmp_path, "eng.sample", CONLL2003)
    docs = list(read_iob(path, Vocab(), n_sents=0))
    assert len(docs) == 2  # one per -DOCSTART- document
    assert [(e.text, e.label_) for e in docs[0].ents] == [("EU", "ORG"), ("German", "MISC"),
                                                           ("Peter Blackburn", "PER")]
    assert [s.text for s in docs[0].sents] == ["EU rejects German call .", "Peter Blackburn"]
    assert [(e.text, e.label_) for e in docs[1].ents] == [("Spain", "LOC"), ("France", "LOC")]
    assert [t.tag_ for t in docs[0]] == ["NNP", "VBZ", "JJ", "NN", ".", "NNP", "NNP"]  # POS column → tag
    assert [t.tag_ for t in docs[1]] == ["NNP", "CC", "NNP"]
    per_sentence = list(read_iob(path, Vocab(), n_sents=1))
    assert [len(d) for d in per_sentence] == [5, 2, 3]


def test_iob2_tsv_and_repair(tmp_path):
    path = write(tmp_path, "x.tsv", "Ann\tB-PER\nLee\tI-PER\nin\tO\nRome\tI-LOC\n\nOK\tO\n")
    docs = list(read_iob(path, Vocab(), n_sents=5))
    assert [(e.text, e.label_) for e in docs[0].ents] == [("Ann Lee", "PER"), ("Rome", "LOC")]  # I- without B-
    assert len(list(docs[0].sents)) == 2


def test_iob_pos_column_is_the_tag_two_columns_have_none(tmp_path):
    [three] = list(read_iob(write(tmp_path, "three.iob", "Ann NNP B-PER\nsings VBZ O\n"), Vocab()))
    assert [t.tag_ for t in three] == ["NNP", "VBZ"]
    assert [(e.text, e.label_) for e in three.ents] == [("Ann", "PER")]
    [two] = list(read_iob(write(tmp_path, "two.tsv", "Ann\tB-PER\nsings\tO\n"), Vocab()))
    assert not two.has_annotation("TAG")  # no POS column: no tags (missing, not a made-up value)
    assert [(e.text, e.label_) for e in two.ents] == [("Ann", "PER")]


def test_tagger_and_ner_initialize_from_conll2003_alone(tmp_path):
    from conftest import starter_config

    from transfer_cli.training.initialize import init_pipeline

    path = write(tmp_path, "eng.iob", CONLL2003)
    setup = init_pipeline(starter_config(["tagger", "ner"], path, path, max_steps=1))
    assert set(setup.nlp.get_pipe("tagger").labels) == {"CC", "JJ", "NN", "NNP", "VBZ", "."}
    assert set(setup.nlp.get_pipe("ner").labels) == {"ORG", "MISC", "PER", "LOC"}


def test_biluo_input(tmp_path):
    path = write(tmp_path, "x.tsv", "New\tB-LOC\nYork\tL-LOC\nis\tO\nbig\tU-X\n")
    [doc] = list(read_iob(path, Vocab()))
    assert [(e.text, e.label_) for e in doc.ents] == [("New York", "LOC"), ("big", "X")]


@pytest.mark.parametrize("content, line, message", [
    ("EU\tB-ORG\nrejects\n", 2, "expected a word and its entity tag"),
    ("EU\tB-ORG\nrejects\tO\tx\n", 2, "expected 2 columns as on line 1, found 3"),
    ("EU\tB-ORG\nrejects\tQ-ORG\n", 2, "invalid entity tag 'Q-ORG'"),
])
def test_iob_errors(tmp_path, content, line, message):
    path = write(tmp_path, "bad.iob", content)
    with pytest.raises(DataError) as exc_info:
        list(read_iob(path, Vocab()))
    assert str(exc_info.value).startswith(f"{path}:{line}: ") and message in str(exc_info.value)


# -- JSONL ---------------------------------------------------------------------------------------
def test_jsonl_record_kinds(tmp_path):
    path = write(tmp_path, "x.jsonl", "\n".join([
        '{"text": "Just text."}',
        '{"text": "Great film", "label": "pos"}',
        '{"text": "Awful", "label": "neg"}',
        '{"text": "Meh", "cats": {"pos": 0.3, "neg": 0.7}}',
        '{"text": "Ann met Bo in Rome.", "entities": [[0, 3, "PER"], [8, 10, "PER"], [14, 18, "LOC"]]}',
        '{"tokens": ["New", "York", "rocks"], "tags": ["B-LOC", "I-LOC", "O"]}',
        '{"tokens": ["dogs", "bark"], "tags": ["NNS", "VBP"], "spaces": [true, false]}',
        '{"text": "Prodigy style", "spans": [{"start": 0, "end": 7, "label": "ORG"}]}',
        "",
    ]))
    vocab = Vocab()
    warnings = []
    docs = list(read_jsonl(path, vocab, make_doc=simple_make_doc(vocab), warnings=warnings))
    assert len(docs) == 8 and warnings == []
    assert docs[0].words == ["Just", "text", "."] and not docs[0].cats
    assert docs[1].cats == {"pos": 1.0, "neg": 0.0} and docs[2].cats == {"pos": 0.0, "neg": 1.0}
    assert docs[3].cats == {"pos": 0.3, "neg": 0.7}
    assert [(e.text, e.label_) for e in docs[4].ents] == [("Ann", "PER"), ("Bo", "PER"), ("Rome", "LOC")]
    assert [t.ent_iob_ for t in docs[4]] == ["B", "O", "B", "O", "B", "O"]
    assert [(e.text, e.label_) for e in docs[5].ents] == [("New York", "LOC")]
    assert [t.tag_ for t in docs[6]] == ["NNS", "VBP"] and docs[6].text == "dogs bark"
    assert [(e.text, e.label_) for e in docs[7].ents] == [("Prodigy", "ORG")]


def test_jsonl_misaligned_entities_are_dropped_and_reported(tmp_path):
    path = write(tmp_path, "x.jsonl", '{"text": "Ann met Bob in Rome.", "entities": '
                                      '[[0, 3, "PER"], [8, 10, "PER"], [15, 17, "LOC"]]}\n')
    vocab = Vocab()
    warnings = []
    [doc] = list(read_jsonl(path, vocab, make_doc=simple_make_doc(vocab), warnings=warnings))
    assert [(e.text, e.label_) for e in doc.ents] == [("Ann", "PER")]
    assert [t.ent_iob_ for t in doc] == ["B", "O", "", "O", "", "O"]  # dropped entities: tokens unknown
    assert warnings == [f"{path}:1: entity [8, 10, 'PER'] 'Bo' does not match token boundaries; dropped",
                        f"{path}:1: entity [15, 17, 'LOC'] 'Ro' does not match token boundaries; dropped"]


@pytest.mark.parametrize("line, message", [
    ('{"text": "abc", ', "invalid JSON"),
    ('["a list"]', "expected a JSON object per line, found list"),
    ('{"title": "no text"}', 'expected a "text" or a "tokens" field'),
    ('{"text": "Ann Lee", "entities": [[0, 5, "A"], [4, 7, "B"]]}', "overlap"),
    ('{"text": "Ann", "entities": [[0, 9, "A"]]}', "outside the text"),
    ('{"text": "Ann", "entities": [["0", 3, "A"]]}', "is not [start, end, label]"),
    ('{"tokens": ["a", "b"], "tags": ["O"]}', '"tags" must be a list with one tag per token (2)'),
    ('{"tokens": ["a", "b"], "tags": ["I-X", "L-Y"]}', "invalid BILUO sequence"),
])
def test_jsonl_errors_name_file_and_line(tmp_path, line, message):
    path = write(tmp_path, "bad.jsonl", '{"text": "fine"}\n' + line + "\n")
    vocab = Vocab()
    with pytest.raises(DataError) as exc_info:
        list(read_jsonl(path, vocab, make_doc=simple_make_doc(vocab)))
    assert str(exc_info.value).startswith(f"{path}:2: ") and message in str(exc_info.value)


def test_jsonl_invalid_line_is_found_before_any_doc(tmp_path):
    path = write(tmp_path, "bad.jsonl", '{"text": "a"}\n{"text": "b"}\nnot json\n')
    vocab = Vocab()
    stream = read_jsonl(path, vocab, make_doc=simple_make_doc(vocab))
    with pytest.raises(DataError, match=":3: invalid JSON"):
        next(stream)


def test_jsonl_raw_text_needs_a_tokenizer(tmp_path):
    path = write(tmp_path, "x.jsonl", '{"text": "a b"}\n')
    with pytest.raises(UserError, match="needs a tokenizer"):
        list(read_jsonl(path, Vocab()))


# -- .spacy and the dispatcher ---------------------------------------------------------------------------
def test_spacy_reader_and_detection(tmp_path):
    vocab = Vocab()
    doc_bin = DocBin(docs=[Doc(vocab, words=["a", "b"], tags=["DT", "NN"])])
    doc_bin.to_disk(tmp_path / "c.spacy")
    (tmp_path / "c.spacy").rename(tmp_path / "noext")
    assert detect_converter(tmp_path / "noext") == "spacy"
    [doc] = list(read_docs(tmp_path / "noext"))
    assert [t.tag_ for t in doc] == ["DT", "NN"]


def test_detect_converter_by_extension_and_content(tmp_path):
    assert detect_converter(write(tmp_path, "a.conllu", CONLLU)) == "conllu"
    assert detect_converter(write(tmp_path, "conllu_noext", CONLLU)) == "conllu"
    assert detect_converter(write(tmp_path, "eng.train", CONLL2003)) == "iob"
    assert detect_converter(write(tmp_path, "tsv_noext", "EU\tB-ORG\n")) == "iob"
    assert detect_converter(write(tmp_path, "data.txt", '{"text": "x"}\n')) == "jsonl"
    with pytest.raises(UserError, match="cannot tell the format"):
        detect_converter(write(tmp_path, "prose.txt", "Just some prose here.\n"))


def test_read_docs_directory_and_warnings(tmp_path):
    write(tmp_path, "a.conllu", CONLLU)
    write(tmp_path, "b.jsonl", '{"text": "Ann met Bob", "entities": [[8, 10, "PER"]]}\n')
    write(tmp_path, ".hidden", "ignored")
    vocab = Vocab()
    reader = read_docs(tmp_path, vocab=vocab, make_doc=simple_make_doc(vocab))
    docs = list(reader)
    assert len(docs) == 4
    assert len(reader.warnings) == 1 and "'Bo'" in reader.warnings[0]
    assert len(list(reader)) == 4  # can be iterated again


def test_read_docs_bad_arguments(tmp_path):
    with pytest.raises(PathError, match="not found"):
        read_docs(tmp_path / "missing.conllu")
    with pytest.raises(UserError, match="unknown converter 'xml'"):
        read_docs(EWT_DEV, converter="xml")
    reader = read_docs(EWT_DEV, converter="conll")  # spaCy's alias
    assert reader.converter == "conllu"


def test_read_docs_streams_a_conllu_file(tmp_path):
    """Docs come out as they are read: the first is there before the reader reaches a
    bad line further down (a reader that loaded the whole file would fail first)."""
    path = write(tmp_path, "a.conllu", CONLLU + "\n1\tbad\n\n")
    docs = iter(read_docs(path, vocab=Vocab()))
    assert next(docs).words == ["I", "do", "n't", "know", "."]
    with pytest.raises(DataError, match=r"a.conllu:\d+: expected 10 tab-separated columns"):
        list(docs)

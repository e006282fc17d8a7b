"""debug-data (and spaCy's spelling `debug data`): the report's counts equal counts made
here straight from the sample files, new dev labels, misaligned and overlapping
entities, an empty corpus; and debug-config's warning for paths that do not exist."""
import json
from collections import Counter

import pytest
from conftest import (EWT_DEV, EWT_TRAIN, NER_DEV, NER_TRAIN, TEXTCAT_DEV, TEXTCAT_TRAIN, cli,
                      starter_config)

from transfer_cli.config import config_to_str
from transfer_cli.errors import DataError
from transfer_cli.training.debug_data import FAIL, WARN, analyze_data


def conllu_counts(path):
    """(sentences, words, XPOS counts) of a CoNLL-U file, read here line by line."""
    n_sents, n_words, tags, in_sent = 0, 0, Counter(), False
    for line in path.read_text(encoding="utf8").splitlines():
        if not line.strip():
            in_sent = False
            continue
        if line.startswith("#"):
            continue
        cols = line.split("\t")
        if not cols[0].isdigit():
            continue  # multiword ranges and empty nodes
        if not in_sent:
            n_sents, in_sent = n_sents + 1, True
        n_words += 1
        tags[cols[4] if cols[4] != "_" else cols[3]] += 1
    return n_sents, n_words, tags


def jsonl_records(path):
    return [json.loads(line) for line in path.read_text(encoding="utf8").splitlines() if line.strip()]


def findings(report, level):
    return [f.text for f in report.all_findings if f.level == level]


def test_counts_of_ewt_equal_the_files():
    report = analyze_data(starter_config(["tagger"], EWT_TRAIN, EWT_DEV))
    for name, path in (("train", EWT_TRAIN), ("dev", EWT_DEV)):
        n_sents, n_words, tags = conllu_counts(path)
        stats = report.corpora[name]
        assert (stats.n_docs, stats.n_words, stats.n_sents) == (n_sents, n_words, n_sents)  # one doc per sentence
        [tagger] = report.components
        assert tagger.labels[name] == tags
        assert tagger.missing_tokens[name] == 0
    train_words = set(_conllu_words(EWT_TRAIN))
    dev_words = _conllu_words(EWT_DEV)
    assert report.unseen_dev_words == sum(1 for w in dev_words if w not in train_words)
    assert not report.fatal


def _conllu_words(path):
    return [line.split("\t")[1] for line in path.read_text(encoding="utf8").splitlines()
            if line and not line.startswith("#") and line.split("\t")[0].isdigit()]


def test_ner_and_textcat_label_counts_equal_the_files():
    report = analyze_data(starter_config(["ner"], NER_TRAIN, NER_DEV))
    [ner] = report.components
    for name, path in (("train", NER_TRAIN), ("dev", NER_DEV)):
        records = jsonl_records(path)
        expected = Counter(label for r in records for _, _, label in r["entities"])
        n_dropped = len(report.corpora[name].dropped)
        assert sum(ner.labels[name].values()) + n_dropped == sum(expected.values())
        if not n_dropped:
            assert ner.labels[name] == expected
        assert report.corpora[name].n_docs == len(records)
    report = analyze_data(starter_config(["textcat"], TEXTCAT_TRAIN, TEXTCAT_DEV))
    [textcat] = report.components
    for name, path in (("train", TEXTCAT_TRAIN), ("dev", TEXTCAT_DEV)):
        records = jsonl_records(path)
        assert +textcat.labels[name] == Counter(r["label"] for r in records)
        assert report.corpora[name].n_docs == len(records)
        assert textcat.missing_docs[name] == 0


def write(path, text):
    path.write_text(text, encoding="utf8")
    return path


def test_dev_label_missing_from_train_and_missing_annotation(tmp_path):
    train = write(tmp_path / "train.iob", "Ann NNP B-PER\nsings VBZ O\n\nBo NNP B-PER\nruns VBZ O\n")
    dev = write(tmp_path / "dev.iob", "Rome NNP B-LOC\nfalls VBZ O\n\nAnn NNP B-PER\nwaits VBZ O\n")
    report = analyze_data(starter_config(["tagger", "ner"], train, dev))
    tagger, ner = report.components
    assert ner.labels["train"] == {"PER": 2} and ner.labels["dev"] == {"LOC": 1, "PER": 1}
    assert tagger.labels["train"] == {"NNP": 2, "VBZ": 2}  # the POS column (issue 19 item 6)
    assert "'ner': 1 label in dev but not in train: LOC" in findings(report, WARN)
    assert not report.fatal
    # a two-column file has no tags: the tagger would learn nothing, which is fatal
    two = write(tmp_path / "two.tsv", "Ann\tB-PER\nsings\tO\n")
    report = analyze_data(starter_config(["tagger", "ner"], two, two))
    assert report.fatal
    assert "'tagger' (tagger): no tags in the training data, so it has nothing to learn" in findings(report, FAIL)


def test_ner_without_entities_is_fatal_alone_and_a_warning_beside_a_tagger():
    # as training does: EWT has tags but no entities
    report = analyze_data(starter_config(["tagger", "ner"], EWT_TRAIN, EWT_DEV))
    assert not report.fatal
    assert any("'ner' (ner): no entity annotation in the training data: it learns no labels" in line
               for line in findings(report, WARN))
    alone = analyze_data(starter_config(["ner"], EWT_TRAIN, EWT_DEV))
    assert alone.fatal
    assert "'ner' (ner): no entity annotation in the training data, so it has nothing to learn" in findings(alone,
                                                                                                            FAIL)


def test_empty_train_corpus_is_one_line_and_exit_1(tmp_path):
    empty = write(tmp_path / "empty.jsonl", "")
    config = tmp_path / "c.cfg"
    config.write_text(config_to_str(starter_config(["ner"], empty, NER_DEV)), encoding="utf8")
    with pytest.raises(DataError, match="no documents"):
        analyze_data(starter_config(["ner"], empty, NER_DEV))
    code, output = cli("debug-data", config)
    assert code == 1
    assert output == f"✘ {empty}: the training corpus has no documents"


def test_misaligned_and_overlapping_entities_are_reported(tmp_path):
    train = write(tmp_path / "train.jsonl",
                  '{"text": "Ann Lee sings in Rome", "entities": [[0, 7, "PER"], [17, 21, "LOC"]]}\n'
                  '{"text": "Bo sings in Paris", "entities": [[0, 1, "PER"], [12, 17, "LOC"]]}\n')
    dev = write(tmp_path / "dev.jsonl",
                '{"text": "Ann Lee sings", "entities": [[0, 3, "PER"]]}\n'
                '{"text": "Ann Lee sings", "entities": [[0, 7, "PER"], [4, 7, "PER"]]}\n')
    report = analyze_data(starter_config(["ner"], train, dev))
    assert report.corpora["train"].dropped == [f"{train}:2: entity [0, 1, 'PER'] 'B' does not match token "
                                               "boundaries; dropped"]
    assert "train: 1 entity dropped by the reader: their offsets do not match token boundaries" in \
        findings(report, WARN)
    [overlap] = [text for text in findings(report, FAIL) if "overlap" in text]
    assert overlap.startswith(f"dev corpus could not be read to the end: {dev}:2: ")
    assert report.fatal
    code, output = cli("debug-data", write(tmp_path / "c.cfg", config_to_str(starter_config(["ner"], train, dev))),
                       "--verbose")
    assert code == 1
    assert f"- {train}:2: entity [0, 1, 'PER'] 'B' does not match token boundaries; dropped" in output


def test_spacy_spelling_gives_the_same_output_and_overrides_apply(tmp_path):
    config = write(tmp_path / "c.cfg", config_to_str(starter_config(["textcat"], NER_TRAIN, NER_DEV)))
    args = [config, "--paths.train", TEXTCAT_TRAIN, "--paths.dev", TEXTCAT_DEV]
    code, output = cli("debug-data", *args)
    assert code == 0, output
    assert (code, output) == cli("debug", "data", *args)
    records = jsonl_records(TEXTCAT_TRAIN)
    n_words = analyze_data(starter_config(["textcat"], TEXTCAT_TRAIN, TEXTCAT_DEV)).corpora["train"].n_words
    assert f"✔ train: {len(records):,} docs, {n_words:,} words" in output
    assert "0 errors" in output


def test_debug_config_warns_about_paths_that_do_not_exist(tmp_path):
    config = write(tmp_path / "c.cfg", config_to_str(starter_config(["tagger"], EWT_TRAIN, EWT_DEV)))
    missing = tmp_path / "nowhere" / "dev.spacy"
    code, output = cli("debug-config", config, "--paths.dev", missing, "--initialize.vectors", tmp_path / "vec")
    assert code == 0  # a warning, not a failure
    assert f"⚠ paths.dev: {missing} does not exist" in output
    assert f"⚠ initialize.vectors: {tmp_path / 'vec'} does not exist" in output
    assert "⚠ paths.train" not in output and "⚠ corpora.dev.path" not in output  # exists; named once


def test_vectors_coverage_is_the_share_of_train_words_in_the_table(tmp_path):
    from conftest import SAMPLE

    from transfer_cli.training.init_vectors import init_vectors

    glove = SAMPLE / "vectors" / "glove_small.txt"
    init_vectors("en", glove, tmp_path / "vec")
    keys = {line.split(" ", 1)[0] for line in glove.read_text(encoding="utf8").splitlines()}
    report = analyze_data(starter_config(["tagger"], EWT_TRAIN, EWT_DEV,
                                         overrides={"initialize.vectors": str(tmp_path / "vec")}))
    words = _conllu_words(EWT_TRAIN)
    assert report.vectors["n_words"] == len(words)
    assert report.vectors["n_with_vector"] == sum(w in keys for w in words)
    assert report.vectors["n_rows"] == len(keys)
    assert any(f.startswith(f"vectors {tmp_path / 'vec'}: {len(keys):,} rows; ")
               for f in findings(report, "good") + findings(report, WARN))

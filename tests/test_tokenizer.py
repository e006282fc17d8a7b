"""The rule-based tokenizer (transfer_cli.lang): spaCy-compatible boundaries,
lossless text, special cases, explain(), serialization and language lookup."""
import json
import random
import re
from pathlib import Path

import pytest

from transfer_cli.errors import DataError, PathError, UserError
from transfer_cli.lang import LANGUAGES, Tokenizer, create_tokenizer, get_lang_class
from transfer_cli.lang.en import English, create_english_tokenizer, english_vocab
from transfer_cli.lang.en.lex_attrs import like_num
from transfer_cli.lang.language import MultiLanguage
from transfer_cli.tokens import Doc, Vocab, attrs
from transfer_cli.tokens.columns import COL

FIXTURE = Path(__file__).parent / "fixtures" / "spacy_en_tokens.json"


@pytest.fixture(scope="module")
def en():
    return create_english_tokenizer()


def words(tokenizer, text):
    return [t.text for t in tokenizer(text)]


def spans(doc):
    return {(t.idx, t.idx + len(t.text)) for t in doc}


@pytest.mark.parametrize("text,expected", [
    ("Hello, world!", ["Hello", ",", "world", "!"]),
    ("I don't know.", ["I", "do", "n't", "know", "."]),
    ("We can't, won’t, shouldn't've", ["We", "ca", "n't", ",", "wo", "n’t", ",", "should", "n't", "'ve"]),
    ("gonna cannot Let's y'all", ["gon", "na", "can", "not", "Let", "'s", "y'", "all"]),
    ("John's dog's bone", ["John", "'s", "dog", "'s", "bone"]),
    ("its ill well shed", ["its", "ill", "well", "shed"]),  # words, not contractions
    ("(e.g. Dr. Smith, U.S.A.)", ["(", "e.g.", "Dr.", "Smith", ",", "U.S.A.", ")"]),
    ("Visit https://example.com/a?b=1. Or www.test.org!", ["Visit", "https://example.com/a?b=1", ".", "Or",
                                                          "www.test.org", "!"]),
    ("5km 10am 3p.m. $100 US$5 50%", ["5", "km", "10", "am", "3", "p.m.", "$", "100", "US$", "5", "50", "%"]),
    ("well-known 2+2 a,b and/or end.Start", ["well", "-", "known", "2", "+", "2", "a", ",", "b", "and/or",
                                            "end", ".", "Start"]),
    ('He said "hi"... and left…', ["He", "said", '"', "hi", '"', "...", "and", "left", "…"]),
    ("Hi:) :-)) <3 o.O ^_^", ["Hi", ":)", ":-))", "<3", "o.O", "^_^"]),
    ("emoji 😀🎉!", ["emoji", "😀", "🎉", "!"]),
    ("a  b", ["a", " ", "b"]),
    ("tab\there\n\nnew", ["tab", "\t", "here", "\n\n", "new"]),
    ("  lead and trail  ", ["  ", "lead", "and", "trail", " "]),
    ("30°C. ok", ["30", "°", "C", ".", "ok"]),
])
def test_tokens(en, text, expected):
    doc = en(text)
    assert [t.text for t in doc] == expected
    assert doc.text == text


def test_trailing_whitespace(en):
    doc = en("a b  c\n")
    assert [(t.text, t.whitespace_) for t in doc] == [("a", " "), ("b", " "), (" ", ""), ("c", ""), ("\n", "")]


def test_special_case_norms(en):
    doc = en("I can't, ya'll… it’s")
    norms = {t.text: t.norm_ for t in doc}
    assert norms["ca"] == "can" and norms["n't"] == "not" and norms["I"] == "i"
    assert norms["’s"] == "'s"  # from the English norm exceptions of the vocab


def _random_texts(n, seed):
    rng = random.Random(seed)
    pieces = ["a", "Z", "I", "don", "'t", "n't", "'s", "’", "“", "”", '"', "'", ".", "..", "…", ",", ":", ";", "!",
              "?", "(", ")", "[", "]", "-", "--", "—", "/", "$", "%", "+", "°C", "²", "0", "12", "3.5", "1,000",
              "km", "am", "http://", "www.", ".com", "/p?q=1", "e.g.", "Dr.", "U.S.", ":)", ":-(", "<3", "o.O",
              "é", "ß", "Ω", "ж", "中", "ا", "ह", "😀", "👍🏽", "❤", "→", "\u200b", "\u200d", "\ufe0f", "\u0301",
              "\u00a0", "\u2009", "\u3000", "\u2028", " ", " ", " ", "  ", "\n", "\t", "\r\n", " \n ", "\x0b"]
    texts = []
    for _ in range(n):
        if rng.random() < 0.8:
            texts.append("".join(rng.choice(pieces) for _ in range(rng.randint(1, 14))))
        else:  # arbitrary code points (no surrogates: they cannot be encoded as UTF-8)
            cps = [rng.choice([rng.randint(0x20, 0x7E), rng.randint(0xA0, 0x2FFF), rng.randint(0xE000, 0xFFFF),
                               rng.randint(0x1F300, 0x1FAFF), rng.choice([9, 10, 13, 32, 0x85, 0x200B])])
                   for _ in range(rng.randint(1, 10))]
            texts.append("".join(map(chr, cps)))
    return texts


def test_text_is_preserved_on_random_strings(en):
    for text in _random_texts(3000, seed=0):
        doc = en(text)
        assert doc.text == text, repr(text)
        for token in doc:
            # a token is either a run of whitespace or has none in it
            assert token.text and (token.text.isspace() or not any(c.isspace() for c in token.text)), repr(text)
            if token.whitespace_:
                assert token.whitespace_ == " "
        # the cache gives the same answer as a first tokenization
        assert [t.text for t in en(text)] == [t.text for t in doc]


def test_cache_and_letter_shortcut_do_not_change_results(en):
    """A tokenizer with the same rules wrapped in plain functions takes no shortcut."""
    wrapped = Tokenizer(
        Vocab(), rules=en.rules,
        prefix_search=lambda s: en.prefix_search(s), suffix_search=lambda s: en.suffix_search(s),
        infix_finditer=lambda s: en.infix_finditer(s), url_match=lambda s: en.url_match(s),
    )
    letters = "abcXYZéßΩжЖ中文ह"
    rng = random.Random(1)
    texts = _random_texts(500, seed=2) + ["".join(rng.choice(letters) for _ in range(8)) for _ in range(200)]
    for text in texts:
        assert words(wrapped, text) == words(en, text), repr(text)


def _fixture_rows():
    if not FIXTURE.exists():
        pytest.skip("tests/fixtures/spacy_en_tokens.json is not there")
    return json.loads(FIXTURE.read_text(encoding="utf8"))["texts"]


def test_boundary_agreement_with_spacy_fixture(en):
    rows = _fixture_rows()
    by_source = {}
    for row in rows:
        theirs = {(i, i + len(w)) for i, w in zip(row["idx"], row["words"])}
        ours = spans(en(row["text"]))
        matched, total = by_source.get(row["source"], (0, 0))
        by_source[row["source"]] = (matched + len(theirs & ours), total + len(theirs))
    for source, (matched, total) in by_source.items():
        assert matched / total >= 0.99, f"{source}: {matched}/{total} token boundaries agree with spaCy"


def test_whitespace_agreement_with_spacy_fixture(en):
    rows = _fixture_rows()
    same = sum(1 for row in rows if [t.whitespace_ == " " for t in en(row["text"])] == row["spaces"]
               and words(en, row["text"]) == row["words"])
    assert same / len(rows) >= 0.99


def test_explain_matches_call(en):
    text = "(Don't) go... http://x.org/a. Hi:)  ok"
    assert en.explain(text) == [
        ("PREFIX", "("), ("SPECIAL-1", "Do"), ("SPECIAL-2", "n't"), ("SUFFIX", ")"), ("TOKEN", "go"),
        ("SUFFIX", "..."), ("URL_MATCH", "http://x.org/a"), ("SUFFIX", "."), ("TOKEN", "Hi"), ("SPECIAL-1", ":)"),
        ("TOKEN", "ok"),
    ]
    for text in _random_texts(300, seed=3):
        assert [w for _, w in en.explain(text)] == [w for w in words(en, text) if not w.isspace()]
    assert ("INFIX", "-") in en.explain("well-known")


def test_add_special_case():
    tokenizer = create_tokenizer("en")
    assert words(tokenizer, "lemme go") == ["lemme", "go"]
    tokenizer.add_special_case("lemme", [{"ORTH": "lem", "NORM": "let"}, {"ORTH": "me"}])
    doc = tokenizer("(lemme) go")
    assert [t.text for t in doc] == ["(", "lem", "me", ")", "go"]
    assert doc[1].norm_ == "let"
    # a special case the punctuation rules would cut up is merged back inside a chunk
    assert words(tokenizer, "wow...!") == ["wow", "...", "!"]
    tokenizer.add_special_case("...!", [{"ORTH": "...!"}])
    assert words(tokenizer, "wow...!") == ["wow", "...!"]
    # one with a space in it is matched across chunks
    tokenizer.add_special_case("New York", [{"ORTH": "New York"}])
    doc = tokenizer("I love New York.")
    assert [t.text for t in doc] == ["I", "love", "New York", "."]
    assert doc.text == "I love New York."
    assert words(tokenizer, "New  York") == ["New", " ", "York"]


@pytest.mark.parametrize("string,tokens,message", [
    ("dont", [{"ORTH": "do"}, {"ORTH": "n't"}], "do not add up"),
    ("dont", [{"ORTH": "do"}, {"ORTH": "nt", "TAG": "RB"}], "only ORTH and NORM"),
    ("x", [{"NORM": "x"}], "non-empty ORTH"),
])
def test_bad_special_case(string, tokens, message):
    tokenizer = Tokenizer(Vocab())
    with pytest.raises(UserError, match=message):
        tokenizer.add_special_case(string, tokens)


def test_changing_a_rule_clears_the_cache():
    tokenizer = create_tokenizer("en")
    assert words(tokenizer, "(ab)") == ["(", "ab", ")"]
    tokenizer.prefix_search = None
    assert words(tokenizer, "(ab)") == ["(ab", ")"]
    tokenizer.suffix_search = re.compile(r"b\)$")
    assert words(tokenizer, "(ab)") == ["(a", "b)"]


def test_serialization_round_trip(tmp_path):
    original = create_tokenizer("en")
    original.add_special_case("lemme", [{"ORTH": "lem", "NORM": "let"}, {"ORTH": "me"}])
    data = original.to_bytes()
    settings = json.loads(data)  # plain JSON: patterns and special cases, nothing executable
    assert settings["exceptions"]["lemme"] == [{"ORTH": "lem", "NORM": "let"}, {"ORTH": "me"}]
    assert set(settings) >= {"prefix_search", "suffix_search", "infix_finditer", "url_match", "token_match"}
    loaded = Tokenizer(Vocab()).from_bytes(data)
    assert loaded.rules == original.rules
    path = tmp_path / "tokenizer"
    original.to_disk(path)
    from_disk = Tokenizer(Vocab()).from_disk(path)
    texts = _random_texts(300, seed=4) + ["lemme see (lemme) e.g. Hi:) https://a.io/x."]
    for text in texts:
        expected = words(original, text)
        assert words(loaded, text) == expected and words(from_disk, text) == expected
    assert from_disk("lemme")[0].norm_ == "let"


def test_serialization_errors(tmp_path):
    custom = Tokenizer(Vocab(), prefix_search=lambda s: None)
    with pytest.raises(UserError, match="custom function"):
        custom.to_bytes()
    with pytest.raises(DataError, match="not valid JSON"):
        Tokenizer(Vocab()).from_bytes(b"{not json")
    with pytest.raises(DataError, match="not a valid regex"):
        Tokenizer(Vocab()).from_bytes(b'{"prefix_search": "(unclosed"}')
    bad = tmp_path / "tokenizer"
    bad.write_bytes(b'{"suffix_search": 5}')
    with pytest.raises(DataError, match=str(bad)):
        Tokenizer(Vocab()).from_disk(bad)
    with pytest.raises(PathError, match="cannot read"):
        Tokenizer(Vocab()).from_disk(tmp_path / "missing")


def test_language_lookup():
    assert get_lang_class("en") is English
    assert get_lang_class("xx") is MultiLanguage
    assert set(LANGUAGES) >= {"en", "xx"}
    german = get_lang_class("de")
    assert issubclass(german, MultiLanguage) and german.lang == "de"
    # generic rules: punctuation, URLs and emoticons, but no English contractions
    generic = create_tokenizer("xx")
    assert words(generic, "Don't (stop) :) now.") == ["Don't", "(", "stop", ")", ":)", "now", "."]
    for code in ("EN", "english!", "", "e"):
        with pytest.raises(UserError, match="not a language code"):
            get_lang_class(code)


def test_pipe(en):
    texts = ["One.", "Two words", ""]
    assert [[t.text for t in doc] for doc in en.pipe(texts, batch_size=2)] == [["One", "."], ["Two", "words"], []]


def test_english_vocab():
    vocab = english_vocab()
    assert vocab.lang == "en"
    doc = create_english_tokenizer(vocab)("They’re “fine” and the cats aren't")
    by_text = {t.text: t for t in doc}
    assert by_text["’re"].norm_ == "are" and by_text["“"].norm_ == '"' and by_text["n't"].norm_ == "not"
    assert by_text["the"].is_stop and by_text["They"].is_stop and not by_text["cats"].is_stop


@pytest.mark.parametrize("text,expected", [("10", True), ("1,000.5", True), ("3/4", True), ("eleven", True),
                                           ("twentieth", True), ("21st", True), ("first", True), ("dog", False),
                                           ("1st-ish", False)])
def test_like_num(text, expected):
    assert like_num(text) is expected


def test_registered_tokenizer_factory():
    import transfer_cli
    from transfer_cli.config.registry import registered_functions

    nlp = transfer_cli.blank("en")
    make_tokenizer = registered_functions("tokenizers")["spacy.Tokenizer.v1"]()
    tokenizer = make_tokenizer(nlp)
    assert isinstance(tokenizer, Tokenizer) and tokenizer.vocab is nlp.vocab
    assert words(tokenizer, "isn't") == ["is", "n't"]
    assert [t.text for t in nlp.make_doc("isn't")] == ["is", "n't"]


# -- the cached fast path: its Docs are the ones Doc(vocab, words, spaces) makes ------------------
FAST_PATH_TEXTS = ["", " ", "Hello, world!", "I don't know :) ", " a\n\nb\tc  d ", "gonna go (U.S.A.) — 3.5%",
                   "x", "Hi:):)", "naïve café\u00a0ünïcode 中文", "e-mail me at a@b.co or www.example.com!"]


@pytest.mark.parametrize("text", FAST_PATH_TEXTS)
def test_tokenizer_docs_match_docs_built_from_words(text):
    tokenizer = create_english_tokenizer()
    for _ in range(2):  # the first call fills the chunk cache, the second reads it
        doc = tokenizer(text)
        words_, spaces, norms, _ = tokenizer._split_text(text)
        expected = Doc(tokenizer.vocab, words_, spaces)
        for i, norm in norms.items():
            expected.cols[i, COL[attrs.NORM]] = tokenizer.vocab.strings.add(norm)
        assert doc.text == text
        assert (doc.words, doc.spaces) == (expected.words, expected.spaces)
        assert all(type(s) is bool for s in doc.spaces)
        assert doc.cols.dtype == expected.cols.dtype and (doc.cols == expected.cols).all()
        assert (doc.tensor.shape, doc.cats, doc.user_data, doc.spans) == ((0, 0), {}, {}, {})


def test_new_vocab_empties_the_cache():
    # the cache keeps each chunk's lexeme row numbers, which belong to the Vocab that made them
    tokenizer = create_english_tokenizer()
    tokenizer("zebra crossing")
    other = english_vocab()
    other.lexeme_row("unrelated")  # row numbers differ between the two vocabularies
    tokenizer.vocab = other
    doc = tokenizer("zebra crossing")
    assert doc.vocab is other
    assert [t.lower_ for t in doc] == ["zebra", "crossing"]
    assert (doc.cols[:, :7] == other.lexeme_rows(["zebra", "crossing"])).all()


def test_lexeme_norm_change_reaches_cached_chunks():
    tokenizer = create_english_tokenizer()
    assert [t.norm_ for t in tokenizer("colour me")] == ["colour", "me"]
    tokenizer.vocab.set_lexeme_norm("colour", "color")
    assert [t.norm_ for t in tokenizer("colour me")] == ["color", "me"]

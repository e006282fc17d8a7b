"""The tokenizer's chunk cache and its token rows (tokens/token_rows.py): a Doc made from a warm
cache is the Doc a cold tokenizer makes, and every change that could make a cached row wrong
(rules, special cases, the Vocab and its lexemes) empties the cache first."""
import random

import numpy
import pytest

from transfer_cli.lang import Tokenizer
from transfer_cli.lang.en import create_english_tokenizer, english_vocab
from transfer_cli.tokens import Doc, attrs
from transfer_cli.tokens.columns import COL

TEXTS = [
    "", " ", "   ", "\n", "x", "Hello, world!", "I don't know :) ", "gonna go (U.S.A.) — 3.5%", "Hi:):)",
    "naïve café\u00a0ünïcode 中文 Ελληνικά", "e-mail me at a@b.co or www.example.com!",
    "Visit https://example.com/a?b=1. Or http://x.co/(y)", "emoji 😀🎉! 👍🏽 ❤️ family 👨‍👩‍👧",
    " a\n\nb\tc  d ", "  lead and trail  ", "tabs\t\tand\r\nnewlines\u2028here\u3000wide",
    "zero\u200bwidth\u200djoiner", "He said \"hi\"... and left…", "can't won't y'all ain't I'm",
    "5km 10am 3p.m. $100 US$5 50% 30°C.", "well-known 2+2 a,b and/or end.Start", "don't don't don't",
    "Don't DON'T dont", "\u0301combining e\u0301", "a" * 70 + "!!!", "((((x))))", "'s 's 'S",
]

TOKEN_ATTRS = ("text", "idx", "whitespace_", "orth", "norm", "norm_", "lower_", "shape_", "prefix_",
               "suffix_", "is_alpha", "is_ascii", "is_digit", "is_lower", "is_upper", "is_title", "is_punct",
               "is_space", "is_stop", "is_bracket", "is_quote", "is_currency", "like_num", "like_url",
               "like_email", "has_vector")


def token_attrs(doc: Doc):
    return [tuple(getattr(token, name) for name in TOKEN_ATTRS) for token in doc]


def assert_same_doc(doc: Doc, expected: Doc) -> None:
    assert doc.text == expected.text
    assert (doc.words, doc.spaces) == (expected.words, expected.spaces)
    assert all(type(s) is bool for s in doc.spaces)
    assert doc.cols.dtype == expected.cols.dtype and doc.cols.shape == expected.cols.shape
    assert (doc.cols == expected.cols).all()
    assert token_attrs(doc) == token_attrs(expected)
    for token, other in zip(doc, expected):
        assert (token.vector == other.vector).all()


def test_warm_docs_equal_cold_docs():
    warm = create_english_tokenizer()
    warm.vocab.set_vector("world", numpy.ones(4, dtype="float32"))
    order = TEXTS * 2 + random.Random(0).sample(TEXTS, len(TEXTS))  # cold, warm, warm in another order
    for text in order:
        cold = create_english_tokenizer()  # a fresh tokenizer and Vocab: nothing cached anywhere
        cold.vocab.set_vector("world", numpy.ones(4, dtype="float32"))
        doc = warm(text)
        assert doc.text == text
        assert_same_doc(doc, cold(text))
    assert warm("world")[0].has_vector


@pytest.mark.parametrize("text", TEXTS)
def test_warm_docs_equal_docs_built_from_words(text):
    # Doc(vocab, words, spaces) reads the Vocab's lexeme rows directly, not the token rows
    tokenizer = create_english_tokenizer()
    for _ in range(3):
        doc = tokenizer(text)
        words, spaces, norms, _ = tokenizer._split_text(text)
        expected = Doc(tokenizer.vocab, words, spaces)
        for i, norm in norms.items():
            expected.cols[i, COL[attrs.NORM]] = tokenizer.vocab.strings.add(norm)
        assert_same_doc(doc, expected)


def test_special_case_norms_from_the_cache():
    tokenizer = create_english_tokenizer()
    for _ in range(2):
        doc = tokenizer("I don't know, don't you")
        assert [t.text for t in doc] == ["I", "do", "n't", "know", ",", "do", "n't", "you"]
        assert [t.norm_ for t in doc] == ["i", "do", "not", "know", ",", "do", "not", "you"]
        # the same word with and without a special-case norm, in one text
        doc = tokenizer("gon gonna na")
        assert [(t.text, t.norm_) for t in doc] == [("gon", "gon"), ("gon", "going"), ("na", "to"), ("na", "na")]


def test_docs_from_the_cache_do_not_share_columns():
    tokenizer = create_english_tokenizer()
    first = tokenizer("the cat sat")
    first.cols[1, COL[attrs.NORM]] = first.vocab.strings.add("dog")
    first[1].tag_ = "NN"
    first.cols[:, COL[attrs.SPACY]] = 0
    second = tokenizer("the cat sat")
    assert [t.norm_ for t in second] == ["the", "cat", "sat"]
    assert [t.tag_ for t in second] == ["", "", ""]
    assert second.spaces == [True, True, False]
    assert second.text == "the cat sat"


def test_adding_a_special_case_empties_the_cache():
    tokenizer = create_english_tokenizer()
    assert [(t.text, t.norm_) for t in tokenizer("lemme go")] == [("lemme", "lemme"), ("go", "go")]
    tokenizer.add_special_case("lemme", [{"ORTH": "lem", "NORM": "let"}, {"ORTH": "me"}])
    for _ in range(2):
        assert [(t.text, t.norm_) for t in tokenizer("lemme go")] == [("lem", "let"), ("me", "me"), ("go", "go")]
    # a special case's norm changes: the cached tokens follow
    tokenizer.add_special_case("lemme", [{"ORTH": "lem", "NORM": "allow"}, {"ORTH": "me"}])
    assert [t.norm_ for t in tokenizer("lemme go")] == ["allow", "me", "go"]
    rules = tokenizer.rules
    del rules["lemme"]
    tokenizer.rules = rules
    assert [t.text for t in tokenizer("lemme go")] == ["lemme", "go"]


def test_changing_a_setting_empties_the_cache():
    tokenizer = create_english_tokenizer()
    assert [t.text for t in tokenizer("a-b (c)")] == ["a", "-", "b", "(", "c", ")"]
    tokenizer.infix_finditer = None
    assert [t.text for t in tokenizer("a-b (c)")] == ["a-b", "(", "c", ")"]
    tokenizer.prefix_search = None
    doc = tokenizer("a-b (c)")
    assert [t.text for t in doc] == ["a-b", "(c", ")"]
    assert [t.idx for t in doc] == [0, 4, 6]


def test_a_lexeme_change_reaches_cached_tokens_but_not_special_case_norms():
    tokenizer = create_english_tokenizer()
    assert [t.norm_ for t in tokenizer("gon gonna na")] == ["gon", "going", "to", "na"]
    tokenizer.vocab.set_lexeme_norm("gon", "GON")
    tokenizer.vocab.set_lexeme_norm("na", "NA")  # the special case's own NORMs still win
    doc = tokenizer("gon gonna na")
    assert [t.norm_ for t in doc] == ["GON", "going", "to", "NA"]
    cold = Tokenizer(tokenizer.vocab, rules=tokenizer.rules, prefix_search=tokenizer.prefix_search,
                     suffix_search=tokenizer.suffix_search, infix_finditer=tokenizer.infix_finditer,
                     url_match=tokenizer.url_match)
    assert_same_doc(doc, cold("gon gonna na"))


def test_replacing_the_vocab_empties_the_cache():
    tokenizer = create_english_tokenizer()
    tokenizer("zebra crossing don't")
    other = english_vocab()
    other.set_lexeme_norm("zebra", "horse")
    tokenizer.vocab = other
    doc = tokenizer("zebra crossing don't")
    assert doc.vocab is other
    assert [t.norm_ for t in doc] == ["horse", "crossing", "do", "not"]
    assert "zebra" in other and "crossing" in other


def test_many_distinct_tokens_grow_the_rows():
    # more distinct tokens than the first block of rows holds, in one text and over several
    tokenizer = create_english_tokenizer()
    words = [f"w{i}" for i in range(1500)]
    texts = [" ".join(words), "\n".join(words[::-1]), " ".join(words[:700]) + "!"]
    for text in texts * 2:
        doc = tokenizer(text)
        expected = Doc(tokenizer.vocab, doc.words, doc.spaces)
        assert_same_doc(doc, expected)
        assert doc.text == text


def test_a_full_cache_starts_afresh():
    tokenizer = create_english_tokenizer()
    tokenizer.max_cache_size = 10
    rng = random.Random(3)
    texts = [" ".join(f"word{rng.randrange(100)}" for _ in range(3)) + " don't." for _ in range(200)]
    for text in texts + texts:
        doc = tokenizer(text)
        assert len(tokenizer._cache) <= 10
        # the rows are those of the cached chunks and of this text: they do not pile up
        assert len(tokenizer._token_rows) <= 2 * (10 * 3 + len(doc))
        words, spaces, norms, _ = tokenizer._split_text(text)
        expected = Doc(tokenizer.vocab, words, spaces)
        for i, norm in norms.items():
            expected.cols[i, COL[attrs.NORM]] = tokenizer.vocab.strings.add(norm)
        assert_same_doc(doc, expected)


def test_no_cache_at_all():
    tokenizer = create_english_tokenizer()
    tokenizer.max_cache_size = 0
    for _ in range(2):
        doc = tokenizer("Hello, world! don't")
        assert [t.text for t in doc] == ["Hello", ",", "world", "!", "do", "n't"]
        assert [t.norm_ for t in doc][-1] == "not"
    assert len(tokenizer._cache) == 0


def test_explain_and_split_text_agree_with_warm_docs():
    tokenizer = create_english_tokenizer()
    for text in TEXTS:
        tokenizer(text)
    for text in TEXTS:
        doc = tokenizer(text)
        assert [word for _, word in tokenizer.explain(text)] == [t.text for t in doc if not t.is_space]
        words, spaces, norms, _ = tokenizer._split_text(text)
        assert (words, spaces) == (doc.words, doc.spaces)
        assert {i: doc[i].norm_ for i in norms} == norms

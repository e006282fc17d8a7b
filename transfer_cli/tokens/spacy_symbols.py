"""spaCy's symbol table, as facts: the strings spaCy's StringStore maps to small fixed
IDs instead of their hashes (``"NOUN"`` → 92, ``"PERSON"`` → 380, ``"punct"`` → 445).

spaCy writes these IDs, not hashes, into `.spacy` token arrays for every string
attribute (POS always, and any word, tag, dep, entity label or morph that happens to
be a symbol name). Our Doc stores the plain 64-bit hash of every string, so the
DocBin translates between the two using this table. The order below is spaCy 3.x's
``spacy.symbols.NAMES`` (ID = list index); benchmarks/check_docbin_interop.py checks
it against an installed spaCy."""
from typing import Dict, List, Tuple

_FLAGS = ["IS_ALPHA", "IS_ASCII", "IS_DIGIT", "IS_LOWER", "IS_PUNCT", "IS_SPACE", "IS_TITLE", "IS_UPPER",
          "LIKE_URL", "LIKE_NUM", "LIKE_EMAIL", "IS_STOP", "IS_OOV_DEPRECATED", "IS_BRACKET", "IS_QUOTE",
          "IS_LEFT_PUNCT", "IS_RIGHT_PUNCT", "IS_CURRENCY"]
_ATTRS = ["ID", "ORTH", "LOWER", "NORM", "SHAPE", "PREFIX", "SUFFIX", "LENGTH", "CLUSTER", "LEMMA", "POS",
          "TAG", "DEP", "ENT_IOB", "ENT_TYPE", "HEAD", "SENT_START", "SPACY", "PROB", "LANG"]
# Universal POS tags, IDs 84..103 (CONJ, EOL and SPACE are spaCy's additions).
UPOS: Tuple[str, ...] = ("ADJ", "ADP", "ADV", "AUX", "CONJ", "CCONJ", "DET", "INTJ", "NOUN", "NUM", "PART",
                         "PRON", "PROPN", "PUNCT", "SCONJ", "SYM", "VERB", "X", "EOL", "SPACE")
_ENT_TYPES = ["PERSON", "NORP", "FACILITY", "ORG", "GPE", "LOC", "PRODUCT", "EVENT", "WORK_OF_ART",
              "LANGUAGE", "LAW", "DATE", "TIME", "PERCENT", "MONEY", "QUANTITY", "ORDINAL", "CARDINAL"]
_DEPS = ["acomp", "advcl", "advmod", "agent", "amod", "appos", "attr", "aux", "auxpass", "cc", "ccomp",
         "complm", "conj", "cop", "csubj", "csubjpass", "dep", "det", "dobj", "expl", "hmod", "hyph",
         "infmod", "intj", "iobj", "mark", "meta", "neg", "nmod", "nn", "npadvmod", "nsubj", "nsubjpass",
         "num", "number", "oprd", "obj", "obl", "parataxis", "partmod", "pcomp", "pobj", "poss",
         "possessive", "preconj", "prep", "prt", "punct", "quantmod", "relcl", "rcmod", "root", "xcomp", "acl"]

SYMBOL_NAMES: List[str] = (
    [""] + _FLAGS + [f"FLAG{i}" for i in range(19, 64)] + _ATTRS + list(UPOS)
    + [f"DEPRECATED{i:03d}" for i in range(1, 277)] + _ENT_TYPES + _DEPS
    + ["ENT_KB_ID", "MORPH", "ENT_ID", "IDX", "_"]
)
N_SYMBOLS = len(SYMBOL_NAMES)  # 457: every value below this in a spaCy array is a symbol ID
SYMBOL_IDS: Dict[str, int] = {name: i for i, name in enumerate(SYMBOL_NAMES)}
UPOS_IDS: Dict[str, int] = {name: SYMBOL_IDS[name] for name in UPOS}
EMPTY_MORPH_ID = SYMBOL_IDS["_"]  # spaCy's "morph set, but no features" marker

assert N_SYMBOLS == 457 and SYMBOL_IDS["NOUN"] == 92 and SYMBOL_IDS["_"] == 456

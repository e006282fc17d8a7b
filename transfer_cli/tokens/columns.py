"""The column layout of Doc.cols: which column holds which token attribute.

A leaf module (it needs only the attribute IDs), so Doc, Token, Span and the code
that reads columns directly (readers, scorers, components) import it at module level."""
from typing import Dict, Tuple

from . import attrs as A

# FLAGS is the lexeme's flag word (IS_ALPHA, LIKE_NUM, ...), one bit per flag attribute.
FLAGS = -1
COLUMNS: Tuple[int, ...] = (A.ORTH, A.LOWER, A.NORM, A.PREFIX, A.SUFFIX, A.SHAPE, FLAGS, A.SPACY, A.IDX,
                            A.TAG, A.POS, A.MORPH, A.LEMMA, A.DEP, A.HEAD, A.SENT_START, A.ENT_IOB,
                            A.ENT_TYPE, A.ENT_KB_ID, A.ENT_ID)
COL: Dict[int, int] = {attr: i for i, attr in enumerate(COLUMNS)}
N_LEX = 7  # ORTH..FLAGS come from the Vocab's lexeme rows
FIRST_ANNOTATION_COL = N_LEX + 2  # after SPACY and IDX: what annotation sets
# ENT_IOB codes, as in spaCy: 0 missing, 1 inside, 2 outside, 3 begin.
IOB_STRINGS = ("", "I", "O", "B")

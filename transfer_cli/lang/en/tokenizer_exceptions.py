"""English special cases: contractions, dropped-g forms, times, abbreviations.

The tables are generated from small lists: each contraction pattern is applied
to its host words in lower and title case, with and without the apostrophe
("don't" and "dont" both become "do" + "n't"/"nt"), and every case written
with a straight apostrophe also exists with the curly one ("don’t")."""
from typing import Dict, List, Optional, Sequence, Tuple

from ..exceptions import Exceptions, base_exceptions, merge_exceptions, whole, with_curly_apostrophes

Piece = Tuple[str, Optional[str]]  # (text, norm)


def _token(text: str, norm: Optional[str] = None) -> Dict[str, str]:
    return {"ORTH": text, "NORM": norm} if norm is not None else {"ORTH": text}


def _add_cased(exc: Exceptions, host: str, host_norm: Optional[str], tails: Sequence[Piece]) -> None:
    """host+tails, for the host in lower and title case, with and without apostrophes.
    The apostrophe-less form drops every apostrophe in the tails ("'ll've" → "llve")."""
    for form in (host, host.title()):
        for apostrophe in (True, False):
            pieces: List[Dict[str, str]] = [_token(form, host_norm)]
            for text, norm in tails:
                pieces.append(_token(text if apostrophe else text.replace("'", ""), norm))
            exc["".join(p["ORTH"] for p in pieces)] = pieces


# contraction tails and what they stand for
_M = ("'m", "am")
_LL = ("'ll", "will")
_D = ("'d", "'d")  # 'had' or 'would': the norm stays ambiguous
_D_WOULD = ("'d", "would")
_VE = ("'ve", "have")
_RE = ("'re", "are")
_S = ("'s", "'s")
_NT = ("n't", "not")

_PRONOUNS = ("i", "you", "he", "she", "it", "we", "they")
_WH_WORDS = ("who", "what", "when", "where", "why", "how", "there", "that", "this", "these", "those")
_SINGULAR_3RD = ("that", "this")
_PLURAL_3RD = ("these", "those")

# auxiliaries before n't, with the norm of the host part
_NT_HOSTS_WITH_VE = (("ca", "can"), ("could", "could"), ("do", "do"), ("does", "does"), ("did", "do"),
                     ("had", "have"), ("may", "may"), ("might", "might"), ("must", "must"),
                     ("need", "need"), ("ought", "ought"), ("sha", "shall"), ("should", "should"),
                     ("wo", "will"), ("would", "would"))
_NT_HOSTS = (("ai", None), ("are", "are"), ("is", "is"), ("was", "was"), ("were", "were"), ("have", "have"),
             ("has", "has"), ("dare", "dare"))
_MODALS_VE = ("could", "might", "must", "should", "would")

# words whose collision with a contraction is far more common as a word
_NOT_CONTRACTIONS = ("ill", "its", "hell", "shell", "shed", "were", "well", "whore")


def _contractions() -> Exceptions:
    exc: Exceptions = {}
    for form in ("i", "I"):  # I'm, Im, I'ma (I am going to)
        exc[form + "'m"] = [_token(form, "i"), _token("'m", "am")]
        exc[form + "m"] = [_token(form, "i"), _token("m")]
        for m in ("'m", "m"):
            exc[form + m + "a"] = [_token(form, "i"), _token(m, "am"), _token("a", "gonna")]
    for pron in _PRONOUNS:
        for tails in ([_LL], [_LL, _VE], [_D], [_D_WOULD, _VE]):
            _add_cased(exc, pron, pron, tails)
        if pron in ("i", "you", "we", "they"):
            _add_cased(exc, pron, pron, [_VE])
        if pron in ("you", "we", "they"):
            _add_cased(exc, pron, pron, [_RE])
        if pron in ("he", "she", "it"):
            _add_cased(exc, pron, pron, [_S])
    for word in _WH_WORDS:
        tail_sets = [[_LL], [_LL, _VE], [_D], [_D_WOULD, _VE]]
        if word not in _PLURAL_3RD:
            tail_sets.append([_S])
        if word not in _SINGULAR_3RD:
            tail_sets += [[_RE], [_VE]]
        for tails in tail_sets:
            _add_cased(exc, word, word, tails)
    for host, norm in _NT_HOSTS_WITH_VE:
        _add_cased(exc, host, norm, [_NT])
        _add_cased(exc, host, norm, [_NT, _VE])
    for host, norm in _NT_HOSTS:
        _add_cased(exc, host, norm, [_NT])
    for modal in _MODALS_VE:
        _add_cased(exc, modal, modal, [_VE])
    # the apostrophe-less 's' after a pronoun carries no norm ("hes" may be a typo of "he's" or not)
    for key, pieces in exc.items():
        if len(pieces) == 2 and pieces[1] == {"ORTH": "s", "NORM": "'s"}:
            pieces[1] = {"ORTH": "s"}
    return exc


def _informal() -> Exceptions:
    exc: Exceptions = {}
    # dropped final g, written with or without the apostrophe
    for stem, norm in (("doin", "doing"), ("goin", "going"), ("nothin", "nothing"), ("nuthin", "nothing"),
                       ("ol", "old"), ("somethin", "something"), ("lovin", "loving"), ("havin", "having")):
        for form in (stem, stem.title()):
            exc[form] = [_token(form, norm)]
            exc[form + "'"] = [_token(form + "'", norm)]
    # dropped first syllable
    for text, norm in (("em", "them"), ("ll", "will"), ("nuff", "enough")):
        exc[text] = [_token(text, norm)]
        exc["'" + text] = [_token("'" + text, norm)]
    for text in ("cause", "cos", "coz", "cuz"):
        for form in (text, text.title()):
            exc["'" + form] = [_token("'" + form, "because")]
    exc["'bout"] = [_token("'bout", "about")]
    for form in ("ma'am", "Ma'am"):
        exc[form] = [_token(form, "madam")]
    for form in ("o'clock", "O'clock"):
        exc[form] = [_token(form, "o'clock")]
    # multi-word fusions
    exc["y'all"] = [_token("y'", "you"), _token("all")]
    exc["yall"] = [_token("y", "you"), _token("all")]
    for form in ("how", "How"):
        exc[form + "'d'y"] = [_token(form, "how"), _token("'d"), _token("'y", "you")]
    for form in ("not", "Not"):
        exc[form + "'ve"] = [_token(form, "not"), _token("'ve", "have")]
        exc[form + "ve"] = [_token(form, "not"), _token("ve", "have")]
    for first, second, first_norm, second_norm in (("can", "not", "can", "not"), ("gon", "na", "going", "to"),
                                                   ("got", "ta", "got", "to"), ("let", "'s", "let", "us"),
                                                   ("c'm", "on", "come", "on")):
        for form in (first, first[0].upper() + first[1:]):
            exc[form + second] = [_token(form, first_norm), _token(second, second_norm)]
    for text in ("'S", "'s", "\u2018S", "\u2018s"):
        exc[text] = [_token(text, "'s")]
    exc["'re"] = [_token("'re", "are")]
    exc["and/or"] = [_token("and/or", "and/or")]
    exc["w/o"] = [_token("w/o", "without")]
    return exc


def _times() -> Exceptions:
    exc: Exceptions = {}
    for hour in range(1, 13):
        for period, norm in (("a.m.", "a.m."), ("am", "a.m."), ("p.m.", "p.m."), ("pm", "p.m.")):
            exc[f"{hour}{period}"] = [_token(str(hour)), _token(period, norm)]
    return exc


# abbreviations that expand to a word: months, US states, 'Mt.'
_EXPANDING_ABBREVIATIONS = {
    "Jan.": "January", "Feb.": "February", "Mar.": "March", "Apr.": "April", "Jun.": "June", "Jul.": "July",
    "Aug.": "August", "Sep.": "September", "Sept.": "September", "Oct.": "October", "Nov.": "November",
    "Dec.": "December",
    "Ak.": "Alaska", "Ala.": "Alabama", "Ariz.": "Arizona", "Ark.": "Arkansas", "Calif.": "California",
    "Colo.": "Colorado", "Conn.": "Connecticut", "Del.": "Delaware", "Fla.": "Florida", "Ga.": "Georgia",
    "Ia.": "Iowa", "Id.": "Idaho", "Ill.": "Illinois", "Ind.": "Indiana", "Kan.": "Kansas", "Kans.": "Kansas",
    "Ky.": "Kentucky", "La.": "Louisiana", "Mass.": "Massachusetts", "Mich.": "Michigan", "Minn.": "Minnesota",
    "Miss.": "Mississippi", "N.C.": "North Carolina", "N.D.": "North Dakota", "N.H.": "New Hampshire",
    "N.J.": "New Jersey", "N.M.": "New Mexico", "N.Y.": "New York", "Neb.": "Nebraska", "Nebr.": "Nebraska",
    "Nev.": "Nevada", "Okla.": "Oklahoma", "Ore.": "Oregon", "Pa.": "Pennsylvania", "S.C.": "South Carolina",
    "Tenn.": "Tennessee", "Va.": "Virginia", "Wash.": "Washington", "Wis.": "Wisconsin",
    "Mt.": "Mount",
}
# abbreviations kept whole with their period
_ABBREVIATIONS = ("'d a.m. p.m. Adm. Bros. co. Co. Corp. D.C. Dr. e.g. E.g. E.G. i.e. I.e. I.E. Gen. Gov. Inc. "
                  "Jr. Ltd. Md. Messrs. Mo. Mont. Mr. Mrs. Ms. Ph.D. Prof. Rep. Rev. Sen. St. vs. v.s.").split()


def english_exceptions() -> Exceptions:
    exc = merge_exceptions(_contractions(), _informal(), _times())
    exc.update({abbr: [_token(abbr, norm)] for abbr, norm in _EXPANDING_ABBREVIATIONS.items()})
    exc.update(whole(*_ABBREVIATIONS))
    for word in _NOT_CONTRACTIONS:
        exc.pop(word, None)
        exc.pop(word.title(), None)
    return with_curly_apostrophes(merge_exceptions(base_exceptions(), exc))


TOKENIZER_EXCEPTIONS = english_exceptions()

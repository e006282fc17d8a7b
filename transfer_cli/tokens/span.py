"""Span: a view of a contiguous slice of a Doc, with an optional label."""
from typing import Iterator, Tuple, Union

from .similarity import TokenRunVectors
from .token import Token
from .underscore import HasExtensions, Underscore

# "Doc" in annotations is the class of doc.py, named, not imported: doc.py builds on this module.


class Span(TokenRunVectors, HasExtensions):
    __slots__ = ("doc", "start", "end", "label", "kb_id")

    def __init__(self, doc: "Doc", start: int, end: int, label: Union[str, int] = 0,
                 kb_id: Union[str, int] = 0) -> None:
        if not 0 <= start <= end <= len(doc):
            raise IndexError(f"Span [{start}, {end}) out of range for a Doc of {len(doc)} tokens")
        self.doc = doc
        self.start = start
        self.end = end
        strings = doc.vocab.strings
        self.label = strings.add(label) if isinstance(label, str) else int(label)
        self.kb_id = strings.add(kb_id) if isinstance(kb_id, str) else int(kb_id)

    @property
    def label_(self) -> str:
        return self.doc.vocab.strings[self.label]

    @property
    def kb_id_(self) -> str:
        return self.doc.vocab.strings[self.kb_id]

    def __len__(self) -> int:
        return self.end - self.start

    def __reduce__(self):
        # label and KB ID as strings: a Doc unpickled elsewhere may have a Vocab without them
        strings = self.doc.vocab.strings
        label, kb_id = (strings[v] if v in strings else v for v in (self.label, self.kb_id))
        return Span, (self.doc, self.start, self.end, label, kb_id)

    def __iter__(self) -> Iterator[Token]:
        return (self.doc[i] for i in range(self.start, self.end))

    def __getitem__(self, i: Union[int, slice]):
        if isinstance(i, slice):
            start, stop, _ = i.indices(len(self))
            return Span(self.doc, self.start + start, self.start + max(start, stop))
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(f"Token index {i} out of range for a Span of {len(self)} tokens")
        return self.doc[self.start + i]

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Span) and other.doc is self.doc and other.start == self.start
                and other.end == self.end and other.label == self.label)

    def __hash__(self) -> int:
        return hash((id(self.doc), self.start, self.end, self.label))

    def __repr__(self) -> str:
        return self.text

    @property
    def text(self) -> str:
        words, spaces = self.doc._words, self.doc._spaces
        if not len(self):
            return ""
        parts = [w + " " if s else w for w, s in zip(words[self.start:self.end - 1], spaces[self.start:self.end - 1])]
        return "".join(parts) + words[self.end - 1]

    @property
    def text_with_ws(self) -> str:
        return self.text + (" " if len(self) and self.doc._spaces[self.end - 1] else "")

    @property
    def start_char(self) -> int:
        return self.doc[self.start].idx if len(self) else (self.doc[self.start].idx if self.start < len(self.doc) else len(self.doc.text))

    @property
    def end_char(self) -> int:
        if not len(self):
            return self.start_char
        last = self.doc[self.end - 1]
        return last.idx + len(last.text)

    @property
    def ents(self) -> Tuple["Span", ...]:
        return tuple(e for e in self.doc.ents if e.start >= self.start and e.end <= self.end)

    @property
    def sents(self) -> Iterator["Span"]:
        return (s for s in self.doc.sents if s.end > self.start and s.start < self.end)

    @property
    def sent(self) -> "Span":
        """The sentence that holds the span's first token (for a span crossing a sentence
        boundary, the one it starts in)."""
        if not len(self.doc):
            raise ValueError("An empty Doc has no sentences")
        return self.doc[min(self.start, len(self.doc) - 1)].sent

    # static vectors: the mean of the tokens' vectors (see similarity.py)
    def _token_run(self) -> Tuple["Doc", int, int]:
        return self.doc, self.start, self.end

    @property
    def _(self):
        return Underscore(Span._extensions, self, start=self.start_char, end=self.end_char)


Span._extensions = {}

"""Reading the raw text and gold token spans of EWT sentences (standard library only)."""
from __future__ import annotations

from pathlib import Path
from typing import List, Tuple

Span = Tuple[int, int]


def texts_and_gold_spans(path: Path) -> Tuple[List[str], List[List[Span]]]:
    """Each sentence's `# text` and the character spans of its gold tokens.

    Gold tokens are the syntactic words; the words of a multiword token ("don't" = do + n't) get
    spans inside it when their forms spell it out, otherwise the token counts as one span."""
    texts: List[str] = []
    golds: List[List[Span]] = []
    for block in path.read_text(encoding="utf8").strip("\n").split("\n\n"):
        lines = block.split("\n")
        text = next(ln[len("# text = "):] for ln in lines if ln.startswith("# text = "))
        rows = [ln.split("\t") for ln in lines if ln and not ln.startswith("#")]
        spans: List[Span] = []
        pos, i = 0, 0
        while i < len(rows):
            tid, form = rows[i][0], rows[i][1]
            if "." in tid:
                i += 1
                continue
            start = text.index(form, pos)
            end = start + len(form)
            if "-" in tid:
                first, last = (int(x) for x in tid.split("-"))
                words = [r[1] for r in rows[i + 1:] if r[0].isdigit() and first <= int(r[0]) <= last]
                if "".join(words) == form:
                    offset = start
                    for w in words:
                        spans.append((offset, offset + len(w)))
                        offset += len(w)
                else:
                    spans.append((start, end))
                i += 1 + len(words)
            else:
                spans.append((start, end))
                i += 1
            pos = end
        texts.append(text)
        golds.append(spans)
    return texts, golds

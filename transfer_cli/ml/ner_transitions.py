"""The BILUO transition system of the entity recognizer, in array form.

A state reads one token per step and takes one action for it: O (outside), or B-X, I-X,
L-X, U-X (begin, inside, last, unit) for an entity label X. The only state that matters
is whether an entity is open, where it started and its label, so a state is three
numbers and a whole batch of states is three arrays. Which actions are valid depends on
(open?, label, last token?) alone: a table with one row per such case, so masking the
invalid actions of every state in a batch is one gather. With those masks every output
is a well-formed entity sequence.

Action ids: 0 is O; label i (0-based) has B = 1 + 4i, I = 2 + 4i, L = 3 + 4i, U = 4 + 4i.
Gold actions are -1 where the annotation is missing ("-") or names a label the model
does not know: those tokens are never scored against anything.
"""
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy

O, B, I, L, U = 0, 1, 2, 3, 4
MOVE_NAMES = "OBILU"
MISSING = -1
# a large negative score for invalid actions (not -inf: keeps softmax arithmetic finite)
INVALID_PENALTY = -1e9

States = Tuple[numpy.ndarray, numpy.ndarray, numpy.ndarray]  # is_open (bool), start (int64), label (int64)


class BiluoMoves:
    """Action tables for a set of entity labels."""

    def __init__(self, labels: Sequence[str]) -> None:
        self.labels: Tuple[str, ...] = tuple(labels)
        n = len(self.labels)
        self.n_actions = 1 + 4 * n
        self.move = numpy.array([O] + [B, I, L, U] * n, dtype="int64")
        self.label = numpy.array([-1] + [i for i in range(n) for _ in range(4)], dtype="int64")
        # ENT_IOB code each action writes: O → 2, B/U → 3 (begin), I/L → 1 (inside)
        self.iob_code = numpy.array([2] + [3, 1, 1, 3] * n, dtype="uint64")
        # valid-action table: row 0 closed, 1 closed on the last token, 2 + 2l open with
        # label l, 3 + 2l the same on the last token
        valid = numpy.zeros((2 + 2 * n, self.n_actions), dtype=bool)
        valid[0, 0] = valid[1, 0] = True
        for i in range(n):
            valid[0, 1 + 4 * i] = valid[0, 4 + 4 * i] = True  # B, U
            valid[1, 4 + 4 * i] = True  # only U closes on the last token
            valid[2 + 2 * i, 2 + 4 * i] = valid[2 + 2 * i, 3 + 4 * i] = True  # I, L of the open label
            valid[3 + 2 * i, 3 + 4 * i] = True  # L only on the last token
        self.valid_table = valid
        self.penalty_table = numpy.where(valid, 0.0, INVALID_PENALTY).astype("float32")
        self._index: Dict[str, int] = {"O": 0}
        for i, label in enumerate(self.labels):
            for j, prefix in enumerate("BILU"):
                self._index[f"{prefix}-{label}"] = 1 + 4 * i + j

    @property
    def move_names(self) -> List[str]:
        return ["O"] + [f"{p}-{label}" for label in self.labels for p in "BILU"]

    # -- gold ---------------------------------------------------------------------------------
    def tags_to_actions(self, tags: Sequence[Optional[str]]) -> numpy.ndarray:
        """BILUO strings → action ids; missing ('-', None) and unknown labels → -1."""
        index = self._index
        return numpy.fromiter((index.get(t, MISSING) if t else MISSING for t in tags), dtype="int64",
                              count=len(tags))

    def column_actions(self, iob: numpy.ndarray, types: numpy.ndarray, starts: numpy.ndarray,
                       label_hashes: numpy.ndarray) -> numpy.ndarray:
        """Gold actions read straight from Doc columns (ENT_IOB codes, ENT_TYPE hashes) of
        docs laid end to end (`starts`: each doc's first row), without strings.
        `label_hashes[i]` is the hash of label i."""
        n = len(iob)
        if not n:
            return numpy.zeros((0,), dtype="int64")
        iob = iob.astype("int64")
        first = numpy.zeros(n, dtype=bool)
        first[starts] = True
        inside = (iob == 1) | (iob == 3)
        prev_same = numpy.zeros(n, dtype=bool)
        prev_same[1:] = inside[:-1] & (types[:-1] == types[1:])
        prev_same &= ~first
        begins = inside & ((iob == 3) | ~prev_same)
        next_cont = numpy.zeros(n, dtype=bool)
        next_cont[:-1] = (iob[1:] == 1) & (types[1:] == types[:-1]) & ~first[1:]
        move = numpy.select([begins & next_cont, begins, next_cont], [B, U, I], default=L)
        order = numpy.argsort(label_hashes)
        sorted_hashes = label_hashes[order]
        pos = numpy.minimum(numpy.searchsorted(sorted_hashes, types), max(len(sorted_hashes) - 1, 0))
        if len(sorted_hashes):
            labels = numpy.where(sorted_hashes[pos] == types, order[pos], -1)
        else:
            labels = numpy.full(n, -1, dtype="int64")
        actions = numpy.where(inside & (labels >= 0), 1 + 4 * labels + (move - 1), MISSING)
        actions[iob == 2] = 0
        return actions

    def sanitize(self, gold: numpy.ndarray, starts: numpy.ndarray) -> numpy.ndarray:
        """Gold actions that cannot follow from the ones before (an I or L not preceded by a
        B/I chain of its label, e.g. after missing tokens) become missing."""
        gold = gold.copy()
        n = len(gold)
        if not n:
            return gold
        move = numpy.where(gold >= 0, self.move[numpy.maximum(gold, 0)], -1)
        label = numpy.where(gold >= 0, self.label[numpy.maximum(gold, 0)], -2)
        first = numpy.zeros(n, dtype=bool)
        first[starts] = True
        cont = (move == I) | (move == L)
        link = numpy.zeros(n, dtype=bool)  # t continues t-1's entity
        link[1:] = cont[1:] & ((move[:-1] == B) | (move[:-1] == I)) & (label[:-1] == label[1:])
        link &= ~first
        broken = numpy.cumsum(cont & ~link)
        idx = numpy.arange(n)
        last_non_i = numpy.maximum.accumulate(numpy.where(move != I, idx, 0))
        # for an I: the chain head is the last non-I token before it; for an L: the same before t
        head = numpy.where(move == L, numpy.concatenate([[0], last_non_i[:-1]]), last_non_i)
        ok = link & (move[head] == B) & (broken == broken[head]) & (head >= _doc_start_of(starts, n))
        gold[cont & ~ok] = MISSING
        return gold

    # -- states ---------------------------------------------------------------------------------
    def teacher_states(self, gold: numpy.ndarray, starts: numpy.ndarray) -> States:
        """The state before each token when every earlier action was the gold one (missing
        actions leave the state closed). `gold` must be sanitized."""
        n = len(gold)
        move = numpy.where(gold >= 0, self.move[numpy.maximum(gold, 0)], -1)
        label = numpy.where(gold >= 0, self.label[numpy.maximum(gold, 0)], -1)
        is_open = numpy.zeros(n, dtype=bool)
        is_open[1:] = (move[:-1] == B) | (move[:-1] == I)
        is_open[starts] = False
        idx = numpy.arange(n)
        last_b = numpy.maximum.accumulate(numpy.where(move == B, idx, 0))
        start = numpy.zeros(n, dtype="int64")
        start[1:] = last_b[:-1]
        prev_label = numpy.full(n, -1, dtype="int64")
        prev_label[1:] = label[:-1]
        start = numpy.where(is_open, start, idx)
        return is_open, start, numpy.where(is_open, prev_label, -1)

    def state_rows(self, is_open: numpy.ndarray, label: numpy.ndarray, is_last: numpy.ndarray) -> numpy.ndarray:
        return numpy.where(is_open, 2 + 2 * label + is_last, is_last.astype("int64"))

    def costs(self, states: States, gold: numpy.ndarray, teacher: States,
              next_gold: numpy.ndarray) -> numpy.ndarray:
        """Dynamic-oracle costs (N, n_actions) of every action in each (possibly wrong)
        state: how many gold entities it makes unreachable plus how many predicted
        entities it makes certainly wrong. Tokens with missing gold cost nothing."""
        is_open, start, label = states
        n, n_act = len(gold), self.n_actions
        known = gold >= 0
        g = numpy.maximum(gold, 0)
        g_move = numpy.where(known, self.move[g], -1)
        g_label = numpy.where(known, self.label[g], -2)
        nk = next_gold >= 0
        n_move = numpy.where(nk, self.move[numpy.maximum(next_gold, 0)], -1)
        starts_here = ((g_move == B) | (g_move == U)).astype("float32")
        next_starts = ((n_move == B) | (n_move == U)).astype("float32")
        t_open, t_start, t_label = teacher
        on_track = is_open & t_open & (t_start == start) & (t_label == label)
        a_move, a_label = self.move[None, :], self.label[None, :]
        same = (a_label == g_label[:, None])
        cost = numpy.zeros((n, n_act), dtype="float32")
        # closed states
        c_o = numpy.broadcast_to(starts_here[:, None], (n, n_act))
        c_b = numpy.where((a_move == B) & (g_move[:, None] == B) & same, 0.0,
                          1.0 + starts_here[:, None] + next_starts[:, None])
        c_u = numpy.where((g_move[:, None] == U) & same, 0.0, 1.0 + starts_here[:, None])
        closed_cost = numpy.select([a_move == O, a_move == B, a_move == U], [c_o, c_b, c_u], default=0.0)
        # open states: continuing (I) or closing (L) the open entity
        track = on_track[:, None]
        o_i = numpy.where(track, numpy.where(g_move[:, None] == L, 2.0, 0.0), next_starts[:, None])
        o_l = numpy.where(track & (g_move[:, None] == I), 2.0, 0.0)
        open_cost = numpy.select([a_move == I, a_move == L], [o_i, o_l], default=0.0)
        cost[:] = numpy.where(is_open[:, None], open_cost, closed_cost)
        cost[~known] = 0.0
        return cost


def _doc_start_of(starts: numpy.ndarray, n: int) -> numpy.ndarray:
    """For each of n concatenated tokens, the index of its doc's first token."""
    marks = numpy.zeros(n, dtype="int64")
    marks[starts] = starts
    return numpy.maximum.accumulate(marks)


def feature_ids(positions: numpy.ndarray, is_open: numpy.ndarray, start: numpy.ndarray, n_features: int,
                pad: int) -> List[numpy.ndarray]:
    """Token ids (rows of the precomputed features) per feature slot; `pad` where absent.

    3 slots: the current token, the open entity's first token, the token before the
    current one (the entity's last so far). 6 slots: the current token and the open
    entity's first five tokens."""
    if n_features == 3:
        return [positions, numpy.where(is_open, start, pad), numpy.where(is_open, positions - 1, pad)]
    ids = [positions]
    for j in range(n_features - 1):
        ids.append(numpy.where(is_open & (start + j < positions), start + j, pad))
    return ids


def greedy_decode(moves: BiluoMoves, lengths: numpy.ndarray, score: Callable[[List[numpy.ndarray]], numpy.ndarray],
                  n_features: int, pad: int, record: bool = False):
    """Decode a batch of docs greedily, every doc one token per step.

    lengths: tokens per doc (docs laid out one after the other, as the precomputed
    features are). score(ids) returns (k, n_actions) scores for k states. Docs are
    visited longest first so the active states at step t are a prefix of the arrays.
    Returns the action of every token, and with record=True the state before each
    token (is_open, start, label) as well."""
    lengths = numpy.asarray(lengths, dtype="int64")
    n_tokens = int(lengths.sum())
    actions = numpy.zeros(n_tokens, dtype="int64")
    rec_open = numpy.zeros(n_tokens, dtype=bool) if record else None
    rec_start = numpy.arange(n_tokens, dtype="int64") if record else None
    rec_label = numpy.full(n_tokens, -1, dtype="int64") if record else None
    if not n_tokens:
        return (actions, (rec_open, rec_start, rec_label)) if record else actions
    offsets = numpy.concatenate([[0], numpy.cumsum(lengths)[:-1]])
    order = numpy.argsort(-lengths, kind="stable")
    s_lens = lengths[order]
    s_starts = offsets[order]
    n_docs = int((s_lens > 0).sum())
    s_lens, s_starts = s_lens[:n_docs], s_starts[:n_docs]
    is_open = numpy.zeros(n_docs, dtype=bool)
    start = numpy.zeros(n_docs, dtype="int64")
    label = numpy.zeros(n_docs, dtype="int64")
    # active[t]: docs longer than t (a prefix, as lengths are sorted descending)
    active = numpy.searchsorted(-s_lens, -numpy.arange(int(s_lens[0])), side="left")
    last_step = s_lens - 1
    move_tab, label_tab, penalty = moves.move, moves.label, moves.penalty_table
    for t in range(int(s_lens[0])):
        k = int(active[t])
        pos = s_starts[:k] + t
        op = is_open[:k]
        st = start[:k]
        lab = label[:k]
        scores = score(feature_ids(pos, op, st, n_features, pad))
        is_last = last_step[:k] == t
        rows = numpy.where(op, 2 + 2 * lab + is_last, is_last)
        scores += penalty[rows]
        acts = scores.argmax(axis=1)
        actions[pos] = acts
        if record:
            rec_open[pos] = op
            rec_start[pos] = numpy.where(op, st, pos)
            rec_label[pos] = numpy.where(op, lab, -1)
        mv = move_tab[acts]
        start[:k] = numpy.where(mv == B, pos, st)
        label[:k] = label_tab[acts]
        is_open[:k] = (mv == B) | (mv == I)
    if record:
        return actions, (rec_open, rec_start, rec_label)
    return actions


def is_well_formed(actions: Sequence[int], moves: BiluoMoves) -> bool:
    """True when a doc's action sequence spells a valid BILUO sequence (used by tests and
    as a guard): every B/I is followed by I/L of its label, every I/L follows B/I."""
    open_label = None
    for a in actions:
        m, lab = int(moves.move[a]), int(moves.label[a])
        if open_label is None:
            if m in (I, L):
                return False
            if m == B:
                open_label = lab
        else:
            if m not in (I, L) or lab != open_label:
                return False
            if m == L:
                open_label = None
    return open_label is None

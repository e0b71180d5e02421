"""CTC decoding: best-path (greedy), prefix beam search, lexicon-constrained search,
and forced alignment (which characters were emitted at which time steps).

All functions take softmax probabilities with the blank at ``blank`` (by convention the
last class, see :class:`~ctc_recognizer.charset.Charset`). Shapes: ``probs`` is
``(T, C)`` for one sequence or ``(N, T, C)`` for a batch.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

_NEG_INF = -np.inf
_EPS = 1e-12


@dataclass(frozen=True)
class Decoded:
    """One decoded sequence.

    Attributes:
        labels: class indices of the emitted characters, ``(L,)``.
        char_confidences: probability of each emitted character at its most confident step, ``(L,)``.
        spans: ``(L, 2)`` first and last time step (inclusive) of each character.
        log_likelihood: log P(labels | probs) summed over alignments, when the decoder knows it.
    """

    labels: np.ndarray
    char_confidences: np.ndarray
    spans: np.ndarray
    log_likelihood: float | None = None

    @property
    def confidence(self) -> float:
        """Word confidence: the mean of the character confidences (PaddleOCR convention)."""
        return float(self.char_confidences.mean()) if len(self.char_confidences) else 1.0


def _check_probs(probs: np.ndarray, ndim: int) -> np.ndarray:
    probs = np.asarray(probs)
    if probs.ndim != ndim:
        raise ValueError(f"expected probabilities of rank {ndim}, got shape {probs.shape}")
    return probs


def greedy_decode(probs: np.ndarray, blank: int) -> list[Decoded]:
    """Best-path decoding of a batch ``(N, T, C)``: argmax per step, merge repeats, drop blanks.

    Vectorised over time steps (no Python loop per step). The empty text's confidence is
    the mean blank probability, so a confidently blank image reads as confidently empty.
    """
    probs = _check_probs(probs, 3)
    best = probs.argmax(axis=-1)
    best_p = np.take_along_axis(probs, best[..., None], axis=-1)[..., 0]
    results = []
    for path, path_p in zip(best, best_p):
        starts = np.flatnonzero(np.r_[True, path[1:] != path[:-1]])
        ends = np.r_[starts[1:] - 1, len(path) - 1]
        peaks = np.maximum.reduceat(path_p, starts)
        keep = path[starts] != blank
        labels = path[starts][keep]
        conf = peaks[keep].astype(np.float64)
        spans = np.stack([starts[keep], ends[keep]], axis=1)
        results.append(Decoded(labels, conf, spans, None))
    return results


def empty_confidence(probs: np.ndarray, blank: int) -> float:
    """Confidence that a ``(T, C)`` sequence holds no text: mean blank probability."""
    return float(np.asarray(probs)[:, blank].mean())


def _logsumexp(a: float, b: float) -> float:
    if a == _NEG_INF:
        return b
    if b == _NEG_INF:
        return a
    m = max(a, b)
    return m + float(np.log1p(np.exp(-abs(a - b))))


class LexiconIndex:
    """Encoded lexicon words and all their prefixes, built once and reused for many images."""

    def __init__(self, words: Iterable[Sequence[int]]):
        self.complete = {tuple(int(c) for c in w) for w in words}
        if not self.complete:
            raise ValueError("lexicon is empty")
        self.prefixes = {w[:i] for w in self.complete for i in range(len(w) + 1)}

    def __len__(self) -> int:
        return len(self.complete)


def beam_search(
    probs: np.ndarray,
    blank: int,
    beam_width: int = 10,
    lexicon: LexiconIndex | Sequence[Sequence[int]] | None = None,
    prune: float = 1e-4,
) -> Decoded:
    """CTC prefix beam search over one sequence ``(T, C)``.

    Args:
        beam_width: number of prefixes kept after each step.
        lexicon: optional list of allowed label sequences (words encoded with the charset).
            The search is then restricted to prefixes of lexicon words and returns the most
            probable complete word; if no complete word survives the beam, every lexicon word
            is scored exactly with the CTC forward algorithm.
        prune: characters whose probability at a step is below this are not extended.
    """
    probs = _check_probs(probs, 2)
    if beam_width < 1:
        raise ValueError(f"beam_width must be >= 1, got {beam_width}")
    logp = np.log(np.maximum(probs, _EPS))
    allowed = complete = None
    if lexicon is not None:
        if not isinstance(lexicon, LexiconIndex):
            lexicon = LexiconIndex(lexicon)
        allowed, complete = lexicon.prefixes, lexicon.complete
    # beams: prefix -> (log P ending in blank, log P ending in non-blank)
    beams: dict[tuple[int, ...], tuple[float, float]] = {(): (0.0, _NEG_INF)}
    for t in range(logp.shape[0]):
        row = logp[t]
        candidates = np.flatnonzero(probs[t] >= prune)
        nxt: dict[tuple[int, ...], list[float]] = defaultdict(lambda: [_NEG_INF, _NEG_INF])
        for prefix, (pb, pnb) in beams.items():
            total = _logsumexp(pb, pnb)
            # blank: prefix unchanged
            entry = nxt[prefix]
            entry[0] = _logsumexp(entry[0], total + row[blank])
            last = prefix[-1] if prefix else None
            for c in candidates:
                c = int(c)
                if c == blank:
                    continue
                if c == last:
                    # repeat without blank collapses; after a blank it is a new character
                    entry = nxt[prefix]
                    entry[1] = _logsumexp(entry[1], pnb + row[c])
                    new = prefix + (c,)
                    if allowed is not None and new not in allowed:
                        continue
                    entry = nxt[new]
                    entry[1] = _logsumexp(entry[1], pb + row[c])
                else:
                    new = prefix + (c,)
                    if allowed is not None and new not in allowed:
                        continue
                    entry = nxt[new]
                    entry[1] = _logsumexp(entry[1], total + row[c])
        ranked = sorted(nxt.items(), key=lambda kv: _logsumexp(*kv[1]), reverse=True)
        beams = {k: (v[0], v[1]) for k, v in ranked[:beam_width]}
    scored = sorted(((k, _logsumexp(*v)) for k, v in beams.items()), key=lambda kv: kv[1], reverse=True)
    if complete is not None:
        scored = [(k, s) for k, s in scored if k in complete]
        if not scored:
            scored = [max(((tuple(w), ctc_log_likelihood(probs, w, blank)) for w in complete),
                          key=lambda kv: kv[1])]
    labels, score = scored[0]
    aligned = forced_align(probs, labels, blank)
    return Decoded(aligned.labels, aligned.char_confidences, aligned.spans, float(score))


def _extend(labels: Sequence[int], blank: int) -> np.ndarray:
    ext = np.full(2 * len(labels) + 1, blank, dtype=np.int64)
    ext[1::2] = labels
    return ext


def _skip_allowed(ext: np.ndarray, blank: int) -> np.ndarray:
    """Transition s-2 -> s is allowed into a non-blank that differs from the previous non-blank."""
    skip = np.zeros(len(ext), dtype=bool)
    skip[2:] = (ext[2:] != blank) & (ext[2:] != ext[:-2])
    return skip


def ctc_log_likelihood(probs: np.ndarray, labels: Sequence[int], blank: int) -> float:
    """log P(labels | probs) by the CTC forward algorithm, over one ``(T, C)`` sequence
    (probabilities floored at 1e-12; forward variables rescaled at each step, with no log per
    step: cheap enough to score candidates of every crop; should the labels' share of the mass
    still underflow, the log-space algorithm answers)."""
    probs = _check_probs(probs, 2)
    ext = _extend(labels, blank)
    skip = np.flatnonzero(_skip_allowed(ext, blank))
    p = np.maximum(probs[:, ext], _EPS).astype(np.float64)  # (T, S)
    alpha = np.zeros(len(ext))
    alpha[:2] = p[0, :2]
    log_scale = 0.0
    for t in range(1, p.shape[0]):
        prev = alpha
        alpha = prev.copy()
        alpha[1:] += prev[:-1]
        if skip.size:
            alpha[skip] += prev[skip - 2]
        alpha *= p[t]
        total = alpha.sum()  # > 0: the all-blank path always has probability
        alpha /= total
        log_scale += float(np.log(total))
    tail = float(alpha[-2:].sum() if len(ext) > 1 else alpha[-1])
    if tail > 0:
        return float(np.log(tail)) + log_scale
    return _ctc_log_likelihood_log_space(probs, ext)  # the labels' share underflowed: exact, slower


def _ctc_log_likelihood_log_space(probs: np.ndarray, ext: np.ndarray) -> float:
    """The forward algorithm in log space (for labels whose share of the rescaled forward mass
    underflows: long labels on improbable frames)."""
    blank = int(ext[0])
    logp = np.log(np.maximum(probs[:, ext], _EPS))
    skip = np.flatnonzero(_skip_allowed(ext, blank))
    alpha = np.full(len(ext), _NEG_INF)
    alpha[:2] = logp[0, :2]
    for t in range(1, logp.shape[0]):
        prev = alpha
        alpha = prev.copy()
        alpha[1:] = np.logaddexp(alpha[1:], prev[:-1])
        if skip.size:
            alpha[skip] = np.logaddexp(alpha[skip], prev[skip - 2])
        alpha = alpha + logp[t]
    return float(np.logaddexp.reduce(alpha[-2:] if len(ext) > 1 else alpha[-1:]))


def forced_align(probs: np.ndarray, labels: Sequence[int], blank: int) -> Decoded:
    """Most probable (Viterbi) alignment of ``labels`` to a ``(T, C)`` sequence.

    Gives, for each character, the time steps it occupies and its peak probability there:
    the same information best-path decoding gives, for text found any other way.
    """
    probs = _check_probs(probs, 2)
    labels = np.asarray(labels, dtype=np.int64)
    T = probs.shape[0]
    if len(labels) == 0:
        return Decoded(labels, np.zeros(0), np.zeros((0, 2), dtype=np.int64))
    logp = np.log(np.maximum(probs, _EPS))
    ext = _extend(labels, blank)
    S = len(ext)
    skip = _skip_allowed(ext, blank)
    score = np.full(S, _NEG_INF)
    score[0] = logp[0, ext[0]]
    score[1] = logp[0, ext[1]]
    back = np.zeros((T, S), dtype=np.int8)  # 0: stay, 1: from s-1, 2: from s-2
    for t in range(1, T):
        cands = np.stack([
            score,
            np.r_[_NEG_INF, score[:-1]],
            np.where(skip, np.r_[_NEG_INF, _NEG_INF, score[:-2]], _NEG_INF),
        ])
        back[t] = cands.argmax(axis=0)
        score = cands.max(axis=0) + logp[t, ext]
    end = S - 1 if S == 1 or score[S - 1] >= score[S - 2] else S - 2
    if score[end] == _NEG_INF:
        raise ValueError(f"{len(labels)} characters cannot be aligned to {T} time steps")
    states = np.empty(T, dtype=np.int64)
    s = end
    for t in range(T - 1, -1, -1):
        states[t] = s
        s -= int(back[t, s])
    spans = np.zeros((len(labels), 2), dtype=np.int64)
    conf = np.zeros(len(labels))
    for k in range(len(labels)):
        steps = np.flatnonzero(states == 2 * k + 1)
        spans[k] = (steps[0], steps[-1])
        conf[k] = probs[steps, labels[k]].max()
    return Decoded(labels, conf, spans, None)

import itertools

import numpy as np
import pytest

from ctc_recognizer.charset import Charset
from ctc_recognizer.decoding import (LexiconIndex, beam_search, ctc_log_likelihood, forced_align,
                                     greedy_decode)

CS = Charset("abclo")  # a=0 b=1 c=2 l=3 o=4, blank=5
B = CS.blank_index


def one_hot_path(path: str, conf: float = 0.9) -> np.ndarray:
    """(T, C) probabilities whose best path is ``path`` ('-' = blank)."""
    probs = np.full((len(path), CS.num_classes), (1 - conf) / (CS.num_classes - 1))
    for t, ch in enumerate(path):
        probs[t, B if ch == "-" else CS.vocab.index(ch)] = conf
    return probs


@pytest.mark.parametrize("path, text", [
    ("--aa-b--", "ab"),
    ("c-oo-ll-l-o", "collo"),   # blank separates the repeated l
    ("cooll", "col"),           # no blank: repeats merge
    ("-----", ""),
    ("a", "a"),
])
def test_greedy_known_answers(path, text):
    (d,) = greedy_decode(one_hot_path(path)[None], B)
    assert CS.decode(d.labels) == text
    assert len(d.char_confidences) == len(text)


def test_greedy_spans_and_confidences():
    probs = one_hot_path("-aa--b-")
    probs[2] = probs[1]
    probs[2, 0] = 0.95  # a peak inside the run
    (d,) = greedy_decode(probs[None], B)
    assert d.spans.tolist() == [[1, 2], [5, 5]]
    assert d.char_confidences[0] == pytest.approx(0.95)
    assert d.confidence == pytest.approx((0.95 + 0.9) / 2)


def test_greedy_batch_is_per_sequence():
    batch = np.stack([one_hot_path("a-b"), one_hot_path("cc-")])
    assert [CS.decode(d.labels) for d in greedy_decode(batch, B)] == ["ab", "c"]


def test_beam_finds_what_greedy_misses():
    # best path is blank-blank (0.36) but P("a") = 0.16 + 0.24 + 0.24 = 0.64
    probs = np.zeros((2, CS.num_classes))
    probs[:, 0], probs[:, B] = 0.4, 0.6
    (g,) = greedy_decode(probs[None], B)
    assert CS.decode(g.labels) == ""
    beam = beam_search(probs, B, beam_width=5)
    assert CS.decode(beam.labels) == "a"
    assert beam.log_likelihood == pytest.approx(np.log(0.64), abs=1e-6)


def test_lexicon_constrains_output():
    probs = one_hot_path("c-a-l", conf=0.6)
    probs[2, CS.vocab.index("o")] = 0.35  # 'o' is a close second to 'a'
    assert CS.decode(beam_search(probs, B, 5).labels) == "cal"
    lex = LexiconIndex([CS.encode("col"), CS.encode("bob")])
    assert CS.decode(beam_search(probs, B, 5, lexicon=lex).labels) == "col"


def test_lexicon_falls_back_to_exact_scoring():
    # beam width 1 keeps only "cal" prefixes; no complete lexicon word survives the beam
    probs = one_hot_path("c-a-l", conf=0.6)
    lex = [CS.encode("bob"), CS.encode("lab")]
    out = beam_search(probs, B, beam_width=1, lexicon=lex)
    scores = {w: ctc_log_likelihood(probs, CS.encode(w), B) for w in ("bob", "lab")}
    assert CS.decode(out.labels) == max(scores, key=scores.get)


def test_forward_algorithm_matches_brute_force():
    rng = np.random.default_rng(0)
    cs = Charset("ab")
    blank = cs.blank_index
    for steps in (4, 1):
        probs = rng.dirichlet(np.ones(3), size=steps)
        for label in ([], [0], [0, 1], [0, 0], [1, 0, 1]):
            total = 0.0
            for path in itertools.product(range(3), repeat=steps):
                collapsed = [c for i, c in enumerate(path) if c != blank and (i == 0 or c != path[i - 1])]
                if collapsed == label:
                    total += np.prod([probs[t, c] for t, c in enumerate(path)])
            got = ctc_log_likelihood(probs, label, blank)
            assert got == (pytest.approx(np.log(total), rel=1e-9) if total else -np.inf), (steps, label)


def test_forward_algorithm_on_labels_too_unlikely_for_the_rescaled_mass():
    # 30 characters on all-blank frames: their share of the forward mass underflows float64;
    # the log-space algorithm answers, continuous with 29 characters
    probs = np.zeros((200, 3))
    probs[:, 2] = 1.0
    scores = [ctc_log_likelihood(probs, [0, 1] * (n // 2) + [0] * (n % 2), 2) for n in (29, 30)]
    assert all(np.isfinite(scores)) and scores[1] < scores[0] < -700


def test_forced_alignment_spans():
    probs = one_hot_path("-cc-o--l")
    d = forced_align(probs, CS.encode("col"), B)
    assert d.spans.tolist() == [[1, 2], [4, 4], [7, 7]]
    with pytest.raises(ValueError, match="cannot be aligned"):
        forced_align(one_hot_path("ab"), CS.encode("aaa"), B)


def test_bad_arguments():
    with pytest.raises(ValueError, match="rank"):
        greedy_decode(np.zeros((3, 4)), 3)
    with pytest.raises(ValueError, match="beam_width"):
        beam_search(one_hot_path("a"), B, beam_width=0)
    with pytest.raises(ValueError, match="empty"):
        beam_search(one_hot_path("a"), B, lexicon=[])

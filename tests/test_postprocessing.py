"""The CTC post-processor (decoder choice, lexicon, text and confidences) and the pipeline
pre-processor -> ONNX Runtime -> post-processor -> boxes giving the bundled model's known answers."""

from __future__ import annotations

import numpy as np
import pytest

from ctc_recognizer import Recognizer
from ctc_recognizer.charset import Charset
from ctc_recognizer.decoding import LexiconIndex
from ctc_recognizer.postprocessing import CTCPostProcessor, encode_lexicon
from tests.conftest import ROOT
from tests.test_decoding import CS, one_hot_path


def test_greedy_text_confidences_and_spans():
    post = CTCPostProcessor(CS)
    (out,) = post(one_hot_path("-aa--b-", conf=0.9)[None])
    assert out.text == "ab"
    assert out.spans.tolist() == [[1, 2], [5, 5]]
    assert out.confidence == pytest.approx(0.9)
    assert out.char_confidences.tolist() == pytest.approx([0.9, 0.9])


def test_empty_text_is_as_confident_as_the_blanks():
    probs = one_hot_path("----", conf=0.8)
    (out,) = CTCPostProcessor(CS)(probs[None])
    assert out.text == "" and out.spans.shape == (0, 2)
    assert out.confidence == pytest.approx(0.8)


def test_lexicon_implies_beam_search_restricted_to_its_words():
    probs = one_hot_path("c-a-l", conf=0.6)
    assert CTCPostProcessor(CS)(probs[None])[0].text == "cal"
    post = CTCPostProcessor(CS, decoder="greedy", lexicon=["col", "bob"])
    assert post.decoder == "beam" and isinstance(post.lexicon, LexiconIndex)
    assert post(probs[None])[0].text == "col"
    assert CTCPostProcessor(CS, lexicon=post.lexicon).lexicon is post.lexicon


def test_bad_arguments_are_clear_errors():
    with pytest.raises(ValueError, match="unknown decoder 'viterbi'"):
        CTCPostProcessor(CS, decoder="viterbi")
    with pytest.raises(ValueError, match="lexicon has no usable words"):
        CTCPostProcessor(CS, lexicon=["xyz"])
    with pytest.raises(ValueError, match=r"shape \(N, T, C\)"):
        CTCPostProcessor(CS)(one_hot_path("ab"))
    with pytest.raises(ValueError, match="have 6 classes, but the charset needs 4"):
        CTCPostProcessor(Charset("abc"))(one_hot_path("ab")[None])
    with pytest.raises(ValueError, match="beam_width"):
        CTCPostProcessor(CS, decoder="beam", beam_width=0)(one_hot_path("ab")[None])


def test_encode_lexicon_drops_words_outside_the_vocabulary(caplog):
    lex = encode_lexicon(CS, ["cab", " ", "cat", "  ball "])
    assert lex.complete == {tuple(CS.encode("cab")), tuple(CS.encode("ball"))}
    assert "cat" in caplog.text


#: The bundled model's answers on examples/*.png, from before the pipeline was split into
#: pre-processor / model / post-processor objects: the split must not change them.
EXAMPLES = [
    ("01_serif_word.png", "Library", 0.9999),
    ("02_sans_caps.png", "EXIT", 0.9996),
    ("03_digits.png", "2025", 1.0),
    ("04_mixed_case.png", "iPhone", 0.9981),
    ("05_light_on_dark.png", "Coffee", 0.9996),
    ("06_price.png", "$12.99", 0.9061),
    ("07_hard_blurred_tilted.png", "Station", 0.9873),
]


def test_bundled_model_gives_its_known_answers():
    rec = Recognizer.from_pretrained()
    paths = [ROOT / "examples" / name for name, _, _ in EXAMPLES]
    preds = rec(paths)
    for (name, text, confidence), pred in zip(EXAMPLES, preds):
        assert (name, pred.text) == (name, text)
        assert pred.confidence == pytest.approx(confidence, abs=1e-4), name
        assert pred.confidence == pytest.approx(float(np.mean(pred.char_confidences)))
    # the same answers one at a time, and from the beam decoder
    assert rec(paths[5]) == preds[5]
    assert [p.text for p in rec(paths, decoder="beam", beam_width=4)] == [t for _, t, _ in EXAMPLES]


def test_the_post_processor_is_exported_from_the_package():
    import ctc_recognizer
    from ctc_recognizer import CTCPostProcessor as Exported

    assert Exported is CTCPostProcessor and "CTCPostProcessor" in ctc_recognizer.__all__
    assert all(hasattr(ctc_recognizer, name) for name in ctc_recognizer.__all__)
    assert len(set(ctc_recognizer.__all__)) == len(ctc_recognizer.__all__)

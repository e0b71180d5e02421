import pytest

from ctc_recognizer.metrics import compute_metrics


def test_known_values():
    m = compute_metrics(["hello", "world", "Foo bar"], ["hello", "word", "foo baz"])
    assert m.count == 3
    assert m.word_accuracy == pytest.approx(1 / 3)
    assert m.word_accuracy_ci == pytest.approx(1 / 3)
    # edits: 0 + 1 (delete l) + 2 (F->f, z->r) over 5 + 4 + 7 characters
    assert m.cer == pytest.approx(3 / 16)
    # word edits: 0 + 1 + 2 over 1 + 1 + 2 words
    assert m.wer == pytest.approx(3 / 4)


def test_case_insensitive_accuracy():
    m = compute_metrics(["HELLO"], ["hello"])
    assert m.word_accuracy == 0 and m.word_accuracy_ci == 1


def test_errors():
    with pytest.raises(ValueError):
        compute_metrics([], [])
    with pytest.raises(ValueError):
        compute_metrics(["a"], ["a", "b"])

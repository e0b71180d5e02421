import pytest

from ctc_recognizer.charset import ALPHANUMERIC, DEFAULT_VOCAB, Charset
from ctc_recognizer.errors import ConfigError, UnknownCharacterError


def test_blank_is_last_class():
    cs = Charset(ALPHANUMERIC)
    assert len(ALPHANUMERIC) == 62
    assert cs.blank_index == 62 and cs.num_classes == 63


def test_encode_decode_roundtrip():
    cs = Charset(DEFAULT_VOCAB)
    text = "Hello, World 42!"
    ids = cs.encode(text)
    assert cs.decode(ids) == text
    assert cs.decode(ids + [cs.blank_index]) == text  # the blank decodes to nothing


def test_unknown_character_names_label_and_char():
    cs = Charset(ALPHANUMERIC)
    with pytest.raises(UnknownCharacterError, match=r"'café'.*'é'"):
        cs.encode("café")
    assert cs.encode("café", unknown="drop") == cs.encode("caf")


def test_bad_vocab():
    with pytest.raises(ConfigError, match="duplicate"):
        Charset("abca")
    with pytest.raises(ConfigError, match="empty"):
        Charset("")


def test_normalize_case_to_vocab():
    assert Charset("abc").normalize("ABC") == "abc"
    assert Charset("ABC").normalize("abc") == "ABC"
    assert Charset("aAbB").normalize("Ab") == "Ab"

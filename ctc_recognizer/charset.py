"""The character set of a CTC model: encode labels, decode indices, own the blank.

The blank convention is stated here once: the blank is the *last* class, at index
``len(vocab)``. Every other module asks a :class:`Charset` for ``blank_index`` and
``num_classes`` instead of computing ``len(vocab)`` itself.
"""

from __future__ import annotations

from typing import Iterable, Literal, Sequence

import numpy as np

from .errors import ConfigError, UnknownCharacterError

#: The 62-character vocabulary of the reference design (digits, lower case, upper case).
ALPHANUMERIC = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
#: Punctuation common on signs, labels and documents.
PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]_"
#: The default vocabulary: alphanumerics, common punctuation and the space (for short lines).
DEFAULT_VOCAB = ALPHANUMERIC + PUNCTUATION + " "

UnknownPolicy = Literal["error", "skip", "drop"]


class Charset:
    """Maps text to class indices and back; the blank is index ``len(vocab)``.

    Args:
        vocab: the characters, in class order. Must be non-empty and have no duplicates.
    """

    def __init__(self, vocab: str | Sequence[str]):
        vocab = "".join(vocab)
        if not vocab:
            raise ConfigError("vocab is empty: a model needs at least one character")
        seen: set[str] = set()
        dups = sorted({c for c in vocab if c in seen or seen.add(c)})  # type: ignore[func-returns-value]
        if dups:
            raise ConfigError(f"vocab has duplicate characters: {dups!r}")
        self.vocab = vocab
        self._index = {c: i for i, c in enumerate(vocab)}
        self._lookup = np.array(list(vocab) + [""], dtype=object)

    @property
    def blank_index(self) -> int:
        """Index of the CTC blank: always the last class, ``len(vocab)``."""
        return len(self.vocab)

    @property
    def num_classes(self) -> int:
        """Number of model output classes: the vocabulary plus the blank."""
        return len(self.vocab) + 1

    def __len__(self) -> int:
        return len(self.vocab)

    def __contains__(self, char: str) -> bool:
        return char in self._index

    def __repr__(self) -> str:
        return f"Charset({self.vocab!r})"

    def unknown_characters(self, text: str) -> list[str]:
        """Characters of ``text`` that are not in the vocabulary, in order of first appearance."""
        return list(dict.fromkeys(c for c in text if c not in self._index))

    def encode(self, text: str, unknown: UnknownPolicy = "error") -> list[int]:
        """Turn ``text`` into class indices.

        Args:
            unknown: what to do with characters outside the vocabulary: ``"error"`` raises
                :class:`UnknownCharacterError` naming the label and the characters,
                ``"drop"`` removes them from the label. (``"skip"``, which drops the whole
                sample, is the data pipeline's business and is treated as ``"error"`` here.)
        """
        missing = self.unknown_characters(text)
        if missing:
            if unknown == "drop":
                text = "".join(c for c in text if c in self._index)
            else:
                raise UnknownCharacterError(
                    f"label {text!r} contains character(s) {missing!r} that are not in the "
                    f"vocabulary {self.vocab!r}"
                )
        return [self._index[c] for c in text]

    def decode(self, indices: Iterable[int]) -> str:
        """Turn class indices into text; the blank (and anything out of range) is ignored."""
        idx = np.asarray(list(indices), dtype=np.int64)
        idx = idx[(idx >= 0) & (idx < len(self.vocab))]
        return "".join(self._lookup[idx])

    @property
    def has_both_cases(self) -> bool:
        """Whether some letter of the vocabulary also has its other case in it."""
        return any(c.lower() != c and c.lower() in self._index for c in self.vocab)

    def case_fold_map(self) -> list[int]:
        """For every class, the class it folds to when case does not count: an upper-case
        letter whose lower case is in the vocabulary maps to that; everything else (and the
        blank) to itself."""
        return [self._index.get(c.lower(), i) for i, c in enumerate(self.vocab)] + [self.blank_index]

    def normalize(self, text: str) -> str:
        """Map a label onto this vocabulary where that is unambiguous.

        If the vocabulary has no upper-case (or no lower-case) letters, letters are
        folded to the case it has; other characters are left alone.
        """
        has_upper = any(c.isupper() for c in self.vocab)
        has_lower = any(c.islower() for c in self.vocab)
        if has_lower and not has_upper:
            return text.lower()
        if has_upper and not has_lower:
            return text.upper()
        return text

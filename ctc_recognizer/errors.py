"""Exceptions raised by ctc_recognizer.

Every error a user can trigger with bad input derives from :class:`RecognizerError`
and from the matching built-in (``ValueError`` / ``FileNotFoundError``), so callers
can catch either.
"""


class RecognizerError(Exception):
    """Base class of every error raised by this package."""


class ImageError(RecognizerError, ValueError):
    """An image could not be read or is not usable (empty, truncated, wrong shape/dtype...)."""


class ConfigError(RecognizerError, ValueError):
    """A model's config.json is missing a field, malformed, or inconsistent with its ONNX graph."""


class ModelNotFoundError(RecognizerError, FileNotFoundError):
    """A model folder or Hub repository (or one of its files) cannot be found."""


class ModelLoadError(RecognizerError, ValueError):
    """A model file exists but cannot be loaded (corrupt ONNX, unsupported graph)."""


class UnknownCharacterError(RecognizerError, ValueError):
    """A label contains a character that is not in the vocabulary."""

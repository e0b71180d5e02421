"""ctc-recognizer: read the text in cropped word images with a CNN + BiLSTM + CTC model.

Inference runs on ONNX Runtime only (no TensorFlow)::

    from ctc_recognizer import Recognizer
    rec = Recognizer.from_pretrained()          # the bundled default model
    rec("word.png").text
"""

from .charset import Charset
from .config import RecognizerConfig
from .errors import (
    ConfigError,
    ImageError,
    ModelLoadError,
    ModelNotFoundError,
    RecognizerError,
    UnknownCharacterError,
)
from .metrics import TextMetrics, compute_metrics, standard_text
from .postprocessing import CTCPostProcessor
from .preprocessing import preprocess
from .recognizer import DEFAULT_MODEL_DIR, Prediction, Recognizer
from .safety import UnsafeModelError

__version__ = "0.1.0"

__all__ = [
    "CTCPostProcessor", "Charset", "ConfigError", "DEFAULT_MODEL_DIR", "ImageError",
    "ModelLoadError", "ModelNotFoundError", "Prediction", "Recognizer", "RecognizerConfig",
    "RecognizerError", "TextMetrics", "UnknownCharacterError", "UnsafeModelError",
    "compute_metrics", "preprocess", "standard_text", "__version__",
]

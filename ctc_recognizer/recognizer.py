"""The :class:`Recognizer`: load a model (local folder or Hugging Face Hub) and read word images.

Pipeline (as docTR's recognition predictor): pre-processor
(:func:`~ctc_recognizer.preprocessing.prepare_array`: any image -> model-size uint8) -> ONNX
Runtime ``(N, H, W, C) -> (N, T, V+1)`` -> post-processor
(:class:`~ctc_recognizer.postprocessing.CTCPostProcessor`: text, confidences, emitting time
steps) -> character boxes (:func:`~ctc_recognizer.boxes.char_boxes`) -> :class:`Prediction`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import logging
import numbers
import os
import shutil
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
from huggingface_hub import ModelHubMixin, hf_hub_download
from huggingface_hub.errors import (
    EntryNotFoundError,
    HfHubHTTPError,
    HFValidationError,
    LocalEntryNotFoundError,
    OfflineModeIsEnabled,
)

from .boxes import char_boxes
from .charset import Charset
from .config import CONFIG_NAME, RecognizerConfig
from .decoding import LexiconIndex
from .errors import ConfigError, ModelLoadError, ModelNotFoundError
from .files import atomic_write_bytes
from .input_check import NO_TEXT_WARNING, has_no_text, layout_warning, reading_warning
from .safety import check_onnx_model
from .decoding import ctc_log_likelihood, empty_confidence
from .postprocessing import CTCOutput, CTCPostProcessor, encode_lexicon
from .prediction import Prediction, most_confident
from .prefetch import PREFETCH_CHUNKS, THREAD_NAME, check_workers, chunked_map, default_workers
from .preprocessing import (ImageInput, Preprocessed, group_by_width, load_array, prepare_array,
                            read_image, to_model_input)

logger = logging.getLogger(__name__)

#: The model bundled with the package, loaded by ``Recognizer.from_pretrained()``.
DEFAULT_MODEL_DIR = Path(__file__).resolve().parent / "models" / "default"
MODEL_CARD_NAME = "README.md"
#: Crops at least this many times as tall as wide are also read turned 90 degrees each way.
TALL_RATIO = 1.5
#: ``recheck``'s second look trims this fraction of the crop's height off its top and off its bottom.
RECHECK_TRIM = 0.08
#: Default ``recheck``: upright readings less confident than this are read a second time, trimmed.
DEFAULT_RECHECK = 0.95
#: Characters whose glyphs reach above capitals or below the baseline, which recheck's trim may clip.
TALL_GLYPHS = frozenset("$()[]{}|/\\")
#: Inputs up to this size keep recheck's trimmed rows until the first reading asks for them;
#: larger ones (photographs, not crops) have them pre-processed at once (bytes).
LAZY_TRIM_BYTES = 1 << 20


@dataclass(frozen=True)
class PreparedInput:
    """One input after the pre-processor: the model-ready image of each reading to try, as
    ``(rotation, Preprocessed)`` (upright first), the warning its layout deserves, and whether
    it holds no text at all (a blank crop: read as empty text, see
    :func:`~ctc_recognizer.input_check.has_no_text`)."""

    readings: list[tuple[int, Preprocessed]]
    layout_warning: str | None = None
    no_text: bool = False
    #: the upright crop with :data:`RECHECK_TRIM` of its height cut off top and bottom, for
    #: ``recheck``'s second look (None: recheck off, a blank crop, or too short to trim): the
    #: cut rows, pre-processed only if the first reading is unsure (:meth:`second_look`), or
    #: for a large input (over :data:`LAZY_TRIM_BYTES`) pre-processed at once, so that a batch
    #: of photographs does not stay in memory until the model has read it
    trimmed: np.ndarray | Preprocessed | None = None
    #: the input's (height, width), which a second look reports as its size
    size: tuple[int, int] | None = None

    def second_look(self, config: RecognizerConfig) -> Preprocessed | None:
        """The trimmed crop, model-ready (None when there is none)."""
        if isinstance(self.trimmed, np.ndarray):
            # reports the untouched size: the trim keeps every column, so boxes map back as they are
            return prepare_array(self.trimmed, config, self.size)
        return self.trimmed


def trim_rows(array: np.ndarray, fraction: float = RECHECK_TRIM) -> np.ndarray | None:
    """``array`` without ``fraction`` of its height at the top and at the bottom (None when that
    cuts no row or leaves under 8 rows). Photographed word crops often hold a margin of
    background above and below the text; the network reads tightly cropped words better."""
    height = array.shape[0]
    cut = int(round(height * fraction))
    if cut < 1 or height - 2 * cut < 8:
        return None
    return array[cut:height - cut]


def check_recheck(recheck: float) -> float:
    """``recheck`` as a float, or a ValueError naming it (bools and values outside 0-1)."""
    if isinstance(recheck, bool) or not isinstance(recheck, numbers.Real) or not 0.0 <= recheck <= 1.0:
        raise ValueError(f"recheck must be a number from 0 (off) to 1, got {recheck!r}")
    return float(recheck)


#: Inputs workers may load themselves; anything else (a PIL image) is loaded in the caller.
_THREAD_SAFE_INPUTS = (str, os.PathLike, bytes, bytearray, memoryview, np.ndarray)


def _load_in_caller(image: ImageInput) -> ImageInput:
    """A PIL image -> an array, in the calling thread; other inputs as they are. Pillow loads
    an opened image lazily and not thread-safely: two worker threads loading the same image
    (a list that repeats it) can crash inside Pillow, so workers get only paths, bytes and
    arrays."""
    return image if isinstance(image, _THREAD_SAFE_INPUTS) else read_image(image)


def _hub_error(model_id: str, exc: Exception) -> ModelNotFoundError:
    offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on")
    hint = (
        " (HF_HUB_OFFLINE is set and it is not in the local cache)"
        if offline or isinstance(exc, (LocalEntryNotFoundError, OfflineModeIsEnabled))
        else ""
    )
    return ModelNotFoundError(
        f"model {model_id!r} is neither a local folder nor an available Hugging Face Hub "
        f"model{hint}: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    )


class Recognizer(
    ModelHubMixin,
    library_name="ctc-recognizer",
    pipeline_tag="image-to-text",
    tags=["ocr", "text-recognition", "ctc", "onnx"],
):
    """Reads text in cropped word (or short line) images with an ONNX CTC model.

    Usually built with :meth:`from_pretrained`. Calling it on one image returns a
    :class:`Prediction`; on a list of images, a list (run through ONNX Runtime in batches).

    Args:
        model_dir: folder holding ``config.json`` and the ONNX file.
        model_file: ONNX file name inside ``model_dir`` (default: the config's ``onnx_file``;
            e.g. ``"model.int8.onnx"`` for a quantized variant).
        providers: ONNX Runtime execution providers (default: CPU).
        intra_op_num_threads: ONNX Runtime threads per operator (default: ORT's choice).
        session_options: a ready ``onnxruntime.SessionOptions`` (overrides the thread setting).
    """

    def __init__(
        self,
        model_dir: str | os.PathLike,
        model_file: str | None = None,
        providers: Sequence[str] | None = None,
        intra_op_num_threads: int | None = None,
        session_options: Any = None,
    ):
        import onnxruntime as ort

        self.model_dir = Path(model_dir)
        if not self.model_dir.is_dir():
            raise ModelNotFoundError(f"model folder {str(self.model_dir)!r} does not exist")
        self.config = RecognizerConfig.load(self.model_dir)
        self.charset = Charset(self.config.vocab)
        self.model_file = model_file or self.config.onnx_file
        self.onnx_path = self.model_dir / self.model_file
        if not self.onnx_path.is_file():
            raise ModelNotFoundError(f"no ONNX model {self.model_file!r} in {str(self.model_dir)!r}")
        check_onnx_model(self.model_dir, self.model_file)  # size, external data in the folder
        if session_options is None:
            session_options = ort.SessionOptions()
            if intra_op_num_threads:
                session_options.intra_op_num_threads = int(intra_op_num_threads)
        try:
            self.session = ort.InferenceSession(
                str(self.onnx_path),
                sess_options=session_options,
                providers=list(providers) if providers else ["CPUExecutionProvider"],
            )
        except Exception as exc:  # ORT raises its own pybind exception types
            raise ModelLoadError(
                f"{str(self.onnx_path)!r} could not be loaded by ONNX Runtime: {exc}"
            ) from None
        self._check_graph()

    # ------------------------------------------------------------------ loading / saving
    def _check_graph(self) -> None:
        cfg = self.config
        inputs = {i.name: i for i in self.session.get_inputs()}
        outputs = {o.name: o for o in self.session.get_outputs()}
        where = str(self.model_dir / CONFIG_NAME)
        if cfg.input_name not in inputs:
            raise ConfigError(f"{where}: input_name {cfg.input_name!r} is not an input of the ONNX graph (it has {sorted(inputs)})")
        if cfg.output_name not in outputs:
            raise ConfigError(f"{where}: output_name {cfg.output_name!r} is not an output of the ONNX graph (it has {sorted(outputs)})")
        shape = inputs[cfg.input_name].shape
        expected = [None, cfg.height, cfg.width, cfg.channels]
        if len(shape) != 4:
            raise ConfigError(f"{where}: the ONNX input has shape {shape}, expected (N, H, W, C)")
        for axis, (got, want) in enumerate(zip(shape[1:], expected[1:]), start=1):
            if isinstance(got, int) and got != want:
                name = ("height", "width", "channels")[axis - 1]
                raise ConfigError(f"{where}: {name} is {want} but the ONNX input has {got} (input shape {shape})")
        if cfg.long_crop_width and isinstance(shape[2], int):
            raise ConfigError(
                f"{where}: long_crop_width is {cfg.long_crop_width}, but the ONNX input width is fixed "
                f"at {shape[2]} (input shape {shape}); export the model with a dynamic width or "
                "remove long_crop_width and long_crop_threshold from the config"
            )
        out_shape = outputs[cfg.output_name].shape
        classes = out_shape[-1] if out_shape else None
        if isinstance(classes, int) and classes != cfg.num_classes:
            raise ConfigError(
                f"{where}: the vocab has {len(cfg.vocab)} characters, so the model must output "
                f"{cfg.num_classes} classes (vocab + blank), but the ONNX output has {classes}"
            )

    @classmethod
    def from_pretrained(  # type: ignore[override]
        cls,
        pretrained_model_name_or_path: str | os.PathLike | None = None,
        **kwargs: Any,
    ) -> "Recognizer":
        """Load a model from a local folder or a Hugging Face Hub repo id.

        With no argument, loads the default model bundled with the package (no network).
        Hub downloads are cached by ``huggingface_hub`` and honour ``HF_HUB_OFFLINE``;
        ``revision=`` pins a branch, tag or commit. Other keyword arguments go to
        :class:`Recognizer` (``model_file``, ``providers``, ``intra_op_num_threads``...).
        """
        if pretrained_model_name_or_path is None:
            pretrained_model_name_or_path = DEFAULT_MODEL_DIR
        model_id = os.path.expanduser(str(pretrained_model_name_or_path))
        if os.path.isfile(model_id):
            raise ModelNotFoundError(
                f"{model_id!r} is a file; pass the model folder that holds config.json and the ONNX file"
            )
        if not os.path.isdir(model_id) and (
            os.path.isabs(model_id) or model_id.startswith((".", "~")) or os.path.exists(model_id)
        ):
            raise ModelNotFoundError(f"model folder {model_id!r} does not exist")
        hub_args = {k: kwargs.pop(k, None) for k in ("revision", "cache_dir", "token")}
        hub_args["force_download"] = kwargs.pop("force_download", False)
        hub_args["local_files_only"] = kwargs.pop("local_files_only", False)
        try:
            # Not ModelHubMixin.from_pretrained: it parses config.json itself, with raw JSON
            # errors; _from_pretrained reads and checks it through RecognizerConfig.
            return cls._from_pretrained(model_id=model_id, **hub_args, **kwargs)
        except (HfHubHTTPError, LocalEntryNotFoundError, EntryNotFoundError, OfflineModeIsEnabled,
                HFValidationError) as exc:
            raise _hub_error(model_id, exc) from None

    @classmethod
    def _from_pretrained(
        cls,
        *,
        model_id: str,
        revision: str | None,
        cache_dir: str | Path | None,
        force_download: bool,
        local_files_only: bool,
        token: str | bool | None,
        model_file: str | None = None,
        **kwargs: Any,
    ) -> "Recognizer":
        if os.path.isdir(model_id):
            return cls(model_id, model_file=model_file, **kwargs)
        download = dict(
            repo_id=model_id, revision=revision, cache_dir=cache_dir, force_download=force_download,
            local_files_only=local_files_only, token=token,
        )
        config_path = hf_hub_download(filename=CONFIG_NAME, **download)
        config = RecognizerConfig.load(config_path)
        hf_hub_download(filename=model_file or config.onnx_file, **download)
        return cls(Path(config_path).parent, model_file=model_file, **kwargs)

    def _save_pretrained(self, save_directory: Path) -> None:
        """Write the inference files: config.json, the ONNX model and the model card."""
        save_directory = Path(save_directory)
        # the config must name the ONNX file actually saved (e.g. model.int8.onnx)
        dataclasses.replace(self.config, onnx_file=self.model_file).save(save_directory)
        atomic_write_bytes(save_directory / self.model_file, self.onnx_path.read_bytes())
        card = self.model_dir / MODEL_CARD_NAME
        if card.is_file() and card.resolve() != (save_directory / MODEL_CARD_NAME).resolve():
            shutil.copyfile(card, save_directory / MODEL_CARD_NAME)

    # ------------------------------------------------------------------ inference
    @property
    def vocab(self) -> str:
        return self.config.vocab

    def __repr__(self) -> str:
        return (f"Recognizer({str(self.onnx_path)!r}, architecture={self.config.architecture!r}, "
                f"input={self.config.height}x{self.config.width}x{self.config.channels})")

    def predict_probs(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """Run the ONNX graph on preprocessed ``(H, W, C)`` uint8 images of one size (the
        model's width, or ``long_crop_width`` for long crops) -> ``(N, T, V+1)``."""
        if len(images) == 0:
            raise ValueError("empty batch: no images given")
        shapes = sorted({tuple(np.shape(im)) for im in images})
        if len(shapes) > 1:
            raise ValueError(f"predict_probs needs images of one size, got {shapes}: "
                             "run each input width separately (Recognizer.__call__ does)")
        batch = to_model_input(images)
        return self.session.run([self.config.output_name], {self.config.input_name: batch})[0]

    def encode_lexicon(self, words: Iterable[str]) -> LexiconIndex:
        """Encode a word list for lexicon decoding; words with characters outside the
        vocabulary can never be read and are left out (with a warning)."""
        return encode_lexicon(self.charset, words)

    def __call__(
        self,
        images: ImageInput | Sequence[ImageInput],
        *,
        batch_size: int = 64,
        decoder: str = "greedy",
        beam_width: int = 10,
        lexicon: Iterable[str] | LexiconIndex | None = None,
        return_probs: bool = False,
        rotate_tall: bool = True,
        recheck: float = DEFAULT_RECHECK,
        num_workers: int | None = None,
    ) -> Prediction | list[Prediction]:
        """Read one image (-> :class:`Prediction`) or a list/tuple of images (-> list).

        Args:
            batch_size: images per ONNX Runtime call.
            decoder: ``"greedy"`` (best path) or ``"beam"`` (prefix beam search).
            beam_width: beams kept by the beam decoder.
            lexicon: allowed words; implies beam search restricted to them.
            return_probs: attach the per-time-step probabilities to each prediction.
            rotate_tall: a crop at least 1.5 times as tall as wide may hold vertical text (signs
                and spines, as in ICDAR 2015): it is also read turned 90 degrees each way, and
                the most confident of the three readings wins (as PaddleOCR turns tall crops).
            recheck: an upright reading less confident than this (best-path confidence, 0-1)
                is read a second time with 8% of the crop's height trimmed off its top and off
                its bottom, and of the two texts the one both readings make likelier wins (as
                EasyOCR reads low-contrast crops twice). Photographed words often come with a margin of
                background that the network reads worse than a tight crop. 0 turns it off; each
                second look costs one more network run for that crop.
            num_workers: threads that load and preprocess the next batches of a list, and
                post-process the last one, while the model reads the current one (default: the
                CPUs this process may use, at most 4; 0: everything in the calling thread).
                Results come in input order; a bad image raises the same error, for the first
                bad image in order, either way. PIL images are loaded in the calling thread.

        A crop with no text (blank or near-blank) reads as empty text with the warning
        ``"No text found in this image."``.
        """
        single = not isinstance(images, (list, tuple))
        batch = [images] if single else list(images)
        if not batch:
            raise ValueError("empty batch: no images given")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}")
        workers = default_workers() if num_workers is None else check_workers(num_workers)
        recheck = check_recheck(recheck)
        post = CTCPostProcessor(self.charset, decoder, beam_width, lexicon)  # checks the decoder
        prepare = functools.partial(self.preprocess, rotate_tall=rotate_tall, recheck=recheck > 0)
        infer = functools.partial(self._infer, batch_size=batch_size, recheck=recheck, post=post)
        results: list[Prediction] = []
        if workers == 0 or len(batch) == 1:
            for chunk in chunked_map(prepare, batch, batch_size):
                results.extend(self._finish(chunk, infer(chunk), post, return_probs))
            return results[0] if single else results
        # worker threads load and preprocess the next chunks and post-process the last one
        # while this thread runs the model: ONNX Runtime, OpenCV and Pillow release the GIL
        finishing: deque[Future] = deque()
        with ThreadPoolExecutor(workers, thread_name_prefix=THREAD_NAME) as pool:
            try:
                chunks = chunked_map(prepare, batch, batch_size, pool=pool, in_caller=_load_in_caller)
                with contextlib.closing(chunks):
                    for chunk in chunks:
                        inferred = infer(chunk)
                        finishing.append(pool.submit(self._finish, chunk, inferred, post, return_probs))
                        while finishing and (finishing[0].done() or len(finishing) > PREFETCH_CHUNKS):
                            results.extend(finishing.popleft().result())
                while finishing:
                    results.extend(finishing.popleft().result())
            finally:
                pool.shutdown(wait=True, cancel_futures=True)
        return results[0] if single else results

    def preprocess(self, image: ImageInput, rotate_tall: bool = True,
                   recheck: bool = True) -> PreparedInput:
        """The pre-processor: one input -> :class:`PreparedInput`, the model-ready image of each
        reading to try (upright, and for a tall crop with ``rotate_tall`` also turned 90 degrees
        each way), with ``recheck`` the upright crop trimmed for a second look, and the input's
        layout warning (several lines, a very large image)."""
        array = load_array(image)
        readings = [(0, prepare_array(array, self.config))]
        if rotate_tall and array.shape[0] >= TALL_RATIO * array.shape[1]:
            for rotation in (90, 270):
                turned = np.ascontiguousarray(np.rot90(array, rotation // 90))
                readings.append((rotation, prepare_array(turned, self.config, array.shape[:2])))
        no_text = has_no_text(readings[0][1])
        trimmed = trim_rows(array) if recheck and not no_text else None
        if trimmed is not None and array.nbytes > LAZY_TRIM_BYTES:
            trimmed = prepare_array(trimmed, self.config, array.shape[:2])
        return PreparedInput(readings, layout_warning(array), no_text, trimmed, array.shape[:2])

    def _run_parts(self, candidates: list[tuple], batch_size: int) -> list[tuple[list, np.ndarray]]:
        """One ONNX Runtime call per input width (long crops are read wider) and batch."""
        parts = [[candidates[i] for i in idx[j:j + batch_size]]
                 for idx in group_by_width([c[2].image for c in candidates]).values()
                 for j in range(0, len(idx), batch_size)]
        return [(part, self.predict_probs([c[2].image for c in part])) for part in parts]

    def _infer(self, chunk: list[PreparedInput], batch_size: int, recheck: float = 0.0,
               post: CTCPostProcessor | None = None) -> list[tuple[list, np.ndarray, list | None]]:
        """The model on pre-processed inputs: ``(part, probabilities, decoded)`` per ONNX Runtime
        call, ``part`` holding ``(index in chunk, rotation, Preprocessed, second look?)`` of each
        row and ``decoded`` the call's :class:`CTCOutput` s where ``post`` has already decoded
        it (else None). With ``recheck``, upright readings whose best-path confidence is below
        it are followed by a call on their trimmed crops."""
        candidates = [(k, rotation, prepped, False) for k, prepared in enumerate(chunk)
                      for rotation, prepped in prepared.readings]
        inferred = [(part, probs, None) for part, probs in self._run_parts(candidates, batch_size)]
        if recheck > 0:
            # best-path confidence, whatever the call decodes with; a greedy call's own decoding
            # is that, and is kept for the post-processor
            reuse = post is not None and post.decoder == "greedy"
            gate = post if reuse else CTCPostProcessor(self.charset)
            again = []
            for i, (part, probs, _) in enumerate(inferred):
                decoded = gate(probs)
                if reuse:
                    inferred[i] = (part, probs, decoded)
                again += [(k, 0, chunk[k].second_look(self.config), True)
                          for (k, rotation, _, _), read in zip(part, decoded)
                          if rotation == 0 and chunk[k].trimmed is not None and read.confidence < recheck]
            if again:
                inferred += [(part, probs, None) for part, probs in self._run_parts(again, batch_size)]
        return inferred

    def _finish(self, chunk: list[PreparedInput], inferred: list[tuple[list, np.ndarray, list | None]],
                post: CTCPostProcessor, return_probs: bool) -> list[Prediction]:
        """Post-processor, boxes and the choice between readings: one :class:`Prediction` each."""
        readings: list[list[Prediction]] = [[] for _ in chunk]
        # recheck: the upright reading's text and probabilities, and the second look's (its
        # Prediction, with boxes, is made only if it wins)
        upright: dict[int, tuple[str, np.ndarray]] = {}
        second_looks: dict[int, tuple[CTCOutput, Preprocessed, np.ndarray]] = {}
        for part, probs, decoded in inferred:
            for (k, rotation, prepped, second), out, p in zip(part, decoded or post(probs), probs):
                if second:  # a second look is only taken of a crop that holds text
                    second_looks[k] = (out, prepped, p)
                    continue
                if chunk[k].no_text:  # only background: whatever the model made of it is noise
                    out = CTCOutput("", float(empty_confidence(p, self.charset.blank_index)),
                                    np.zeros(0), np.zeros((0, 2), dtype=np.int64))
                readings[k].append(self._prediction(out, prepped, p, return_probs, rotation))
                if rotation == 0:
                    upright[k] = (out.text, p)
        results = []
        for k, (prepared, options) in enumerate(zip(chunk, readings)):
            # upright first, as most_confident expects (the width groups may reorder them)
            options = sorted(options, key=lambda p: p.rotation)
            if k in second_looks:
                out, prepped, p = second_looks[k]
                if self._second_look_wins(upright[k], (out.text, p)):
                    options[0] = self._prediction(out, prepped, p, return_probs)
            best = most_confident(options)
            # the layout of a crop read turned is vertical text, not several lines
            layout = prepared.layout_warning if best.rotation == 0 else None
            warning = NO_TEXT_WARNING if prepared.no_text else reading_warning(layout, best.confidence)
            results.append(dataclasses.replace(best, warning=warning) if warning else best)
        return results

    def _second_look_wins(self, first: tuple[str, np.ndarray], second: tuple[str, np.ndarray]) -> bool:
        """Whether recheck's trimmed reading replaces the upright one: of the two texts, the one
        that both readings' probabilities make likelier (the sum of its CTC log-likelihoods
        under each) wins; ties keep the first. Judging each text by both readings keeps a
        second look from winning by dropping an unsure character (a '$' the trim clipped).
        An empty second look never wins: the crop holds text, so the trim cut it off; nor does
        one that only lacks tall glyphs of the first (``$12.99`` -> ``12.99``): the trim clips
        those."""
        (a, probs_a), (b, probs_b) = first, second
        if not b or b == a or b == "".join(c for c in a if c not in TALL_GLYPHS):
            return False
        blank = self.charset.blank_index

        def support(text: str) -> float:
            labels = self.charset.encode(text)
            return ctc_log_likelihood(probs_a, labels, blank) + ctc_log_likelihood(probs_b, labels, blank)

        return support(b) > support(a)

    def _prediction(self, out: CTCOutput, prepped: Preprocessed, probs: np.ndarray,
                    return_probs: bool, rotation: int = 0) -> Prediction:
        boxes = char_boxes(out.spans, probs.shape[0], prepped, self.config, out.text)
        return Prediction(
            text=out.text,
            confidence=out.confidence,
            char_confidences=tuple(np.asarray(out.char_confidences, dtype=np.float64).tolist()),
            char_spans=tuple((int(a), int(b)) for a, b in out.spans.tolist()),
            char_boxes=tuple((round(a, 1), round(b, 1)) for a, b in boxes.tolist()),
            image_size=prepped.original_size,
            probabilities=probs if return_probs else None,
            rotation=rotation,
        )

"""ctc-recognizer demo: read the text in a word image and show where each character sits.

    python app.py            # http://127.0.0.1:7860 (GRADIO_SERVER_NAME / GRADIO_SERVER_PORT honoured)

A thin shell over ``ctc_recognizer.Recognizer``: wiring and drawing only. Operator settings,
environment variables read when the app is built (defaults in brackets):
CTC_DEMO_MODELS Hub ids offered besides the bundled model ("org/a,org/b") [none];
CTC_DEMO_ALLOW_LOCAL=1 local model folders too [off]; CTC_DEMO_HUB_TIMEOUT seconds [5];
CTC_DEMO_MAX_FILE_MB [10]; CTC_DEMO_MAX_BATCH_FILES [50]; CTC_DEMO_DELETE_CACHE "frequency,age"
seconds or "off" [300,900]; CTC_DEMO_MAX_BATCH images per shared model call [32];
CTC_DEMO_QUEUE_SIZE waiting requests [256]; CTC_DEMO_SESSIONS sessions kept in memory [500];
CTC_DEMO_ORT_ARENA=1 ONNX Runtime's memory arena [off: memory stays flat over a long run].
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import csv
import functools
import io
import logging
import os
import queue
import re
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import gradio as gr
import numpy as np
import onnxruntime as ort
from PIL import Image, ImageDraw, ImageFont

from ctc_recognizer import Prediction, Recognizer, RecognizerError
from ctc_recognizer.files import atomic_write_text
from ctc_recognizer.preprocessing import MAX_IMAGE_PIXELS, decode_image, to_rgb_uint8

# Pillow refuses what we refuse (it raises above twice this): a huge image is a message, not a gigabyte
Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS

logger = logging.getLogger("ctc_demo")
HERE = Path(__file__).resolve().parent
EXAMPLES_DIR = HERE / "examples"
DEFAULT_MODEL = "default (bundled)"
USER_ERRORS = (RecognizerError, FileNotFoundError, ValueError)
BOX_COLORS = [(230, 25, 75), (60, 180, 75), (0, 130, 200), (245, 130, 48), (145, 30, 180), (0, 128, 128)]
CSV_DIR = Path(os.environ.get("GRADIO_TEMP_DIR") or tempfile.gettempdir()) / "ctc_demo_csv"


@dataclass(frozen=True)
class Settings:
    models: tuple[str, ...] = ()
    allow_local: bool = False
    hub_timeout: float = 5.0
    max_file_mb: float = 10.0
    max_batch_files: int = 50
    delete_cache: tuple[int, int] | None = (300, 900)
    max_batch: int = 32
    queue_size: int = 256
    sessions: int = 500

    @classmethod
    def from_env(cls, env=os.environ) -> "Settings":
        def number(field: str, low: float = 1):  # CTC_DEMO_<FIELD>, of the field's type and default
            name, default = f"CTC_DEMO_{field.upper()}", getattr(cls, field)
            raw = env.get(name, "").strip()
            with contextlib.suppress(ValueError):
                if (value := type(default)(raw) if raw else default) >= low:
                    return value
            raise SystemExit(f"{name}={raw!r}: expected a number >= {low}")

        cache = env.get("CTC_DEMO_DELETE_CACHE", "300,900").strip().lower()
        try:
            delete_cache = None if cache in ("off", "0", "none") else tuple(int(v) for v in cache.split(","))
            assert delete_cache is None or (len(delete_cache) == 2 and min(delete_cache) > 0)
        except (ValueError, AssertionError):
            raise SystemExit(f"CTC_DEMO_DELETE_CACHE={cache!r}: expected 'frequency,age' in seconds or 'off'") from None
        return cls(models=tuple(m.strip() for m in env.get("CTC_DEMO_MODELS", "").split(",") if m.strip()),
                   allow_local=env.get("CTC_DEMO_ALLOW_LOCAL", "").strip().lower() in ("1", "true", "yes", "on"),
                   hub_timeout=number("hub_timeout", 0.1), max_file_mb=number("max_file_mb", 0.001),
                   max_batch_files=number("max_batch_files"), max_batch=number("max_batch"),
                   queue_size=number("queue_size"), sessions=number("sessions"), delete_cache=delete_cache)


# ------------------------------------------------------------------ models
@functools.lru_cache(maxsize=4)
def _load(model_id: str | None, cached_only: bool = False) -> Recognizer:
    opts = ort.SessionOptions()  # arena off: RSS stays flat over a long run (bench/soak.py); CTC_DEMO_ORT_ARENA=1 on
    opts.enable_cpu_mem_arena = os.environ.get("CTC_DEMO_ORT_ARENA", "").strip().lower() in ("1", "true", "yes", "on")
    return Recognizer.from_pretrained(model_id, session_options=opts, **({"local_files_only": True} if cached_only else {}))


def _load_hub(model_id: str, timeout: float) -> Recognizer:
    """A Hub model: from the local cache if it is there, else after one quick look at the Hub (the
    download itself retries for half a minute on a dead network)."""
    from huggingface_hub import HfApi
    from huggingface_hub.errors import OfflineModeIsEnabled, RepositoryNotFoundError

    with contextlib.suppress(*USER_ERRORS):
        return _load(model_id, cached_only=True)
    try:
        HfApi().model_info(model_id, timeout=timeout)
    except RepositoryNotFoundError:
        raise gr.Error(f"Model {model_id!r}: no such public model on the Hugging Face Hub.") from None
    except OfflineModeIsEnabled:
        raise gr.Error(f"Model {model_id!r} is not in this server's cache and HF_HUB_OFFLINE is set.") from None
    except Exception as exc:  # noqa: BLE001 - any network failure: say so, briefly
        logger.warning("Hub look-up of %s failed: %s: %s", model_id, type(exc).__name__, exc)
        raise gr.Error(f"Model {model_id!r}: the Hugging Face Hub could not be reached from this server "
                       f"({type(exc).__name__}); try again later or use the bundled model.") from None
    try:
        return _load(model_id)
    except USER_ERRORS as exc:
        raise gr.Error(f"Model {model_id!r} could not be loaded: {_clean(str(exc))}") from None


def load_model(model_id: str | None, settings: Settings) -> Recognizer:
    """The bundled model, an allow-listed Hub id or (if the operator allows it) a local folder;
    anything else is refused without saying what exists on this server."""
    model_id = (model_id or "").strip() or DEFAULT_MODEL
    if model_id == DEFAULT_MODEL:
        return _load(None)
    if model_id in settings.models:
        return _load_hub(model_id, settings.hub_timeout)
    if settings.allow_local and Path(model_id).expanduser().is_dir():
        try:
            return _load(model_id)
        except USER_ERRORS as exc:
            raise gr.Error(f"Model folder {model_id!r} could not be loaded: {exc}") from None
    offered = ", ".join(repr(m) for m in (DEFAULT_MODEL, *settings.models))
    local = " or a local model folder" if settings.allow_local else ""
    raise gr.Error(f"Model {model_id!r} is not offered by this demo; choose {offered}{local}.")


# ------------------------------------------------------------------ inputs
def _clean(message: str) -> str:
    """A library message without object addresses or server paths."""
    message = re.sub(r"<[^<>]* at 0x[0-9a-fA-F]+>", "the data", message)
    return re.sub(r"(/[\w.@+-]+)+/([\w.@+ -]+)", r"\2", message)


def read_upload(upload) -> tuple[np.ndarray, str]:
    """An uploaded file (path, FileData or its dict) decoded by the library (which checks the
    pixel count before decoding) -> (array, the visitor's file name)."""
    path = upload.get("path") if isinstance(upload, dict) else getattr(upload, "path", upload)
    if not path:
        raise gr.Error("No image: upload, paste or capture a word image first.")
    name = (upload.get("orig_name") if isinstance(upload, dict) else None) or Path(str(path)).name
    try:
        data = Path(path).read_bytes()
    except OSError:
        raise gr.Error(f"{name!r} could not be read on the server; upload it again.") from None
    try:
        return decode_image(data, what=repr(name)), name
    except USER_ERRORS as exc:
        raise gr.Error(_clean(str(exc))) from None


class Batcher:
    """Visitors' images read together: each caller decodes its own image (its errors stay its
    own), then waits while one thread reads up to ``max_batch`` waiting images in one call."""

    def __init__(self, max_batch: int, wait_s: float = 0.005):
        self.max_batch, self.wait_s = max_batch, wait_s
        self.jobs: queue.Queue = queue.Queue()
        threading.Thread(target=self._loop, name="ctc-batcher", daemon=True).start()

    def __call__(self, rec: Recognizer, array: np.ndarray) -> Prediction:
        done: concurrent.futures.Future = concurrent.futures.Future()
        self.jobs.put((rec, array, done))
        return done.result()

    def _loop(self) -> None:
        while True:
            jobs, deadline = [self.jobs.get()], time.monotonic() + self.wait_s
            with contextlib.suppress(queue.Empty):
                while len(jobs) < self.max_batch:
                    jobs.append(self.jobs.get(timeout=max(0.0, deadline - time.monotonic())))
            for rec in {id(j[0]): j[0] for j in jobs}.values():
                mine = [j for j in jobs if j[0] is rec]
                try:
                    preds = rec([j[1] for j in mine], batch_size=self.max_batch)
                except Exception:  # noqa: BLE001 - one bad image: read them one by one
                    preds = None
                for k, (_, array, done) in enumerate(mine):
                    try:
                        done.set_result(preds[k] if preds is not None else rec(array))
                    except Exception as exc:  # noqa: BLE001 - handed to the caller
                        done.set_exception(exc)


def sweep_uploads(demo: gr.Blocks, age: float) -> int:
    """Delete this app's uploads older than ``age`` s -> files removed. Gradio's own delete_cache
    iterates sets that uploads change meanwhile (the first RuntimeError stops it for good) and
    never removes the empty tmp* file each upload leaves, nor the emptied folders."""
    kept = set().union(*(getattr(b, "keep_in_cache", set()) for b in demo.blocks.values()))
    now, removed, folder = time.time(), 0, Path(gr.utils.get_upload_folder())
    old = lambda p: now - p.lstat().st_ctime > age  # noqa: E731
    for files in list(demo.temp_file_sets):
        for f in list(files):
            with contextlib.suppress(OSError):
                if f not in kept and old(Path(f)):
                    os.remove(f)
                    removed += 1
            if not os.path.exists(f):
                files.discard(f)
    for p in folder.iterdir() if folder.is_dir() else ():
        with contextlib.suppress(OSError):
            if p.name.startswith("tmp") and p.is_file() and p.stat().st_size == 0 and old(p):
                p.unlink()
                removed += 1
            elif p.is_dir() and old(p) and not any(p.iterdir()):
                p.rmdir()
    return removed


def _sweeper(demo: gr.Blocks, frequency: int, age: int) -> None:
    while not time.sleep(frequency):
        try:
            sweep_uploads(demo, age)
        except Exception:  # noqa: BLE001 - log and keep sweeping
            logger.exception("cleaning the upload folder failed")


# ------------------------------------------------------------------ drawing
@functools.lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.ImageFont:
    path = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
    return ImageFont.truetype(path, size) if os.path.isfile(path) else ImageFont.load_default(size)


def draw_boxes(image: np.ndarray, pred: Prediction, height: int = 120) -> np.ndarray:
    """The input (turned as it was read), scaled to ``height``, with one coloured box and label
    per character."""
    img = Image.fromarray(np.ascontiguousarray(np.rot90(np.asarray(image), pred.rotation // 90))).convert("RGB")
    width = max(1, min(1600, round(img.width * height / img.height)))
    sx = width / img.width
    canvas = Image.new("RGB", (width, height + 28), "white")
    canvas.paste(img.resize((width, height)), (0, 28))
    draw, font = ImageDraw.Draw(canvas), _font(18)
    centers = [(x0 + x1) / 2 * sx for x0, x1 in pred.char_boxes]
    overlay = Image.new("RGBA", canvas.size, (0, 0, 0, 0))
    shade = ImageDraw.Draw(overlay)
    for i, (ch, (x0, x1)) in enumerate(zip(pred.text, pred.char_boxes)):
        color = BOX_COLORS[i % len(BOX_COLORS)]
        # the cell between the midpoints to the neighbours' emission points...
        half = (centers[i + 1] - centers[i]) / 2 if i + 1 < len(centers) else None
        left = (centers[i - 1] + centers[i]) / 2 if i else centers[i] - (half or 8)
        right = centers[i] + half if half is not None else centers[i] + (centers[i] - left)
        draw.rectangle([max(0, left), 29, min(width - 1, right), height + 26], outline=color, width=2)
        draw.text((centers[i], 14), ch if ch != " " else "␣", fill=color, font=font, anchor="mm")
        # ...and, shaded, the time steps at which the model emitted the character
        shade.rectangle([x0 * sx, 29, max(x0 * sx + 2, x1 * sx), height + 26], fill=(*color, 70))
    return np.asarray(Image.alpha_composite(canvas.convert("RGBA"), overlay).convert("RGB"))


def draw_probabilities(pred: Prediction, blank: int, vocab: str, cell: int = 22, height: int = 140) -> np.ndarray:
    """Per-time-step chart: bar = probability of a character (not blank), label = the most likely one."""
    probs = pred.probabilities
    canvas = Image.new("RGB", (probs.shape[0] * cell, height + 40), "white")
    draw, font, best = ImageDraw.Draw(canvas), _font(14), probs.argmax(-1)
    for t in range(probs.shape[0]):
        x, bar = t * cell, int((1.0 - float(probs[t, blank])) * height)
        draw.rectangle([x + 2, height - bar + 20, x + cell - 2, height + 20],
                       fill=(0, 130, 200) if best[t] != blank else (200, 200, 200))
        if best[t] != blank:
            draw.text((x + cell / 2, 10), vocab[best[t]], fill="black", font=font, anchor="mm")
        if t % 4 == 0:
            draw.text((x + 2, height + 24), str(t), fill=(120, 120, 120), font=_font(11))
    return np.asarray(canvas)


# ------------------------------------------------------------------ handlers
def _hint(pred: Prediction) -> str:
    return f"⚠️ {pred.warning}" if getattr(pred, "warning", None) else ""


def analyze(settings: Settings, image, decoder, beam_width, lexicon_text, model_id):
    """Everything the UI shows for one image: text, confidence, (character, confidence) pairs,
    the boxes drawing, the probability chart and a hint (empty unless the reading looks doubtful)."""
    rec = load_model(model_id, settings)
    array, _ = read_upload(image)
    try:
        lexicon = (lexicon_text or "").replace(",", " ").split() or None
        pred = rec(array, decoder=decoder, beam_width=int(beam_width), lexicon=lexicon, return_probs=True)
    except USER_ERRORS as exc:
        raise gr.Error(_clean(str(exc))) from None
    chars = [(ch, round(c, 3)) for ch, c in zip(pred.text, pred.char_confidences)]
    boxes = draw_boxes(to_rgb_uint8(array), pred)
    chart = draw_probabilities(pred, rec.charset.blank_index, rec.vocab)
    return pred.text or "(no text found)", round(pred.confidence, 4), chars, boxes, chart, _hint(pred)


def analyze_shown(settings: Settings, image, *args):
    """The image changed (upload, example, clear): read it, or leave the results cleared."""
    return analyze(settings, image, *args) if image is not None else ("", None, None, None, None, "")


def predict(settings: Settings, batcher: Batcher, image_file, model_id: str = DEFAULT_MODEL):
    """API: an image file -> (text, confidence). Calls that arrive together share one model call."""
    rec = load_model(model_id, settings)
    array, _ = read_upload(image_file)
    try:
        pred = batcher(rec, array)
    except USER_ERRORS as exc:
        raise gr.Error(_clean(str(exc))) from None
    return pred.text, round(pred.confidence, 4)


def write_csv(rows: list[list]) -> str:
    """The batch table as a CSV, written atomically (a killed server leaves no half-written file);
    CSVs older than an hour are removed."""
    CSV_DIR.mkdir(exist_ok=True)
    for old in CSV_DIR.iterdir():
        with contextlib.suppress(OSError):
            if time.time() - old.stat().st_mtime > 3600:
                old.unlink()
    buf, out = io.StringIO(), CSV_DIR / f"predictions-{uuid.uuid4().hex[:12]}.csv"
    csv.writer(buf).writerows([["file", "text", "confidence"], *rows])
    atomic_write_text(out, buf.getvalue())
    return str(out)


def batch_read(settings: Settings, files, model_id):
    """Several files -> table (file, text, confidence) and a CSV to download."""
    if not files:
        raise gr.Error("No files: choose one or more word images.")
    if len(files) > settings.max_batch_files:
        raise gr.Error(f"{len(files)} files: at most {settings.max_batch_files} can be read at once.")
    rec = load_model(model_id, settings)
    rows, arrays = [], []
    for f in files:
        try:
            array, name = read_upload(f)
            arrays.append((len(rows), array))
            rows.append([name, "", 0.0])
        except gr.Error as exc:
            rows.append([Path(str(getattr(f, "path", f))).name, f"ERROR: {exc.message}", 0.0])
    if arrays:
        for (i, _), pred in zip(arrays, rec([a for _, a in arrays])):
            rows[i][1:] = [pred.text, round(pred.confidence, 4)]
    return rows, write_csv(rows)


def api_snippet(url: str | None = None) -> str:
    url = url or f"http://127.0.0.1:{os.environ.get('GRADIO_SERVER_PORT', '7860')}/"
    return ("```python\nfrom gradio_client import Client, handle_file\n"
            f"client = Client({url!r})\n"
            "text, confidence = client.predict(handle_file(\"word.png\"), api_name=\"/predict\")\n```")


def api_snippet_for(request: gr.Request) -> str:
    """The snippet with the address this page was loaded from (behind a proxy: the forwarded one)."""
    headers = getattr(request, "headers", None) or {}
    host = headers.get("x-forwarded-host") or headers.get("host")
    starlette = getattr(request, "request", None)
    proto = headers.get("x-forwarded-proto") or (starlette.url.scheme if starlette is not None else "http")
    return api_snippet(f"{proto}://{host}/" if host else None)


CSS = """
#text textarea {font-size: 2.2em !important; font-weight: 600}
#hint {color: #b45309; font-weight: 600}
.gradio-container {padding-top: 4px !important}
"""


def build_demo(settings: Settings | None = None) -> gr.Blocks:
    settings = settings or Settings.from_env()
    batcher = Batcher(settings.max_batch)
    private = dict(api_visibility="private")
    with gr.Blocks(title="ctc-recognizer: word image to text", delete_cache=settings.delete_cache) as demo:
        gr.Markdown("**ctc-recognizer** reads the text in a cropped word image (CNN + BiLSTM + CTC, "
                    "ONNX Runtime); each character's place comes from the CTC alignment.")
        with gr.Row():
            model_id = gr.Dropdown([DEFAULT_MODEL, *settings.models], value=DEFAULT_MODEL, label="Model", scale=3,
                                   allow_custom_value=settings.allow_local)
            decoder = gr.Radio(["greedy", "beam"], value="greedy", label="Decoder", scale=1)
            beam_width = gr.Slider(1, 32, value=10, step=1, label="Beam width", scale=1, visible=False)
        decoder.change(lambda d: gr.update(visible=d == "beam"), decoder, beam_width, **private)
        with gr.Tab("Read one image"):
            with gr.Row():
                with gr.Column():
                    image = gr.Image(type="filepath", sources=["upload", "clipboard", "webcam"],
                                     label="Word image", height=150)
                    examples = sorted(str(p) for p in EXAMPLES_DIR.glob("*.png"))
                    if examples:
                        gr.Examples(examples, inputs=image, label="Examples (click one)", examples_per_page=8)
                    lexicon = gr.Textbox(label="Lexicon (optional): allowed words, separated by spaces or commas")
                    run = gr.Button("Read", variant="primary")
                with gr.Column():
                    text = gr.Textbox(label="Text", elem_id="text", interactive=False)
                    hint = gr.Markdown(elem_id="hint")
                    confidence = gr.Number(None, label="Confidence", interactive=False, visible=False)
                    chars = gr.HighlightedText(label="Characters (the stronger the colour, the surer)",
                                               show_inline_category=False)
            gr.Markdown("Where each character sits (shaded: the time steps it was emitted at), and the "
                        "per-time-step probability of a character (grey: blank wins):")
            boxes = gr.Image(show_label=False, interactive=False)
            chart = gr.Image(show_label=False, interactive=False)
            inputs = [image, decoder, beam_width, lexicon, model_id]
            outputs = [text, confidence, chars, boxes, chart, hint]
            # preprocess=False: the upload reaches our reader as a file, bad files get our message
            # Gradio's Number shows 0 when empty: the confidence is hidden until there is a reading
            shown = dict(fn=lambda img: gr.update(visible=img is not None), inputs=image, outputs=confidence,
                         queue=False, preprocess=False, **private)
            run.click(functools.partial(analyze, settings), inputs, outputs, api_name="analyze",
                      preprocess=False).success(**shown)
            # a new image first clears the old reading, so it never stays next to the new image
            cleared = ("", gr.update(value=None, visible=False), None, None, None, "")
            image.change(lambda: cleared, None, outputs, queue=False, **private).then(
                functools.partial(analyze_shown, settings), inputs, outputs, preprocess=False, **private
            ).success(**shown)
        with gr.Tab("Batch"):
            files = gr.File(file_count="multiple", file_types=["image"],
                            label=f"Word images (up to {settings.max_batch_files})")
            run_batch = gr.Button("Read all", variant="primary")
            table = gr.Dataframe(headers=["file", "text", "confidence"], label="Results", interactive=False)
            csv_file = gr.File(label="Download CSV")
            run_batch.click(functools.partial(batch_read, settings), [files, model_id], [table, csv_file],
                            api_name="batch")
        with gr.Tab("API"):
            snippet = gr.Markdown(api_snippet())
            api_file = gr.File(label="Image file", file_types=["image"])
            api_text, api_conf = gr.Textbox(label="Text"), gr.Number(None, label="Confidence")
            gr.Button("Predict").click(functools.partial(predict, settings, batcher), [api_file, model_id],
                                       [api_text, api_conf], api_name="predict",
                                       concurrency_limit=2 * settings.max_batch)
        demo.load(api_snippet_for, None, snippet, **private)
    demo.queue(default_concurrency_limit=4, max_size=settings.queue_size)
    demo.ctc_settings = settings
    if settings.delete_cache:
        threading.Thread(target=_sweeper, args=(demo, *settings.delete_cache), daemon=True).start()
    return demo


def launch(demo: gr.Blocks, **kwargs):
    """``demo.launch`` with the operator's limits (the tests launch through this too)."""
    s: Settings = demo.ctc_settings
    return demo.launch(css=CSS, max_file_size=int(s.max_file_mb * 1024 * 1024), max_threads=4 * s.max_batch + 16,
                       state_session_capacity=s.sessions, **{"show_error": True, **kwargs})


demo = build_demo()

if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    launch(demo)

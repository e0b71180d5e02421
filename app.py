"""ctc-recognizer demo: read the text in a word image and show where each character sits.

    python app.py            # http://127.0.0.1:7860 (GRADIO_SERVER_NAME / GRADIO_SERVER_PORT honoured)

A thin shell over ``ctc_recognizer.Recognizer``: wiring and drawing only.
"""

from __future__ import annotations

import csv
import functools
import os
import tempfile
from pathlib import Path

import gradio as gr
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ctc_recognizer import Prediction, Recognizer, RecognizerError
from ctc_recognizer.preprocessing import MAX_IMAGE_PIXELS, read_image, to_rgb_uint8

# Gradio decodes uploads with Pillow before our code runs: make Pillow refuse what we refuse
# (it raises above twice this), so a huge upload is a message, not a gigabyte of memory.
Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS

HERE = Path(__file__).resolve().parent
EXAMPLES_DIR = HERE / "examples"
DEFAULT_MODEL = "default (bundled)"
USER_ERRORS = (RecognizerError, FileNotFoundError, ValueError)
BOX_COLORS = [(230, 25, 75), (60, 180, 75), (0, 130, 200), (245, 130, 48), (145, 30, 180), (0, 128, 128)]


@functools.lru_cache(maxsize=4)
def load_model(model_id: str) -> Recognizer:
    """Load (once) the bundled model, a local folder or a Hub id."""
    model_id = (model_id or "").strip()
    return Recognizer.from_pretrained(None if model_id in ("", DEFAULT_MODEL) else model_id)


def _model_or_error(model_id: str) -> Recognizer:
    try:
        return load_model(model_id)
    except USER_ERRORS as exc:
        raise gr.Error(f"Could not load model {model_id!r}: {exc}") from None


def _lexicon(text: str | None) -> list[str] | None:
    words = (text or "").replace(",", " ").split()
    return words or None


def _read(rec: Recognizer, image, decoder: str = "greedy", beam_width: int = 10,
          lexicon: list[str] | None = None, return_probs: bool = False) -> Prediction:
    if image is None:
        raise gr.Error("No image: upload, paste or capture a word image first.")
    try:
        return rec(image, decoder=decoder, beam_width=int(beam_width), lexicon=lexicon,
                   return_probs=return_probs)
    except USER_ERRORS as exc:
        raise gr.Error(str(exc)) from None


def _font(size: int) -> ImageFont.ImageFont:
    for path in ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",):
        if os.path.isfile(path):
            return ImageFont.truetype(path, size)
    return ImageFont.load_default(size)


def draw_boxes(image: np.ndarray, pred: Prediction, height: int = 120) -> np.ndarray:
    """The input (turned as it was read), scaled to ``height``, with one coloured box and label
    per character."""
    image = np.asarray(image)
    if pred.rotation:
        image = np.ascontiguousarray(np.rot90(image, pred.rotation // 90))
    img = Image.fromarray(image).convert("RGB")
    read_width = img.width
    scale = height / img.height
    width = max(1, min(1600, round(img.width * scale)))
    img = img.resize((width, height))
    canvas = Image.new("RGB", (width, height + 28), "white")
    canvas.paste(img, (0, 28))
    draw = ImageDraw.Draw(canvas)
    font = _font(18)
    sx = width / read_width
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
    canvas = Image.alpha_composite(canvas.convert("RGBA"), overlay).convert("RGB")
    return np.asarray(canvas)


def draw_probabilities(pred: Prediction, blank: int, vocab: str, cell: int = 22, height: int = 140) -> np.ndarray:
    """Per-time-step chart: bar = probability of a character (not blank), label = the most likely one."""
    probs = pred.probabilities
    steps = probs.shape[0]
    width = steps * cell
    canvas = Image.new("RGB", (width, height + 40), "white")
    draw = ImageDraw.Draw(canvas)
    font = _font(14)
    best = probs.argmax(-1)
    for t in range(steps):
        p_char = 1.0 - float(probs[t, blank])
        x = t * cell
        bar = int(p_char * height)
        draw.rectangle([x + 2, height - bar + 20, x + cell - 2, height + 20],
                       fill=(0, 130, 200) if best[t] != blank else (200, 200, 200))
        if best[t] != blank:
            draw.text((x + cell / 2, 10), vocab[best[t]], fill="black", font=font, anchor="mm")
        if t % 4 == 0:
            draw.text((x + 2, height + 24), str(t), fill=(120, 120, 120), font=_font(11))
    return np.asarray(canvas)


def analyze(image, decoder, beam_width, lexicon_text, model_id):
    """Everything the UI shows for one image."""
    rec = _model_or_error(model_id)
    pred = _read(rec, image, decoder, beam_width, _lexicon(lexicon_text), return_probs=True)
    chars = [(ch, "≥ 90%" if c >= 0.9 else "60-90%" if c >= 0.6 else "< 60%")
             for ch, c in zip(pred.text, pred.char_confidences)]
    boxes = draw_boxes(to_rgb_uint8(read_image(image)), pred)
    chart = draw_probabilities(pred, rec.charset.blank_index, rec.vocab)
    text = pred.text if pred.text else "(no text found)"
    return text, round(pred.confidence, 4), chars, boxes, chart


def predict(image_file, model_id: str = DEFAULT_MODEL):
    """API: an image file -> (text, confidence)."""
    rec = _model_or_error(model_id)
    path = getattr(image_file, "path", image_file)
    pred = _read(rec, path)
    return pred.text, round(pred.confidence, 4)


def batch_read(files, model_id):
    """Several files -> table (file, text, confidence) and a CSV to download."""
    if not files:
        raise gr.Error("No files: choose one or more word images.")
    rec = _model_or_error(model_id)
    rows = []
    for f in files:
        path = getattr(f, "path", f)
        name = Path(str(path)).name
        try:
            pred = rec(str(path))
            rows.append([name, pred.text, round(pred.confidence, 4)])
        except USER_ERRORS as exc:
            rows.append([name, f"ERROR: {exc}", 0.0])
    out = Path(tempfile.mkdtemp(prefix="ctc_batch_")) / "predictions.csv"
    with open(out, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["file", "text", "confidence"])
        writer.writerows(rows)
    return rows, str(out)


def example_images() -> list[str]:
    return sorted(str(p) for p in EXAMPLES_DIR.glob("*.png")) if EXAMPLES_DIR.is_dir() else []


CSS = "#text textarea {font-size: 2.2em !important; font-weight: 600}"


def build_demo() -> gr.Blocks:
    with gr.Blocks(title="ctc-recognizer: word image to text") as demo:
        gr.Markdown(
            "# ctc-recognizer\nRead the text in a cropped word image (CNN + BiLSTM + CTC, ONNX Runtime). "
            "Upload, paste or capture an image; each character's position comes from the CTC alignment."
        )
        with gr.Row():
            model_id = gr.Textbox(DEFAULT_MODEL, label="Model (bundled default, a Hub id or a local folder)",
                                  scale=3)
            decoder = gr.Radio(["greedy", "beam"], value="greedy", label="Decoder", scale=1)
            beam_width = gr.Slider(1, 32, value=10, step=1, label="Beam width", scale=1)
        with gr.Tab("Read one image"):
            with gr.Row():
                with gr.Column():
                    # PIL with image_mode=None: transparency and 16-bit reach our preprocessing intact
                    image = gr.Image(type="pil", image_mode=None, sources=["upload", "clipboard", "webcam"],
                                     label="Word image")
                    lexicon = gr.Textbox(label="Lexicon (optional): allowed words, separated by spaces or commas",
                                         lines=2)
                    run = gr.Button("Read", variant="primary")
                with gr.Column():
                    text = gr.Textbox(label="Text", elem_id="text", interactive=False)
                    confidence = gr.Number(label="Confidence", interactive=False)
                    chars = gr.HighlightedText(label="Characters by confidence",
                                               color_map={"≥ 90%": "green", "60-90%": "orange", "< 60%": "red"})
            boxes = gr.Image(label="Where each character sits (shaded: the time steps it was emitted at)",
                             interactive=False)
            chart = gr.Image(label="Per-time-step probability of a character (grey: blank wins)",
                             interactive=False)
            examples = example_images()
            if examples:
                gr.Examples(examples, inputs=image, label="Examples (click one)")
            run.click(analyze, [image, decoder, beam_width, lexicon, model_id],
                      [text, confidence, chars, boxes, chart], api_name="analyze")
        with gr.Tab("Batch"):
            files = gr.File(file_count="multiple", file_types=["image"], label="Word images")
            run_batch = gr.Button("Read all", variant="primary")
            table = gr.Dataframe(headers=["file", "text", "confidence"], label="Results", interactive=False)
            csv_file = gr.File(label="Download CSV")
            run_batch.click(batch_read, [files, model_id], [table, csv_file], api_name="batch")
        with gr.Tab("API"):
            gr.Markdown(
                "```python\nfrom gradio_client import Client, handle_file\n"
                "client = Client(\"http://127.0.0.1:7860/\")\n"
                "text, confidence = client.predict(handle_file(\"word.png\"), api_name=\"/predict\")\n```"
            )
            api_file = gr.File(label="Image file", file_types=["image"])
            api_text = gr.Textbox(label="Text")
            api_conf = gr.Number(label="Confidence")
            gr.Button("Predict").click(predict, [api_file, model_id], [api_text, api_conf], api_name="predict")
    demo.queue(default_concurrency_limit=8)
    return demo


demo = build_demo()

if __name__ == "__main__":
    demo.launch(css=CSS, show_error=True)

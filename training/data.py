"""Training data: four sources, one sample interface, one ``tf.data`` pipeline.

Sources (the ``--data`` argument):

* ``synthetic`` - rendered words (:mod:`training.synth`), pre-rendered once into a cache
  (:mod:`training.synth_cache`);
* ``synthetic-clean`` - the same generator without effects: dark text on white at a fixed
  margin, like a screenshot or a scan of print (the held-out-font benchmark's style);
* ``mjsynth:PATH`` - the Synth90k ``90kDICT32px`` layout (``annotation_train.txt`` /
  ``annotation_val.txt`` lines like ``./2911/6/77_heretical_35885.jpg 35885``; the label is
  the part of the file name between the first and the last underscore);
* ``hf:NAME_OR_PATH[:split]`` - any Hugging Face ``datasets`` source with an image column and a
  text column (a Hub name, a saved dataset folder, an ``imagefolder`` folder, or parquet/arrow files);
* ``folder:PATH`` - images plus ``labels.tsv`` (``filename<TAB>text`` per line).

Every image goes through :func:`ctc_recognizer.preprocessing.fit_to_model`, the same code
inference uses.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Collection, Sequence

import numpy as np

from ctc_recognizer.charset import Charset
from ctc_recognizer.config import RecognizerConfig
from ctc_recognizer.errors import UnknownCharacterError
from ctc_recognizer.evaluation import read_labels
from ctc_recognizer.preprocessing import fit_to_model, pil_to_array, read_image, validate_array

logger = logging.getLogger(__name__)

LABEL_PAD = -1
IMAGE_EXTS = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".gif"}


# ---------------------------------------------------------------------------- sample sets
class SampleSet:
    """A sized collection of ``(raw image array, text)`` samples."""

    name = "samples"
    texts: list[str]

    def __len__(self) -> int:
        return len(self.texts)

    def load(self, i: int) -> np.ndarray:
        raise NotImplementedError

    def subset(self, indices: Sequence[int]) -> "SampleSet":
        return _Subset(self, list(indices))


class _Subset(SampleSet):
    def __init__(self, base: SampleSet, indices: list[int]):
        self.base, self.indices, self.name = base, indices, base.name
        self.texts = [base.texts[i] for i in indices]

    def load(self, i: int) -> np.ndarray:
        return self.base.load(self.indices[i])

    def key(self, i: int) -> str:
        return sample_key(self.base, self.indices[i])


def sample_key(samples: SampleSet, i: int) -> str:
    if isinstance(samples, _Subset):
        return samples.key(i)
    if isinstance(samples, FileSampleSet):
        return str(samples.paths[i])
    return f"{samples.name}:{i}"


class FileSampleSet(SampleSet):
    def __init__(self, paths: Sequence[str | os.PathLike], texts: Sequence[str], name: str):
        self.paths, self.texts, self.name = [Path(p) for p in paths], list(texts), name

    def load(self, i: int) -> np.ndarray:
        return read_image(self.paths[i])


class ArraySampleSet(SampleSet):
    """Images already in memory (for example pre-rendered at model size)."""

    def __init__(self, images: np.ndarray | Sequence[np.ndarray], texts: Sequence[str], name: str):
        self.images, self.texts, self.name = images, list(texts), name

    def load(self, i: int) -> np.ndarray:
        return self.images[i]


class HFSampleSet(SampleSet):
    def __init__(self, dataset, image_column: str, text_column: str, name: str):
        missing = [c for c in (image_column, text_column) if c not in dataset.column_names]
        if missing:
            raise ValueError(
                f"dataset {name!r} has no column(s) {missing}; it has {dataset.column_names} "
                "(choose with --image-column / --text-column)"
            )
        self.dataset, self.image_column, self.name = dataset, image_column, name
        self.texts = [str(t) for t in dataset[text_column]]

    def load(self, i: int) -> np.ndarray:
        image = self.dataset[int(i)][self.image_column]
        if isinstance(image, dict):  # undecoded {"bytes": ..., "path": ...}
            return read_image(image.get("bytes") or image["path"])
        return image if isinstance(image, np.ndarray) else pil_to_array(image)


# ---------------------------------------------------------------------------- readers
def read_labels_tsv(folder: str | os.PathLike) -> FileSampleSet:
    """Images listed in ``folder/labels.tsv`` (``filename<TAB>text``)."""
    paths, texts = read_labels(folder)
    return FileSampleSet(paths, texts, name=Path(folder).name)


def mjsynth_label(relpath: str) -> str:
    """``./2911/6/77_heretical_35885.jpg`` -> ``heretical``."""
    stem = Path(relpath).stem
    parts = stem.split("_")
    if len(parts) < 3:
        raise ValueError(f"MJSynth file name {relpath!r} is not '<n>_<word>_<lexicon index>'")
    return "_".join(parts[1:-1])


def read_mjsynth(root: str | os.PathLike, split: str = "train") -> FileSampleSet:
    root = Path(root)
    ann = root / f"annotation_{split}.txt"
    if not ann.is_file():
        raise FileNotFoundError(f"no {ann.name} in {root} (the MJSynth/Synth90k 90kDICT32px layout)")
    paths, texts = [], []
    with open(ann, encoding="utf-8") as f:
        for n, line in enumerate(f, start=1):
            parts = line.split()
            if not parts:
                continue
            rel = parts[0]
            paths.append(root / (rel[2:] if rel.startswith("./") else rel))
            texts.append(mjsynth_label(rel))
    if not paths:
        raise ValueError(f"{ann} lists no images")
    return FileSampleSet(paths, texts, name=f"mjsynth-{split}")


def read_hf(spec: str, image_column: str = "image", text_column: str = "text") -> HFSampleSet:
    """``NAME_OR_PATH[:split]``: a saved dataset folder, an imagefolder folder, parquet/arrow
    file(s), or a Hub dataset name (cached, since nothing may be downloaded here)."""
    import datasets

    name, _, split = spec.partition(":")
    split = split or "train"
    path = Path(name)
    saved = ("state.json", "dataset_dict.json")
    if path.is_dir() and any((path / f).exists() for f in saved):
        ds = datasets.load_from_disk(str(path))
        if isinstance(ds, datasets.DatasetDict):
            ds = ds[split]
    elif path.is_dir():
        ds = datasets.load_dataset("imagefolder", data_dir=str(path), split=split)
    elif path.suffix in (".parquet", ".arrow"):
        ds = datasets.load_dataset(path.suffix[1:], data_files=str(path), split="train")
    else:
        ds = datasets.load_dataset(name, split=split)
    return HFSampleSet(ds, image_column, text_column, name=f"hf-{path.name or name}")


def parse_data_spec(spec: str, image_column: str = "image", text_column: str = "text",
                    split: str = "train") -> SampleSet | str:
    """Turn a ``--data`` value into a sample set through the source registry
    (:mod:`training.sources`); a rendered source (``synthetic``...) is returned as its spec
    string, for the trainer to render at model size into its cache."""
    from . import sources

    source, _ = sources.parse(spec)
    if source.rendered:
        return spec
    return sources.load(spec, sources.LoadOptions(split=split, image_column=image_column, text_column=text_column))


# ---------------------------------------------------------------------------- labels
def ctc_min_steps(labels: Sequence[int]) -> int:
    """Fewest CTC time steps that can emit ``labels`` (a blank is needed between repeats)."""
    return len(labels) + sum(1 for a, b in zip(labels, labels[1:]) if a == b)


def filter_labels(samples: SampleSet, charset: Charset, unknown: str = "error",
                  max_steps: int | None = None, normalize_case: bool = True) -> SampleSet:
    """Check every label against the vocabulary.

    ``unknown="error"`` raises :class:`UnknownCharacterError` naming the first bad label and
    character; ``"skip"`` leaves such samples out and logs how many. Labels that are empty
    or too long for the model's time steps are always left out (with a count).
    """
    keep, bad, too_long, empty = [], 0, 0, 0
    for i, text in enumerate(samples.texts):
        text = charset.normalize(text) if normalize_case else text
        if not text.strip():
            empty += 1
            continue
        missing = charset.unknown_characters(text)
        if missing:
            if unknown != "skip":
                raise UnknownCharacterError(
                    f"{samples.name}: label {text!r} of sample {sample_key(samples, i)!r} contains "
                    f"{missing!r}, not in the vocabulary (use --unknown-chars skip to leave such samples out)"
                )
            bad += 1
            continue
        if max_steps is not None and ctc_min_steps(charset.encode(text)) > max_steps:
            too_long += 1
            continue
        keep.append(i)
    if bad or too_long or empty:
        logger.warning("%s: skipped %d label(s) with unknown characters, %d too long for %s time steps, %d empty",
                       samples.name, bad, too_long, max_steps, empty)
    sub = samples.subset(keep)
    if normalize_case:
        sub.texts = [charset.normalize(t) for t in sub.texts]
    if not len(sub):
        raise ValueError(f"{samples.name}: no usable samples left after checking the labels")
    return sub


def holdout_split(samples: SampleSet, fraction: float, salt: str = "holdout") -> tuple[SampleSet, SampleSet]:
    """Stable train/validation split by a hash of each sample's key (file name)."""
    train, val = [], []
    for i in range(len(samples)):
        h = int(hashlib.sha1(f"{salt}:{Path(sample_key(samples, i)).name}".encode()).hexdigest(), 16)
        (val if (h % 10_000) < fraction * 10_000 else train).append(i)
    return samples.subset(train), samples.subset(val)


def holdout_key(samples: SampleSet, i: int) -> str:
    """``<folder name>/<file name>`` of a file sample: how holdout lists name samples."""
    path = Path(sample_key(samples, i))
    return f"{path.parent.name}/{path.name}"


#: The project's real test set (scripts/make_holdout_list.py) and where its crops live.
REAL_HOLDOUT_LIST = Path(__file__).resolve().parent / "splits" / "real_holdout.txt"
REAL_VAL_LIST = Path(__file__).resolve().parent / "splits" / "real_val.txt"
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def read_holdout_list(path: str | os.PathLike) -> dict[str, None]:
    """A committed holdout list: one ``<folder name>/<file name>`` per line (``#`` comments).
    Returns the names in file order (a dict used as an ordered set)."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    keys = dict.fromkeys(ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#"))
    if not keys:
        raise ValueError(f"{path}: the holdout list is empty")
    return keys


def real_holdout_sets(root: str | os.PathLike = SHARED_DATA, list_path: str | os.PathLike = REAL_HOLDOUT_LIST,
                      skip_missing: bool = False) -> dict[str, SampleSet]:
    """The held-out crops of every source the list names, in list order, found by folder name
    under ``root``; labels as annotated. A missing source folder raises FileNotFoundError, or
    is left out with a warning when ``skip_missing``."""
    keys = read_holdout_list(list_path)
    root = Path(root)
    sets: dict[str, SampleSet] = {}
    for folder in dict.fromkeys(k.split("/")[0] for k in keys):
        found = sorted(root.glob(f"**/{folder}/labels.tsv"))
        if not found:
            if skip_missing:
                logger.warning("%s: no %s/labels.tsv under %s, left out", Path(list_path).name, folder, root)
                continue
            raise FileNotFoundError(f"{Path(list_path).name}: no {folder}/labels.tsv under {root}")
        split = holdout_by_list(read_labels_tsv(found[0].parent), keys)
        if split is not None:
            sets[folder] = split[1]
    return sets


def holdout_by_list(samples: SampleSet, keys: Collection[str]) -> tuple[SampleSet, SampleSet] | None:
    """Split ``samples`` into (train, held out) by a holdout list; ``None`` if the list names
    none of them (then the caller falls back to the hash split)."""
    train, val = [], []
    for i in range(len(samples)):
        (val if holdout_key(samples, i) in keys else train).append(i)
    if not val:
        return None
    return samples.subset(train), samples.subset(val)


def fit_time_steps(samples: ArraySampleSet, charset: Charset, time_steps: int) -> ArraySampleSet:
    """Leave out rendered samples whose label needs more CTC steps than the model has."""
    keep = [i for i, t in enumerate(samples.texts) if ctc_min_steps(charset.encode(t)) <= time_steps]
    if len(keep) == len(samples):
        return samples
    logger.warning("%s: left out %d rendered label(s) too long for %d time steps",
                   samples.name, len(samples) - len(keep), time_steps)
    return ArraySampleSet(samples.images[keep], [samples.texts[i] for i in keep], samples.name)


# ---------------------------------------------------------------------------- arrays / tf.data
def to_model_arrays(samples: SampleSet, config: RecognizerConfig,
                    augment: Callable | None = None, seed: int = 0) -> np.ndarray:
    """Load and preprocess every sample (for validation sets)."""
    rng = np.random.default_rng(seed)
    out = np.empty((len(samples), config.height, config.width, config.channels), np.uint8)
    for i in range(len(samples)):
        img = samples.load(i)
        if augment is not None:
            img = augment(img, rng)
        out[i] = fit_to_model(validate_array(img), config)[0]
    return out


@dataclass
class WeightedSource:
    """A training source. ``case_insensitive``: its labels do not carry case (SVT's are all
    upper case whatever the glyphs): they are lower-cased and marked so that
    :class:`training.losses.CTCLoss` scores them against case-folded probabilities."""

    samples: SampleSet
    weight: float = 1.0
    augment: bool = False
    case_insensitive: bool = False


def encode_label(text: str, charset: Charset, case_insensitive: bool = False) -> np.ndarray:
    """Label indices; a case-insensitive label is lower-cased and offset by ``num_classes``
    (the marker :class:`training.losses.CTCLoss` looks for)."""
    if case_insensitive and charset.has_both_cases:
        return np.asarray(charset.encode(text.lower()), np.int32) + charset.num_classes
    return np.asarray(charset.encode(text), np.int32)


def make_dataset(sources: Sequence[WeightedSource], config: RecognizerConfig, charset: Charset,
                 batch_size: int, seed: int = 0, augment: Callable | None = None):
    """An infinite, shuffled, batched ``tf.data.Dataset`` of ``(images float32 (N,H,W,C),
    labels int32 (N, L) padded with -1)``, mixing ``sources`` by weight. ``augment(image, rng)``
    augments the sources marked ``augment`` (default: :func:`training.augment.augment_light`)."""
    import tensorflow as tf

    if augment is None:
        from .augment import augment_light as augment

    H, W, C = config.height, config.width, config.channels
    datasets, weights = [], []
    for k, src in enumerate(sources):
        samples, aug = src.samples, src.augment
        encoded = [encode_label(t, charset, src.case_insensitive) for t in samples.texts]
        is_model_size = isinstance(samples, ArraySampleSet) and not aug

        def load(i, samples=samples, encoded=encoded, aug=aug, is_model_size=is_model_size):
            i = int(i)
            img = samples.load(i)
            if aug:
                img = augment(img, np.random.default_rng())
            if not is_model_size:
                img = fit_to_model(validate_array(img), config)[0]
            return img, encoded[i]

        ds = tf.data.Dataset.range(len(samples)).shuffle(min(len(samples), 50_000), seed=seed + k,
                                                        reshuffle_each_iteration=True).repeat()
        ds = ds.map(lambda i: tf.numpy_function(load, [i], (tf.uint8, tf.int32), stateful=False),
                    num_parallel_calls=tf.data.AUTOTUNE, deterministic=False)
        datasets.append(ds)
        weights.append(src.weight)
    total = float(sum(weights))
    ds = datasets[0] if len(datasets) == 1 else tf.data.Dataset.sample_from_datasets(
        datasets, weights=[w / total for w in weights], seed=seed)

    def shape(img, lab):
        img.set_shape((H, W, C))
        lab.set_shape((None,))
        return tf.cast(img, tf.float32), lab

    ds = ds.map(shape, num_parallel_calls=tf.data.AUTOTUNE)
    ds = ds.padded_batch(batch_size, padded_shapes=((H, W, C), (None,)),
                         padding_values=(0.0, LABEL_PAD), drop_remainder=True)
    return ds.prefetch(tf.data.AUTOTUNE)

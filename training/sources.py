"""Data sources by name: the one grammar, ``NAME[:ARG]``, that ``--data`` / ``--val-data``
(training), ``training.evaluate --data`` and the bench scripts read.

Adding a source is one entry::

    @register_source("mysource", arg="PATH", help="what it is")
    def _mysource(arg: str, opts: LoadOptions) -> SampleSet:
        ...

Rendered sources (``synthetic``, ``synthetic-clean``, ``synthetic-words``) also carry the
:class:`~training.synth.RenderSpec` fields that make them (``render``): training renders
them at model size into its cache with its own options; evaluation reads their ``test``
split from the frozen benchmark files (``bench/sets``, :mod:`training.frozen`) and renders
the other splits on the fly.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from . import data as D
from .frozen import FROZEN_SETS, load_frozen

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoadOptions:
    """How to read a source. ``split``: the part of it a caller wants when the spec names none
    (``"train"`` for --data, ``"val"`` for --val-data, ``"test"`` for evaluation); ``num``: at
    most this many samples (rendered sources render exactly this many, default 1000);
    ``seed``: of rendered sources; ``vocab``: of rendered text."""

    split: str = "train"
    num: int | None = None
    seed: int = 1234
    vocab: str | None = None
    image_column: str = "image"
    text_column: str = "text"
    per_font: int = 40
    frozen: bool = True  # rendered test splits read the frozen benchmark files


@dataclass(frozen=True)
class Source:
    name: str
    load: Callable[[str, LoadOptions], D.SampleSet]
    arg: str = ""
    help: str = ""
    arg_required: bool = False
    render: dict = field(default_factory=dict)  # RenderSpec fields of a rendered source

    @property
    def rendered(self) -> bool:
        return bool(self.render)

    def usage(self) -> str:
        if not self.arg:
            return self.name
        return f"{self.name}:{self.arg}" if self.arg_required else f"{self.name}[:{self.arg}]"


SOURCES: dict[str, Source] = {}


def register_source(name: str, arg: str = "", help: str = "", arg_required: bool = False,
                    render: dict | None = None):
    """Decorator: register ``load(arg, opts) -> SampleSet`` as the data source ``name``."""

    def add(fn):
        if name in SOURCES:
            raise ValueError(f"a data source named {name!r} is already registered")
        SOURCES[name] = Source(name, fn, arg, help, arg_required, dict(render or {}))
        return fn

    return add


def usage() -> str:
    return ", ".join(s.usage() for s in SOURCES.values())


def parse(spec: str) -> tuple[Source, str]:
    """``NAME[:ARG]`` -> (its source, ARG); ValueError listing the sources for anything else."""
    name, sep, arg = str(spec).partition(":")
    source = SOURCES.get(name)
    if source is None:
        raise ValueError(f"unknown data source {name!r} in {spec!r}; use {usage()}")
    if source.arg_required and not arg:
        raise ValueError(f"bad data spec {spec!r}: {source.usage()}")
    if not source.arg and sep:
        raise ValueError(f"bad data spec {spec!r}: {name} takes no argument")
    return source, arg


def load(spec: str, opts: LoadOptions | None = None) -> D.SampleSet:
    source, arg = parse(spec)
    return source.load(arg, opts or LoadOptions())


def render_spec(spec: str, split: str, seed: int, vocab: str, **options):
    """The :class:`~training.synth.RenderSpec` of a rendered source spec (``synthetic[:SPLIT]``...)
    and the split it names (else ``split``)."""
    from .synth import SPLITS, RenderSpec

    source, arg = parse(spec)
    if not source.rendered:
        raise ValueError(f"{spec!r} is not a rendered source ({', '.join(n for n, s in SOURCES.items() if s.rendered)})")
    split = arg or split
    if split not in SPLITS:
        raise ValueError(f"{spec!r}: the split must be one of {', '.join(SPLITS)}")
    return RenderSpec(split=split, seed=seed, vocab=vocab, **source.render, **options)


def eval_inputs(samples: D.SampleSet, num: int | None = None) -> tuple[list, list[str]]:
    """Images for a recognizer (file paths where there are files, arrays otherwise) and labels."""
    n = min(len(samples), num) if num else len(samples)
    if isinstance(samples, D.FileSampleSet):
        return [str(p) for p in samples.paths[:n]], samples.texts[:n]
    return [samples.load(i) for i in range(n)], samples.texts[:n]


# ---------------------------------------------------------------------------- the sources
def _rendered(kind: str):
    def load_rendered(arg: str, opts: LoadOptions) -> D.SampleSet:
        from .synth import WordRenderer

        split = arg or opts.split
        n = opts.num or 1000
        if split == "test" and opts.frozen and kind in FROZEN_SETS:
            return load_frozen(kind, n, vocab=opts.vocab)
        spec = render_spec(f"{kind}:{split}", split, opts.seed, opts.vocab or _default_vocab())
        renderer = WordRenderer(spec)
        samples = [renderer.render(i) for i in range(n)]
        return D.ArraySampleSet([s[0] for s in samples], [s[1] for s in samples], name=f"{kind}-{split}")

    return load_rendered


def _default_vocab() -> str:
    from ctc_recognizer.charset import DEFAULT_VOCAB

    return DEFAULT_VOCAB


register_source("synthetic", arg="SPLIT", render={"augment": True, "text": "mixed"},
                help="rendered words, numbers, codes, punctuation and two-word lines with the training "
                     "degradations (colours, textures, blur, noise, perspective, JPEG)")(_rendered("synthetic"))
register_source("synthetic-clean", arg="SPLIT", render={"augment": False, "text": "mixed"},
                help="the same mix rendered clean: dark text on white")(_rendered("synthetic-clean"))
register_source("synthetic-words", arg="SPLIT", render={"augment": False, "text": "words"},
                help="dictionary words only (lower / Title / UPPER case), clean")(_rendered("synthetic-words"))
register_source("synthetic-curved", arg="SPLIT", render={"augment": False, "text": "words", "curved_text": 1.0},
                help="dictionary words, clean, every one on an arc or a circle or strongly slanted (curved "
                     "signs)")(_rendered("synthetic-curved"))


@register_source("folder", arg="PATH", arg_required=True, help="images plus labels.tsv (filename<TAB>text)")
def _folder(arg: str, opts: LoadOptions) -> D.SampleSet:
    return D.read_labels_tsv(arg)


@register_source("mjsynth", arg="PATH", arg_required=True,
                 help="the Synth90k 90kDICT32px layout (annotation_<split>.txt; test falls back to val)")
def _mjsynth(arg: str, opts: LoadOptions) -> D.SampleSet:
    split = opts.split
    if split == "test" and not (Path(arg) / "annotation_test.txt").is_file():
        split = "val"
    return D.read_mjsynth(arg, split)


@register_source("hf", arg="NAME[:split]", arg_required=True,
                 help="a Hugging Face datasets source: Hub name, saved dataset, imagefolder or parquet/arrow")
def _hf(arg: str, opts: LoadOptions) -> D.SampleSet:
    return D.read_hf(arg, opts.image_column, opts.text_column)


@register_source("real-holdout", arg="ROOT",
                 help="the project's real test crops named in training/splits/real_holdout.txt, read from "
                      "../shared/data or ROOT, all sources together")
def _real_holdout(arg: str, opts: LoadOptions) -> D.SampleSet:
    return _listed_crops(arg, D.REAL_HOLDOUT_LIST, "real-holdout")


def _listed_crops(root: str, list_path, name: str) -> D.SampleSet:
    """The crops a split list names, all sources together, read from ``root`` (default ../shared/data)."""
    sets = D.real_holdout_sets(root or D.SHARED_DATA, list_path=list_path)
    paths = [D.sample_key(s, i) for s in sets.values() for i in range(len(s))]
    return D.FileSampleSet(paths, [t for s in sets.values() for t in s.texts], name=name)


@register_source("real-val", arg="ROOT",
                 help="the project's real validation crops named in training/splits/real_val.txt, read from "
                      "../shared/data or ROOT, all sources together")
def _real_val(arg: str, opts: LoadOptions) -> D.SampleSet:
    return _listed_crops(arg, D.REAL_VAL_LIST, "real-val")


@register_source("frozen", arg="NAME", arg_required=True,
                 help="a frozen benchmark set under bench/sets (e.g. frozen:synthetic-words-v1)")
def _frozen(arg: str, opts: LoadOptions) -> D.SampleSet:
    from .frozen import read_frozen_set

    return read_frozen_set(arg)


@register_source("per-font", arg="SPLIT", arg_required=True,
                 help="per_font clean dictionary words in every font file of the split (train or val), as "
                      "training.mine_fonts renders them (each file weighs the same); rendered now, so not "
                      "for the test fonts, whose numbers come from frozen sets")
def _per_font(arg: str, opts: LoadOptions) -> D.SampleSet:
    from .synth import SPLITS, discover_fonts, render_font_words

    if arg == "test":  # test numbers come from files frozen once; these would move with the generator
        raise ValueError("per-font:test is not offered: it would render the held-out test fonts now, and a test "
                         "number must come from a frozen set (synthetic-words:test, frozen:NAME); "
                         "use per-font:val or per-font:train")
    if arg not in SPLITS:
        raise ValueError(f"per-font:{arg}: the split must be one of {', '.join(s for s in SPLITS if s != 'test')}")
    images, texts = [], []
    for _, ims, ts in render_font_words([f.path for f in discover_fonts()[arg]], arg, opts.per_font, opts.seed,
                                        opts.vocab or _default_vocab()):
        images += ims
        texts += ts
    return D.ArraySampleSet(images, texts, name=f"per-font-{arg}")

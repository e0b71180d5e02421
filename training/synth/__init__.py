"""Synthetic word images: many fonts, sizes, colours, backgrounds and degradations.

``WordRenderer(RenderSpec(split="train"|"val"|"test", seed=...))`` renders sample ``i``
deterministically (the same spec and ``i`` always give the same image and text). Font
*families* are split into train / val / test by a stable hash of the family name, so
validation and test numbers are measured on fonts the model never trained on.

Modules: :mod:`.fonts` (discovery, filters, the split, mining-table keys), :mod:`.text` (word
lists, text sampling), :mod:`.effects` (the registry of named effects with probabilities:
adding an augmentation is one function and one ``@register`` line), :mod:`.render` (the spec
and the renderer).

Fonts come from the system (``scripts/install_system_deps.sh`` installs many Debian font
packages) or ``$CTC_RECOGNIZER_FONT_DIRS``; word lists from ``/usr/share/dict`` plus random
strings, numbers and punctuation.
"""

from .effects import EFFECTS, Effect, effect_names, register
from .fonts import (EXCLUDED_FAMILIES, FONT_DIRS, FONT_DIRS_ENV, MAX_ERROR_SHARE, SPLITS, FontInfo,
                    caps_form_lowercase, discover_fonts, font_dirs, font_family, font_key, hard_font_weight,
                    load_hard_fonts, split_of)
from .render import RenderSpec, WordRenderer, generator_source_hash, render_cache_key, render_font_words
from .text import WORDLISTS, TextSampler, load_words

__all__ = ["EFFECTS", "EXCLUDED_FAMILIES", "FONT_DIRS", "FONT_DIRS_ENV", "MAX_ERROR_SHARE", "SPLITS", "WORDLISTS", "Effect", "FontInfo",
           "RenderSpec", "TextSampler", "WordRenderer", "caps_form_lowercase", "discover_fonts", "effect_names",
           "font_dirs", "font_family", "font_key", "generator_source_hash", "hard_font_weight", "load_hard_fonts", "load_words",
           "register", "render_cache_key", "render_font_words", "split_of"]

"""The synthetic generator's structure: the RenderSpec, the effects registry, the cache key."""

import numpy as np
import pytest

from training.synth import RenderSpec, WordRenderer, effects, render_cache_key


@pytest.fixture
def scratch_effect():
    """Register effects for one test and remove them after."""
    added = []

    def add(stage, name, p, fn, **kw):
        effects.register(stage, name, p, **kw)(fn)
        added.append((stage, name))

    yield add
    for stage, name in added:
        effects.EFFECTS[stage][:] = [e for e in effects.EFFECTS[stage] if e.name != name]


def renders(spec, n=6):
    r = WordRenderer(spec)
    return [r.render(i) for i in range(n)]


def same(a, b):
    return all(ta == tb and ia.shape == ib.shape and np.array_equal(ia, ib) for (ia, ta), (ib, tb) in zip(a, b))


def test_an_effect_is_one_function_and_one_registration(scratch_effect):
    spec = RenderSpec("train", seed=4)
    before = renders(spec)
    calls = []
    scratch_effect("image", "test_never", 0.0, lambda img, rng, size: calls.append(1) or img * 0)
    assert same(renders(spec), before) and not calls  # probability 0: no draw, no render changes
    scratch_effect("image", "test_negative", 1.0, lambda img, rng, size: 255.0 - img)
    after = renders(spec)
    assert "test_negative" in effects.effect_names()
    assert all(np.abs(a.astype(int) - (255 - b.astype(int))).max() <= 1  # the last image effect (rounding)
               for (a, _), (b, _) in zip(after, before))
    with pytest.raises(ValueError, match="already registered"):
        effects.register("image", "jpeg", 0.1)(lambda img, rng, size: img)
    with pytest.raises(ValueError, match="stage"):
        effects.register("pixels", "x", 0.1)


def test_probabilities_can_come_from_the_spec_and_groups_draw_once(scratch_effect):
    seen = []
    scratch_effect("mask", "test_spec_p", "shape_jitter", lambda m, rng, size: seen.append("spec") or m)
    rng = np.random.default_rng(0)
    m = np.zeros((4, 4, 1), np.float32)
    effects.apply("mask", m, rng, 30, RenderSpec(shape_jitter=1.0))
    assert "spec" in seen
    with pytest.raises(ValueError, match="render spec"):
        effects.apply("mask", m, rng, 30, None)

    applied = set()
    for _ in range(200):
        effects.apply("image", np.full((4, 4, 3), 128.0), rng, 30, None, applied)
    lighting = {"uneven_lighting", "spot_light", "shadow_edge"}
    assert lighting <= applied  # each member runs sometimes...
    for _ in range(50):  # ...but never two in one render
        one = set()
        effects.apply("image", np.full((4, 4, 3), 128.0), rng, 30, None, one)
        assert len(one & lighting) <= 1 and not {"motion_blur", "defocus"} <= one


def test_the_render_spec_is_validated_once_and_hashable():
    spec = RenderSpec("val", seed=3, hard_fonts={"b.ttf": 1, "a.ttf": 2}, hard_font_share=0.5)
    assert spec.hard_fonts == (("a.ttf", 2.0), ("b.ttf", 1.0)) and hash(spec) == hash(spec.replace())
    assert RenderSpec(hard_fonts={"a.ttf": 1}).hard_fonts == ()  # a table drawn by nothing changes nothing
    for bad, match in [({"split": "dev"}, "split"), ({"font_sampling": "x"}, "font_sampling"),
                       ({"text": "x"}, "text"), ({"shape_jitter": 2}, "shape_jitter"), ({"max_len": 0}, "max_len"),
                       ({"hard_font_share": 0.5}, "hard_fonts"), ({"vocab": ""}, "vocab")]:
        with pytest.raises(ValueError, match=match):
            RenderSpec(**bad)
    with pytest.raises(TypeError, match="RenderSpec"):
        WordRenderer("train")


def test_the_cache_key_follows_the_spec_and_the_generator_source(monkeypatch):
    import training.synth.render as R

    spec = RenderSpec("train", seed=1)
    key = render_cache_key(spec, n=10)
    assert key == render_cache_key(RenderSpec("train", seed=1), n=10)
    assert key != render_cache_key(spec.replace(seed=2), n=10) and key != render_cache_key(spec, n=11)
    assert key != render_cache_key(spec.replace(shape_jitter=0.1), n=10)
    monkeypatch.setattr(R, "generator_source_hash", lambda: "edited")
    assert key != render_cache_key(spec, n=10)  # an edited effect is a new cache


def test_curved_text_is_a_training_share_that_leaves_other_renders_alone(capsys, monkeypatch):
    """Issue 23: words on arcs, circles or strongly slanted, for the share of training renders
    --synth-curved-text asks for; at 0 (every benchmark render) nothing is drawn or changed:
    the renders are those of a generator without the shape effects at all."""
    from training.options import parse_args

    shape_effects = list(effects.EFFECTS["shape"])
    assert {e.name for e in shape_effects} >= {"arched_text", "circular_text", "strong_slant"}
    for augment in (False, True):
        plain = renders(RenderSpec("train", seed=3, augment=augment, text="words"))
        with monkeypatch.context() as m:
            m.setitem(effects.EFFECTS, "shape", [])  # the generator before the curved shapes existed
            assert same(plain, renders(RenderSpec("train", seed=3, augment=augment, text="words")))
        curved = renders(RenderSpec("train", seed=3, augment=augment, text="words", curved_text=1.0))
        assert [t for _, t in curved] == [t for _, t in plain]  # the same words...
        assert sum(a.shape != b.shape for (a, _), (b, _) in zip(plain, curved)) >= 4  # ...laid out otherwise
    m = np.zeros((20, 120, 1), np.float32)
    m[5:15, 10:110] = 1.0  # a bar of "text"
    rng = np.random.default_rng(0)
    arc = effects.circular_text(m, rng, 20)
    assert arc.ndim == 3 and arc.shape[0] > 30  # bent well out of its line
    slant = effects.strong_slant(m, rng, 20)
    assert slant.shape[0] == 20 and slant.shape[1] > 120
    assert parse_args(["--synth-curved-text", "0.2", "--output-dir", "x"]).synth_curved_text == 0.2
    with pytest.raises(SystemExit):
        parse_args(["--synth-curved-text", "1.5", "--output-dir", "x"])
    assert "--synth-curved-text must be in [0, 1], got 1.5" in capsys.readouterr().err


def test_the_cache_key_follows_background_and_font_files_not_their_names(tmp_path):
    """Two folders of same-named crops are two caches; an edited (or replaced) file is a new one."""
    import os
    import shutil

    from training.synth import discover_fonts

    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "crop.png").write_bytes(folder.encode())
    spec = RenderSpec("train", seed=1, backgrounds=(str(tmp_path / "a" / "crop.png"),))
    key = render_cache_key(spec, n=10)
    assert key != render_cache_key(spec.replace(backgrounds=(str(tmp_path / "b" / "crop.png"),)), n=10)
    os.utime(tmp_path / "a" / "crop.png", ns=(1, 1))
    assert key != render_cache_key(spec, n=10)
    font = discover_fonts()["train"][0].path
    mine = tmp_path / "fonts" / os.path.basename(font)
    mine.parent.mkdir()
    shutil.copyfile(font, mine)
    fspec = RenderSpec("train", seed=1, fonts=(str(mine),))
    fkey = render_cache_key(fspec, n=10)
    assert fkey == render_cache_key(fspec, n=10)
    os.utime(mine, ns=(1, 1))  # an updated font file, same path
    assert fkey != render_cache_key(fspec, n=10)


def test_the_cache_key_follows_the_system_word_list(monkeypatch):
    """words=None draws from the system list: installing one (wamerican) is a new cache."""
    from training.synth import text

    spec = RenderSpec("train", seed=1)
    key = render_cache_key(spec, n=10)
    monkeypatch.setattr(text, "load_words", lambda *a, **k: ("only", "these", "words"))
    assert key != render_cache_key(spec, n=10)
    assert render_cache_key(spec.replace(words=("only", "these", "words")), n=10) == render_cache_key(spec, n=10)


def test_an_effect_registered_outside_the_package_is_in_the_cache_key(scratch_effect):
    from training.synth import generator_source_hash

    before = generator_source_hash()
    scratch_effect("image", "test_outside", 0.0, lambda img, rng, size: img)
    assert generator_source_hash() != before


def test_a_cached_synthetic_set_is_named_after_its_source(tmp_path):
    from ctc_recognizer.config import RecognizerConfig
    from training.synth_cache import synthetic_set

    vocab = "abcdefghijklmnopqrstuvwxyz"
    config = RecognizerConfig(vocab=vocab, height=32, width=128)
    spec = RenderSpec("train", seed=1, vocab=vocab, augment=False, text="words", curved_text=1.0)
    made = synthetic_set(spec, 2, config, cache_dir=tmp_path, workers=1, source="synthetic-curved")
    cached = synthetic_set(spec, 2, config, cache_dir=tmp_path, workers=1, source="synthetic-curved")
    assert made.name == cached.name == "synthetic-curved-train" and made.texts == cached.texts
    assert synthetic_set(spec, 2, config, cache_dir=tmp_path, workers=1).name == "synthetic-clean-train"

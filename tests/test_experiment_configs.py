"""experiments/configs (base.yaml + one override per experiment), experiments/LOG.md and the user
configs in training/configs: every file parses as the trainer reads it, overrides hold only what
they change, and a null leaves an option at the trainer's default."""

import re
from pathlib import Path

import pytest
import yaml

from training.options import build_parser, load_config_file, parse_args

ROOT = Path(__file__).resolve().parent.parent
EXPERIMENTS = ROOT / "experiments"
OVERRIDES = sorted(p for p in (EXPERIMENTS / "configs").glob("*.yaml") if p.name != "base.yaml")
USER_CONFIGS = sorted((ROOT / "training" / "configs").glob("*.yaml"))


def args_of(config: Path, tmp_path) -> dict:
    args = vars(parse_args(["--config", str(config), "--output-dir", str(tmp_path / "run")]))
    args.pop("config")
    return args


@pytest.fixture
def at_root(monkeypatch):
    monkeypatch.chdir(ROOT)  # paths inside the configs (mining tables, holdout list) are relative to the root


def test_training_configs_keep_only_what_a_user_needs():
    assert {p.name for p in USER_CONFIGS} >= {"default.yaml", "example.yaml", "finetune.yaml"}
    assert len(list((ROOT / "training" / "configs").iterdir())) <= 6
    assert not (ROOT / "training" / "logs").exists()


@pytest.mark.parametrize("config", OVERRIDES + USER_CONFIGS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_config_parses_as_the_trainer_reads_it(config, tmp_path, at_root):
    args = args_of(config, tmp_path)
    assert len(args["data_weights"] or args["data"]) == len(args["data"])
    if args["synth_hard_fonts"]:
        assert args["synth_hard_fonts"].startswith("experiments/font_weights/")
        assert args["hard_fonts_table"]  # the mining table is there and loads


def base_chain(config: Path) -> list[str]:
    """File names from ``config`` up its ``base:`` keys (one base per file here)."""
    chain = [config.name]
    while (base := yaml.safe_load(config.read_text()).get("base")) is not None:
        assert isinstance(base, str), f"{config.name}: one base file per experiment"
        config = config.parent / base
        assert config.is_file() and config.parent == EXPERIMENTS / "configs", f"{chain[-1]}: base {base} not beside it"
        chain.append(config.name)
        assert len(chain) < 10, f"base chain too long: {chain}"
    return chain


@pytest.mark.parametrize("config", OVERRIDES, ids=lambda p: p.stem)
def test_an_override_names_its_base_and_only_the_keys_it_changes(config):
    chain = base_chain(config)
    assert chain[-1] == "base.yaml", f"{config.name} does not build on base.yaml: {' -> '.join(chain)}"
    text = config.read_text()
    assert text.startswith("# "), f"{config.name} lacks the comment saying what it tried"
    keys = yaml.safe_load(text)
    inherited = load_config_file(config.parent / keys["base"])
    same = [k for k, v in keys.items() if k != "base" and k in inherited and inherited[k] == v]
    assert not same, f"{config.name} repeats its base's values for {same}"
    nulls = [k for k, v in keys.items() if v is None]
    assert all(k in inherited for k in nulls), f"{config.name} resets keys its base does not set: {nulls}"


def test_the_bundled_recipe_is_stage_15_written_out(tmp_path, at_root):
    default = ROOT / "training" / "configs" / "default.yaml"
    assert args_of(default, tmp_path) == args_of(EXPERIMENTS / "configs" / "stage15.yaml", tmp_path)
    assert load_config_file(default).get("base") is None  # standalone: no experiments/ needed to read it


def test_a_null_leaves_the_option_at_the_trainers_default(tmp_path):
    (tmp_path / "base.yaml").write_text("holdout: 0.3\nlr_schedule: cosine\ncase_insensitive_data: [folder:/x]\n"
                                        "synth_real_backgrounds: true\ndropout: 0.0\nepochs: 3\n")
    exp = tmp_path / "exp.yaml"
    exp.write_text("base: base.yaml\nholdout: null\nlr_schedule: null\ncase_insensitive_data: null\n"
                   "synth_real_backgrounds: null\ndropout: null\n")
    args = parse_args(["--config", str(exp), "--output-dir", str(tmp_path / "run")])
    defaults = build_parser().parse_args(["--output-dir", str(tmp_path / "run")])
    for key in ("holdout", "lr_schedule", "case_insensitive_data", "synth_real_backgrounds", "dropout"):
        assert getattr(args, key) == getattr(defaults, key), key
    assert (args.holdout, args.lr_schedule, args.case_insensitive_data) == (0.1, "plateau", [])
    assert args.epochs == 3  # what the override does not name still comes from the base
    with pytest.raises(SystemExit):  # a null key must still be a known option
        (tmp_path / "typo.yaml").write_text("base: base.yaml\nholdot: null\n")
        parse_args(["--config", str(tmp_path / "typo.yaml"), "--output-dir", str(tmp_path / "run")])


def test_the_log_has_a_line_per_experiment_and_its_links_resolve():
    log = (EXPERIMENTS / "LOG.md").read_text()
    rows = [line for line in log.splitlines() if line.startswith("| ") and not line.startswith("| id ")]
    ids = {line.split("|")[1].strip().strip("*") for line in rows}
    assert {p.stem for p in OVERRIDES} <= ids, f"no LOG.md line for {sorted({p.stem for p in OVERRIDES} - ids)}"
    for target in re.findall(r"\]\(([^)#]+)\)", log):
        assert (EXPERIMENTS / target).resolve().exists(), f"LOG.md links to a missing {target}"

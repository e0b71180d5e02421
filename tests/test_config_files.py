"""Training config files that inherit: a `base:` file (or list) whose options the file overrides."""

import json

import pytest

from training.options import load_config_file, merge_options, parse_args


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_an_experiment_file_overrides_only_the_keys_it_names(tmp_path):
    write(tmp_path / "base" / "stage.yaml", "arch: crnn_small\nvocab: lower\nepochs: 40\nlr: 0.001\n"
                                             "data: [synthetic, folder:/x]\ndata-weights: [1, 2]\n")
    exp = write(tmp_path / "exp" / "ft.yaml", "base: ../base/stage.yaml\nepochs: 5\ndata: [synthetic-clean, folder:/y]\n")
    opts = load_config_file(str(exp))
    assert opts == {"arch": "crnn_small", "vocab": "lower", "epochs": 5, "lr": 0.001,
                    "data": ["synthetic-clean", "folder:/y"],  # lists are replaced, not merged
                    "data_weights": [1, 2]}
    args = parse_args(["--config", str(exp), "--output-dir", str(tmp_path / "run"), "--lr", "0.01"])
    assert (args.arch, args.epochs, args.lr, args.data) == ("crnn_small", 5, 0.01, ["synthetic-clean", "folder:/y"])


def test_several_bases_apply_in_order_and_dicts_merge_deeply(tmp_path):
    write(tmp_path / "a.json", json.dumps({"epochs": 1, "extra": {"x": 1, "y": {"p": 1, "q": 2}}}))
    write(tmp_path / "b.yaml", "epochs: 2\nlr: 0.5\n")
    exp = write(tmp_path / "c.yaml", "base: [a.json, b.yaml]\nextra: {y: {q: 3}, z: 4}\n")
    assert load_config_file(exp) == {"epochs": 2, "lr": 0.5, "extra": {"x": 1, "y": {"p": 1, "q": 3}, "z": 4}}
    assert merge_options({"l": [1, 2]}, {"l": [3]}) == {"l": [3]}


def test_a_chain_of_bases_resolves_each_path_relative_to_its_own_file(tmp_path):
    write(tmp_path / "root.yaml", "epochs: 1\nbatch_size: 8\n")
    write(tmp_path / "mid" / "mid.yaml", "base: ../root.yaml\nepochs: 2\n")
    exp = write(tmp_path / "mid" / "deep" / "exp.yaml", "base: ../mid.yaml\nlr: 0.1\n")
    assert load_config_file(exp) == {"epochs": 2, "batch_size": 8, "lr": 0.1}


def test_a_missing_base_file_is_named(tmp_path):
    exp = write(tmp_path / "exp.yaml", "base: nowhere/stage.yaml\nepochs: 2\n")
    with pytest.raises(SystemExit, match=r"base config 'nowhere/stage.yaml' not found.*nowhere/stage.yaml"):
        load_config_file(exp)


def test_a_cycle_of_bases_is_refused(tmp_path):
    write(tmp_path / "a.yaml", "base: b.yaml\nepochs: 1\n")
    write(tmp_path / "b.yaml", "base: a.yaml\nlr: 0.1\n")
    with pytest.raises(SystemExit, match="cycle"):
        load_config_file(tmp_path / "a.yaml")
    write(tmp_path / "self.yaml", "base: ./self.yaml\n")
    with pytest.raises(SystemExit, match="cycle"):
        load_config_file(tmp_path / "self.yaml")


def test_a_diamond_of_bases_is_not_a_cycle(tmp_path):
    write(tmp_path / "root.yaml", "epochs: 1\n")
    write(tmp_path / "l.yaml", "base: root.yaml\nlr: 0.1\n")
    write(tmp_path / "r.yaml", "base: root.yaml\nbatch_size: 4\n")
    exp = write(tmp_path / "exp.yaml", "base: [l.yaml, r.yaml]\n")
    assert load_config_file(exp) == {"epochs": 1, "lr": 0.1, "batch_size": 4}


def test_a_bad_base_value_and_a_bad_file_are_clear_errors(tmp_path):
    with pytest.raises(SystemExit, match="'base' must be a file path"):
        load_config_file(write(tmp_path / "x.yaml", "base: {a: 1}\n"))
    with pytest.raises(SystemExit, match="not valid YAML"):
        load_config_file(write(tmp_path / "y.yaml", "epochs: [1\n"))
    with pytest.raises(SystemExit, match="config file not found"):
        load_config_file(tmp_path / "none.yaml")


def test_a_config_key_that_is_no_option_is_refused_by_name(tmp_path, capsys):
    cfg = write(tmp_path / "c.yaml", "epochs: 3\nlearning-rate: 0.1\nhelp: true\n")
    with pytest.raises(SystemExit):
        parse_args(["--config", str(cfg), "--output-dir", str(tmp_path / "run")])
    assert "unknown option(s) ['help', 'learning_rate']" in capsys.readouterr().err
    ok = write(tmp_path / "ok.yaml", "epochs: 3\nsynth-curved-text: 0.5\nval-list: v.txt\n")
    args = parse_args(["--config", str(ok), "--output-dir", str(tmp_path / "run")])
    assert (args.epochs, args.synth_curved_text, args.val_list) == (3, 0.5, "v.txt")

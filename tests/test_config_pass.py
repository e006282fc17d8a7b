"""One pass from config to objects: a train run fills, interpolates and validates
the config once, and builds each section once; the loop's settings come from
the .cfg defaults only."""
import dataclasses
import sys
from pathlib import Path
from typing import Any, Callable, List

import pytest

from transfer_cli.config import factories, filling, interpolation, resolving, validation
from transfer_cli.config.loading import load_config_from_str
from transfer_cli.config.quickstart import init_config
from transfer_cli.training.initialize import init_pipeline
from transfer_cli.training.loop import TrainingSettings
from transfer_cli.training.train import settings_from, train_from_config

SAMPLE = Path(__file__).parent.parent / "sample_data" / "en_ewt"
SMALL = {"paths.train": str(SAMPLE / "train.conllu"), "paths.dev": str(SAMPLE / "dev.conllu"),
         "corpora.train.limit": 20, "corpora.dev.limit": 10}


def count_calls(monkeypatch, func: Callable) -> List[tuple]:
    """Record every call of `func`, however a module imported it."""
    calls: List[tuple] = []

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return func(*args, **kwargs)

    for module in list(sys.modules.values()):
        if getattr(module, "__name__", "").startswith("transfer_cli") and getattr(module, func.__name__, None) is func:
            monkeypatch.setattr(module, func.__name__, counted)
    return calls


def tagger_config(text_after: str = "", **overrides: Any):
    text = init_config(pipeline=["tagger"]).to_str() + text_after
    return load_config_from_str(text, {**SMALL, **overrides})


def test_a_train_run_fills_interpolates_validates_and_builds_each_section_once(monkeypatch):
    config = tagger_config(**{"training.max_steps": 2, "training.eval_frequency": 1})
    fills = count_calls(monkeypatch, filling._fill)
    interpolations = count_calls(monkeypatch, interpolation.interpolate_config)
    validations = count_calls(monkeypatch, validation.find_problems)
    component_fills = count_calls(monkeypatch, factories.fill_component_block)
    sections = count_calls(monkeypatch, resolving.resolve_path)
    components = count_calls(monkeypatch, resolving._component_spec)
    summary = train_from_config(config, None, quiet=True)
    assert summary["steps"] == 2
    assert len(fills) == 1
    assert len(interpolations) == 1
    assert len(validations) == 1
    assert len(component_fills) == 2  # tok2vec and tagger, once each
    assert sorted(args[1] for args in sections) == ["corpora.dev", "corpora.train", "initialize", "nlp", "training"]
    assert [args[0] for args in components] == ["tok2vec", "tagger"]


def test_missing_training_settings_get_the_cfg_defaults():
    # the user's [training] names two settings: the rest are default_config.cfg's
    text = '[components.tagger]\nfactory = "tagger"\n\n[training]\ndropout = 0.2\neval_frequency = 50\n'
    setup = init_pipeline(load_config_from_str(text, SMALL))
    settings = settings_from(setup.training)
    assert (settings.patience, settings.max_steps, settings.max_epochs) == (1600, 20000, 0)
    assert (settings.dropout, settings.eval_frequency, settings.accumulate_gradient) == (0.2, 50, 1)
    assert setup.config.filled["training"]["patience"] == 1600
    # no second set of defaults that could disagree with the .cfg file
    assert all(f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
               for f in dataclasses.fields(TrainingSettings))


def test_settings_from_reads_no_fallbacks():
    with pytest.raises(KeyError):
        settings_from({"dropout": 0.1})  # a section that was not filled is a bug, not a default


def test_train_refuses_a_misspelled_section(tmp_path):
    import re

    from typer.testing import CliRunner

    from transfer_cli.cli.app import _register_commands, app

    _register_commands()
    text = init_config(pipeline=["tagger"]).to_str().replace("[training]", "[traning]", 1)
    path = tmp_path / "c.cfg"
    path.write_text(text)
    line = text.splitlines().index("[traning]") + 1
    result = CliRunner().invoke(app, ["train", str(path), "--output", str(tmp_path / "out"),
                                      "--paths.train", SMALL["paths.train"], "--paths.dev", SMALL["paths.dev"]])
    output = " ".join(re.sub(r"\x1b\[[0-9;]*m", "", result.output).split())
    assert result.exit_code == 1
    assert output == f"✘ {path}:{line} [traning]: unknown section [traning]; did you mean [training]?"
    assert not (tmp_path / "out").exists()

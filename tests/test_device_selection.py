"""Device selection: --gpu-id on the commands that run models and [system] gpu_allocator.
No GPU here: a GPU id is one clear error, never a silent CPU run; the CUDA calls
themselves (thinc's require_gpu, set_gpu_allocator) are replaced to check what is asked."""
import pytest
import thinc.api
from thinc.util import has_cupy_gpu

from transfer_cli.cli import _util
from transfer_cli.config.loading import load_config_from_str
from transfer_cli.config.quickstart import init_config
from transfer_cli.errors import ConfigError
from transfer_cli.training import initialize

from conftest import EWT_DEV, EWT_TRAIN, cli, starter_config

needs_no_gpu = pytest.mark.skipif(has_cupy_gpu, reason="this machine has a GPU")


@needs_no_gpu
@pytest.mark.parametrize("command", [
    ["train", "CONFIG"],
    ["pretrain", "CONFIG", "OUT"],
    ["evaluate", "model-best", str(EWT_DEV)],
    ["apply", "model-best", str(EWT_DEV), "out.spacy"],
])
def test_a_gpu_id_without_a_gpu_is_one_line_not_a_cpu_run(tmp_path, command):
    config = tmp_path / "c.cfg"
    config.write_text(init_config(pipeline=["tagger"], optimize="efficiency", pretraining=True).to_str())
    args = [str(config) if a == "CONFIG" else str(tmp_path / a) if a in ("OUT", "out.spacy") else a
            for a in command]
    code, output = cli(*args, "--gpu-id", "0", "--paths.train", EWT_TRAIN, "--paths.dev", EWT_DEV,
                       "--paths.raw_text", EWT_TRAIN) if command[0] in ("train", "pretrain") else \
        cli(*args, "--gpu-id", "0")
    assert code == 1
    assert "--gpu-id 0: no usable GPU" in output and "transfer-cli[cuda12x]" in output
    assert "Traceback" not in output
    assert not (tmp_path / "OUT").exists() and not (tmp_path / "out.spacy").exists()


def test_the_gpu_id_given_is_the_one_selected(monkeypatch):
    asked = []
    monkeypatch.setattr(thinc.api, "require_gpu", lambda gpu_id=0: asked.append(gpu_id) or True)
    _util.setup_gpu(-1)
    assert asked == []  # the CPU: no CUDA call at all
    _util.setup_gpu(1)
    assert asked == [1]


@pytest.mark.parametrize("use_gpu, allocator, expected", [
    (0, "pytorch", ["pytorch"]),   # PyTorch owns GPU memory: one pool for thinc and torch
    (-1, "pytorch", []),           # on the CPU the allocator is not touched
    (0, None, []),
])
def test_gpu_allocator_is_set_only_on_a_gpu(monkeypatch, use_gpu, allocator, expected):
    chosen = []
    monkeypatch.setattr(initialize, "set_gpu_allocator", chosen.append)
    config = starter_config(["tagger"], EWT_TRAIN, EWT_DEV, max_steps=1,
                            overrides={"system.gpu_allocator": allocator})
    initialize.init_pipeline(config, use_gpu=use_gpu)
    assert chosen == expected


def test_an_unknown_gpu_allocator_names_the_key_and_the_choices():
    text = init_config(pipeline=["tagger"], optimize="efficiency").to_str()
    config = load_config_from_str(text, {"system.gpu_allocator": "cuda"})
    with pytest.raises(ConfigError) as error:
        initialize.init_pipeline(config)
    assert "gpu_allocator" in str(error.value) and '"pytorch"' in str(error.value) and "'cuda'" in str(error.value)



"""`transfer-cli info [MODEL]`: versions, and a trained pipeline's components, labels,
vectors and sizes."""
import json

import pytest

from conftest import EWT_DEV, EWT_TRAIN, SAMPLE, cli, starter_config
from transfer_cli.training.train import train_from_config


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("info")
    assert cli("init-vectors", "en", SAMPLE / "vectors" / "glove_small.txt", root / "vectors")[0] == 0
    config = starter_config(["tagger"], EWT_TRAIN, EWT_DEV, max_steps=2, eval_frequency=1,
                            vectors=str(root / "vectors"))
    train_from_config(config, root / "out", quiet=True)
    return root / "out" / "model-best"


def test_info_lists_versions():
    code, output = cli("info")
    assert code == 0
    for name in ("transfer-cli", "Python", "thinc", "torch", "transformers"):
        assert name in output


def test_info_of_a_pipeline_names_components_labels_and_vectors(trained):
    code, output = cli("info", trained)
    assert code == 0
    assert "tok2vec, tagger" in output and "DT" in output and "labels)" in output
    assert "rows × 50" in output  # the static vectors table


def test_info_json_lists_every_label(trained):
    code, _ = cli("info", trained, "--json")
    assert code == 0
    from typer.testing import CliRunner

    from transfer_cli.cli.app import app

    info = json.loads(CliRunner().invoke(app, ["info", str(trained), "--json"]).stdout)
    tagger = {c["name"]: c for c in info["pipeline"]["components"]}["tagger"]
    assert tagger["factory"] == "tagger" and "NN" in tagger["labels"] and len(tagger["labels"]) > 12
    assert info["pipeline"]["vectors"]["width"] == 50 and info["pipeline"]["bytes"] > tagger["bytes"] > 0
    assert info["environment"]["libraries"]["thinc"]


def test_info_of_a_missing_or_foreign_directory_is_one_line(tmp_path):
    code, output = cli("info", tmp_path / "nope")
    assert code == 1 and "not found" in output and "Traceback" not in output
    (tmp_path / "notes").mkdir()
    code, output = cli("info", tmp_path / "notes")
    assert code == 1 and "Traceback" not in output

"""Shared test helpers: the sample data, the CLI, and builders of training configs, so
test files build configs from a few named parts instead of each carrying long copies.

    starter_config(["tagger"], EWT_TRAIN, EWT_DEV, max_steps=120)   # init-config's config
    shared_config(tok2vec_model(width=48), {"tagger": tagger(listener(48))}, train, dev)

The builders return filled-in-later configs exactly as a user's config.cfg would be read
(load_config_from_str), with `overrides` as dotted keys like the CLI's --section.key."""
from pathlib import Path
from typing import Any, Dict, Optional, Sequence, Tuple

from confection import Config
from typer.testing import CliRunner

from transfer_cli.cli.app import _register_commands, app
from transfer_cli.config.loading import load_config_from_str
from transfer_cli.config.quickstart import init_config

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data"
EWT_TRAIN, EWT_DEV = SAMPLE / "en_ewt" / "train.conllu", SAMPLE / "en_ewt" / "dev.conllu"
NER_TRAIN, NER_DEV = SAMPLE / "ner" / "train.jsonl", SAMPLE / "ner" / "dev.jsonl"
TEXTCAT_TRAIN, TEXTCAT_DEV = SAMPLE / "textcat" / "train.jsonl", SAMPLE / "textcat" / "dev.jsonl"

_register_commands()
_runner = CliRunner()


def cli(*args: Any) -> Tuple[int, str]:
    """Run `transfer-cli ARGS`: (exit code, output with whitespace runs collapsed)."""
    result = _runner.invoke(app, [str(a) for a in args])
    return result.exit_code, " ".join(result.output.split())


def training_overrides(train: Path, dev: Path, max_steps: int, eval_frequency: Optional[int],
                       overrides: Dict[str, Any]) -> Dict[str, Any]:
    """Corpus paths and a short run without early stopping, then `overrides`."""
    return {"paths.train": str(train), "paths.dev": str(dev), "training.max_steps": max_steps,
            "training.eval_frequency": eval_frequency or max(1, max_steps // 3), "training.patience": 0,
            **overrides}


def starter_config(pipeline: Sequence[str], train: Path, dev: Path, *, max_steps: int = 100,
                   eval_frequency: Optional[int] = None, overrides: Optional[Dict[str, Any]] = None,
                   **init_settings: Any) -> Config:
    """init-config's starter config for `pipeline` (efficiency unless optimize=...), trained
    on train/dev for max_steps (evaluated 3 times unless eval_frequency is given)."""
    init_settings.setdefault("optimize", "efficiency")
    text = init_config(pipeline=list(pipeline), **init_settings).to_str()
    return load_config_from_str(text, training_overrides(train, dev, max_steps, eval_frequency, overrides or {}))


def shared_config(tok2vec: Optional[Dict[str, Any]], components: Dict[str, Dict[str, Any]], train: Path, dev: Path, *,
                  max_steps: int = 100, eval_frequency: Optional[int] = None,
                  sections: Optional[Dict[str, Any]] = None, overrides: Optional[Dict[str, Any]] = None) -> Config:
    """A pipeline of a tok2vec component (model `tok2vec`, None for the factory's default)
    and `components` (name → block) that listen to it; `sections` adds top-level blocks
    (e.g. {"training": {...}})."""
    upstream = {"factory": "tok2vec", **({"model": tok2vec} if tok2vec is not None else {})}
    config = Config({"nlp": {"lang": "en", "pipeline": ["tok2vec", *components]},
                     "components": {"tok2vec": upstream, **components}, **(sections or {})})
    return load_config_from_str(config.to_str(), training_overrides(train, dev, max_steps, eval_frequency,
                                                                    overrides or {}))


# -- model blocks -----------------------------------------------------------------------------
def listener(width: int, grad_factor: Optional[float] = None) -> Dict[str, Any]:
    """spacy.Tok2VecListener.v1, or transfer_cli.Tok2VecListener.v1 with a gradient factor."""
    if grad_factor is None:
        return {"@architectures": "spacy.Tok2VecListener.v1", "width": width}
    return {"@architectures": "transfer_cli.Tok2VecListener.v1", "width": width, "grad_factor": grad_factor}


def tok2vec_model(width: int = 96, depth: int = 4, rows: Sequence[int] = (5000, 1000, 2500, 2500)) -> Dict[str, Any]:
    """spacy.Tok2Vec.v2: MultiHashEmbed.v2 over NORM/PREFIX/SUFFIX/SHAPE, MaxoutWindowEncoder.v2."""
    return {"@architectures": "spacy.Tok2Vec.v2",
            "embed": {"@architectures": "spacy.MultiHashEmbed.v2", "width": width,
                      "attrs": ["NORM", "PREFIX", "SUFFIX", "SHAPE"], "rows": list(rows),
                      "include_static_vectors": False},
            "encode": {"@architectures": "spacy.MaxoutWindowEncoder.v2", "width": width, "depth": depth,
                       "window_size": 1, "maxout_pieces": 3}}


def hash_embed_cnn(width: int, depth: int, embed_size: int, maxout_pieces: int = 3) -> Dict[str, Any]:
    return {"@architectures": "spacy.HashEmbedCNN.v2", "pretrained_vectors": None, "width": width,
            "depth": depth, "embed_size": embed_size, "window_size": 1, "maxout_pieces": maxout_pieces,
            "subword_features": True}


def tagger(tok2vec: Dict[str, Any], **settings: Any) -> Dict[str, Any]:
    """A tagger (or, with factory="senter", a senter) block on `tok2vec`."""
    factory = settings.pop("factory", "tagger")
    return {"factory": factory, **settings, "model": {"@architectures": "spacy.Tagger.v2", "tok2vec": tok2vec}}

"""`transfer-cli init-config OUTPUT`: write a complete starter training config."""
from enum import Enum
from pathlib import Path
from typing import Optional

import typer
from wasabi import msg

from ._util import app, handle_errors, import_code, import_thinc_for_config


class Optimize(str, Enum):
    efficiency = "efficiency"
    accuracy = "accuracy"


@app.command("init-config")
@handle_errors
def init_config_cli(
    output: str = typer.Argument(..., metavar="OUTPUT", help="Config file to write, or - for stdout (the config only)."),
    lang: str = typer.Option("en", "--lang", "-l", help="Language code of the pipeline."),
    pipeline: str = typer.Option("tagger,ner", "--pipeline", "-p",
                                 help="Comma-separated components: tagger, ner, textcat, textcat_multilabel, "
                                      "senter (tok2vec or transformer is added in front as needed)."),
    optimize: Optimize = typer.Option(Optimize.efficiency, "--optimize", "-o",
                                      help="efficiency (smaller, faster) or accuracy (larger models)."),
    gpu: bool = typer.Option(False, "--gpu", "-G", help="Transformer-based pipeline (for a GPU)."),
    vectors: Optional[str] = typer.Option(None, "--vectors",
                                          help="Vectors directory (from init-vectors): use static vectors."),
    pretraining: bool = typer.Option(False, "--pretraining", "-pt", help="Add the [pretraining] block."),
    shared: bool = typer.Option(True, "--shared/--independent",
                                help="One tok2vec shared through listeners, or a tok2vec in each component."),
    force: bool = typer.Option(False, "--force", "-F", help="Replace OUTPUT if it exists."),
    code: Optional[Path] = typer.Option(None, "--code", "-c",
                                        help="Python file registering your own factories or functions."),
    verbose: bool = typer.Option(False, "--verbose", help="Show tracebacks."),
) -> None:
    """Write a complete training config for a pipeline: fill-config on it changes nothing.
    An existing OUTPUT is replaced only with --force."""
    from ..config.snapshot import init_config_from_snapshot, registrations_may_differ  # light: no thinc
    from ..config.writing import write_config
    from ..fileio import check_output_file

    is_stdout = output == "-"
    if not is_stdout:
        check_output_file(output, force=force)
    if code is not None:  # the user's registrations change the registry: fill with the live one
        import_thinc_for_config()
    import_code(code)
    components = [name.strip() for name in pipeline.split(",") if name.strip()]
    options = dict(lang=lang, pipeline=components, optimize=optimize.value, gpu=gpu, vectors=vectors,
                   pretraining=pretraining, shared=shared)
    config = None if code is not None or registrations_may_differ() else init_config_from_snapshot(**options)
    if config is None:  # --code, a component without a template ...: the live registry (thinc)
        import_thinc_for_config()
        from ..config.quickstart import init_config

        config = init_config(**options)
    write_config(config, output)
    if is_stdout:
        return
    msg.good(f"Saved config to {output}")
    names = config["nlp"]["pipeline"]
    msg.text(f"pipeline: {', '.join(names)} ({optimize.value}, {'transformer' if gpu else 'CPU'}, "
             f"{'shared' if shared else 'independent'} embedding)")
    if pretraining and "tok2vec" not in names:
        msg.warn("[pretraining] component = \"tok2vec\" but the pipeline has no tok2vec component: "
                 "set --pretraining.component to the component whose model you want to pretrain")
    if gpu:
        name = config["components"]["transformer"]["model"]["name"]
        msg.text(f"The transformer is read from the local directory {name}: put a Hugging Face model there "
                 f"or override --components.transformer.model.name PATH")
    if vectors is not None and not Path(vectors).exists():
        msg.warn(f"The vectors directory {vectors} does not exist yet (create it with init-vectors)")
    # one unwrapped line, so that it can be copied as it is
    typer.echo(f"Train it with: transfer-cli train {output} --output model --paths.train train.spacy "
               f"--paths.dev dev.spacy")

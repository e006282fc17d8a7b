"""Tiny random transformers saved as local model directories, for tests (no network).

Three tokenizer families, each with a vocabulary written here:
    tiny_bert_dir       WordPiece (BertTokenizerFast, lowercasing) + BertModel
    tiny_roberta_dir    byte-level BPE with "Ġ" space prefix (RobertaTokenizerFast) + RobertaModel
    tiny_sp_dir         SentencePiece-style Unigram with "▁" (Metaspace; PreTrainedTokenizerFast)
                        + XLMRobertaModel
All models: 2 layers, hidden size 32, 2 heads, at most MAX_LENGTH wordpieces per span.

Use the session fixtures in a test file with
    from transformer_fixtures import tiny_bert_dir, tiny_roberta_dir, tiny_sp_dir  # noqa: F401
or call the build_* functions with a directory."""
import inspect
import json
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

WIDTH = 32
MAX_LENGTH = 128  # wordpieces per span, special tokens included

# Whole words in every vocabulary (with and without the space marker where it has one);
# everything else falls back to single characters.
WORDS = ["the", "cat", "sat", "on", "mat", "hello", "world", "new", "york", "un", "is", "a", "dog", "in"]
# Word-internal pieces, so "unbelievable" is split into several wordpieces: un|believ|able.
PIECES = ["believ", "able"]


def _model_settings(vocab_size: int, **extra) -> Dict:
    return dict(vocab_size=vocab_size, hidden_size=WIDTH, num_hidden_layers=2, num_attention_heads=2,
                intermediate_size=64, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, **extra)


def _file_argument(cls, v5_name: str, v4_name: str) -> str:
    """transformers 5 takes `vocab`/`merges`, 4 takes `vocab_file`/`merges_file`."""
    return v5_name if v5_name in inspect.signature(cls.__init__).parameters else v4_name


def _save_model(model, path: Path) -> None:
    model.eval()
    model.save_pretrained(str(path))


def build_bert(path: Path) -> Path:
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    path.mkdir(parents=True, exist_ok=True)
    letters = [chr(c) for c in range(ord("a"), ord("z") + 1)]
    vocab = (["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ".", ",", "!", "(", ")", "'"] + letters
             + ["##" + c for c in letters] + WORDS + ["##" + p for p in PIECES])
    (path / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf8")
    tokenizer = BertTokenizerFast(**{_file_argument(BertTokenizerFast, "vocab", "vocab_file"): str(path / "vocab.txt")},
                                  do_lower_case=True, model_max_length=MAX_LENGTH)
    tokenizer.save_pretrained(str(path))
    torch.manual_seed(0)
    config = BertConfig(**_model_settings(len(vocab), max_position_embeddings=MAX_LENGTH))
    _save_model(BertModel(config), path)
    return path


def byte_alphabet() -> List[str]:
    """The 256 printable stand-ins byte-level BPE uses for bytes (space is "Ġ")."""
    printable = (list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
                 + list(range(ord("®"), ord("ÿ") + 1)))
    chars, extra = printable[:], 0
    for byte in range(256):
        if byte not in printable:
            chars.append(256 + extra)
            extra += 1
    return [chr(c) for c in chars]


def build_roberta(path: Path) -> Path:
    import torch
    from transformers import RobertaConfig, RobertaModel, RobertaTokenizerFast

    path.mkdir(parents=True, exist_ok=True)
    vocab = {token: i for i, token in enumerate(["<s>", "<pad>", "</s>", "<unk>", "<mask>"] + byte_alphabet())}
    merges: List[Tuple[str, str]] = []

    def add(word: str) -> None:  # merges that build `word` left to right
        current = word[0]
        for char in word[1:]:
            if (current, char) not in merges:
                merges.append((current, char))
            current += char
            vocab.setdefault(current, len(vocab))

    for word in WORDS:
        add("Ġ" + word)
        add(word)
    for piece in PIECES:
        add(piece)
    (path / "vocab.json").write_text(json.dumps(vocab), encoding="utf8")
    (path / "merges.txt").write_text("#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in merges), encoding="utf8")
    files = {_file_argument(RobertaTokenizerFast, "vocab", "vocab_file"): str(path / "vocab.json"),
             _file_argument(RobertaTokenizerFast, "merges", "merges_file"): str(path / "merges.txt")}
    tokenizer = RobertaTokenizerFast(**files, model_max_length=MAX_LENGTH)
    tokenizer.save_pretrained(str(path))
    torch.manual_seed(1)
    # RoBERTa numbers positions from pad_token_id + 1: two more position rows than wordpieces
    config = RobertaConfig(**_model_settings(len(vocab), max_position_embeddings=MAX_LENGTH + 2, pad_token_id=1,
                                             bos_token_id=0, eos_token_id=2))
    _save_model(RobertaModel(config), path)
    return path


def build_sentencepiece(path: Path) -> Path:
    import torch
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast, XLMRobertaConfig, XLMRobertaModel

    path.mkdir(parents=True, exist_ok=True)
    letters = [chr(c) for c in range(ord("a"), ord("z") + 1)] + [chr(c) for c in range(ord("A"), ord("Z") + 1)]
    pieces = [("<s>", 0.0), ("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("▁", -2.0)]
    pieces += [("▁" + w, -1.0) for w in WORDS] + [(p, -1.0) for p in PIECES]
    pieces += [(c, -5.0) for c in letters + list(".,!()'")] + [("▁" + c, -5.5) for c in letters]
    tok = Tokenizer(models.Unigram(pieces, unk_id=3))
    tok.normalizer = normalizers.NFKC()
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>", special_tokens=[("<s>", 0), ("</s>", 2)])
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", unk_token="<unk>",
                                        pad_token="<pad>", cls_token="<s>", sep_token="</s>",
                                        model_max_length=MAX_LENGTH)
    tokenizer.save_pretrained(str(path))
    settings_file = path / "tokenizer_config.json"  # a class name both transformers 4 and 5 know
    settings = json.loads(settings_file.read_text(encoding="utf8"))
    settings["tokenizer_class"] = "PreTrainedTokenizerFast"
    settings_file.write_text(json.dumps(settings, indent=2), encoding="utf8")
    torch.manual_seed(2)
    config = XLMRobertaConfig(**_model_settings(len(pieces), max_position_embeddings=MAX_LENGTH + 2, pad_token_id=1,
                                                bos_token_id=0, eos_token_id=2))
    _save_model(XLMRobertaModel(config), path)
    return path


@pytest.fixture(scope="session")
def tiny_bert_dir(tmp_path_factory) -> Path:
    return build_bert(tmp_path_factory.mktemp("tiny_bert") / "model")


@pytest.fixture(scope="session")
def tiny_roberta_dir(tmp_path_factory) -> Path:
    return build_roberta(tmp_path_factory.mktemp("tiny_roberta") / "model")


@pytest.fixture(scope="session")
def tiny_sp_dir(tmp_path_factory) -> Path:
    return build_sentencepiece(tmp_path_factory.mktemp("tiny_sp") / "model")

"""The transformer model (ml/transformer): wordpiece-to-token alignment for each tokenizer
family, span getters and long docs, sub-batching, gradients, frozen prediction,
loading errors, and the data classes. Tiny random models from transformer_fixtures."""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy
import pytest
import srsly
from confection import Config
from thinc.api import Adam

from transfer_cli.config.registry import registry
from transfer_cli.errors import ConfigError, PathError
from transfer_cli.ml.transformer.data import FullTransformerBatch, TransformerData
from transfer_cli.ml.transformer.model import TransformerModel, hf_model, is_loaded, length_groups
from transfer_cli.ml.transformer.span_getters import (configure_get_doc_spans, configure_get_sent_spans,
                                                      configure_strided_spans)
from transfer_cli.tokens import Doc, Vocab
from transformer_fixtures import MAX_LENGTH, WIDTH, WORDS, tiny_bert_dir, tiny_roberta_dir, tiny_sp_dir  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent


def doc_of(words, spaces=None) -> Doc:
    return Doc(Vocab(), words=words, spaces=spaces)


# "Unbelievable!": a token split into several wordpieces, then punctuation.
UNBELIEVABLE = (["Unbelievable", "!"], [False, False])
# "hello  world \u200b (new) york🚀": a whitespace token (the second space), a zero-width
# space (BERT's normalizer drops it), brackets, and an emoji none of the vocabularies has.
MIXED = (["hello", " ", "world", "\u200b", "(", "new", ")", "york", "🚀"],
         [True, False, True, True, False, False, True, False, False])

# Hand-computed from the vocabularies in transformer_fixtures: (wordpieces, rows per token).
EXPECTED = {
    "bert": [
        (["[CLS]", "un", "##believ", "##able", "!", "[SEP]"], [[1, 2, 3], [4]]),
        # BERT's word splitter keeps "york🚀" together: one [UNK] for both tokens;
        # the zero-width space is removed by the normalizer: no wordpieces
        (["[CLS]", "hello", "world", "(", "new", ")", "[UNK]", "[SEP]"],
         [[1], [], [2], [], [3], [4], [5], [6], [6]]),
    ],
    "roberta": [
        # no space before the first word: no "Ġun" merge, so "Un" is two bytes' pieces
        (["<s>", "U", "n", "believ", "able", "!", "</s>"], [[1, 2, 3, 4], [5]]),
        # "Ġ" for the extra space (aligned to nothing, not to the whitespace token),
        # the zero-width space and the emoji as their UTF-8 bytes (3 and 4 pieces)
        (["<s>", "hello", "Ġ", "Ġworld", "Ġ", "â", "Ģ", "ĭ", "Ġ", "(", "new", ")", "Ġyork",
          "ð", "Ł", "ļ", "Ģ", "</s>"],
         [[1], [], [3], [5, 6, 7], [9], [10], [11], [12], [13, 14, 15, 16]]),
    ],
    "sp": [
        (["<s>", "▁U", "n", "believ", "able", "!", "</s>"], [[1, 2, 3, 4], [5]]),
        # "▁world" covers the space before it (as in XLM-R); lone "▁" pieces belong to no
        # token; "new" after "(" has no "▁" form in the vocabulary: three letters
        (None, [[1], [], [3], [5], [7], [8, 9, 10], [11], [12], [13]]),
    ],
}


@pytest.fixture(scope="module")
def model_dirs(tiny_bert_dir, tiny_roberta_dir, tiny_sp_dir):  # noqa: F811
    return {"bert": tiny_bert_dir, "roberta": tiny_roberta_dir, "sp": tiny_sp_dir}


def loaded(path, get_spans=None, **settings):
    model = TransformerModel(str(path), get_spans or configure_get_doc_spans(), **settings)
    model.initialize()
    return model


def rows(doc_data: TransformerData):
    return [[int(r) for r in doc_data.align[i].dataXd.ravel()] for i in range(len(doc_data.align))]


def hf_last_hidden_state(model, text: str) -> numpy.ndarray:
    """The Hugging Face model's own output for one text, as a reference."""
    import torch

    tokenizer = model.attrs["tokenizer"]
    encoded = tokenizer([text], return_tensors="pt")
    with torch.no_grad():
        return hf_model(model)(**encoded).last_hidden_state[0].numpy()


@pytest.mark.parametrize("family", ["bert", "roberta", "sp"])
def test_alignment_by_tokenizer_family(model_dirs, family):
    model = loaded(model_dirs[family])
    docs = [doc_of(*UNBELIEVABLE), doc_of(*MIXED)]
    batch = model.predict(docs)
    assert isinstance(batch, FullTransformerBatch) and len(batch.doc_data) == 2
    for doc, doc_data, (strings, expected_rows) in zip(docs, batch.doc_data, EXPECTED[family]):
        if strings is not None:
            assert doc_data.wordpieces.strings == [strings]
        assert rows(doc_data) == expected_rows
        # one row per wordpiece, equal to the Hugging Face model's own output
        n_wordpieces = doc_data.wordpieces.lengths[0]
        assert doc_data.model_output.last_hidden_state.shape == (1, n_wordpieces, WIDTH)
        assert doc_data.width == WIDTH and doc_data.tensors[0] is doc_data.model_output.last_hidden_state
        reference = hf_last_hidden_state(model, doc.text)
        numpy.testing.assert_allclose(doc_data.model_output.last_hidden_state[0], reference, atol=1e-5)


def test_roberta_alignment_without_trimmed_offsets(model_dirs):
    """With trim_offsets=False "Ġworld" starts at the space before it; the alignment
    must not change (the space is no token's character, the whitespace token gets nothing)."""
    model = loaded(model_dirs["roberta"], tokenizer_config={"trim_offsets": False})
    doc_data = model.predict([doc_of(*MIXED)]).doc_data[0]
    assert rows(doc_data) == EXPECTED["roberta"][1][1]


def test_leading_space_words_align_to_their_tokens(model_dirs):
    model = loaded(model_dirs["roberta"])
    doc_data = model.predict([doc_of(["the", "cat", "sat", "unbelievable"])]).doc_data[0]
    assert doc_data.wordpieces.strings == [["<s>", "the", "Ġcat", "Ġsat", "Ġun", "believ", "able", "</s>"]]
    assert rows(doc_data) == [[1], [2], [3], [4, 5, 6]]


def test_padding_left_on_the_shared_tokenizer_is_ignored(model_dirs):
    """Calling the Hugging Face tokenizer with padding/truncation leaves them set on its
    backend; the model's own encoding must not pick them up."""
    model = loaded(model_dirs["bert"])
    model.attrs["tokenizer"](["the cat sat on the mat", "a"], padding="max_length", truncation=True, max_length=4)
    doc_data = model.predict([doc_of(["the", "cat", "sat", "on", "the", "mat"])]).doc_data[0]
    assert doc_data.wordpieces.lengths == [8] and rows(doc_data) == [[1], [2], [3], [4], [5], [6]]


def test_empty_docs_and_docs_without_spans(model_dirs):
    model = loaded(model_dirs["bert"], get_spans=lambda docs: [[] if len(d) == 2 else [d[:]] for d in docs])
    docs = [doc_of([]), doc_of(["the", "cat"]), doc_of(["a", "dog"][:1])]
    batch = model.predict(docs)
    empty, no_spans, one = batch.doc_data
    assert len(empty.align) == 0
    assert list(no_spans.align.lengths) == [0, 0] and no_spans.width == WIDTH
    assert rows(one) == [[1]]
    assert model.predict([]).doc_data == []


# -- long docs and span getters --------------------------------------------------------------
def long_doc(n_tokens: int, seed: int = 0) -> Doc:
    """Words of the vocabulary (one wordpiece each in BERT), with sentence starts."""
    rng = numpy.random.default_rng(seed)
    words = [WORDS[i] for i in rng.integers(0, len(WORDS), n_tokens)]
    doc = doc_of(words)
    for i, token in enumerate(doc):
        token.is_sent_start = i % 20 == 0
    return doc


def test_strided_spans_average_the_windows_of_a_3000_token_doc(model_dirs):
    window, stride = 64, 48
    model = loaded(model_dirs["bert"], get_spans=configure_strided_spans(window=window, stride=stride))
    doc = long_doc(3000)
    batch = model.predict([doc])
    doc_data = batch.doc_data[0]
    spans = batch.spans[0]
    assert [(s.start, s.end) for s in spans[:2]] == [(0, 64), (48, 112)] and spans[-1].end == 3000
    assert all(length <= MAX_LENGTH for length in doc_data.wordpieces.lengths)
    # each token: the mean of its rows = the mean over the windows it is in of the
    # Hugging Face output for that window alone (one wordpiece per token, after [CLS])
    flat = doc_data.model_output.last_hidden_state.reshape((-1, WIDTH))
    pooled = numpy.stack([flat[doc_data.align[i].dataXd.ravel()].mean(axis=0) for i in range(len(doc))])
    total = numpy.zeros((len(doc), WIDTH))
    count = numpy.zeros((len(doc), 1))
    for span in spans:
        total[span.start:span.end] += hf_last_hidden_state(model, span.text)[1:-1]
        count[span.start:span.end] += 1
    assert set(count.ravel()) == {1, 2}
    numpy.testing.assert_allclose(pooled, total / count, atol=1e-5)


def test_a_doc_longer_than_the_model_goes_through_whole(model_dirs):
    """One doc-long span of 3,000 tokens is cut into spans the model takes; a single
    token with more wordpieces than the model takes keeps its first ones."""
    model = loaded(model_dirs["roberta"])
    words = long_doc(3000).words
    words[1000] = "x" * 300  # 300 single-byte pieces
    doc = doc_of(words)
    doc_data = model.predict([doc]).doc_data[0]
    assert max(doc_data.wordpieces.lengths) <= MAX_LENGTH and len(doc_data.wordpieces) > 3000 // MAX_LENGTH
    lengths = doc_data.align.lengths
    assert (lengths[:1000] > 0).all() and (lengths[1001:] > 0).all()
    assert lengths[1000] == MAX_LENGTH - 2  # all but <s> and </s>
    # every token is in exactly one of the cut spans, in order
    starts = [s.start for s in model.predict([doc]).spans[0]]
    assert starts == sorted(starts) and starts[0] == 0


def test_sent_spans_and_user_span_getters(model_dirs):
    doc = long_doc(100)
    model = loaded(model_dirs["bert"], get_spans=configure_get_sent_spans())
    batch = model.predict([doc])
    assert [(s.start, s.end) for s in batch.spans[0]] == [(i, i + 20) for i in range(0, 100, 20)]
    assert (batch.doc_data[0].align.lengths == 1).all()

    def custom_sent_spans(max_length):  # the example in spacy-transformers' docs
        def get_spans(docs):
            spans = []
            for d in docs:
                spans.append([])
                for sent in d.sents:
                    start, end = 0, max_length
                    while end <= len(sent):
                        spans[-1].append(sent[start:end])
                        start += max_length
                        end += max_length
                    if start < len(sent):
                        spans[-1].append(sent[start:len(sent)])
            return spans
        return get_spans

    model.attrs["get_spans"] = custom_sent_spans(8)
    batch = model.predict([doc])
    assert [len(s) for s in batch.spans[0]][:3] == [8, 8, 4] and (batch.doc_data[0].align.lengths == 1).all()


def test_strided_spans_settings_are_checked():
    doc = doc_of(["a"] * 10)
    assert [(s.start, s.end) for s in configure_strided_spans(4, 4)([doc])[0]] == [(0, 4), (4, 8), (8, 10)]
    with pytest.raises(ConfigError, match="stride"):
        configure_strided_spans(window=4, stride=5)
    with pytest.raises(ConfigError, match="window"):
        configure_strided_spans(window=0, stride=1)


# -- batching, gradients, frozen use ---------------------------------------------------------
def test_length_groups_bound_padded_wordpieces():
    lengths = [5, 30, 12, 7, 30, 2]
    groups = length_groups(lengths, 40)
    assert sorted(i for g in groups for i in g) == list(range(6))
    for group in groups:
        longest = max(lengths[i] for i in group)
        assert longest * len(group) <= 40 or len(group) == 1
    assert [list(g) for g in groups][0] == [1]  # longest first, alone (30 + 30 > 40)
    assert length_groups([50], 10) == [numpy.array([0])]  # too long for the bound: runs alone


def _padded_cost(groups, lengths, group_cost):
    return sum(len(g) * max(lengths[i] for i in g) + group_cost for g in groups)


def test_length_groups_keep_short_spans_apart_from_long_ones():
    lengths = [60] + [4] * 40  # one long sentence among short ones
    groups = length_groups(lengths, 4096, group_cost=64)
    assert [list(g) for g in groups] == [[0], list(range(1, 41))]
    assert _padded_cost(groups, lengths, 0) == 60 + 4 * 40  # no padding at all


def test_length_groups_are_the_cheapest_cut_of_the_sorted_order():
    rng = numpy.random.RandomState(3)
    for _ in range(30):
        lengths = [int(x) for x in rng.randint(1, 30, size=rng.randint(1, 8))]
        bound, cost = int(rng.randint(20, 120)), int(rng.randint(0, 40))
        groups = length_groups(lengths, bound, group_cost=cost)
        order = list(numpy.argsort(-numpy.asarray(lengths), kind="stable"))
        assert [int(i) for g in groups for i in g] == order
        n = len(order)
        cheapest = min(  # every way to cut the sorted order, by brute force
            _padded_cost(cut, lengths, cost)
            for mask in range(2 ** (n - 1))
            for cut in [numpy.split(numpy.asarray(order), [k + 1 for k in range(n - 1) if mask >> k & 1])]
            if all(len(g) == 1 or len(g) * max(lengths[i] for i in g) <= bound for g in cut))
        assert _padded_cost(groups, lengths, cost) == cheapest


@pytest.mark.parametrize("is_train", [False, True])
def test_max_batch_items_gives_the_same_output_as_one_pass(model_dirs, is_train):
    model = loaded(model_dirs["roberta"], get_spans=configure_strided_spans(window=12, stride=9))
    docs = [long_doc(n, seed=n) for n in (3, 40, 17, 1, 60, 25)]
    model.attrs["max_batch_items"] = 10 ** 6
    whole, _ = model(docs, is_train)
    model.attrs["max_batch_items"] = 40
    assert len(length_groups(whole.wordpieces.lengths, 40)) > 3
    split, _ = model(docs, is_train)
    numpy.testing.assert_allclose(split.model_output.last_hidden_state, whole.model_output.last_hidden_state,
                                  atol=1e-5)
    assert split.wordpieces.strings == whole.wordpieces.strings
    for a, b in zip(split.doc_data, whole.doc_data):
        assert rows(a) == rows(b)


def test_backprop_reaches_the_torch_parameters(model_dirs):
    model = loaded(model_dirs["bert"], get_spans=configure_strided_spans(window=6, stride=4))
    model.attrs["max_batch_items"] = 16  # several sub-batches, each backpropagated
    docs = [long_doc(15, seed=1), long_doc(4, seed=2)]
    batch, backprop = model.begin_update(docs)
    d_docs = [[numpy.ones_like(d.model_output.last_hidden_state)] for d in batch.doc_data]
    before = {name: p.detach().clone() for name, p in hf_model(model).named_parameters()}
    assert backprop(batch.unsplit_by_doc(d_docs)) == []
    grads = {name: p.grad for name, p in hf_model(model).named_parameters()}
    assert grads["embeddings.word_embeddings.weight"].abs().sum() > 0
    assert grads["encoder.layer.1.output.dense.weight"].abs().sum() > 0
    model.finish_update(Adam(0.01))
    changed = [n for n, p in hf_model(model).named_parameters() if not bool((before[n] == p.detach()).all())]
    assert "embeddings.word_embeddings.weight" in changed and "encoder.layer.0.attention.self.query.weight" in changed


def test_prediction_builds_no_autograd_graph(model_dirs):
    import torch

    model = loaded(model_dirs["bert"])
    seen = []

    def record(module, args, output):
        seen.append((torch.is_inference_mode_enabled(), output.last_hidden_state.requires_grad))

    hook = hf_model(model).register_forward_hook(record)
    try:
        model.predict([doc_of(["the", "cat"])])
        model.begin_update([doc_of(["the", "cat"])])
    finally:
        hook.remove()
    assert seen == [(True, False), (False, True)]


# -- loading: local only, one clear error ----------------------------------------------------
def test_config_resolves_without_loading_the_weights(model_dirs):
    text = f"""
[model]
@architectures = "spacy-transformers.TransformerModel.v3"
name = "{model_dirs['bert']}"
tokenizer_config = {{"use_fast": true}}
transformer_config = {{}}
mixed_precision = false
grad_scaler_config = {{}}

[model.get_spans]
@span_getters = "spacy-transformers.strided_spans.v1"
window = 128
stride = 96
"""
    model = registry.resolve(Config().from_str(text))["model"]
    assert not is_loaded(model) and model.get_dim("nO") == WIDTH
    model.initialize()
    assert is_loaded(model) and len(model.predict([doc_of(["hello"])]).doc_data) == 1
    for version, extra in (("v1", ""), ("v2", "transformer_config = {}\n")):
        head = text.split("mixed_precision")[0].replace("v3", version).replace("transformer_config = {}\n", extra)
        model = registry.resolve(Config().from_str(head + text[text.index("[model.get_spans]"):]))["model"]
        assert model.attrs["name"] == str(model_dirs["bert"])


def test_a_missing_directory_is_one_clear_error(tmp_path):
    with pytest.raises(PathError) as error:
        TransformerModel(str(tmp_path / "nope"), configure_get_doc_spans()).initialize()
    assert "not found" in str(error.value) and str(tmp_path / "nope") in str(error.value)
    assert "\n" not in str(error.value)


def test_a_hub_name_asks_for_a_downloaded_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    model = TransformerModel("roberta-base", configure_get_doc_spans())
    assert model.has_dim("nO") is None  # no config.json to read the width from: unset
    with pytest.raises(PathError, match="never downloads.*roberta-base.*directory"):
        model.initialize()


def test_init_configs_placeholder_suggests_the_hub_id_it_is_named_after(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(PathError) as error:
        TransformerModel("models/roberta-base", configure_get_doc_spans()).initialize()
    assert "huggingface-cli download roberta-base --local-dir models/roberta-base" in str(error.value)


def test_a_model_directory_with_only_pickled_weights_is_refused_unread(tmp_path, model_dirs):
    path = tmp_path / "pickled"
    shutil.copytree(model_dirs["bert"], path)
    (path / "model.safetensors").unlink()
    (path / "pytorch_model.bin").write_bytes(b"\x80\x04 would run code")  # never unpickled
    with pytest.raises(PathError, match="only in pytorch_model.bin, a pickle") as error:
        TransformerModel(str(path), configure_get_doc_spans()).initialize()
    assert "save_pretrained" in str(error.value) and "\n" not in str(error.value)


def test_a_directory_that_is_not_a_transformer_is_one_clear_error(tmp_path, model_dirs):
    (tmp_path / "pipeline").mkdir()
    (tmp_path / "pipeline" / "config.cfg").write_text("[nlp]\n")
    with pytest.raises(PathError, match="no config.json"):
        TransformerModel(str(tmp_path / "pipeline"), configure_get_doc_spans()).initialize()
    (tmp_path / "config_only").mkdir()
    shutil.copy(model_dirs["bert"] / "config.json", tmp_path / "config_only")
    with pytest.raises(PathError, match="no model weights"):
        TransformerModel(str(tmp_path / "config_only"), configure_get_doc_spans()).initialize()
    (tmp_path / "bad_config").mkdir()
    (tmp_path / "bad_config" / "config.json").write_text(json.dumps({"model_type": "no-such-model"}))
    shutil.copy(model_dirs["bert"] / "model.safetensors", tmp_path / "bad_config")
    with pytest.raises(PathError, match="config.json cannot be read") as error:
        TransformerModel(str(tmp_path / "bad_config"), configure_get_doc_spans()).initialize()
    assert "\n" not in str(error.value)


def test_a_slow_tokenizer_is_one_clear_error(tmp_path, model_dirs):
    from transformers import ByT5Tokenizer  # a Python-only tokenizer: no offsets

    slow = tmp_path / "slow"
    slow.mkdir()
    for name in ("config.json", "model.safetensors"):
        shutil.copy(model_dirs["bert"] / name, slow)
    ByT5Tokenizer().save_pretrained(str(slow))
    with pytest.raises(PathError, match="slow .*tokenizer.*offsets") as error:
        TransformerModel(str(slow), configure_get_doc_spans()).initialize()
    assert str(slow) in str(error.value) and "\n" not in str(error.value)
    with pytest.raises(ConfigError, match="use_fast"):
        TransformerModel(str(model_dirs["bert"]), configure_get_doc_spans(),
                         tokenizer_config={"use_fast": False}).initialize()


def test_a_model_inside_an_installed_package_is_found(tmp_path, model_dirs, monkeypatch):
    package = tmp_path / "site" / "my_models_pkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    shutil.copytree(model_dirs["bert"], package / "model")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    model = loaded("my_models_pkg/model")
    assert rows(model.predict([doc_of(["the", "cat"])]).doc_data[0]) == [[1], [2]]


def test_weights_round_trip_as_safetensors_bytes(model_dirs):
    model = loaded(model_dirs["bert"])
    model.begin_update([doc_of(["the"])])  # (a training pass changes nothing by itself)
    hf_model(model).embeddings.word_embeddings.weight.data += 0.5
    data = model.to_bytes()
    fresh = loaded(model_dirs["bert"])
    docs = [doc_of(["the", "cat", "sat"])]
    assert not numpy.allclose(fresh.predict(docs).model_output.last_hidden_state,
                              model.predict(docs).model_output.last_hidden_state)
    fresh.from_bytes(data)
    numpy.testing.assert_array_equal(fresh.predict(docs).model_output.last_hidden_state,
                                     model.predict(docs).model_output.last_hidden_state)


# -- data classes ----------------------------------------------------------------------------
def test_split_and_unsplit_by_doc_are_inverse_on_real_rows(model_dirs):
    model = loaded(model_dirs["roberta"], get_spans=configure_strided_spans(window=5, stride=3))
    docs = [long_doc(11, seed=3), doc_of([]), long_doc(4, seed=4)]
    batch = model.predict(docs)
    full = batch.model_output.last_hidden_state
    for doc_data in batch.doc_data:  # copies: a kept doc does not keep the batch's arrays alive
        assert doc_data.model_output.last_hidden_state.shape[0] == len(doc_data.wordpieces)
        assert not numpy.shares_memory(doc_data.model_output.last_hidden_state, full)
    flat_batch = full.reshape((-1, WIDTH))[batch.align.dataXd.ravel()]
    flat_docs = numpy.concatenate([d.model_output.last_hidden_state.reshape((-1, WIDTH))[d.align.dataXd.ravel()]
                                   for d in batch.doc_data])
    numpy.testing.assert_array_equal(flat_batch, flat_docs)
    back = batch.unsplit_by_doc([list(d.tensors) for d in batch.doc_data])
    assert isinstance(back, FullTransformerBatch) and back.spans is batch.spans
    mask = batch.wordpieces.attention_mask[:, :, None] > 0
    numpy.testing.assert_array_equal(back.model_output.last_hidden_state * mask, full * mask)


def test_transformer_data_round_trips_through_msgpack(model_dirs):
    model = loaded(model_dirs["bert"])
    doc_data = model.predict([doc_of(*MIXED)]).doc_data[0]
    restored = TransformerData.from_dict(srsly.msgpack_loads(srsly.msgpack_dumps(doc_data.to_dict())))
    assert restored.wordpieces.strings == doc_data.wordpieces.strings
    numpy.testing.assert_array_equal(restored.wordpieces.input_ids, doc_data.wordpieces.input_ids)
    numpy.testing.assert_array_equal(restored.model_output.last_hidden_state, doc_data.model_output.last_hidden_state)
    assert rows(restored) == rows(doc_data) and list(restored.model_output) == list(doc_data.model_output)
    copied = doc_data.copy()
    copied.model_output.last_hidden_state[...] = 0
    assert doc_data.model_output.last_hidden_state.any()


def test_importing_the_package_does_not_load_transformers():
    code = ("import sys, transfer_cli.ml, transfer_cli.ml.transformer.model; "
            "print('transformers' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                            env={"PYTHONPATH": str(ROOT), "PATH": ""})
    assert result.stdout.strip() == "False", result.stderr


# -- mixed precision (GPU only; the CUDA queries are replaced here) --------------------------
@pytest.mark.parametrize("mixed, on_gpu, bf16, expected, dtype", [
    (False, True, True, (False, False), None),
    (True, False, True, (False, False), None),             # the CPU: full precision
    (True, True, True, (True, False), "bfloat16"),         # Ampere and later: bf16, no scaler
    (True, True, False, (True, True), "float16"),          # older GPUs: fp16 with the grad scaler
])
def test_mixed_precision_uses_bfloat16_where_the_gpu_has_it(monkeypatch, mixed, on_gpu, bf16, expected, dtype):
    import torch

    from transfer_cli.ml.transformer.model import mixed_precision_plan

    before = torch.get_autocast_dtype("cuda")
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: bf16)
    try:
        assert mixed_precision_plan(mixed, on_gpu) == expected
        if dtype is not None:
            assert torch.get_autocast_dtype("cuda") == getattr(torch, dtype)
    finally:
        torch.set_autocast_dtype("cuda", before)

"""Hash embeddings of token attributes: `HashEmbed` (one table) and `MultiHashEmbed`
(one table per attribute, concatenated, mixed by a layer-normalized Maxout).

HashEmbed follows thinc's semantics exactly — each uint64 key is hashed with
MurmurHash3 (`ops.hash`, seeded per table) into four rows of the table, which are
summed — but embeds each *distinct* key once per batch: the keys are uniqued on the
host, the few thousand distinct keys are hashed and gathered, and the rows are
scattered back to the tokens. The gradient is summed per distinct key before it is
scattered into the table. A batch of 25k tokens has ~5k distinct NORMs, ~2k
suffixes and a few hundred shapes, so this does a fraction of the work of hashing
and gathering per token.
"""
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

from thinc.api import Dropout, Model, uniform_init
from thinc.types import Floats2d, Ints1d, Ragged
from thinc.util import get_array_module, partial

from ..config.registry import load_registrations, registry
from ..errors import ConfigError
from .featurize import AttrName, AttrNamesArg, FeatureExtractor, OptionalAttrNamesArg, attr_ids, split_by_lengths
from .layers import LayerNorm, Maxout
from .windowed import PER_TOKEN

STATIC_VECTORS_NAME = "spacy.StaticVectors.v2"


# -- HashEmbed ----------------------------------------------------------------------------------
def HashEmbed(nO: int, nV: int, *, seed: Optional[int] = None, column: Optional[int] = None,
              initializer: Optional[Callable] = None, dropout: Optional[float] = None) -> Model[Ints1d, Floats2d]:
    """Model[Ints1d, Floats2d]: uint64 keys → vectors. Params E (nV, nO); attrs seed,
    column (selects a column of a 2d input) and, when `dropout` is given,
    dropout_rate: a mask over the nO dimensions, shared by the batch (as thinc's)."""
    attrs: Dict[str, Any] = {"seed": seed, "column": column}
    if dropout is not None:
        attrs["dropout_rate"] = dropout
    model: Model = Model("hashembed", _hashembed_forward, init=partial(_hashembed_init, initializer or uniform_init),
                         params={"E": None}, dims={"nO": nO, "nV": nV, "nI": None}, attrs=attrs)
    if seed is None:
        model.attrs["seed"] = model.id
    return model


def _hashembed_init(initializer: Callable, model: Model, X: Any = None, Y: Any = None) -> None:
    model.set_param("E", initializer(model.ops, (model.get_dim("nV"), model.get_dim("nO"))))


def unique_keys(ids) -> Tuple[Any, Any]:
    """(distinct keys, inverse) with keys[inverse] == ids; inverse int32. One sort."""
    xp = get_array_module(ids)
    order = ids.argsort()
    ordered = ids[order]
    first = xp.empty(len(ordered), dtype=bool)
    first[:1] = True
    xp.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    rank = xp.cumsum(first, dtype="int32")
    rank -= 1
    inverse = xp.empty(len(ordered), dtype="int32")
    inverse[order] = rank
    return ordered[first], inverse


def _hashembed_forward(model: Model, ids, is_train: bool) -> Tuple[Floats2d, Callable]:
    ops = model.ops
    E = model.get_param("E")
    nV, nO = E.shape
    column = model.attrs.get("column")
    if column is not None and getattr(ids, "ndim", 1) == 2:
        ids = ids[:, column]
    n = len(ids)
    if n == 0:
        return ops.alloc2f(0, nO, dtype=E.dtype), lambda dY: ops.alloc1i(0)
    uniq, inverse = unique_keys(ids)
    rows = ops.hash(ops.asarray(uniq, dtype="uint64"), model.attrs["seed"]) % nV
    vectors = ops.gather_add(E, rows)
    mask = None
    if is_train:
        rate = model.attrs.get("dropout_rate")
        if rate:
            mask = ops.get_dropout_mask((nO,), rate)
            vectors *= mask
    inverse = ops.asarray(inverse, dtype="int32")
    output = ops.xp.take(vectors, inverse, axis=0)

    def backprop(dY: Floats2d):
        d_vectors = ops.alloc2f(len(uniq), nO, dtype=dY.dtype)
        ops.scatter_add(d_vectors, inverse, ops.as_contig(dY))
        if mask is not None:
            d_vectors *= mask
        dE = ops.alloc2f(nV, nO, dtype=dY.dtype)
        rows_t = ops.as_contig(rows.T, dtype="int32")
        for j in range(rows_t.shape[0]):
            ops.scatter_add(dE, rows_t[j], d_vectors)
        model.inc_grad("E", dE)
        return ops.alloc1i(n)

    return output, backprop


# -- static vectors plug-in ---------------------------------------------------------------------
def static_vectors_layer(nO: int, nM: Optional[int] = None, *, dropout: Optional[float] = 0.0,
                         owner: str = "") -> Model:
    """The registered `spacy.StaticVectors.v2` layer (Model[List[Doc], Ragged]), looked
    up when an architecture that includes static vectors is built."""
    load_registrations()
    for registry_name in ("layers", "architectures"):
        if registry.has(registry_name, STATIC_VECTORS_NAME):
            make = registry.get(registry_name, STATIC_VECTORS_NAME)
            return make(nO=nO, nM=nM, dropout=dropout)
    where = f"{owner}: " if owner else ""
    raise ConfigError(f"{where}static vectors need the layer '{STATIC_VECTORS_NAME}', which is not registered "
                      "in this installation; set include_static_vectors = false (or pretrained_vectors = null)")


def static_vectors_data(Y: Any) -> Tuple[Floats2d, Callable[[Floats2d, Any], Any]]:
    """The (n_tokens, nO) array of a static-vectors output (Ragged, list or array), and
    a function that wraps a gradient array back into that form."""
    if isinstance(Y, Ragged):
        return Y.data, lambda d, ops: Ragged(d, Y.lengths)
    if isinstance(Y, list):
        lengths = [len(y) for y in Y]
        data = Y[0] if len(Y) == 1 else get_array_module(Y[0]).concatenate(Y) if Y else None
        return data, lambda d, ops: split_by_lengths(d, lengths)
    return Y, lambda d, ops: d


# -- MultiHashEmbed -----------------------------------------------------------------------------
def MultiHashEmbed(width: int, attrs: Sequence[AttrName], rows: Sequence[int], include_static_vectors: bool,
                   *, name: str = "spacy.MultiHashEmbed.v2") -> Model[List[Any], List[Floats2d]]:
    """Model[List[Doc], List[Floats2d]]: embed each attribute in its own hash table
    (width columns, `rows[i]` rows, seeds 8, 9, ... in attrs order), optionally
    concatenate the static vectors projected to width, and mix with a
    layer-normalized 3-piece Maxout to `width`."""
    ids = attr_ids(attrs, owner=name)
    rows = list(rows)
    if len(rows) != len(ids):
        raise ConfigError(f"{name}: {len(ids)} attrs but {len(rows)} rows; give one row count per attribute")
    if not ids:
        raise ConfigError(f"{name}: attrs is empty; name at least one token attribute, e.g. [\"NORM\"]")
    if width < 1 or any(int(r) < 1 for r in rows):
        raise ConfigError(f"{name}: width and every rows entry must be positive integers")
    tables = [HashEmbed(width, int(n_rows), seed=8 + i, column=i, dropout=0.0) for i, n_rows in enumerate(rows)]
    static = static_vectors_layer(width, dropout=0.0, owner=name) if include_static_vectors else None
    n_inputs = width * (len(tables) + (1 if static is not None else 0))
    return _embed_mixer("multihashembed", FeatureExtractor(ids), tables, static, width, n_inputs)


def _embed_mixer(name: str, extractor: Optional[Model], tables: List[Model], static: Optional[Model], width: int,
                 n_inputs: int, char_embed: Optional[Model] = None) -> Model:
    """The shared body of MultiHashEmbed and CharacterEmbed: [char_embed] + hash tables
    (+ static vectors) concatenated, then Maxout(nP=3) → LayerNorm → Dropout."""
    maxout = Maxout(nO=width, nI=n_inputs, nP=3)
    norm = LayerNorm(nI=width)
    dropout = Dropout(0.0)
    layers = ([char_embed] if char_embed is not None else []) + ([extractor] if extractor is not None else [])
    layers += tables + ([static] if static is not None else []) + [maxout, norm, dropout]
    model: Model = Model(name, _mixer_forward, init=_mixer_init, layers=layers, dims={"nO": width, "nI": None},
                         attrs={"n_tables": len(tables), "has_static": static is not None,
                                "has_char_embed": char_embed is not None,
                                PER_TOKEN: True})  # each row from its own token's features
    model.set_ref("maxout", maxout)
    if static is not None:
        model.set_ref("static_vectors", static)
    return model


def _parts(model: Model) -> Tuple[Optional[Model], Optional[Model], List[Model], Optional[Model], List[Model]]:
    layers = list(model.layers)
    char_embed = layers.pop(0) if model.attrs["has_char_embed"] else None
    extractor = layers.pop(0)
    tables = [layers.pop(0) for _ in range(model.attrs["n_tables"])]
    static = layers.pop(0) if model.attrs["has_static"] else None
    return char_embed, extractor, tables, static, layers


def _mixer_init(model: Model, X: Optional[List[Any]] = None, Y: Any = None) -> None:
    for layer in model.layers:
        if layer.name in ("maxout", "layernorm", "dropout", "hashembed", "extract_features", "charembed"):
            layer.initialize()
        else:  # static vectors read their input width from the docs' vectors table
            layer.initialize(X=X)


def _mixer_forward(model: Model, docs: List[Any], is_train: bool) -> Tuple[List[Floats2d], Callable]:
    ops = model.ops
    char_embed, extractor, tables, static, (maxout, norm, dropout) = _parts(model)
    width = model.get_dim("nO")
    if not len(docs):
        return [], lambda d_outputs: []
    keys_r, _ = extractor(docs, is_train)
    keys, lengths = keys_r.dataXd, keys_r.lengths  # dataXd keeps the (0, k) shape of an empty batch
    n = keys.shape[0]
    E0 = tables[0].get_param("E")
    concat = ops.xp.empty((n, maxout.get_dim("nI")), dtype=E0.dtype)
    backprops: List[Tuple[int, int, Callable, Optional[Callable]]] = []
    start = 0
    if char_embed is not None:
        chars, bp_chars = char_embed(docs, is_train)
        backprops.append((start, start + chars.shape[1], bp_chars, None))
        concat[:, start:start + chars.shape[1]] = chars
        start += chars.shape[1]
    for table in tables:
        vectors, bp_table = table(keys, is_train)
        backprops.append((start, start + vectors.shape[1], bp_table, None))
        concat[:, start:start + vectors.shape[1]] = vectors
        start += vectors.shape[1]
    if static is not None:
        static_out, bp_static = static(docs, is_train)
        data, rewrap = static_vectors_data(static_out)
        if data is not None and len(data):
            concat[:, start:start + data.shape[1]] = data
        backprops.append((start, concat.shape[1], bp_static, rewrap))
    Y, bp_maxout = maxout(concat, is_train)
    Y, bp_norm = norm(Y, is_train)
    Y, bp_drop = dropout(Y, is_train)
    outputs = split_by_lengths(Y, lengths)

    def backprop(d_outputs: List[Floats2d]) -> List:
        dY = _concat_rows(ops, d_outputs, width, Y.dtype)
        d_concat = bp_maxout(bp_norm(bp_drop(dY)))
        for begin, end, bp, rewrap in backprops:
            d_block = ops.as_contig(d_concat[:, begin:end])
            bp(rewrap(d_block, ops) if rewrap is not None else d_block)
        return []

    return outputs, backprop


def _concat_rows(ops, arrays: List[Floats2d], width: int, dtype) -> Floats2d:
    if len(arrays) == 1:
        return arrays[0]
    if not arrays:
        return ops.xp.zeros((0, width), dtype=dtype)
    return ops.xp.concatenate(arrays, axis=0)


# -- spacy.MultiHashEmbed.v1: both historical signatures ------------------------------------------
@registry.architectures("spacy.MultiHashEmbed.v1")
def MultiHashEmbed_v1(width: int, attrs: OptionalAttrNamesArg = None,
                      rows: Optional[Union[int, List[int]]] = None, include_static_vectors: Optional[bool] = None,
                      also_embed_subwords: Optional[bool] = None, also_use_static_vectors: Optional[bool] = None
                      ) -> Model[List[Any], List[Floats2d]]:
    """spacy.MultiHashEmbed.v1 in either of its forms:

    - (width, rows: int, also_embed_subwords, also_use_static_vectors): NORM with
      `rows` rows, plus PREFIX, SUFFIX and SHAPE with rows // 2 when
      also_embed_subwords (spaCy's first v3 form);
    - (width, attrs, rows: List[int], include_static_vectors): as .v2.
    """
    name = "spacy.MultiHashEmbed.v1"
    legacy = also_embed_subwords is not None or also_use_static_vectors is not None or isinstance(rows, int)
    if rows is None:
        raise ConfigError(f"{name}: rows is required: a list with one row count per attribute (with attrs and "
                          "include_static_vectors), or one number (with also_embed_subwords and "
                          "also_use_static_vectors)")
    if legacy:
        mixed = [key for key, value in (("attrs", attrs), ("include_static_vectors", include_static_vectors))
                 if value is not None]
        if not isinstance(rows, int) or mixed:
            given = ", ".join(mixed + ([] if isinstance(rows, int) else ["rows as a list"]))
            raise ConfigError(f"{name}: mixes its two forms ({given} with also_embed_subwords/"
                              "also_use_static_vectors); use either width, rows (a number), also_embed_subwords, "
                              "also_use_static_vectors, or width, attrs, rows (a list), include_static_vectors")
        missing = [key for key, value in (("also_embed_subwords", also_embed_subwords),
                                          ("also_use_static_vectors", also_use_static_vectors)) if value is None]
        if missing:
            raise ConfigError(f"{name}: with rows as a number, {' and '.join(missing)} must be set (true or false)")
        if also_embed_subwords:
            legacy_attrs: List[AttrName] = ["NORM", "PREFIX", "SUFFIX", "SHAPE"]
            legacy_rows = [rows, rows // 2, rows // 2, rows // 2]
        else:
            legacy_attrs, legacy_rows = ["NORM"], [rows]
        return MultiHashEmbed(width, legacy_attrs, legacy_rows, bool(also_use_static_vectors), name=name)
    if attrs is None:
        raise ConfigError(f"{name}: rows is a list, so attrs must name the attribute of each table "
                          "(e.g. attrs = [\"NORM\",\"PREFIX\",\"SUFFIX\",\"SHAPE\"])")
    if include_static_vectors is None:
        raise ConfigError(f"{name}: include_static_vectors must be set (true or false)")
    return MultiHashEmbed(width, attrs, rows, include_static_vectors, name=name)


@registry.architectures("spacy.MultiHashEmbed.v2")
def MultiHashEmbed_v2(width: int, attrs: AttrNamesArg, rows: List[int],
                      include_static_vectors: bool) -> Model[List[Any], List[Floats2d]]:
    return MultiHashEmbed(width, attrs, rows, include_static_vectors, name="spacy.MultiHashEmbed.v2")

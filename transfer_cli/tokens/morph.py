"""Morphological feature strings in UD FEATS form ("Case=Nom|Number=Sing").

spaCy keys a token's morph by the hash of a normalised FEATS string: features sorted
as strings, multi-values ("PronType=Int,Rel") sorted within a field. Normalising the
same way keeps our MORPH hashes equal to spaCy's, so `.spacy` files agree."""


def normalize_morph(feats: str) -> str:
    """The normalised FEATS string; "" for no features ("" or "_").
    ValueError for a feature without '=' (what FEATS requires)."""
    if not feats or feats == "_":
        return ""
    fields = {}
    for feat in feats.split("|"):
        field, sep, values = feat.partition("=")
        if not sep or not field or not values:
            raise ValueError(f"invalid morphological feature '{feat}' in '{feats}' (expected Field=Value)")
        fields[field] = ",".join(sorted(values.split(",")))
    return "|".join(sorted(f"{field}={values}" for field, values in fields.items()))

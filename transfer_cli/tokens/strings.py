"""StringStore: a two-way map between strings and their 64-bit MurmurHash64A values.

The hash is MurmurHash64A over the UTF-8 bytes with seed 1, the same function spaCy
uses, so hashes in `.spacy` files and in our own are interchangeable. The murmurhash
package exposes only 32-bit hashes to Python, so the 64-bit variant is computed here;
every string is hashed once and cached, which keeps this off the hot path."""
from typing import Dict, Iterable, Iterator, List, Union

_M = 0xC6A4A7935BD1E995
_MASK = 0xFFFFFFFFFFFFFFFF
_SEED = 1


def hash_bytes64(data: bytes, seed: int = _SEED) -> int:
    length = len(data)
    h = (seed ^ ((length * _M) & _MASK)) & _MASK
    n_blocks = length // 8
    for i in range(n_blocks):
        k = int.from_bytes(data[i * 8:i * 8 + 8], "little")
        k = (k * _M) & _MASK
        k ^= k >> 47
        k = (k * _M) & _MASK
        h ^= k
        h = (h * _M) & _MASK
    tail = data[n_blocks * 8:]
    if tail:
        h ^= int.from_bytes(tail, "little")
        h = (h * _M) & _MASK
    h ^= h >> 47
    h = (h * _M) & _MASK
    h ^= h >> 47
    return h


_hash_cache: Dict[str, int] = {}


def hash_string(text: str) -> int:
    """64-bit hash of a string; the empty string hashes to 0 (the 'missing' value)."""
    value = _hash_cache.get(text)
    if value is None:
        value = hash_bytes64(text.encode("utf8")) if text else 0
        if len(_hash_cache) < 2_000_000:
            _hash_cache[text] = value
    return value


class StringStore:
    """Strings and their hashes. `store[str] -> int` adds nothing; `store.add(str)` does.
    `store[int] -> str` looks a hash up (KeyError for an unknown hash)."""

    def __init__(self, strings: Iterable[str] = ()) -> None:
        self._by_hash: Dict[int, str] = {0: ""}
        for s in strings:
            self.add(s)

    def add(self, text: str) -> int:
        key = hash_string(text)
        if key not in self._by_hash:
            self._by_hash[key] = text
        return key

    def __getitem__(self, item: Union[str, int]):
        if isinstance(item, str):
            return hash_string(item)
        try:
            return self._by_hash[int(item)]
        except KeyError:
            raise KeyError(f"Hash {item} is not in the StringStore: add the string first") from None

    def as_string(self, item: Union[str, int]) -> str:
        return item if isinstance(item, str) else self[item]

    def as_int(self, item: Union[str, int]) -> int:
        return hash_string(item) if isinstance(item, str) else int(item)

    def __contains__(self, item: Union[str, int]) -> bool:
        key = hash_string(item) if isinstance(item, str) else int(item)
        return key in self._by_hash

    def __len__(self) -> int:
        return len(self._by_hash) - 1

    def __iter__(self) -> Iterator[str]:
        return (s for k, s in self._by_hash.items() if k != 0)

    def to_list(self) -> List[str]:
        return sorted(self)

    def update(self, strings: Iterable[str]) -> None:
        for s in strings:
            self.add(s)

"""msgpack bytes exactly as srsly.msgpack_dumps / msgpack_loads write and read them,
without their cost per call: each srsly call builds a new Packer (or decoder chain),
which looks its encoders/decoders up in the entry points (~2 ms). Here the Packer is
built once per thread (a Packer holds a buffer, so threads do not share one) and the
decoder chain once, so per-Doc serialization (Doc.to_bytes/from_bytes, pickling) pays
for packing only. Encoders/decoders registered with srsly after first use are not seen."""
import functools
import gc
import threading
from typing import Any, Callable, Optional

import srsly.msgpack

_local = threading.local()
_decoder_hook: Optional[Callable[[Any], Any]] = None


def msgpack_dumps(data: Any) -> bytes:
    """The bytes srsly.msgpack_dumps(data) returns."""
    packer = getattr(_local, "packer", None)
    if packer is None:
        packer = _local.packer = srsly.msgpack.Packer(use_bin_type=True)
    return packer.pack(data)  # the Packer resets itself after each call, also after a failed one


def msgpack_loads(data: bytes, use_list: bool = True) -> Any:
    """What srsly.msgpack_loads(data, use_list) returns."""
    global _decoder_hook
    if _decoder_hook is None:
        hook = None
        for decoder in srsly.msgpack.msgpack_decoders.get_all().values():  # as srsly chains them
            hook = functools.partial(decoder, chain=hook)
        _decoder_hook = hook
    enabled = gc.isenabled()
    gc.disable()  # as srsly does: many small containers, no cycles
    try:
        return srsly.msgpack._unpackb(data, raw=False, use_list=use_list, object_hook=_decoder_hook)
    finally:
        if enabled:
            gc.enable()


__all__ = ["msgpack_dumps", "msgpack_loads"]

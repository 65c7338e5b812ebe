"""The text codec of every session: UTF-8 that replaces undecodable bytes, never drops them."""

from __future__ import annotations

import codecs
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing_extensions import Buffer

# Netmiko decodes with errors="ignore", which silently drops undecodable bytes. Sessions
# use this codec instead: UTF-8 that always *replaces* them (U+FFFD), so a capture shows
# where the device sent something odd instead of hiding it.
REPLACING_UTF8 = "vcollector_utf8_replace"


def _replacing_utf8(name: str) -> codecs.CodecInfo | None:
    if name != REPLACING_UTF8:
        return None

    def decode(data: Buffer, errors: str = "strict", /) -> tuple[str, int]:
        return codecs.utf_8_decode(data, "replace", True)

    def encode(text: str, errors: str = "strict", /) -> tuple[bytes, int]:
        return codecs.utf_8_encode(text, errors)

    utf8 = codecs.lookup("utf-8")
    return codecs.CodecInfo(
        encode,
        decode,
        incrementalencoder=utf8.incrementalencoder,
        incrementaldecoder=utf8.incrementaldecoder,
        streamreader=utf8.streamreader,
        streamwriter=utf8.streamwriter,
        name=REPLACING_UTF8,
    )


codecs.register(_replacing_utf8)

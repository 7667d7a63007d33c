"""Text encoding: BOMs, UTF-16 without a BOM, UTF-8, cp1252 and latin-1; the decoded sample."""

from __future__ import annotations

import codecs
from dataclasses import dataclass

from denoiser.io.guards import _SCAN_CHUNK, _not_text


_SNIFF_BYTES = 64 * 1024
_SNIFF_MAX_BYTES = 4 * 1024**2  # sample grows only to reach a few complete lines
_CP1252_UNDEFINED = (b"\x81", b"\x8d", b"\x8f", b"\x90", b"\x9d")


@dataclass
class _Encoding:
    name: str  # reported to the user
    codec: str  # used for decoding; never BOM-consuming, because we seek past the BOM
    bom: int  # BOM length in bytes
    unit: int  # bytes per code unit, to turn the line limit into bytes


def _detect_encoding(data: bytes, name: str | None) -> _Encoding:
    """BOMs first, then a NUL-pattern guess for UTF-16, then UTF-8, cp1252, latin-1."""
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        le = data.startswith(codecs.BOM_UTF32_LE)
        return _Encoding("utf-32", "utf-32-le" if le else "utf-32-be", 4, 4)
    if data.startswith(codecs.BOM_UTF8):
        return _Encoding("utf-8-sig", "utf-8", 3, 1)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        le = data.startswith(codecs.BOM_UTF16_LE)
        return _Encoding("utf-16", "utf-16-le" if le else "utf-16-be", 2, 2)
    guess = _guess_utf16(data[:_SNIFF_BYTES])
    if guess:
        return _Encoding("utf-16", guess, 0, 2)
    if b"\x00" in data:
        raise _not_text(name)
    if data.isascii() or _is_utf8(data):
        return _Encoding("utf-8", "utf-8", 0, 1)
    if any(b in data for b in _CP1252_UNDEFINED):
        return _Encoding("latin-1", "latin-1", 0, 1)
    return _Encoding("cp1252", "cp1252", 0, 1)


def _guess_utf16(head: bytes) -> str | None:
    """UTF-16 without BOM: ASCII text has a NUL in every other byte."""
    if len(head) < 4:
        return None
    even, odd = head[0::2], head[1::2]
    even_nul, odd_nul = even.count(0) / len(even), odd.count(0) / len(odd)
    if odd_nul > 0.4 and even_nul < 0.05:
        return "utf-16-le"
    if even_nul > 0.4 and odd_nul < 0.05:
        return "utf-16-be"
    return None


def _is_utf8(data: bytes) -> bool:
    """Validate UTF-8 in chunks so a large file is not decoded into one huge string."""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    view = memoryview(data)
    try:
        for start in range(0, len(data), _SCAN_CHUNK):
            decoder.decode(view[start : start + _SCAN_CHUNK], final=False)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _decode_sample(data: bytes, enc: _Encoding) -> tuple[str, bool]:
    """Decode the first ~64 KB, growing it until it holds a few complete lines."""
    end = enc.bom + _SNIFF_BYTES
    while True:
        end = min(end, len(data))
        chunk = data[enc.bom : end]
        if end >= len(data) or chunk.count(b"\n") + chunk.count(b"\r") >= 6 * enc.unit:
            break
        if end - enc.bom >= _SNIFF_MAX_BYTES:
            break
        end *= 2
    decoder = codecs.getincrementaldecoder(enc.codec)("replace")
    at_eof = end >= len(data)
    return decoder.decode(data[enc.bom : end], final=at_eof), at_eof

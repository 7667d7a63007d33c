"""Text encoding: BOMs, UTF-16 without a BOM, UTF-8, cp1252 and latin-1; the decoded sample."""

from __future__ import annotations

import codecs
from dataclasses import dataclass

from denoiser.io._common import SCAN_CHUNK

_SNIFF_BYTES = 64 * 1024
_SNIFF_MAX_BYTES = 4 * 1024**2  # sample grows only to reach a few complete lines
_CP1252_UNDEFINED = (b"\x81", b"\x8d", b"\x8f", b"\x90", b"\x9d")


@dataclass
class Encoding:
    """How a file's text is encoded: what the report says, the codec, the BOM and the code unit."""

    name: str  # reported to the user
    codec: str  # used for decoding; never BOM-consuming, because we seek past the BOM
    bom: int  # BOM length in bytes
    unit: int  # bytes per code unit, to turn the line limit into bytes


def detect_encoding(data: bytes) -> Encoding | None:
    """The encoding of a text file: BOMs first, then a NUL-pattern guess for UTF-16, then UTF-8, cp1252, latin-1.

    Parameters
    ----------
    data : bytes
        The whole file.

    Returns
    -------
    Encoding or None
        None: a NUL byte where no UTF-16 pattern explains it, so binary data, not text
        (the reader refuses it, naming the formats it reads).
    """
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        le = data.startswith(codecs.BOM_UTF32_LE)
        return Encoding("utf-32", "utf-32-le" if le else "utf-32-be", 4, 4)
    if data.startswith(codecs.BOM_UTF8):
        return Encoding("utf-8-sig", "utf-8", 3, 1)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        le = data.startswith(codecs.BOM_UTF16_LE)
        return Encoding("utf-16", "utf-16-le" if le else "utf-16-be", 2, 2)
    guess = _guess_utf16(data[:_SNIFF_BYTES])
    if guess:
        return Encoding("utf-16", guess, 0, 2)
    if b"\x00" in data:
        return None
    if data.isascii() or _is_utf8(data):
        return Encoding("utf-8", "utf-8", 0, 1)
    if any(b in data for b in _CP1252_UNDEFINED):
        return Encoding("latin-1", "latin-1", 0, 1)
    return Encoding("cp1252", "cp1252", 0, 1)


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
        for start in range(0, len(data), SCAN_CHUNK):
            decoder.decode(view[start : start + SCAN_CHUNK], final=False)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def decode_sample(data: bytes, enc: Encoding) -> tuple[str, bool]:
    """Decode the first ~64 KB, growing it until it holds a few complete lines.

    Returns
    -------
    tuple of (str, bool)
        The sample (after the BOM; undecodable bytes as U+FFFD) and whether it reaches the end of the file.
    """
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

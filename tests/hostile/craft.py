"""Craft hostile model files and CSVs into a folder, at test (or bench) time.

Nothing here is committed as binary: every file is built from a tiny valid model
(``base_model()``) or from text, in seconds. Each entry says what a safe reader
must do with it: ``"refused"`` (an ``InputError``; the CLI exits 2 with one line)
or ``"handled"`` (read normally; text from it shown as text).

``python -m tests.hostile.craft DEST [--big]`` writes them all; ``--big`` makes the
bombs expand to gigabytes, as in issue 9 (slower to craft: about a minute).

Every URL points at a loopback address that nothing listens on (127.0.0.2:9).
"""

from __future__ import annotations

import bz2
import io
import json
import struct
import sys
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

IMAGE = "http://127.0.0.2:9/x.png"  # never a real host: tests must make no outside request
MARKDOWN_IMAGE = f"![x]({IMAGE})"


@dataclass(frozen=True)
class Crafted:
    name: str  # file name
    kind: str  # "model" or "csv"
    expect: str  # "refused" or "handled"
    what: str  # one line for tables


# ------------------------------------------------------------------ a valid base model
def base_model() -> bytes:
    """A tiny valid Denoiser model file (U-Net, window 16, 2 filters, untrained), as bytes."""
    from denoiser.config import ModelConfig
    from denoiser.core import Denoiser
    from denoiser.model import build_model

    den = Denoiser(ModelConfig(window=16, filters=2, depth=1, kernel_size=3))
    den.model_ = build_model(den.config)
    den.history_ = {"loss": [1.0, 0.5], "val_loss": [1.1, 0.6]}
    den.train_info_ = {"data": "tiny", "epochs_run": 2}
    return den.to_bytes()


def members(model: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(model)) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def rezip(parts: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    return buf.getvalue()


def with_meta(model: bytes, change: Callable[[dict], None]) -> bytes:
    parts = members(model)
    meta = json.loads(parts["denoiser.json"])
    change(meta)
    parts["denoiser.json"] = json.dumps(meta).encode()
    return rezip(parts)


def with_config_json(model: bytes, change: Callable[[dict], None]) -> bytes:
    parts = members(model)
    cfg = json.loads(parts["config.json"])
    change(cfg)
    parts["config.json"] = json.dumps(cfg).encode()
    return rezip(parts)


# ------------------------------------------------------------------ raw ZIP surgery
def patch(data: bytes, name: str, **fields: int | bytes) -> bytes:
    """Rewrite header fields of member ``name`` in its local and central headers.

    fields: compress_type, flag_bits, crc, file_size (ints) or filename (bytes of the
    same length, local header only: a name mismatch between directory and header).
    """
    out = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        info = zf.getinfo(name)
    local = info.header_offset
    end = data.rfind(b"PK\x05\x06")
    cd_offset = struct.unpack("<I", data[end + 16 : end + 20])[0]
    central = data.find(b"PK\x01\x02" + data[cd_offset + 4 : cd_offset + 10], cd_offset)
    while central != -1:  # the central entry of this member
        n = struct.unpack("<H", data[central + 28 : central + 30])[0]
        if data[central + 46 : central + 46 + n] == name.encode():
            break
        central = data.find(b"PK\x01\x02", central + 46)
    offsets = {
        "flag_bits": (6, 8, "<H"),
        "compress_type": (8, 10, "<H"),
        "crc": (14, 16, "<I"),
        "file_size": (22, 24, "<I"),
    }
    for key, value in fields.items():
        if key == "filename":
            out[local + 30 : local + 30 + len(value)] = value
            continue
        lo, co, fmt = offsets[key]
        struct.pack_into(fmt, out, local + lo, value)
        struct.pack_into(fmt, out, central + co, value)
    return bytes(out)


def raw_member(model: bytes, name: str, raw: bytes, *, method: int, size: int, crc: int) -> bytes:
    """Replace member ``name`` by already-compressed bytes ``raw`` declared as ``method``/``size``/``crc``."""
    parts = members(model)
    parts[name] = raw
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for n, d in parts.items():
            zf.writestr(n, d)
    return patch(buf.getvalue(), name, compress_type=method, file_size=size, crc=crc)


def _json_then_spaces(model: bytes, spaces: int) -> tuple[list[bytes], int, int]:
    """Pieces of a valid denoiser.json followed by ``spaces`` spaces (still valid JSON), its size and CRC."""
    head = members(model)["denoiser.json"]
    chunk = b" " * (1 << 20)
    pieces = [head] + [chunk] * (spaces // len(chunk))
    crc = 0
    for p in pieces:
        crc = zlib.crc32(p, crc)
    return pieces, sum(map(len, pieces)), crc


def bzip2_bomb(model: bytes, spaces: int, *, lie: bool) -> bytes:
    pieces, size, crc = _json_then_spaces(model, spaces)
    comp = bz2.BZ2Compressor(9)
    raw = b"".join(comp.compress(p) for p in pieces) + comp.flush()
    return raw_member(
        model,
        "denoiser.json",
        raw,
        method=zipfile.ZIP_BZIP2,
        size=len(pieces[0]) if lie else min(size, 2**32 - 1),
        crc=crc,
    )


def deflate_bomb(model: bytes, spaces: int) -> bytes:
    """A deflate stream far larger than the size its headers declare."""
    pieces, _, crc = _json_then_spaces(model, spaces)
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    raw = b"".join(comp.compress(p) for p in pieces) + comp.flush()
    return raw_member(model, "denoiser.json", raw, method=zipfile.ZIP_DEFLATED, size=len(pieces[0]), crc=crc)


def many_entries(model: bytes, n: int) -> bytes:
    """The model's members plus ``n`` duplicate directory entries of one member (zip64 end record)."""
    data = rezip(members(model), zipfile.ZIP_STORED)
    end = data.rfind(b"PK\x05\x06")
    count, cd_size, cd_offset = struct.unpack("<HII", data[end + 10 : end + 20])
    central = data[cd_offset : cd_offset + cd_size]
    first_len = 46 + sum(struct.unpack("<HHH", central[28:34]))
    entry = central[:first_len]
    new_cd = central + entry * n
    total = count + n
    zip64_end_at = cd_offset + len(new_cd)
    zip64_end = struct.pack("<4sQHHIIQQQQ", b"PK\x06\x06", 44, 45, 45, 0, 0, total, total, len(new_cd), cd_offset)
    locator = struct.pack("<4sIQI", b"PK\x06\x07", 0, zip64_end_at, 1)
    eocd = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    return data[:cd_offset] + new_cd + zip64_end + locator + eocd


def shape_bomb(model: bytes, gigabytes: float) -> bytes:
    """model.weights.h5 with one kernel declared ``gigabytes`` GB large, filled with a fill value (no data)."""
    import h5py
    import numpy as np

    parts = members(model)
    src = h5py.File(io.BytesIO(parts["model.weights.h5"]), "r")
    buf = io.BytesIO()
    with h5py.File(buf, "w") as dst:
        target = None

        def copy(name: str, obj: object) -> None:
            nonlocal target
            if isinstance(obj, h5py.Dataset):
                if target is None and obj.ndim == 3:
                    target = name
                    n = int(gigabytes * 1024**3 / 4 / (obj.shape[0] * obj.shape[1]))
                    dst.create_dataset(name, shape=(obj.shape[0], obj.shape[1], n), dtype="f4", fillvalue=0.5)
                else:
                    dst.create_dataset(name, data=np.asarray(obj))
            else:
                dst.require_group(name)
            for k, v in obj.attrs.items():
                dst[name].attrs[k] = v

        src.visititems(copy)
    parts["model.weights.h5"] = buf.getvalue()
    return rezip(parts)


def external_link(model: bytes) -> bytes:
    import h5py

    parts = members(model)
    buf = io.BytesIO(parts["model.weights.h5"])
    with h5py.File(buf, "r+") as h5:
        h5["layers/extra"] = h5py.ExternalLink("/etc/passwd", "/")
    parts["model.weights.h5"] = buf.getvalue()
    return rezip(parts)


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


# ------------------------------------------------------------------ everything
def craft_all(dest: Path, *, big: bool = False, model: bytes | None = None) -> list[Crafted]:
    """Write every hostile file into ``dest``; returns what each one is and what must happen to it."""
    dest.mkdir(parents=True, exist_ok=True)
    model = model or base_model()
    mb = 1024**2
    out: list[Crafted] = []

    def put(name: str, data: bytes, expect: str, what: str) -> None:
        (dest / name).write_bytes(data)
        out.append(Crafted(name, "model" if name.endswith(".keras") else "csv", expect, what))

    put("valid.keras", model, "handled", "a valid tiny model (control)")
    put("shape_bomb.keras", shape_bomb(model, 4.0), "refused", "a kernel declared 4 GB, fill value only")
    put("shape_bomb_1gb.keras", shape_bomb(model, 1.0), "refused", "a kernel declared 1 GB, fill value only")
    put(
        "bzip2_bomb.keras",
        bzip2_bomb(model, (1024 if big else 16) * mb, lie=False),
        "refused",
        f"bzip2 denoiser.json expanding to {'1 GB' if big else '16 MB'}, size declared",
    )
    put(
        "bzip2_bomb_lie.keras",
        bzip2_bomb(model, (1024 if big else 16) * mb, lie=True),
        "refused",
        f"bzip2 denoiser.json expanding to {'1 GB' if big else '16 MB'}, small size declared",
    )
    put(
        "deflate_bomb.keras",
        deflate_bomb(model, (64 if big else 16) * mb),
        "refused",
        f"deflate stream of {'64' if big else '16'} MB declared as 3 KB",
    )
    put("million_entries.keras", many_entries(model, 1_000_000), "refused", "a million duplicate directory entries")
    put("nine_entries.keras", many_entries(model, 5), "refused", "nine directory entries (duplicates)")
    put(
        "bad_crc.keras",
        patch(rezip(members(model), zipfile.ZIP_STORED), "denoiser.json", crc=0x12345678),
        "refused",
        "a member with a wrong CRC",
    )
    deflated = rezip(members(model))
    with zipfile.ZipFile(io.BytesIO(deflated)) as zf:
        info = zf.getinfo("denoiser.json")
    body = info.header_offset + 30 + len(info.filename) + len(info.extra)
    corrupt = deflated[:body] + b"\xff" * 16 + deflated[body + 16 :]
    put("corrupt_deflate.keras", corrupt, "refused", "a corrupt deflate stream")
    put(
        "method_99.keras",
        patch(deflated, "denoiser.json", compress_type=99),
        "refused",
        "an unknown compression method",
    )
    put("lzma.keras", patch(deflated, "config.json", compress_type=zipfile.ZIP_LZMA), "refused", "an LZMA member")
    put("encrypted.keras", patch(deflated, "denoiser.json", flag_bits=1), "refused", "the 'encrypted' flag set")
    put(
        "name_mismatch.keras",
        patch(deflated, "denoiser.json", filename=b"denoiser.jsoX"),
        "refused",
        "a local header name that differs from the directory",
    )
    put("truncated.keras", model[: len(model) // 2], "refused", "the first half of a model file")
    put(
        "nested_meta.keras",
        rezip(
            {
                **members(model),
                "denoiser.json": (
                    '{"format": "denoiser-model", "version": 1, "config": ' + nested(200_000) + "}"
                ).encode(),
            }
        ),
        "refused",
        "denoiser.json nested 200,000 deep",
    )
    put(
        "nested_config.keras",
        rezip({**members(model), "config.json": nested(200_000).encode()}),
        "refused",
        "config.json nested 200,000 deep",
    )
    put(
        "module_list.keras",
        with_config_json(model, lambda c: c["config"]["layers"][1].update(module=["keras"])),
        "refused",
        "config.json module given as a list",
    )
    put(
        "class_list.keras",
        with_config_json(model, lambda c: c["config"]["layers"][1].update(class_name=["x"])),
        "refused",
        "config.json class_name given as a list",
    )
    put(
        "builtins.keras",
        with_config_json(model, lambda c: c["config"]["layers"][1].update(module="builtins")),
        "refused",
        "module 'builtins'",
    )
    put(
        "registered.keras",
        with_config_json(model, lambda c: c["config"]["layers"][1].update(registered_name="my_pkg>Evil")),
        "refused",
        "a custom registered_name",
    )
    put(
        "lambda_lower.keras",
        with_config_json(model, lambda c: c["config"]["layers"][1].update(class_name="lambda")),
        "refused",
        "class_name 'lambda' (lower case)",
    )
    put(
        "bool_int.keras",
        with_meta(model, lambda m: m["config"].update(hop=True)),
        "refused",
        "a boolean where an integer belongs (hop: true)",
    )
    put(
        "info_control.keras",
        with_meta(model, lambda m: m["train_info"].update(data="a\x1b[2Jb\u202e")),
        "refused",
        "train_info.data with control and bidi characters",
    )
    put(
        "info_long.keras",
        with_meta(model, lambda m: m["train_info"].update(data="x" * 600_000)),
        "refused",
        "train_info.data of 600,000 characters",
    )
    put(
        "info_type.keras",
        with_meta(model, lambda m: m["train_info"].update(epochs_run="many")),
        "refused",
        "train_info.epochs_run as text",
    )
    put(
        "long_name.keras",
        rezip({**members(model), "x" * 60_000: b""}),
        "refused",
        "an unexpected member with a 60,000-character name",
    )
    put("external_link.keras", external_link(model), "refused", "an HDF5 external link to /etc/passwd")
    put(
        "markdown_info.keras",
        with_meta(model, lambda m: m["train_info"].update(data=f"{MARKDOWN_IMAGE} data")),
        "handled",
        "a markdown image in train_info.data (shown as text)",
    )

    rows = "\n".join(f"{i},{i % 7}" for i in range(300))
    put(
        "digit_run.csv",
        f"t,v\n{rows}\n300,{'1' * 40_000}a\n".encode(),
        "handled",
        "a 40 KB cell of digits then a letter (quadratic regex before)",
    )
    put(
        "digit_run_semicolon.csv",
        f"t;v\n{rows.replace(',', ';')}\n300;{'1' * 40_000}a\n".encode(),
        "handled",
        "the same with semicolons (decimal-comma pattern)",
    )
    put(
        "digit_rows.csv",
        ("a,b\n" + "\n".join(f"{'9' * 300}x,{i}" for i in range(300)) + "\n").encode(),
        "handled",
        "300 rows of 300 digits and a letter",
    )
    put(
        "markdown_header.csv",
        (
            f"time {MARKDOWN_IMAGE},value {MARKDOWN_IMAGE}\n"
            + "\n".join(f"{i},{(i * 37) % 11 - 5}" for i in range(300))
            + "\n"
        ).encode(),
        "handled",
        "markdown images in the time and value column names",
    )
    put(
        "formula_fullwidth.csv",
        (
            't,＝HYPERLINK("x"),＋1,－1,＠SUM(A1)\n' + "\n".join(f"{i},{i},{i},{i},{i}" for i in range(300)) + "\n"
        ).encode(),
        "handled",
        "full-width formula look-alikes in the header",
    )
    put("wide.csv", ("1," * 200_000 + "1\n").encode() * 2, "refused", "200,001 columns")
    put("long_line.csv", b"t,v\n0,1\n1," + b"2" * 1_100_000 + b"\n", "refused", "a line of 1.1 million characters")
    put("nul.csv", b"t,v\n0,1\x00\x00\x00\n", "refused", "NUL bytes")
    # Issue 21: text that a message, a summary or generated code echoes. Each must read (or be refused)
    # with every line of output at most a few hundred characters, and nothing of it run or obeyed.
    rows2 = "\n".join(f"{i},{(i * 37) % 11 - 5}" for i in range(300))
    payload = "import os;os.system('touch pwned')"
    for tag, head in (
        ("newline", f"a\n{payload}\n#"),
        ("cr", f"a\r{payload}\r#"),
        ("u2028", f"a\u2028{payload}"),
        ("nel", f"a\x85{payload}"),
        ("quote", f"a'\"\\{payload}"),
        ("tab", "a\tb"),
        ("nbsp", "a\xa0b"),
        ("ansi", "\x1b[2J\x1b[31mred"),
        ("bidi", "abc\u202edcba"),
        ("zero_width", "a\u200bb\ufeffc"),
    ):
        put(
            f"header_{tag}.csv",
            ('t,"' + head.replace('"', '""') + f'"\n{rows2}\n').encode(),
            "handled",
            f"a value column named with {tag} ({head[:12]!r}...)",
        )
    put(
        "header_million_digits.csv",
        f"t,{'7' * 999_000}\n{rows2}\n".encode(),
        "handled",
        "a column name of 999,000 digits",
    )
    put(
        "header_formulas_wide.csv",
        (
            "t,"
            + ",".join(f'"=HYPERLINK(""http://127.0.0.2:9/{i}"",""x"")"' for i in range(999))
            + "\n"
            + "\n".join(f"{i}," + ",".join(str((i * k) % 7) for k in range(999)) for i in range(40))
            + "\n"
        ).encode(),
        "handled",
        "999 formula headers (=HYPERLINK) with numbers below",
    )
    put(
        "text_columns_wide.csv",
        (
            "t,v,"
            + ",".join("c" * 60 + str(i) for i in range(900))
            + "\n"
            + "\n".join(f"{i},{i % 5}," + ",".join("word" for _ in range(900)) for i in range(40))
            + "\n"
        ).encode(),
        "handled",
        "900 text columns of long names beside one numeric column",
    )
    put(
        "gaps_wide.csv",
        (
            "t,"
            + ",".join("g" * 70 + str(i) for i in range(500))
            + "\n"
            + "\n".join(
                f"{i}," + ",".join("" if (i + k) % 9 == 0 else str(k % 5) for k in range(500)) for i in range(40)
            )
            + "\n"
        ).encode(),
        "handled",
        "500 long-named columns with gaps (a note per column)",
    )
    put(
        "header_only_long.csv",
        (",".join("h" * 5000 for _ in range(150)) + "\n").encode(),
        "refused",
        "a header of 150 cells of 5,000 characters and no rows",
    )
    put(
        "text_only_long.csv",
        ("a,b\n" + "\n".join(f"{'x' * 20_000},{'y' * 20_000}" for _ in range(20)) + "\n").encode(),
        "refused",
        "two columns of 20,000-character words",
    )
    for tag, name in (
        ("newline", "file\nname.csv"),
        ("ansi", "file\x1b[2Jname.csv"),
        ("long", "n" * 240 + ".csv"),
        ("formula", "=cmd|' -C calc'!A0.csv"),
    ):
        put(name, f"t,v\n{rows2}\n".encode(), "handled", f"a good table in a file named with {tag}")
    if big:
        slow = "t,v\n" + "\n".join(
            f"2024/01/{1 + i % 28:02d} 12:{i % 60:02d}:{i % 60:02d},{i % 9}" for i in range(1_000_000)
        )
        put("dates_1m.csv", (slow + "\n").encode(), "handled", "1 million slash-dated rows (per-cell date parser)")
        put(
            "digit_run_10mb.csv",
            f"t,v\n{rows}\n".encode() + b"".join(f"{300 + i},{'1' * 9_000}a\n".encode() for i in range(1_100)),
            "handled",
            "10 MB of 9,000-digit cells ending in a letter",
        )
    return out


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "hostile_out")
    for c in craft_all(target, big="--big" in sys.argv):
        print(f"{c.expect:8s} {(target / c.name).stat().st_size:>12,d}  {c.name}: {c.what}")

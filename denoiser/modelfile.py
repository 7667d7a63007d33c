"""Read a ``.keras`` model file as untrusted data, bounding every resource before it is spent.

(One concept, the untrusted-file boundary: every check a hostile file meets is in this one
module so that none can be bypassed by a second reader.)

A model file is a ZIP archive. Before anything is decompressed or parsed this module
checks the archive's directory (member count, directory size, zip64), then reads
each member through a streaming reader that stops at the member's declared size and
at an absolute cap (stored and deflate only: other methods, bzip2 above all, can
expand a few KB into gigabytes in one call). ``denoiser.json`` is validated field
by field; ``config.json`` is only scanned for references to code. The weights
(HDF5) are checked against the architecture that the config describes using
metadata alone (h5py: names, links, shapes, dtypes, storage) before Keras reads a
single value, so a dataset that declares gigabytes of fill value is refused unread.

Every failure is an :class:`~denoiser.errors.InputError` with a short message; nothing
here imports TensorFlow (the Keras model is passed in by :mod:`denoiser.core`).
"""

from __future__ import annotations

import io
import json
import math
import os
import re
import stat
import struct
import tempfile
import warnings
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from denoiser.errors import InputError
from denoiser.text import cut

FORMAT = "denoiser-model"
FORMAT_VERSION = 2  # 2: learned scaling in "fitted", not in "config" (1 is still read)
READABLE_VERSIONS = (1, 2)
FITTED_KEYS = ("global_offset", "global_scale")  # learned by fit; version 1 kept them in the config
MAX_MODEL_BYTES = 64 * 1024**2  # a model file larger than this is refused unread
MAX_MEMBERS = 8  # Denoiser writes 4; room for a few more, not for a million
MAX_DIRECTORY_BYTES = 64 * 1024  # the ZIP central directory of 8 short names is < 1 KB
MEMBER_CAPS = {
    "denoiser.json": 1024**2,
    "config.json": 4 * 1024**2,
    "metadata.json": 64 * 1024,
    "model.weights.h5": MAX_MODEL_BYTES,
}
_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflate"}
_READ_CHUNK = 64 * 1024  # bytes asked of the decompressor at a time
_MAX_TEXT = 500  # characters of a text field in train_info
_MAX_LIST = 100_000  # entries of a history list (epochs)
_MAX_KEYS = 64  # keys of one JSON object we keep
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
# Class names and modules that carry or reach code. Refused even though we never
# deserialise config.json: a file naming them was not written by Denoiser.
_CODE_CLASSES = frozenset({"lambda", "tfoplambda", "slicingoplambda", "function", "__lambda__"})
_REGISTERED_OK = frozenset({"Functional", "Sequential"})  # what Keras itself writes at the top level


@dataclass
class ModelFile:
    """The validated content of a model file (no Keras objects).

    Attributes
    ----------
    config : dict, the raw ``ModelConfig`` fields (validated by ``ModelConfig.from_dict``)
    history : dict str -> list of float
    test_metrics : dict str -> float
    train_info : dict, checked for types, lengths and characters
    fitted : dict, learned scaling (``global_offset``, ``global_scale``: finite, scale > 0)
    weights : bytes, the ``model.weights.h5`` member (not yet checked against the architecture)
    """

    config: dict[str, Any]
    history: dict[str, list[float]] = field(default_factory=dict)
    test_metrics: dict[str, float] = field(default_factory=dict)
    train_info: dict[str, Any] = field(default_factory=dict)
    fitted: dict[str, float] = field(default_factory=lambda: {"global_offset": 0.0, "global_scale": 1.0})
    weights: bytes = b""


def read_model_file(source: str | os.PathLike | bytes | IO[bytes]) -> ModelFile:
    """Read and validate a model file without Keras.

    Parameters
    ----------
    source : path, bytes or binary file object

    Returns
    -------
    ModelFile

    Raises
    ------
    InputError
        for anything that is not a Denoiser model file, whatever the cause.
    """
    try:
        data = read_limited(source)
        return _read_archive(data)
    except InputError:
        raise
    except RecursionError:
        raise InputError("This model file's JSON is nested too deeply to be a Denoiser model; it is refused.") from None
    except MemoryError:
        raise InputError("This model file needs more memory than a Denoiser model can; it is refused.") from None
    except (
        zipfile.BadZipFile,
        zlib.error,
        EOFError,
        NotImplementedError,
        RuntimeError,
        OSError,
        ValueError,
        TypeError,
        KeyError,
        AttributeError,
        struct.error,
        UnicodeError,
        OverflowError,
    ) as err:
        raise InputError(f"This model file is damaged ({_why(err)}). Choose a .keras file saved by Denoiser.") from None


def read_limited(source: str | os.PathLike | bytes | IO[bytes]) -> bytes:
    """All bytes of a model file; a file over MAX_MODEL_BYTES or not a regular file is refused unread."""
    too_big = f"The model file is larger than {MAX_MODEL_BYTES // 1024**2} MB; Denoiser models are a few MB at most."
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    elif isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        try:
            info = os.stat(path)
            if not stat.S_ISREG(info.st_mode):  # a pipe or a device would be read without end
                raise InputError(f"{_shown(path)} is not a regular file; choose a .keras file.")
            if info.st_size > MAX_MODEL_BYTES:
                raise InputError(too_big)
            with open(path, "rb") as fh:
                data = fh.read(info.st_size + 1)  # read(n) allocates n bytes up front: not the cap
                if len(data) > info.st_size:  # it grew while we read: take the rest, to the cap
                    data += fh.read(MAX_MODEL_BYTES + 1 - len(data))
        except OSError as err:
            raise InputError(f"Cannot read the model file {_shown(path)}: {err.strerror or _why(err)}.") from None
    elif hasattr(source, "read"):
        size = getattr(source, "size", None)
        if isinstance(size, int) and not isinstance(size, bool) and size > MAX_MODEL_BYTES:
            raise InputError(too_big)
        if getattr(source, "seekable", lambda: False)():
            source.seek(0)  # an upload may have been read before
        data = source.read(min(size, MAX_MODEL_BYTES) + 1 if isinstance(size, int) else MAX_MODEL_BYTES + 1)
        if not isinstance(data, (bytes, bytearray)):
            raise InputError("The model file must be read as bytes, not text.")
    else:
        raise InputError(f"A model is loaded from a path, bytes or a binary file, not {type(source).__name__}.")
    if len(data) > MAX_MODEL_BYTES:
        raise InputError(too_big)
    if not data:
        raise InputError("The model file is empty. Choose a .keras file saved by Denoiser.")
    return bytes(data)


# ------------------------------------------------------------ the archive
def _check_directory(buf: io.BytesIO) -> None:
    """Refuse an archive whose central directory is too large, before zipfile parses it.

    zipfile reads every directory entry into Python objects when it opens an archive
    (a million duplicate entries took 1.2 GB); the end-of-directory record says how
    many there are and how many bytes they take, so both are checked first.
    """
    # zipfile's own reader of that record (private: what ZipFile itself will trust), not a copy of it
    end = zipfile._EndRecData(buf)  # type: ignore[attr-defined]
    if end is None:
        raise InputError(
            "This is not a model file (not a .keras archive, or it is damaged). Choose a .keras file saved by Denoiser."
        )
    entries, size = end[zipfile._ECD_ENTRIES_TOTAL], end[zipfile._ECD_SIZE]  # type: ignore[attr-defined]
    if entries > MAX_MEMBERS or size > MAX_DIRECTORY_BYTES:
        raise InputError(
            f"This .keras file lists {entries:,} entries ({size:,} bytes of directory); a Denoiser "
            f"model has {len(MEMBER_CAPS)}. The file is refused."
        )


def _read_archive(data: bytes) -> ModelFile:
    buf = io.BytesIO(data)
    _check_directory(buf)
    try:
        zf = zipfile.ZipFile(buf)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, struct.error) as err:
        raise InputError(
            "This is not a model file (not a .keras archive, or it is damaged). "
            f"Choose a .keras file saved by Denoiser ({_why(err)})."
        ) from None
    with zf:
        infos = zf.infolist()
        names = [i.filename for i in infos]
        if len(infos) > MAX_MEMBERS:
            raise InputError(
                f"This .keras file has {len(infos):,} entries; a Denoiser model has "
                f"{len(MEMBER_CAPS)}. The file is refused."
            )
        odd = [n for n in names if n not in MEMBER_CAPS]
        if odd:
            shown = ", ".join(_shown(n) for n in odd[:3])
            raise InputError(
                f"This .keras file holds unexpected entries ({shown}); it was not saved by Denoiser and is refused."
            )
        if len(set(names)) != len(names):
            raise InputError(
                "This .keras file holds the same entry twice; it was not saved by Denoiser and is refused."
            )
        for info in infos:  # every check that needs no decompression, for all members first
            _check_member(info)
        if "denoiser.json" not in names:
            raise InputError(
                "This .keras file was not saved by Denoiser (it has no denoiser.json), so it is refused: "
                "only Denoiser models can be loaded. Train one on the Model page or with "
                "`python -m denoiser train`."
            )
        if "model.weights.h5" not in names:
            raise InputError("This model file has no weights (model.weights.h5 is missing); it is damaged.")
        meta = _parse_json(read_member(zf, zf.getinfo("denoiser.json")), "denoiser.json")
        out = _validate_meta(meta)
        if "config.json" in names:
            check_keras_config(read_member(zf, zf.getinfo("config.json")))
        if "metadata.json" in names:
            _parse_json(read_member(zf, zf.getinfo("metadata.json")), "metadata.json")
        out.weights = read_member(zf, zf.getinfo("model.weights.h5"))
    return out


def _check_member(info: zipfile.ZipInfo) -> None:
    name = info.filename
    if info.flag_bits & 0x1:
        raise InputError(
            f"The entry {name!r} of this model file is encrypted; Denoiser models never are. The file is refused."
        )
    if info.compress_type not in _METHODS:
        raise InputError(
            f"The entry {name!r} of this model file uses compression method {info.compress_type}; "
            "Denoiser models use only stored or deflate. The file is refused."
        )
    if info.file_size > MEMBER_CAPS[name]:
        raise InputError(
            f"The entry {name!r} in this model file is too large "
            f"({info.file_size:,} bytes declared); the file is refused."
        )


def read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """Decompress one member in chunks, stopping at its declared size and at its absolute cap.

    The declared size is checked first (:func:`_check_member`); the stream is then
    never trusted to end there: reading stops as soon as it would exceed either.
    """
    _check_member(info)
    limit = min(info.file_size, MEMBER_CAPS[info.filename])
    out = bytearray()
    with zf.open(info) as src:
        while True:
            chunk = src.read(_READ_CHUNK)  # deflate: at most this much output per call
            if not chunk:
                break
            out += chunk
            if len(out) > limit:
                raise InputError(
                    f"The entry {info.filename!r} of this model file is larger than it claims; the file is refused."
                )
    if len(out) != info.file_size:
        raise InputError(f"The entry {info.filename!r} of this model file is shorter than it claims; it is damaged.")
    return bytes(out)


def _parse_json(raw: bytes, name: str) -> Any:
    try:
        return json.loads(raw)
    except RecursionError:
        raise InputError(f"The model file's {name} is nested too deeply; the file is refused.") from None
    except (ValueError, TypeError) as err:
        raise InputError(f"The model file's {name} is damaged or not valid JSON ({_why(err)}).") from None


# ------------------------------------------------------------ denoiser.json
def _validate_meta(meta: Any) -> ModelFile:
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise InputError("This .keras file's denoiser.json is not a Denoiser model description; the file is refused.")
    version = meta.get("version")
    if not _is_int(version) or version not in READABLE_VERSIONS:
        raise InputError(
            f"This model file has format version {_shown(version)}; this Denoiser reads "
            f"versions {' and '.join(map(str, READABLE_VERSIONS))}."
        )
    unknown = set(meta) - {
        "format",
        "version",
        "config",
        "history",
        "test_metrics",
        "train_info",
        *(("fitted",) if version >= 2 else ()),
    }
    if unknown:
        raise InputError(
            f"This model file's denoiser.json has unknown fields "
            f"({', '.join(_shown(k) for k in sorted(map(str, unknown))[:3])}); the file is refused."
        )
    config = meta.get("config")
    if not isinstance(config, dict):
        raise InputError("The model's configuration is not a JSON object.")
    config, fitted = _fitted(config, meta.get("fitted", {}), version)
    history = _number_dict(meta.get("history", {}), "history", lists=True)
    metrics = _number_dict(meta.get("test_metrics", {}), "test_metrics", lists=False)
    info = meta.get("train_info", {})
    return ModelFile(
        config=config, history=history, test_metrics=metrics, train_info=validate_train_info(info), fitted=fitted
    )


def _fitted(config: dict, fitted: Any, version: int) -> tuple[dict, dict[str, float]]:
    """The config without learned values, and the learned scaling (version 1 kept it in the config)."""
    if version == 1:
        fitted = {k: config[k] for k in FITTED_KEYS if k in config}
        config = {k: v for k, v in config.items() if k not in FITTED_KEYS}
    if not isinstance(fitted, dict) or set(fitted) - set(FITTED_KEYS):
        raise InputError(
            "This model file's learned scaling ('fitted') is not global_offset and global_scale; the file is refused."
        )
    out = {"global_offset": fitted.get("global_offset", 0.0), "global_scale": fitted.get("global_scale", 1.0)}
    if not all(_is_number(v) and math.isfinite(v) for v in out.values()) or not out["global_scale"] > 0:
        raise InputError(
            "This model file's learned scaling is not finite (global_scale must also be > 0); the file is refused."
        )
    return config, {k: float(v) for k, v in out.items()}


def _number_dict(obj: Any, what: str, *, lists: bool) -> dict:
    """str -> float (or list of floats); NaN is allowed (a diverged epoch), booleans are not."""
    if not isinstance(obj, dict) or len(obj) > _MAX_KEYS:
        raise InputError(f"The model file's {what} is not a small JSON object; the file is refused.")
    out: dict = {}
    for key, value in obj.items():
        _check_key(key, what)
        values = value if lists else [value]
        if not isinstance(values, list) or len(values) > _MAX_LIST or not all(_is_number(v) for v in values):
            raise InputError(
                f"The model file's {what} entry {key!r} is not "
                f"{'a list of numbers' if lists else 'a number'}; the file is refused."
            )
        out[key] = [float(v) for v in values] if lists else float(value)
    return out


_INFO_TYPES = {
    "best_epoch": "int",
    "epochs_run": "int",
    "stopped_by_user": "bool",
    "seconds": "real",
    "data": "text",
    "train_config": "flat",
    "windows": "counts",
    "search": "tree",
}


def validate_train_info(info: Any) -> dict[str, Any]:
    """Check ``train_info`` like the rest of ``denoiser.json``: known fields by type, others bounded.

    Text is at most 500 printable characters (no control, format or line-separator
    characters); numbers are finite and never booleans; objects are shallow and small.

    Raises
    ------
    InputError
    """
    if not isinstance(info, dict) or len(info) > _MAX_KEYS:
        raise InputError("The model file's train_info is not a small JSON object; the file is refused.")
    for key, value in info.items():
        _check_key(key, "train_info")
        kind = _INFO_TYPES.get(key, "tree")
        ok = {
            "int": lambda v: _is_int(v) and v >= 0,
            "bool": lambda v: isinstance(v, bool),
            "real": lambda v: _is_number(v) and math.isfinite(v) and v >= 0,
            "text": _is_text,
            "flat": lambda v: isinstance(v, dict) and all(_is_scalar(e) for e in v.values()),
            "counts": lambda v: isinstance(v, dict) and all(_is_int(e) and e >= 0 for e in v.values()),
            "tree": lambda v: _is_tree(v, depth=3),
        }[kind](value)
        if ok and isinstance(value, dict):
            ok = len(value) <= _MAX_KEYS and all(isinstance(k, str) and _KEY.fullmatch(k) for k in value)
        if not ok:
            raise InputError(
                f"The model file's train_info field {key!r} has a value of the wrong type, "
                "length or characters; the file is refused."
            )
    return dict(info)


def storable_train_info(info: dict[str, Any]) -> dict[str, Any]:
    """``train_info`` as :func:`validate_train_info` will accept it: used by ``Denoiser.save``.

    Text fields hold what a user typed or a file said (a column name with a tab, a newline,
    a non-breaking space, or thousands of characters): each becomes one printable line of at
    most 500 characters (:func:`denoiser.text.cut`), so a model always loads after it was saved.
    """

    def fix(value: Any) -> Any:
        if isinstance(value, str):
            return value if _is_text(value) else cut(value, _MAX_TEXT)
        if isinstance(value, dict):
            return {k: fix(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [fix(v) for v in value]
        return value

    return {k: fix(v) for k, v in info.items()}


def _check_key(key: Any, what: str) -> None:
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise InputError(
            f"The model file's {what} has a field named {_shown(key)}; field names are short "
            "words of letters, digits and '_'. The file is refused."
        )


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and not (isinstance(v, int) and abs(v) > 2**63)


def _is_text(v: Any) -> bool:
    return isinstance(v, str) and len(v) <= _MAX_TEXT and (v.isprintable())


def _is_scalar(v: Any) -> bool:
    return v is None or isinstance(v, bool) or (_is_number(v) and math.isfinite(v)) or _is_text(v)


def _is_tree(v: Any, depth: int) -> bool:
    """Scalars, or lists/objects of at most 64 entries nested at most ``depth`` deep."""
    if _is_scalar(v):
        return True
    if depth <= 0:
        return False
    if isinstance(v, list):
        return len(v) <= _MAX_KEYS and all(_is_tree(e, depth - 1) for e in v)
    if isinstance(v, dict):
        return (
            len(v) <= _MAX_KEYS
            and all(isinstance(k, str) and _KEY.fullmatch(k) for k in v)
            and all(_is_tree(e, depth - 1) for e in v.values())
        )
    return False


# ------------------------------------------------------------ config.json
def check_keras_config(raw: bytes) -> None:
    """Refuse a Keras config that names code: Lambda layers, classes outside Keras, registered objects.

    We never deserialise this config (the architecture is rebuilt from our own code),
    but a file that carries one was not written by us and may target other tools
    that do load it; refusing it says so plainly.
    """
    tree = _parse_json(raw, "config.json")
    stack = [tree]
    seen = 0
    while stack:
        node = stack.pop()
        seen += 1
        if seen > 1_000_000:
            raise InputError("The model file's config.json is far larger than a Denoiser network's; it is refused.")
        if isinstance(node, dict):
            module, cls = node.get("module"), node.get("class_name")
            registered = node.get("registered_name")
            if (
                module is not None
                and not isinstance(module, str)
                or cls is not None
                and not isinstance(cls, str)
                or registered is not None
                and not isinstance(registered, str)
            ):
                raise InputError(
                    "The model file's config.json names a module or class that is not text; it is refused."
                )
            if module and module.split(".")[0] != "keras":
                raise InputError(
                    f"This model file refers to code outside Keras (module {_shown(module)}); it is refused."
                )
            if cls and cls.lower() in _CODE_CLASSES:
                raise InputError(
                    f"This model file contains a {cls[:40] if cls.isidentifier() else _shown(cls)} layer, which carries code; it is refused."
                )
            if registered and registered not in _REGISTERED_OK:
                raise InputError(
                    f"This model file names a registered (custom) object {_shown(registered)}, "
                    "which carries code; it is refused."
                )
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


# ------------------------------------------------------------ weights
def weight_layout(h5: Any) -> dict[str, tuple[tuple[int, ...], str]]:
    """Every object of an open HDF5 file: path -> (shape, dtype) for datasets, ((), "group") for groups.

    Reads metadata only. Anything but a hard link, a virtual dataset or a dataset
    stored in external files is refused: Keras would follow them.
    """
    import h5py

    layout: dict[str, tuple[tuple[int, ...], str]] = {}
    stack = [("", h5)]
    while stack:
        prefix, group = stack.pop()
        if len(layout) > 10_000:
            raise InputError("The model's weights file has far more entries than a Denoiser network; it is refused.")
        for name in group:
            path = f"{prefix}/{name}"
            link = group.get(name, getlink=True)
            if not isinstance(link, h5py.HardLink):
                raise InputError(
                    f"The model's weights file holds a link ({type(link).__name__} at "
                    f"{_shown(path)}); Denoiser never writes one. The file is refused."
                )
            obj = group[name]
            if isinstance(obj, h5py.Group):
                layout[path] = ((), "group")
                stack.append((path, obj))
            elif isinstance(obj, h5py.Dataset):
                if obj.is_virtual or obj.external:
                    raise InputError(
                        f"The model's weights file keeps {_shown(path)} outside itself; the file is refused."
                    )
                layout[path] = (tuple(int(n) for n in obj.shape), str(obj.dtype))
            else:
                raise InputError(
                    f"The model's weights file holds an unexpected object at {_shown(path)}; the file is refused."
                )
    return layout


_REFERENCE: dict[str, dict[str, tuple[tuple[int, ...], str]]] = {}


def reference_layout(model: Any, key: str) -> dict[str, tuple[tuple[int, ...], str]]:
    """The layout Keras writes for ``model`` (saved once per architecture ``key``, then cached)."""
    import h5py

    if key not in _REFERENCE:
        if len(_REFERENCE) >= 64:  # a long-lived server sees few architectures; stay bounded anyway
            _REFERENCE.clear()
        with tempfile.TemporaryDirectory() as tmp:
            target = Path(tmp) / "reference.weights.h5"
            model.save_weights(target)
            with h5py.File(target, "r") as h5:
                _REFERENCE[key] = weight_layout(h5)
    return _REFERENCE[key]


def load_weights(model: Any, weights: bytes, key: str) -> None:
    """Check the weights' layout against ``model`` from metadata alone, then load them.

    Parameters
    ----------
    model : keras.Model built from the file's config
    weights : the ``model.weights.h5`` bytes
    key : a string naming the architecture (the config as JSON), to cache its reference layout
    """
    import h5py

    expected = reference_layout(model, key)
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "model.weights.h5"
        target.write_bytes(weights)
        try:
            with h5py.File(target, "r") as h5:
                found = weight_layout(h5)
        except InputError:
            raise
        except Exception as err:  # noqa: BLE001 -- h5py raises OSError, KeyError, RuntimeError... for damaged files
            raise InputError(f"The model's weights are damaged ({_why(err)}); the file is refused.") from None
        if found != expected:
            raise InputError(
                "The model's weights do not match the architecture its configuration describes "
                f"({_first_difference(expected, found)}); the file is refused."
            )
        try:
            with warnings.catch_warnings():  # Keras warns per missing group before it raises
                warnings.simplefilter("ignore")
                model.load_weights(target)
        except Exception as err:  # noqa: BLE001 -- h5py/Keras raise many types for damaged weights
            raise InputError(
                f"The model's weights could not be read although their shapes fit ({_why(err)}); the file is damaged."
            ) from None
    check_finite_weights(model.get_weights(), "This model file's")


def check_finite_weights(weights: list[Any], whose: str) -> None:
    """Refuse weights that hold NaN or infinity: such a network turns every input into NaN.

    Parameters
    ----------
    weights : list of ndarrays (``keras.Model.get_weights()``)
    whose : the start of the message, e.g. "This model file's"
    """
    import numpy as np

    bad = sum(int(np.size(w) - np.isfinite(w).sum()) for w in weights)
    if bad:
        raise InputError(
            f"{whose} weights hold {bad:,} NaN or infinite values (the training diverged), so the "
            "network would turn every signal into NaN. Train it again (a lower learning rate, or "
            "data without values near the float limit); the model is refused."
        )


def _first_difference(expected: dict, found: dict) -> str:
    for path in sorted(set(expected) | set(found)):
        want, got = expected.get(path), found.get(path)
        if want != got:
            if got is None:
                return f"{_shown(path)} is missing"
            if want is None:
                return f"{_shown(path)} is not part of the network"
            return f"{_shown(path)} is {got[1]} {got[0]}, the network needs {want[1]} {want[0]}"
    return "different layout"


# ------------------------------------------------------------ messages
def _shown(value: Any, limit: int = 60) -> str:
    """A short repr of attacker-controlled text for a message."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _why(err: BaseException) -> str:
    text = f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
    return text if len(text) <= 120 else text[:119] + "…"

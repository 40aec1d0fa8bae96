"""The summary table's pieces: wrapping and memory sizes."""

from __future__ import annotations

from birnn.models._summary import _print_row, readable_memory_size


def test_memory_sizes_read_as_tf_keras_prints_them():
    assert readable_memory_size(0) == "0.00 Byte"
    assert readable_memory_size(17060) == "16.66 KB"
    assert readable_memory_size(3 * 2**20) == "3.00 MB"


def test_long_names_wrap_onto_a_second_line():
    lines: list[str] = []
    fields = ["a_very_long_layer_name (Bidirectional)", "(None, 5)", 10]
    _print_row(fields, [29, 55, 65], lines.append)
    assert len(lines) == 2
    assert lines[0].startswith(" a_very_long_layer_name (Bi  (None, 5)")
    assert lines[0].rstrip().endswith("10") and lines[1].strip() == "directional)"

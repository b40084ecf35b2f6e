"""Columns as bytes: Arrow IPC streams, the form an index version keeps its ids and metadata in.

Reading back is zero-copy: the arrays point into the buffer read from the store, so a million ids are one
buffer of characters and one of offsets, never a million Python strings.
"""

from __future__ import annotations

from typing import Sequence

import pyarrow as pa


def encode_table(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def decode_table(data: bytes | bytearray | memoryview) -> pa.Table:
    return pa.ipc.open_stream(pa.py_buffer(data)).read_all()


def encode_strings(values: Sequence[str] | pa.Array) -> bytes:
    """One string column (``ids``) as an Arrow stream."""
    array = values if isinstance(values, (pa.Array, pa.ChunkedArray)) else pa.array(list(values), pa.string())
    return encode_table(pa.table({"value": array}))


def decode_strings(data: bytes | bytearray | memoryview) -> pa.Array:
    column = decode_table(data).column("value")
    return column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)

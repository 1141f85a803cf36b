"""Read the records of an offline W&B run file (``run-<id>.wandb``) for assertions.

The file is a LevelDB-style log: a 7-byte header, then 32 KiB blocks of records, each
``crc32 (4) | length (2) | type (1) | payload``; FULL=1, FIRST=2, MIDDLE=3, LAST=4.
"""

from __future__ import annotations

import struct
import time
from pathlib import Path

from google.protobuf.message import DecodeError
from wandb.proto import wandb_internal_pb2

_BLOCK = 32 * 1024
_HEADER = struct.Struct("<4sHB")
_RECORD = struct.Struct("<IHB")


def read_records(path: Path, timeout: float = 30.0) -> list[wandb_internal_pb2.Record]:
    """The records of a finished run. W&B's service may still be writing them when ``finish()``
    returns, so the file is read again until it is whole and ends with the run's ``exit`` record
    (or ``timeout`` seconds have passed: then what is there)."""
    deadline = time.monotonic() + timeout
    while True:
        records, whole = _parse(path)
        finished = whole and records and records[-1].WhichOneof("record_type") == "exit"
        if finished or time.monotonic() > deadline:
            return records
        time.sleep(0.1)


def _parse(path: Path) -> tuple[list[wandb_internal_pb2.Record], bool]:
    """The records read so far, and whether the file ended between two of them."""
    data = path.read_bytes()
    ident, _, _ = _HEADER.unpack_from(data)
    assert ident == b":W&B", f"{path} is not a W&B run file"
    records, pending, offset = [], b"", _HEADER.size
    while offset + _RECORD.size <= len(data):
        if _BLOCK - offset % _BLOCK < _RECORD.size:  # block trailer padding
            offset += _BLOCK - offset % _BLOCK
            continue
        _, length, kind = _RECORD.unpack_from(data, offset)
        offset += _RECORD.size
        payload, offset = data[offset : offset + length], offset + length
        if kind == 0 and length == 0:
            break
        if len(payload) < length:
            return records, False
        pending = payload if kind in (1, 2) else pending + payload
        if kind in (1, 4):
            record = wandb_internal_pb2.Record()
            try:
                record.ParseFromString(pending)
            except DecodeError:
                return records, False
            records.append(record)
            pending = b""
    return records, not pending


def history_keys(path: Path) -> set[str]:
    keys: set[str] = set()
    for record in read_records(path):
        if record.WhichOneof("record_type") == "history":
            keys.update(item.key or "/".join(item.nested_key) for item in record.history.item)
    return keys


def config_keys(path: Path) -> set[str]:
    keys: set[str] = set()
    for record in read_records(path):
        if record.WhichOneof("record_type") == "config":
            keys.update(item.key or "/".join(item.nested_key) for item in record.config.update)
    return keys

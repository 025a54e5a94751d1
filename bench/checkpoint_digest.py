#!/usr/bin/env python3
"""One SHA-256 over every tensor of a checkpoint: for each name in sorted order, the name, a NUL
byte and the tensor's raw bytes. The metadata (config, thread count, times) is left out, so two
runs that computed the same bits give the same digest.

    bench/checkpoint_digest.py RUN_DIR/checkpoint.safetensors
"""
import hashlib
import json
import struct
import sys


def digest(path):
    with open(path, "rb") as f:
        data = f.read()
    (header_len,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + header_len])
    body = data[8 + header_len :]
    h = hashlib.sha256()
    for name in sorted(k for k in header if k != "__metadata__"):
        begin, end = header[name]["data_offsets"]
        h.update(name.encode() + b"\0" + body[begin:end])
    return h.hexdigest()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: checkpoint_digest.py CHECKPOINT.safetensors")
    print(digest(sys.argv[1]))

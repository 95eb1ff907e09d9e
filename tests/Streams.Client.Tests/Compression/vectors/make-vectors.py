#!/usr/bin/python3
"""Writes the sub-entry codec test vectors with independent implementations (run once; the output is committed).

Debian packages: apt-get install -y python3-snappy python3-lz4 python3-zstandard python3-crc32c
(python3-snappy 0.5.3's own CRC-32C extension fails on Python 3.11 with "PY_SSIZE_T_CLEAN macro must be defined", so the
framing checksum comes from python3-crc32c; the framing and the compression are python3-snappy's.)
Run from this folder with Debian's interpreter: /usr/bin/python3 make-vectors.py

Each vector is the compressed form of a deterministic payload that the C# tests rebuild (CodecVectors.Payload): the
manifest names the payload (kind, size, seed), the SHA-256 of the uncompressed bytes (so a generator mismatch is caught
before any codec is blamed) and the compressor settings.
"""
import hashlib
import json
import struct

import crc32c
import lz4
import lz4.frame
import snappy
import snappy.snappy
import zstandard

snappy.snappy._crc32c = crc32c.crc32c

WORDS = [b"stream", b"offset", b"chunk", b"broker", b"rabbit", b"consumer", b"producer", b"batch",
         b"entry", b"record", b"credit", b"leader", b"replica", b"segment", b"publish", b"confirm"]


def xorshift(seed):
    x = seed & 0xFFFFFFFF
    while True:
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        yield x


def payload(kind, size, seed):
    rng = xorshift(seed)
    if kind == "text":
        out = bytearray()
        while len(out) < size:
            out += WORDS[next(rng) & 15] + b" "
        return bytes(out[:size])
    if kind == "random":
        return bytes(next(rng) & 0xFF for _ in range(size))
    if kind == "repeat":
        unit = payload("text", 1024, seed)
        return (unit * (size // len(unit) + 1))[:size]
    if kind == "records":
        # A sub-entry batch: `size` records of `u32 length + body`, body i = "order-{i:06} " repeated 1 + i % 7 times.
        out = bytearray()
        for i in range(size):
            body = (b"order-%06d " % i) * (1 + i % 7)
            out += struct.pack(">I", len(body)) + body
        return bytes(out)
    raise ValueError(kind)


vectors = []


def add(name, codec, kind, size, seed, data, params):
    plain = payload(kind, size, seed)
    with open(name, "wb") as f:
        f.write(data(plain))
    vectors.append({"file": name, "codec": codec, "kind": kind, "size": size, "seed": seed,
                    "length": len(plain), "sha256": hashlib.sha256(plain).hexdigest(), "params": params})


def snappy_framed(plain):
    return snappy.StreamCompressor().add_chunk(plain)


for kind, size in [("text", 1), ("text", 100), ("text", 65536), ("text", 200000), ("random", 100000), ("records", 500)]:
    add(f"snappy-{kind}-{size}.bin", "snappy", kind, size, 11, snappy_framed, {"format": "framing", "library": "python3-snappy StreamCompressor"})

BLOCKS = {"64k": lz4.frame.BLOCKSIZE_MAX64KB, "256k": lz4.frame.BLOCKSIZE_MAX256KB,
          "1m": lz4.frame.BLOCKSIZE_MAX1MB, "4m": lz4.frame.BLOCKSIZE_MAX4MB}
LZ4_VARIANTS = [
    # (tag, content checksum, block checksum, store size, linked blocks)
    ("java", False, False, True, False),  # what the Java client writes (64 KiB independent blocks, content size)
    ("go", True, False, False, True),     # the Go client (pierrec/lz4) writes a content checksum, no size
    ("allsums", True, True, False, True),
    ("blocksum", False, True, True, False),
]


def lz4_frame(block, content_checksum, block_checksum, store_size, linked):
    return lambda plain: lz4.frame.compress(plain, block_size=BLOCKS[block], content_checksum=content_checksum,
                                            block_checksum=block_checksum, store_size=store_size,
                                            block_linked=linked)


for block in BLOCKS:
    for tag, cc, bc, ss, linked in LZ4_VARIANTS:
        # 2.5 MB of a repeated 1 KiB text: several blocks of 64 KiB, 256 KiB and 1 MiB, one 4 MiB block.
        add(f"lz4-{block}-{tag}-repeat-2500000.bin", "lz4", "repeat", 2500000, 21, lz4_frame(block, cc, bc, ss, linked),
            {"block": block, "contentChecksum": cc, "blockChecksum": bc, "contentSize": ss, "linked": linked})
for kind, size, block in [("text", 1, "64k"), ("text", 100, "64k"), ("text", 300000, "64k"), ("text", 300000, "256k"),
                          ("random", 300000, "256k"), ("random", 100000, "4m"), ("records", 500, "64k")]:
    add(f"lz4-{block}-{kind}-{size}.bin", "lz4", kind, size, 22, lz4_frame(block, True, False, False, True),
        {"block": block, "contentChecksum": True, "blockChecksum": False, "contentSize": False, "linked": True})


def zstd_frame(level, checksum):
    return lambda plain: zstandard.ZstdCompressor(level=level, write_content_size=False,
                                                  write_checksum=checksum).compress(plain)


def zstd_streamed(plain):
    # A streaming writer (as the Java and Go clients use) flushing every 100,000 bytes: one frame, many blocks, no size.
    c = zstandard.ZstdCompressor(level=3, write_content_size=False).compressobj()
    out = b"".join(c.compress(plain[i:i + 100000]) + c.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK)
                   for i in range(0, len(plain), 100000))
    return out + c.flush()


def zstd_two_frames(plain):
    half = len(plain) // 2
    z = zstandard.ZstdCompressor(level=3, write_content_size=False)
    return z.compress(plain[:half]) + z.compress(plain[half:])


for kind, size in [("text", 1), ("text", 100), ("text", 100000), ("random", 50000), ("repeat", 2000000), ("records", 500)]:
    add(f"zstd-{kind}-{size}.bin", "zstd", kind, size, 31, zstd_frame(3, False), {"level": 3, "checksum": False, "contentSize": False})
add("zstd-checksum-text-100000.bin", "zstd", "text", 100000, 32, zstd_frame(19, True), {"level": 19, "checksum": True, "contentSize": False})
add("zstd-streamed-text-450000.bin", "zstd", "text", 450000, 33, zstd_streamed, {"level": 3, "streamed": True, "contentSize": False})
add("zstd-twoframes-text-30000.bin", "zstd", "text", 30000, 34, zstd_two_frames, {"level": 3, "frames": 2, "contentSize": False})

with open("manifest.json", "w") as f:
    json.dump({"generator": "make-vectors.py",
               "libraries": {"python3-snappy": "0.5.3", "python3-lz4": lz4.__version__,
                             "python3-zstandard": zstandard.__version__},
               "vectors": vectors}, f, indent=1)
    f.write("\n")
print(f"{len(vectors)} vectors")

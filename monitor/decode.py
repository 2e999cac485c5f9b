"""Response bodies: raw bytes in, decoded (inflated) bytes out, never more than a cap.

``Body`` takes the raw chunks exactly as they came off the wire and inflates them here, at most
``STEP`` bytes at a time, so a gzip or brotli bomb (a few KB on the wire, gigabytes inflated) is cut
off at ``max_bytes`` without ever being held in memory; ``Content-Length`` above the cap is refused
before the first byte is read.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Mapping
from typing import Any

import brotli

from monitor.errors import PermanentError, TooLarge

STEP = 64 * 1024  # inflate at most this many bytes per step
CODINGS = ("gzip", "x-gzip", "deflate", "br")


class Body:
    """Raw chunks in, decoded body out; never holds more than ``max_bytes`` + one step inflated.

    ``where`` names the resource in error messages (``scheme://host/path``: no query, no secrets).
    """

    def __init__(self, where: str, headers: Mapping[str, str], max_bytes: int):
        self.where, self.max_bytes = where, max_bytes
        raw_length = (headers.get("content-length") or "").strip()
        if raw_length.isdigit() and int(raw_length) > max_bytes:
            raise TooLarge(f"{self.where}: Content-Length {raw_length} > {max_bytes} bytes")
        codings = [c.strip().lower() for c in (headers.get("content-encoding") or "").split(",") if c.strip()]
        codings = [c for c in codings if c != "identity"]
        if len(codings) > 1 or (codings and codings[0] not in CODINGS):
            raise PermanentError(f"{self.where}: unsupported Content-Encoding {','.join(codings)[:40]}",
                                 kind="bad_encoding")
        self.coding = codings[0] if codings else ""
        self.z: Any = None
        if self.coding in ("gzip", "x-gzip"):
            self.z = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif self.coding == "br":
            self.z = brotli.Decompressor()
        self.parts: list[bytes] = []
        self.size = 0

    def _inflate(self, data: bytes) -> Iterator[bytes]:
        if not self.coding:
            yield data
        elif self.coding == "br":
            out = self.z.process(data, output_buffer_limit=STEP)
            yield out
            while out and not self.z.is_finished():  # drain what the limit held back, a step at a time
                out = self.z.process(b"", output_buffer_limit=STEP)
                yield out
        else:
            if self.z is None:  # deflate: zlib-wrapped as the RFC says, raw as many servers send
                wrapped = len(data) >= 2 and (data[0] & 0x0F) == 8 and (data[0] << 8 | data[1]) % 31 == 0
                self.z = zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
            while data and not self.z.eof:
                yield self.z.decompress(data, STEP)
                data = self.z.unconsumed_tail

    def _add(self, chunks: Iterator[bytes]) -> None:
        try:
            for chunk in chunks:
                self.size += len(chunk)
                if self.size > self.max_bytes:
                    raise TooLarge(f"{self.where}: body over {self.max_bytes} bytes")
                self.parts.append(chunk)
        except (zlib.error, brotli.error) as e:
            raise PermanentError(f"{self.where}: bad {self.coding} body: {e}", kind="bad_encoding") from None

    def feed(self, raw: bytes) -> None:
        self._add(self._inflate(raw))

    def _rest(self) -> Iterator[bytes]:
        if self.coding in ("gzip", "x-gzip", "deflate") and self.z is not None:
            yield self.z.flush()  # what zlib still holds: at most its 32 KiB window

    def finish(self) -> bytes:
        """The whole decoded body (after the last raw chunk)."""
        self._add(self._rest())
        return b"".join(self.parts)

"""One error tree for the whole service.

- ``ConfigError``: bad configuration; the CLI prints it on one line and exits 2.
- ``TransientError``: worth retrying later (timeouts, 5xx, 429); may carry ``retry_after`` seconds.
- ``UsageError``: a command line that cannot work (a missing file, an unknown watch); one line, exit 2.
- ``DiskFull``: no room to start (the embedded Redis's ``data_dir``); one line, exit 1.
- ``PermanentError``: retrying will not help (4xx, not HTML, too big, forbidden address); its
  ``kind`` is a short machine-readable reason used in logs, metrics and ``status``.
"""

from __future__ import annotations


class ClaimwatchError(Exception):
    """Base of every error the service raises on purpose."""

    kind = "error"

    def __init__(self, message: str, *, kind: str | None = None):
        super().__init__(message)
        if kind:
            self.kind = kind


class ConfigError(ClaimwatchError):
    kind = "config"


class UsageError(ClaimwatchError):
    kind = "usage"


class DiskFull(ClaimwatchError):
    kind = "disk_full"


class TransientError(ClaimwatchError):
    kind = "transient"

    def __init__(self, message: str, *, kind: str | None = None, retry_after: float | None = None):
        super().__init__(message, kind=kind)
        self.retry_after = retry_after


class PermanentError(ClaimwatchError):
    kind = "permanent"


class ForbiddenAddress(PermanentError):
    """The URL resolves to loopback, private, link-local or another address the service won't reach."""

    kind = "forbidden_address"


class TooLarge(PermanentError):
    kind = "too_large"


class NotSupported(PermanentError):
    """A content type the stage cannot use (a PDF where a page was expected, say)."""

    kind = "unsupported_type"


class Gone(PermanentError):
    """HTTP 404/410 and the like."""

    kind = "gone"

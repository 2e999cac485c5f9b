"""claimwatch: the always-on side (poller, service, CLI) and the core shared with the workers."""

__version__ = "0.1.0"

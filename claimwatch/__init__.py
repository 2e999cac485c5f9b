"""claimwatch's composition root: the commands (``cli``), the only package that imports both
``monitor`` (the always-on side and the shared core) and ``workers`` (the RQ jobs).

Nothing imports it back (import-linter's "layers" contract in pyproject.toml): ``monitor`` learns
how to start a worker process from the command line this package hands it (``cli.WORKER_COMMAND``).
"""

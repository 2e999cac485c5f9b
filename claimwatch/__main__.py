"""`python -m claimwatch` == `claimwatch` (how `run` starts its workers: ``claimwatch.cli.WORKER_COMMAND``)."""

from claimwatch.cli import main

raise SystemExit(main())

"""The service's HTTP endpoint: a Starlette app (``app``), its tokens (``auth``), served by uvicorn
in a thread of `claimwatch run` (``server``). More routes plug in through ``extensions``."""

"""`kbot serve`'s app under a real uvicorn on 127.0.0.1 (a free port), in a thread of the test process."""

from contextlib import contextmanager


@contextmanager
def running(kb, ready: bool = True, **options):
    """Serve `create_app(kb, **options)`; yields the base URL once uvicorn listens (and /readyz says ready)."""
    from bot.evals.serve import uvicorn_thread
    from bot.server import create_app

    with uvicorn_thread(create_app(kb, **options), ready=ready) as base:
        yield base

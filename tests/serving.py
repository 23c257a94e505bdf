"""`kbot serve`'s app under a real uvicorn on 127.0.0.1 (a free port), in a thread of the test process."""

import threading
import time
from contextlib import contextmanager

import httpx
from conftest import free_port


@contextmanager
def running(kb, ready: bool = True, **options):
    """Serve `create_app(kb, **options)`; yields the base URL once uvicorn listens (and /readyz says ready)."""
    import uvicorn

    from bot.server import create_app

    app = create_app(kb, **options)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           h11_max_incomplete_event_size=64 * 1024))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    while ready and httpx.get(f"{base}/readyz").status_code != 200:
        assert time.monotonic() < deadline, "the server never became ready"
        time.sleep(0.2)
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(30)

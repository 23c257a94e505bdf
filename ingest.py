#!/usr/bin/env python
"""Index documents into kbot's Chroma collection: `python ingest.py corpus/ [--prune] [--rebuild]`.

The same as `kbot ingest`; idempotent and incremental (unchanged files are skipped).
"""

import sys

from bot.cli import app

if __name__ == "__main__":
    sys.exit(app(["ingest", *sys.argv[1:]]))

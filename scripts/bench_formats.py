"""Extraction speed per format (a benchmark, not a test): HWP and DOCX seconds per MB, OCR seconds per page.

    .venv/bin/python scripts/bench_formats.py [--ocr-pages 4]

HWP: the shared sample files (../shared/docs/hwp), each read several times. DOCX: a generated report of 3,000
paragraphs and a table. OCR: generated scanned pages (A4 at 200 dpi, 20 lines of Korean each), rendered at 300 dpi
and read by Tesseract (kor+eng), without the cache."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import doc_fixtures as F  # noqa: E402

from bot.loaders import LoadOptions, load_bytes  # noqa: E402


def rate(name: str, data: bytes, path: str, repeat: int) -> None:
    load_bytes(Path(path), data)  # warm: imports
    t0 = time.perf_counter()
    for _ in range(repeat):
        doc = load_bytes(Path(path), data)
    seconds = (time.perf_counter() - t0) / repeat
    mb = len(data) / 2**20
    print(f"{name:28} {mb:7.2f} MB  {len(doc.text):8,} chars  {seconds * 1000:8.1f} ms  "
          f"{seconds / mb:6.3f} s/MB  ({mb / seconds:6.1f} MB/s)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ocr-pages", type=int, default=4)
    args = ap.parse_args()
    print(f"cores: {os.cpu_count()}")
    for f in sorted(F.HWP_DIR.glob("*.hwp")):
        if f.name != "outline.hwp":  # drawings only: no text
            rate(f"hwp {f.name}", f.read_bytes(), f.name, 20)
    rate("docx 3,000 paragraphs", F.docx_bytes(paragraphs=3000), "big.docx", 3)
    rate("hwpx (generated)", F.hwpx_bytes(), "a.hwpx", 50)
    rate("pptx 4 slides", F.pptx_bytes(), "a.pptx", 20)
    rate("xlsx 2 sheets", F.xlsx_bytes(), "a.xlsx", 20)
    from bot.loaders.pdf import ocr_missing

    why = ocr_missing("kor+eng")
    if why:
        print(f"OCR: skipped ({why})")
        return
    line = "연구개발 사업 예산 1,234억원을 배분한다."  # fits the page width at the fixture's 44 px
    pages = [[f"{p + 1}쪽 {i + 1}번째 줄: {line}" for i in range(20)] for p in range(args.ocr_pages)]
    data = F.scanned_pdf_bytes(pages)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        doc = load_bytes(Path("scan.pdf"), data, LoadOptions(cache_dir=Path(tmp)))
        seconds = time.perf_counter() - t0
        t1 = time.perf_counter()
        load_bytes(Path("scan.pdf"), data, LoadOptions(cache_dir=Path(tmp)))
        cached = time.perf_counter() - t1
    right = sum(1 for p in pages for ln in p if ln in doc.text)
    print(f"OCR {args.ocr_pages} pages (300 dpi, kor+eng): {seconds / args.ocr_pages:.2f} s/page; "
          f"{right}/{sum(len(p) for p in pages)} lines exact; re-ingest from cache {cached:.2f} s")


if __name__ == "__main__":
    main()

"""PDF: the text layer page by page (pypdf); a page without one is rendered (pypdfium2) and read by Tesseract
(`-l kor+eng`), its text cached under the data dir by the page's content hash so a re-ingest does not repeat it."""

from __future__ import annotations

import functools
import hashlib
import io
import logging
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import LoadError
from ..types import SourceDoc
from .base import Builder, LoadOptions

log = logging.getLogger(__name__)
MIN_TEXT = 20  # characters: a page with less text than this (a stray page number) is treated as a scan
OCR_TIMEOUT = 120  # seconds per page
OCR_HINT = ("install Tesseract with its Korean model (Debian: apt-get install tesseract-ocr tesseract-ocr-kor) "
            "and ingest again")


@functools.cache
def tesseract_langs() -> frozenset[str]:
    """The languages the installed Tesseract has (empty: none installed)."""
    exe = shutil.which("tesseract")
    if not exe:
        return frozenset()
    try:
        out = subprocess.run([exe, "--list-langs"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return frozenset()
    return frozenset(line.strip() for line in out.splitlines()[1:] if line.strip())


def ocr_missing(langs: str) -> str | None:
    """Why OCR with `langs` cannot run here, or None when it can."""
    have = tesseract_langs()
    if not have:
        return "Tesseract is not installed"
    missing = [x for x in langs.split("+") if x not in have]
    return f"Tesseract lacks the language model(s) {', '.join(missing)}" if missing else None


def _pages_list(pages: list[int]) -> str:
    return ", ".join(str(p) for p in pages[:20]) + (f" and {len(pages) - 20} more" if len(pages) > 20 else "")


def _page_key(page, index: int, data_hash: str, options: LoadOptions) -> str:
    """A page's content hash: its content stream and the raw bytes of the images it draws (the same scan in
    another file hits the cache); the file's hash and page number if those cannot be read."""
    h = hashlib.sha256(f"{options.ocr_langs}|{options.ocr_dpi}|".encode())
    try:
        contents = page.get_contents()
        h.update(contents.get_data() if contents is not None else b"")
        xobjects = (page.get("/Resources") or {}).get("/XObject") or {}
        for name in sorted(xobjects):
            obj = xobjects[name].get_object()
            h.update(getattr(obj, "_data", b"") or b"")
    except Exception:  # an odd page structure: fall back to the file and the page number
        h.update(f"{data_hash}|{index}".encode())
    return h.hexdigest()


def ocr_page(data: bytes, index: int, options: LoadOptions) -> str:
    """Render page `index` at `options.ocr_dpi` and read it with Tesseract."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(data)
    try:
        image = pdf[index].render(scale=options.ocr_dpi / 72, grayscale=True).to_pil()
    finally:
        pdf.close()
    with tempfile.TemporaryDirectory(prefix="kbot-ocr-") as tmp:
        png = Path(tmp) / "page.png"
        image.save(png)
        try:
            # --psm 6 (one block of text): on Korean pages Tesseract 5.3's automatic layout (psm 3) dropped whole
            # lines of clean 16 pt text that psm 6 read exactly; scanned reports and letters are one column.
            # One OpenMP thread: on 2 busy cores Tesseract's threads spin against each other (a page took 20 s
            # with the default, 5.5 s with one thread, same text).
            res = subprocess.run(["tesseract", str(png), "stdout", "-l", options.ocr_langs, "--dpi",
                                  str(options.ocr_dpi), "--psm", "6"], capture_output=True, timeout=OCR_TIMEOUT,
                                 env={**os.environ, "OMP_THREAD_LIMIT": "1"})
        except subprocess.TimeoutExpired as e:
            raise LoadError(f"OCR of page {index + 1} took over {OCR_TIMEOUT} s") from e
    if res.returncode != 0:
        raise LoadError(f"OCR of page {index + 1} failed: {res.stderr.decode(errors='replace')[-300:]}")
    lines = [" ".join(ln.split()) for ln in res.stdout.decode("utf-8", "replace").splitlines()]
    return "\n".join(ln for ln in lines if ln)


def load_pdf(path: Path, data: bytes, options: LoadOptions | None = None) -> SourceDoc:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    options = options or LoadOptions()
    if not data:
        raise LoadError("empty file")
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                if not reader.decrypt(""):
                    raise LoadError("password-protected PDF: save a copy without the password to ingest it")
            except (NotImplementedError, PdfReadError) as e:
                raise LoadError(f"encrypted PDF that cannot be opened ({e}): save a decrypted copy") from e
        pages = list(reader.pages)
        texts = [(p.extract_text() or "").strip() for p in pages]
        info = reader.metadata
    except LoadError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError, AttributeError, RecursionError) as e:
        raise LoadError(f"corrupt or unreadable PDF ({type(e).__name__}: {e})") from e
    scans = [i for i, t in enumerate(texts) if len(t) < MIN_TEXT]
    warnings: list[str] = []
    ocr_done: set[int] = set()
    if scans:
        why = None if options.ocr else "OCR is off (KBOT_OCR=false)"
        why = why or ocr_missing(options.ocr_langs)
        if why:
            warnings.append(f"page(s) {_pages_list([i + 1 for i in scans])} have no text layer and were not read: "
                            f"{why}; " + ("set KBOT_OCR=true" if not options.ocr else OCR_HINT))
        else:
            data_hash = hashlib.sha256(data).hexdigest()
            for k, i in enumerate(scans):
                if options.on_progress:
                    options.on_progress(f"OCR {k + 1}/{len(scans)}쪽", k / len(scans))
                texts[i] = _cached_ocr(data, i, _page_key(pages[i], i, data_hash, options), options)
                ocr_done.add(i)
            if options.on_progress:
                options.on_progress(f"OCR {len(scans)}/{len(scans)}쪽", 1.0)
    out = Builder()
    for i, text in enumerate(texts):
        out.at(f"{i + 1}쪽" + (" (OCR)" if i in ocr_done else ""))
        for line in text.replace("\r", "\n").split("\n"):
            out.line(line)
        out.gap()
    if not out.text.strip():
        raise LoadError("the PDF has no extractable text" + (f" ({warnings[0]})" if warnings else ""))
    title = getattr(info, "title", None) if info else None
    author = getattr(info, "author", None) if info else None
    return out.doc(path, title, {"author": author}, warnings=tuple(warnings))


def _cached_ocr(data: bytes, index: int, key: str, options: LoadOptions) -> str:
    cache = options.cache_dir / key[:2] / f"{key}.txt" if options.cache_dir else None
    if cache is not None and cache.exists():
        return cache.read_text(encoding="utf-8")
    text = ocr_page(data, index, options)
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(cache)
    log.info("OCR page %d: %d characters", index + 1, len(text))
    return text

"""Sentence-aware chunking with character offsets into the document text."""

from __future__ import annotations

from collections.abc import Iterable

from .korean import sentence_spans, sentence_spans_batch
from .types import Chunk, SourceDoc


def _hard_split(start: int, end: int, size: int, text: str) -> list[tuple[int, int]]:
    """Split an over-long sentence at whitespace near `size` characters."""
    out = []
    while end - start > size:
        cut = text.rfind(" ", start + size // 2, start + size)
        cut = cut if cut > start else start + size
        out.append((start, cut))
        start = cut
        while start < end and text[start].isspace():
            start += 1
    if end > start:
        out.append((start, end))
    return out


def chunk_spans(text: str, size: int = 400, overlap: int = 1,
                sentences: Iterable[tuple[int, int]] | None = None) -> list[tuple[int, int]]:
    """Pack consecutive sentences into chunks of about `size` characters.

    Each chunk after the first starts with the last `overlap` sentences of the previous one (never all of
    them, so chunks always advance). A sentence longer than `size` is split at whitespace. `sentences` may be a
    generator: only the sentences of the chunk being packed are held (a 40 MB file has ~600K of them).
    """
    source = sentences if sentences is not None else sentence_spans(text)

    def pieces():
        for a, b in source:
            if b - a > size:
                yield from _hard_split(a, b, size, text)
            else:
                yield a, b

    it = pieces()
    window: list[tuple[int, int]] = []  # the sentences from the current chunk's first one on, as far as read

    def has(k: int) -> bool:
        """Whether the window's k-th sentence exists (reading it if needed)."""
        while len(window) <= k:
            nxt = next(it, None)
            if nxt is None:
                return False
            window.append(nxt)
        return True

    chunks: list[tuple[int, int]] = []
    if not has(0):
        return chunks
    while True:
        j = 1
        while has(j) and window[j][1] - window[0][0] <= size:
            j += 1
        chunks.append((window[0][0], window[j - 1][1]))
        if not has(j):
            break
        del window[:max(1, j - overlap)]
    return chunks


def chunk_document(doc: SourceDoc, size: int = 400, overlap: int = 1,
                   sentences: list[tuple[int, int]] | None = None) -> list[Chunk]:
    return [
        Chunk(chunk_id=f"{doc.doc_id}:{n:05d}", doc_id=doc.doc_id, index=n, text=doc.text[a:b], start=a, end=b)
        for n, (a, b) in enumerate(chunk_spans(doc.text, size, overlap, sentences))
    ]


def chunk_documents(docs: list[SourceDoc], size: int = 400, overlap: int = 1) -> list[list[Chunk]]:
    """Chunk many documents, splitting all their sentences in one batch."""
    spans = sentence_spans_batch([d.text for d in docs])
    return [chunk_document(d, size, overlap, s) for d, s in zip(docs, spans)]

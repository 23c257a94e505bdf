"""Sentence-aware chunking with character offsets into the document text."""

from __future__ import annotations

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
                sentences: list[tuple[int, int]] | None = None) -> list[tuple[int, int]]:
    """Pack consecutive sentences into chunks of about `size` characters.

    Each chunk after the first starts with the last `overlap` sentences of the previous one (never all of
    them, so chunks always advance). A sentence longer than `size` is split at whitespace.
    """
    sents: list[tuple[int, int]] = []
    for a, b in sentences if sentences is not None else sentence_spans(text):
        sents.extend(_hard_split(a, b, size, text) if b - a > size else [(a, b)])
    chunks: list[tuple[int, int]] = []
    i = 0
    while i < len(sents):
        j = i + 1
        while j < len(sents) and sents[j][1] - sents[i][0] <= size:
            j += 1
        chunks.append((sents[i][0], sents[j - 1][1]))
        if j >= len(sents):
            break
        i = max(i + 1, j - overlap)
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

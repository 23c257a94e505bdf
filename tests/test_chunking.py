"""Korean sentence-aware chunks with exact character offsets."""

from bot.chunking import chunk_document, chunk_spans
from bot.korean import sentence_spans
from bot.types import SourceDoc

TEXT = ("GPT-3 모델 가격 체계는 4가지로 나뉜다. '익스플로어'는 무료 구간이다. 크리에이트는 월 100달러다.\n\n"
        "빌드는 월 400달러로 토큰 1000만개를 쓸 수 있다. 스케일은 별도 가격을 책정했다! 정말일까?\n"
        "줄바꿈 뒤의 문장도 하나의 문장이다.")


def test_sentence_spans_are_exact_and_split_at_line_breaks():
    spans = sentence_spans(TEXT)
    sents = [TEXT[a:b] for a, b in spans]
    assert sents[0] == "GPT-3 모델 가격 체계는 4가지로 나뉜다."
    assert "정말일까?" in sents and "줄바꿈 뒤의 문장도 하나의 문장이다." in sents
    assert all(s == s.strip() and "\n" not in s for s in sents)


def test_chunks_respect_size_overlap_and_offsets():
    doc = SourceDoc(doc_id="d", text=TEXT, title="t", source="s", path="", content_hash="h")
    chunks = chunk_document(doc, size=60, overlap=1)
    assert len(chunks) > 2
    for c in chunks:
        assert TEXT[c.start:c.end] == c.text
        assert len(c.text) <= 60 or " " not in c.text.strip()
    # neighbours share exactly one sentence (the last of one is the first of the next), and together they cover
    # every sentence
    sentences = sentence_spans(TEXT)
    for a, b in zip(chunks, chunks[1:]):
        assert b.start > a.start and (b.start, a.end) in sentences, (a.text, b.text)
    covered = {i for c in chunks for i in range(c.start, c.end)}
    for a, b in sentences:
        assert set(range(a, b)) <= covered


def test_no_overlap_and_long_sentence_is_split():
    long = "가" * 30 + " " + "나" * 30 + " " + "다" * 30 + "."
    spans = chunk_spans(long + " 짧은 문장.", size=40, overlap=0)
    assert all(b - a <= 40 for a, b in spans)
    assert spans[0][0] == 0 and spans[-1][1] == len(long) + len(" 짧은 문장.")
    assert all(x[1] <= y[0] for x, y in zip(spans, spans[1:]))


def test_chunk_ids_are_deterministic():
    doc = SourceDoc(doc_id="abc", text=TEXT, title="t", source="s", path="", content_hash="h")
    assert [c.chunk_id for c in chunk_document(doc, 60, 1)] == [c.chunk_id for c in chunk_document(doc, 60, 1)]
    assert chunk_document(doc, 60, 1)[0].chunk_id == "abc:00000"


def test_footnote_chunks_carry_the_sentences_that_cite_them():
    from bot.indexing import footnote_context

    doc = ("중국은 자체 반도체만으로 훈련했다는 거대 언어 모델을 공개했다.[20] 다른 문장이다.\n"
           "주석이 없는 문단.[3]은 여기.\n\n"
           "• [3] 어떤 논문\n• [20] A Zeng et al., \"GLM-130B: An Open Bilingual Pre-trained Model\" (2022)\n")
    notes_chunk = doc[doc.index("• [3]"):]
    ctx = footnote_context(doc, notes_chunk)
    assert "중국은 자체 반도체만으로 훈련했다는 거대 언어 모델을 공개했다.[20]" in ctx
    assert "다른 문장이다" not in ctx
    assert footnote_context(doc, "본문 문장이다.[20] 계속") == ""  # body chunks are left alone

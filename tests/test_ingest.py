"""Idempotent, incremental ingestion on a real embedded Chroma (fake encoder: the logic, not the model)."""

import pytest
from fakes import FakeEncoder

from bot.api import KnowledgeBase
from bot.errors import ModelMismatchError

A = "GPT-3의 크리에이트 요금제는 월 100달러다. 토큰 200만개를 쓸 수 있다. 이후 1000개당 8센트를 낸다.\n"
B = "V100 GPU는 개당 약 9,000달러이다. GPT-3를 올리려면 최소 11개가 필요하다.\n"


def _docs(tmp_path):
    d = tmp_path / "docs"
    d.mkdir()
    (d / "a.md").write_text("---\ntitle: 요금\n---\n" + A * 10, encoding="utf-8")
    (d / "b.txt").write_text(B * 10, encoding="utf-8")
    return d


def _snapshot(kb):
    return sorted((c.chunk_id, c.text, tuple(sorted(c.metadata.items()))) for c in kb.store.iter_all(True))


def test_second_run_changes_nothing_and_embeds_nothing(fake_kb, tmp_path):
    docs = _docs(tmp_path)
    first = fake_kb.ingest([docs])
    assert sorted(first.added) == sorted([str(docs / "a.md"), str(docs / "b.txt")]) and first.ok
    before, embedded = _snapshot(fake_kb), fake_kb.encoder.passages_encoded
    rev = fake_kb.store.revision()
    second = fake_kb.ingest([docs])
    assert len(second.unchanged) == 2 and not second.added and not second.updated
    assert fake_kb.encoder.passages_encoded == embedded and second.chunks_embedded == 0
    assert _snapshot(fake_kb) == before and fake_kb.store.revision() == rev


NAMES = ["가람", "나래", "다솜", "마루", "바다", "사랑", "아라", "자람", "차오름", "하늘"]


def _numbered_docs(tmp_path, n=150):
    d = tmp_path / "many"
    d.mkdir()
    for i in range(n):
        text = f"{NAMES[i % 10]}{i}호 부품의 단가는 {i * 7}달러다.\n" + B * 3
        (d / f"{i:03d}.txt").write_text(text, encoding="utf-8")
    return d


@pytest.mark.parametrize("batch", [256, 8])
def test_many_documents_are_analysed_in_groups_and_each_is_found_by_its_own_words(make_settings, tmp_path, batch):
    """Over 64 documents are analysed a group at a time, the next group while the one before is embedded (with
    batches of 8 the look-ahead is smaller than a group, so groups are taken while later ones are analysed): every
    document must land whole, under its own terms, and a second run must find nothing to do."""
    fake_kb = KnowledgeBase.open(make_settings(ingest_batch=batch), encoder=FakeEncoder())
    d = _numbered_docs(tmp_path)
    report = fake_kb.ingest([d])
    assert report.ok and len(report.added) == 150
    assert {c.metadata["source"] for c in fake_kb.store.iter_all()} == {str(p) for p in d.iterdir()}
    for i in (0, 63, 64, 65, 127, 128, 149):
        top = fake_kb.search(f"{NAMES[i % 10]}{i}호 부품", k=1, mode="sparse")[0]
        assert top.source == str(d / f"{i:03d}.txt") and f"{i * 7}달러" in top.text
    again = fake_kb.ingest([d])
    assert len(again.unchanged) == 150 and again.chunks_embedded == 0


class _FailingEncoder(FakeEncoder):
    def __init__(self, fail_at: int) -> None:
        super().__init__()
        self.calls, self.fail_at = 0, fail_at

    def encode_passages(self, texts, batch_size=None):
        self.calls += 1
        if self.calls == self.fail_at:
            raise RuntimeError("encoder failed")
        return super().encode_passages(texts, batch_size)


def test_an_encoder_failure_mid_ingest_keeps_what_was_embedded_and_the_rerun_does_the_rest(make_settings, tmp_path):
    """The error reaches the caller (no hang with documents still being analysed ahead), the batches before it
    stay, and the next run embeds only what is missing."""
    import threading

    d = _numbered_docs(tmp_path)
    settings = make_settings(ingest_batch=8)
    kb = KnowledgeBase.open(settings, encoder=_FailingEncoder(fail_at=5))
    with pytest.raises(RuntimeError, match="encoder failed"):
        kb.ingest([d])
    assert not [t for t in threading.enumerate() if t.name.startswith("kbot-analyse")]
    kept = len(list(kb.store.iter_all()))
    assert 0 < kept < 150
    again = KnowledgeBase.open(settings, encoder=FakeEncoder())
    report = again.ingest([d])
    assert report.ok and report.chunks_embedded == 150 - kept
    assert again.encoder.passages_encoded == 150 - kept
    top = again.search("하늘149호 부품", k=1, mode="sparse")[0]
    assert top.source == str(d / "149.txt") and len(list(again.store.iter_all())) == 150


def test_changed_file_replaces_its_chunks(fake_kb, tmp_path):
    docs = _docs(tmp_path)
    fake_kb.ingest([docs])
    n_before = fake_kb.store.count()
    (docs / "a.md").write_text("---\ntitle: 요금\n---\n빌드 요금제는 월 400달러다.\n", encoding="utf-8")
    report = fake_kb.ingest([docs])
    assert report.updated == [str(docs / "a.md")] and report.unchanged == [str(docs / "b.txt")]
    texts = [c.text for c in fake_kb.store.iter_all(True)]
    assert "빌드 요금제는 월 400달러다." in texts and not any("크리에이트" in t for t in texts)
    assert fake_kb.store.count() < n_before
    assert fake_kb.search("빌드 요금제 400달러", k=1)[0].text == "빌드 요금제는 월 400달러다."


def test_prune_removes_documents_whose_files_are_gone(fake_kb, tmp_path):
    docs = _docs(tmp_path)
    fake_kb.ingest([docs])
    (docs / "b.txt").unlink()
    kept = fake_kb.ingest([docs])
    assert kept.removed == [] and len(fake_kb.documents()) == 2  # without --prune nothing is removed
    pruned = fake_kb.ingest([docs], prune=True)
    assert pruned.removed == [str((docs / "b.txt").resolve())]
    assert [d["title"] for d in fake_kb.documents()] == ["요금"]


def test_rebuild_starts_over(fake_kb, tmp_path):
    docs = _docs(tmp_path)
    fake_kb.ingest([docs])
    report = fake_kb.ingest([docs / "b.txt"], rebuild=True)
    assert report.added == [str(docs / "b.txt")] and len(fake_kb.documents()) == 1


def test_bad_files_are_reported_and_the_rest_ingested(fake_kb, tmp_path):
    docs = _docs(tmp_path)
    (docs / "empty.txt").write_bytes(b"")
    (docs / "bin.txt").write_bytes(bytes(range(256)))
    (docs / "bad.pdf").write_bytes(b"%PDF-1.4 garbage")
    report = fake_kb.ingest([docs, tmp_path / "missing.md"])
    reasons = {f.path.rsplit("/", 1)[-1]: f.reason for f in report.failed}
    assert set(reasons) == {"empty.txt", "bin.txt", "bad.pdf", "missing.md"}
    assert "empty" in reasons["empty.txt"] and "binary" in reasons["bin.txt"] and "PDF" in reasons["bad.pdf"]
    assert "no such file" in reasons["missing.md"]
    assert not report.ok and len(report.added) == 2


def test_chunk_metadata_and_offsets(fake_kb, tmp_path):
    docs = _docs(tmp_path)
    fake_kb.ingest([docs])
    from bot.loaders import load_file

    doc = load_file(docs / "a.md")
    for c in fake_kb.store.iter_all(True):
        m = c.metadata
        if m["source"] == str(docs / "a.md"):
            assert doc.text[m["start"]:m["end"]] == c.text
            assert m["title"] == "요금" and m["doc_id"] == doc.doc_id and m["terms"]


def test_opening_with_another_model_is_a_clear_error(make_settings, tmp_path):
    settings = make_settings()
    kb = KnowledgeBase.open(settings, encoder=FakeEncoder())
    kb.ingest([_docs(tmp_path)])

    class Other(FakeEncoder):
        name = "another-model"

    with pytest.raises(ModelMismatchError) as err:
        KnowledgeBase.open(settings, encoder=Other())
    assert "fake-bigram-64" in str(err.value) and "--rebuild" in str(err.value)


def test_an_unknown_search_mode_is_a_clear_error(fake_kb, tmp_path):
    fake_kb.ingest([_docs(tmp_path)])
    with pytest.raises(ValueError, match="hybrid, dense or sparse"):
        fake_kb.search("요금", mode="bm25")


def test_empty_and_long_queries(fake_kb, tmp_path):
    fake_kb.ingest([_docs(tmp_path)])
    with pytest.raises(ValueError, match="empty"):
        fake_kb.search("   \n\t ")
    hits = fake_kb.search("요금제 " * 5000, k=3)
    assert 1 <= len(hits) <= 3


def test_search_on_an_empty_index_says_how_to_ingest(fake_kb):
    from bot.errors import NotIndexedError

    with pytest.raises(NotIndexedError, match="kbot ingest"):
        fake_kb.search("GPT-3")


def test_stored_bm25_terms_are_those_of_each_chunk_analysed_alone(fake_kb):
    """Ingest takes a chunk's morphemes from its document's one kiwi pass instead of analysing the chunk again:
    the terms must still be the chunk's own (title, body, footnote context), off only where kiwi reads a word
    differently with the sentences around it ("그동안" vs "그" + "동안")."""
    from collections import Counter
    from pathlib import Path

    from bot.indexing import context_text, footnote_context
    from bot.korean import bm25_terms, char_bigrams
    from bot.loaders import load_file
    from bot.retrieval import chunk_terms

    corpus = Path(__file__).resolve().parents[1] / "corpus"
    fake_kb.ingest([corpus])
    texts = {str(p): load_file(p).text for p in corpus.glob("*.md")}
    chunks = chunks_off = differing = total = 0
    for c in fake_kb.store.iter_all(True):
        m = c.metadata
        text = texts[m["source"]]
        ctx = context_text(fake_kb.settings, m["title"], c.text, footnote_context(text, c.text))
        want, got = Counter(bm25_terms(ctx)), Counter(chunk_terms(c.text, dict(m)))
        assert {t for t in got if t.startswith("#")} == {t for t in want if t.startswith("#")}, c.chunk_id
        # the morphemes alone (the text's bigrams match by construction), chunk by chunk: a morpheme moved across
        # a chunk boundary would put nearly every chunk off
        want -= Counter(char_bigrams(c.text))
        got = Counter(m["terms"].split())
        off = sum(((want - got) + (got - want)).values())
        differing += off
        chunks_off += off > 0
        total += sum(want.values())
        chunks += 1
    assert chunks > 90 and chunks_off / chunks < 0.2 and differing / total < 0.005, (chunks_off, differing, total)


def test_an_index_with_the_earlier_stored_terms_searches_the_same(fake_kb):
    """Chunks written before terms_v 2 hold every term, bigrams included, and no `terms_v`: they must keep
    working, with the same sparse results, without a re-ingest."""
    from pathlib import Path

    from bot.retrieval import chunk_terms

    fake_kb.ingest([Path(__file__).resolve().parents[1] / "corpus"])
    queries = ["GPT-3 요금제 가격", "V100 GPU 개수", "람다랩스 클라우드 비용", "하이퍼클로바"]
    before = [[(h.chunk_id, round(h.score, 6)) for h in fake_kb.search(q, k=5, mode="sparse")] for q in queries]
    chunks = list(fake_kb.store.iter_all(True))
    assert chunks and all(c.metadata.get("terms_v") == 2 for c in chunks)
    # None drops the key (Chroma merges an update into the metadata)
    fake_kb.store.update_metadata([c.chunk_id for c in chunks], [
        {"terms": " ".join(chunk_terms(c.text, dict(c.metadata))), "terms_v": None} for c in chunks])
    fake_kb.store.bump_revision()
    assert not any("terms_v" in c.metadata for c in fake_kb.store.iter_all())
    after = [[(h.chunk_id, round(h.score, 6)) for h in fake_kb.search(q, k=5, mode="sparse")] for q in queries]
    assert after == before and all(before)

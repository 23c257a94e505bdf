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


def test_many_documents_are_analysed_in_groups_and_each_is_found_by_its_own_words(fake_kb, tmp_path):
    """Over 64 documents are analysed a group at a time, the next group while the one before is embedded: every
    document must land whole, under its own terms, and a second run must find nothing to do."""
    d = tmp_path / "many"
    d.mkdir()
    names = ["가람", "나래", "다솜", "마루", "바다", "사랑", "아라", "자람", "차오름", "하늘"]
    for i in range(150):
        text = f"{names[i % 10]}{i}호 부품의 단가는 {i * 7}달러다.\n" + B * 3
        (d / f"{i:03d}.txt").write_text(text, encoding="utf-8")
    report = fake_kb.ingest([d])
    assert report.ok and len(report.added) == 150
    assert {c.metadata["source"] for c in fake_kb.store.iter_all()} == {str(p) for p in d.iterdir()}
    for i in (0, 63, 64, 65, 127, 128, 149):
        top = fake_kb.search(f"{names[i % 10]}{i}호 부품", k=1, mode="sparse")[0]
        assert top.source == str(d / f"{i:03d}.txt") and f"{i * 7}달러" in top.text
    again = fake_kb.ingest([d])
    assert len(again.unchanged) == 150 and again.chunks_embedded == 0


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
    from bot.korean import bm25_terms
    from bot.loaders import load_file
    from bot.retrieval import chunk_terms

    corpus = Path(__file__).resolve().parents[1] / "corpus"
    fake_kb.ingest([corpus])
    texts = {str(p): load_file(p).text for p in corpus.glob("*.md")}
    chunks = differing = total = 0
    for c in fake_kb.store.iter_all(True):
        m = c.metadata
        text = texts[m["source"]]
        ctx = context_text(fake_kb.settings, m["title"], c.text, footnote_context(text, c.text))
        want, got = Counter(bm25_terms(ctx)), Counter(chunk_terms(c.text, dict(m)))
        assert {t for t in got if t.startswith("#")} == {t for t in want if t.startswith("#")}, c.chunk_id
        differing += sum(((want - got) + (got - want)).values())
        total += sum(want.values())
        chunks += 1
    assert chunks > 90 and differing / total < 0.01, (differing, total)

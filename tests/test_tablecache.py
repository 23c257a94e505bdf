"""The BM25 table saved on disk: a restart loads it, but never after the collection changed or when it is damaged."""

from __future__ import annotations

from fakes import FakeEncoder

from bot.api import KnowledgeBase
from bot.types import SourceDoc

GPU = SourceDoc(doc_id="gpu", text="엔비디아는 새 GPU 블랙웰을 2024년 3월에 공개했다. 메모리 대역폭이 두 배로 늘었다.",
                title="블랙웰", source="gpu.md", path="", content_hash="h1", published="2024-03-19",
                publisher="AI타임스")
LLM = SourceDoc(doc_id="llm", text="업스테이지는 한국어 언어모델 솔라를 공개했다. 매개변수는 107억 개다.",
                title="솔라", source="llm.md", path="", content_hash="h2", published="2023-12-01",
                publisher="지디넷")


def _restart(make_settings, **kw) -> KnowledgeBase:
    """A new process's view of the same data folder."""
    return KnowledgeBase.open(make_settings(**kw), encoder=FakeEncoder())


def _sources(kb: KnowledgeBase, query: str) -> list[str]:
    return [h.source for h in kb.search(query, k=5, mode="sparse")]


def test_restart_loads_the_saved_table_with_the_same_results_and_metadata(make_settings):
    kb = _restart(make_settings)
    kb.ingest_documents([GPU, LLM])
    first = kb.search("솔라 매개변수", k=2, mode="sparse")
    assert kb.retriever.sparse_index.loaded_from == "store"

    again = _restart(make_settings)
    hits = again.search("솔라 매개변수", k=2, mode="sparse")
    index = again.retriever.sparse_index
    assert index.loaded_from == "cache"
    assert [(h.chunk_id, h.score, h.text) for h in hits] == [(h.chunk_id, h.score, h.text) for h in first]
    meta = index.by_id[hits[0].chunk_id].metadata  # what filters on the BM25 side read
    assert (meta["doc_id"], meta["published"], meta["publisher"]) == ("llm", "2023-12-01", "지디넷")
    assert "terms" not in meta


def test_a_table_saved_before_an_ingest_is_not_used_after_it(make_settings):
    kb = _restart(make_settings)
    kb.ingest_documents([GPU])
    assert _sources(kb, "솔라") == []  # the table (and its file) now hold only the GPU article

    # A writer that leaves no table file here (another machine on a shared Chroma server) adds a document.
    _restart(make_settings).indexer.ingest_documents([LLM])

    later = _restart(make_settings)
    assert _sources(later, "솔라") == ["llm.md"]
    assert later.retriever.sparse_index.loaded_from == "store"


def test_the_first_start_after_an_ingest_loads_the_table_the_ingest_saved(make_settings):
    kb = _restart(make_settings)
    kb.ingest_documents([GPU])
    report = _restart(make_settings).ingest_documents([LLM])  # `kbot ingest` in another process
    assert report.table_seconds is not None and "search table saved" in report.summary()

    later = _restart(make_settings)
    assert _sources(later, "솔라") == ["llm.md"] and _sources(later, "블랙웰") == ["gpu.md"]
    assert later.retriever.sparse_index.loaded_from == "cache"
    assert _restart(make_settings).ingest_documents([LLM]).table_seconds is None  # nothing changed: not redone


def test_a_rebuilt_collection_does_not_reuse_the_old_table(make_settings):
    kb = _restart(make_settings)
    kb.ingest_documents([GPU])
    kb.search("블랙웰", mode="sparse")
    kb.ingest_documents([LLM], rebuild=True)  # new collection, its revision counts from the start again

    later = _restart(make_settings)
    assert _sources(later, "블랙웰") == []
    assert _sources(later, "솔라") == ["llm.md"]


def test_a_corrupt_or_truncated_table_file_is_ignored_and_rewritten(make_settings):
    kb = _restart(make_settings)
    kb.ingest_documents([GPU, LLM])
    kb.search("솔라", mode="sparse")
    path = kb.retriever.sparse_index.cache.path
    good = path.read_bytes()

    for damaged in (good[: len(good) // 2], b"not a table", good[:100] + b"\0" * 64 + good[164:]):
        path.write_bytes(damaged)
        later = _restart(make_settings)
        rebuilt = later.search("솔라 매개변수", k=2, mode="sparse")
        assert [h.source for h in rebuilt][:1] == ["llm.md"]
        assert later.retriever.sparse_index.loaded_from == "store"
        # rewritten: the next start loads the file, and it holds the table rebuilt from the store (both articles,
        # the same scores), not the damaged bytes
        again = _restart(make_settings)
        hits = again.search("솔라 매개변수", k=2, mode="sparse")
        index = again.retriever.sparse_index
        assert index.loaded_from == "cache" and path.read_bytes() != damaged
        assert [(h.chunk_id, h.score, h.text) for h in hits] == [(h.chunk_id, h.score, h.text) for h in rebuilt]
        table = {cid: c.text for cid, c in index.by_id.items()}
        assert table == {cid: c.text for cid, c in later.retriever.sparse_index.by_id.items()}
        assert {c.metadata["doc_id"] for c in index.by_id.values()} == {"gpu", "llm"}
        assert _sources(again, "블랙웰") == ["gpu.md"]


def test_different_bm25_parameters_do_not_reuse_the_table(make_settings):
    kb = _restart(make_settings)
    kb.ingest_documents([GPU, LLM])
    kb.search("솔라", mode="sparse")
    tuned = _restart(make_settings, bm25_k1=1.5)
    tuned.search("솔라", mode="sparse")
    assert tuned.retriever.sparse_index.loaded_from == "store"

"""Fusion and BM25 on tiny inputs with known answers; the Korean retrieval with the real default model."""

import pytest
from conftest import DEV

from bot.bm25 import BM25
from bot.evals.bench import hit_at_k, load_dev_facts, recall_mrr, rollup
from bot.korean import morphemes
from bot.retrieval import rrf, score_fusion
from bot.types import Hit


def test_rrf_known_values():
    fused = rrf([["a", "b", "c"], ["c", "a"]], [1.0, 0.5], k=60)
    assert fused["a"] == pytest.approx(1 / 61 + 0.5 / 62)
    assert fused["c"] == pytest.approx(1 / 63 + 0.5 / 61)
    assert fused["b"] == pytest.approx(1 / 62)
    assert max(fused, key=fused.get) == "a"


def test_score_fusion_min_max():
    fused = score_fusion([[("a", 0.9), ("b", 0.5)], [("b", 10.0), ("c", 2.0)]], [0.5, 0.5])
    assert fused == pytest.approx({"a": 0.5, "b": 0.5, "c": 0.0})


def test_bm25_prefers_the_document_with_the_rare_term():
    docs = [morphemes(t) for t in ["크리에이트 요금제는 월 100달러다.", "빌드 요금제는 월 400달러다.",
                                    "GPU 가격은 9000달러다."]]
    bm = BM25(docs)
    assert bm.top(morphemes("크리에이트는 얼마야?"), 3)[0][0] == 0
    assert bm.top(morphemes("GPU 가격"), 1)[0][0] == 2
    assert bm.top(["없는단어"], 3) == []


def test_bm25_scores_are_the_okapi_formula_over_thousands_of_documents():
    """The table is counted in blocks of documents: scores past the first block, and documents with no terms,
    must still be the textbook BM25 (Lucene idf) computed one document at a time."""
    import math
    import random
    from collections import Counter

    rng = random.Random(7)
    words = [f"w{i}" for i in range(300)]
    docs = [[rng.choice(words[: 20 + i % 280]) for _ in range(rng.randint(0, 30))] for i in range(5000)]
    k1, b = 0.9, 0.4
    bm = BM25(iter(docs), k1=k1, b=b)
    n, avgdl = len(docs), sum(map(len, docs)) / len(docs)
    df = Counter(t for d in docs for t in set(d))
    for query in (["w3"], ["w250", "w7"], ["w299", "없는단어"]):
        want = []
        for d in docs:
            tf = Counter(d)
            want.append(sum(math.log1p((n - df[t] + 0.5) / (df[t] + 0.5)) * tf[t] * (k1 + 1)
                            / (tf[t] + k1 * (1 - b + b * len(d) / avgdl)) for t in set(query) if tf[t]))
        assert list(bm.scores(query)) == pytest.approx(want, rel=1e-5, abs=1e-6)


def test_char_bigrams_are_the_in_word_pairs_in_text_order():
    from bot.korean import char_bigrams

    assert char_bigrams("요금제 A100, 월 9달러") == ["#요금", "#금제", "#a1", "#10", "#00", "#월", "#9달", "#달러"]
    assert char_bigrams("") == [] and char_bigrams("— …") == []


def test_morphemes_drop_particles_and_endings():
    toks = morphemes("크리에이트 요금제에서 토큰을 다 쓰면 추가 1000개당 얼마를 내?")
    assert "크리에이트" in toks and "토큰" in toks and "1000" in toks
    assert "에서" not in toks and "을" not in toks and "를" not in toks


def test_benchmark_metrics_on_known_rankings():
    doc_of = {"a1": "A", "a2": "A", "b1": "B", "c1": "C"}
    assert rollup(["a1", "a2", "b1", "c1"], doc_of) == ["A", "B", "C"]
    m = recall_mrr([["A", "B"], ["B", "A"], ["C"]], ["A", "A", "B"])
    assert m == pytest.approx({"R@1": 1 / 3, "R@3": 2 / 3, "R@5": 2 / 3, "R@10": 2 / 3,
                               "MRR@10": (1 + 0.5 + 0) / 3})
    text_of = {"x": "8센트를 낸다", "y": "다른 내용"}
    assert hit_at_k([["y", "x"], ["y"]], text_of, [["8센트"], ["8센트"]], k=5) == 0.5
    assert hit_at_k([["y", "x"]], text_of, [["8센트"]], k=1) == 0.0


@pytest.mark.slow
def test_korean_query_finds_the_right_chunk(corpus_kb):
    hits = corpus_kb.search("크리에이트 요금제에서 토큰을 다 쓰면 추가 1000개당 얼마를 내?", k=3)
    assert isinstance(hits[0], Hit)
    assert "8센트" in hits[0].text and hits[0].title.startswith("GPT-3 유료화")
    top = corpus_kb.search("A100 GPU 8대가 들어간 노드는 전력을 얼마나 써?", k=5)
    assert any("7kW" in h.text for h in top)


@pytest.mark.slow
def test_hits_point_into_their_documents(corpus_kb):
    from bot.loaders import load_file

    for h in corpus_kb.search("V100 GPU 한 개 가격", k=5):
        doc = load_file(__import__("pathlib").Path(h.source))
        assert doc.text[h.start:h.end] == h.text and h.doc_id == doc.doc_id
    with pytest.raises(Exception) as err:
        hits = corpus_kb.search("GPT-3", k=1)
        hits[0].score = 1.0  # Hit is frozen
    assert "frozen" in str(err.value).lower() or "cannot assign" in str(err.value).lower()


@pytest.mark.slow
def test_dev_fact_questions_hit_at_5(corpus_kb):
    facts = load_dev_facts(DEV)
    found = [any(any(a in h.text for a in f["answers"]) for h in corpus_kb.search(f["question"], k=5))
             for f in facts]
    assert sum(found) / len(facts) >= 0.95, [f["id"] for f, ok in zip(facts, found) if not ok]


@pytest.mark.slow
def test_langchain_retriever(corpus_kb):
    from langchain_core.retrievers import BaseRetriever

    retriever = corpus_kb.as_retriever(k=2)
    assert isinstance(retriever, BaseRetriever)
    docs = retriever.invoke("크리에이트 요금제에서 토큰을 다 쓰면 추가 1000개당 얼마를 내?")
    assert len(docs) == 2 and docs[0].metadata["chunk_id"] and docs[0].metadata["title"]
    assert "8센트" in docs[0].page_content
    question = "크리에이트 요금제에서 토큰을 다 쓰면 추가 1000개당 얼마를 내?"
    assert docs[0].page_content == corpus_kb.search(question)[0].text

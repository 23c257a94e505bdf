"""Filters by date, publisher and document: both retrieval sides, partial and missing dates, empty matches, names
the index lacks, old indexes, the CLI flags. Server mode (identical results) is in test_server.py."""

import subprocess
import sys

import pytest
from conftest import ROOT
from fakes import FakeEncoder

from bot.api import KnowledgeBase
from bot.errors import FilterError, NoMatchError
from bot.filters import period
from bot.types import Filters

QUANTUM = "양자컴퓨터 냉각 장치 비용은 대당 수십억 원이다. 양자컴퓨터 냉각 장치는 희석 냉동기를 쓴다."


def md(path, title, body, publisher=None, published=None):
    head = [f"title: '{title}'"] + ([f"publisher: {publisher}"] if publisher else []) + \
           ([f"published: '{published}'"] if published else [])
    path.write_text("---\n" + "\n".join(head) + "\n---\n\n" + body + "\n", encoding="utf-8")
    return path


@pytest.fixture
def kb(make_settings):
    kb = KnowledgeBase.open(make_settings(), encoder=FakeEncoder())
    assert kb.ingest([ROOT / "corpus"]).ok
    return kb


def titles(hits):
    return {h.title for h in hits}


def test_partial_dates_are_periods_and_user_dates_are_checked():
    assert period("2020-09") == (20200901, 20200930)
    assert period("2024-02") == (20240201, 20240229)
    assert period("2023-03-21") == (20230321, 20230321) == period("2023.03.21") == period("2023년 3월 21일")
    assert period("2021") == (20210101, 20211231) and period("20230321") == (20230321, 20230321)
    assert period("2023-03-21T09:00:00+09:00") == (20230321, 20230321)
    assert period(None) is None and period("어제") is None and period("2023-02-30") is None
    for bad in ("2023-13-01", "2023-02-30", "23-01-01", "yesterday", "2023/01/01x"):
        with pytest.raises(FilterError) as e:
            Filters(date_from=bad)
        assert "2023-01-01" in e.value.user_message  # says how to write a date
    with pytest.raises(FilterError, match="after"):
        Filters(date_from="2024-01-01", date_to="2023-12-31")
    assert Filters().empty and not Filters(publishers="서울신문").empty
    assert Filters(publishers="서울신문").publishers == frozenset({"서울신문"})


def test_each_filter_kind_restricts_every_mode(kb):
    cases = {  # filter -> the corpus documents it may return
        Filters(date_to="2021-12-31"): {"2020-09", "2021-06-01"},
        Filters(date_from="2023-01-01", date_to="2024-12-31"): {"2023-03-21", "2024-03-25"},
        Filters(date_from="2024"): {"2024-03-25"},
        Filters(publishers="서울신문"): {"2023-03-21"},
        Filters(publishers={"서울신문", "인공지능신문"}): {"2023-03-21", "2020-09"},
        Filters(docs="GPT-3가 바꿔놓은 것들"): {"2021-06-01"},
        Filters(docs="001_b06b36b5cbd4c53b.md"): {"2023-03-21"},  # a file name works too
        Filters(publishers="서울신문", date_to="2022"): None,  # both must hold: nothing does
    }
    for f, allowed in cases.items():
        for mode in ("hybrid", "dense", "sparse"):
            if allowed is None:
                with pytest.raises(NoMatchError):
                    kb.search("GPU 가격과 비용", k=8, mode=mode, filters=f)
                continue
            hits = kb.search("GPU 가격과 비용", k=8, mode=mode, filters=f)
            assert hits and {h.published for h in hits} <= allowed, (f, mode)
    everything = {h.published for h in kb.search("GPU 가격과 비용", k=40)}
    assert None in everything and "2020-09" in everything  # unfiltered: every document can come back


def test_partial_and_missing_dates(kb):
    # "2020-09" covers the whole month: a range inside it keeps the article, ranges beside it do not
    assert {h.published for h in kb.search("GPT-3 요금", filters=Filters(date_from="2020-09-15",
                                                                         date_to="2020-09-20"))} == {"2020-09"}
    for f in (Filters(date_to="2020-08-31"), Filters(date_from="2020-10-01", date_to="2021-05-31")):
        with pytest.raises(NoMatchError):
            kb.search("GPT-3 요금", filters=f)
    # the undated article (디지털투데이) is found without a date filter, and left out of any dated search
    undated = "생성AI 비용의 경제학: 컴퓨팅 비용, 모델 최적화, 오픈소스 LLM"
    assert undated in titles(kb.search("a16z 생성AI 비용", k=3, filters=Filters(publishers="디지털투데이")))
    for f in (Filters(date_from="1900"), Filters(date_to="2100"), Filters(date_from="1900", date_to="2100")):
        assert undated not in titles(kb.search("a16z 생성AI 비용", k=40, filters=f))
    with pytest.raises(NoMatchError) as e:
        kb.search("a16z", filters=Filters(publishers="디지털투데이", date_from="2000"))
    assert "날짜가 없는 문서 1개" in e.value.user_message


def test_unknown_names_list_the_valid_ones(kb):
    with pytest.raises(FilterError) as e:
        kb.search("GPU", filters=Filters(publishers="조선일보"))
    msg = e.value.user_message
    assert "조선일보" in msg and all(p in msg for p in ("서울신문", "인공지능신문", "디지털투데이", "래블업(Lablup)"))
    assert kb.publishers() == ["디지털투데이", "래블업(Lablup)", "서울신문", "인공지능신문"]
    # a unique part of a name is enough; an ambiguous one lists the candidates
    assert {h.publisher for h in kb.search("GPT", filters=Filters(publishers="래블업"))} == {"래블업(Lablup)"}
    with pytest.raises(FilterError) as e:
        kb.search("GPU", filters=Filters(docs="GPT-3"))
    assert "GPT-3가 바꿔놓은 것들" in e.value.user_message and "GPT-3 유료화" in e.value.user_message
    with pytest.raises(FilterError) as e:
        kb.ask("GPU 가격은?", filters=Filters(docs="없는 문서"))
    assert "GPT-3가 바꿔놓은 것들" in e.value.user_message


def test_empty_match_answers_that_nothing_matched_and_searches_nothing(kb):
    answer = kb.ask("V100 GPU는 개당 얼마야?", filters=Filters(date_from="2025-01-01"))
    assert answer.status == "no_match" and not answer.citations and not answer.related
    assert "조건에 맞는 문서가 없습니다" in answer.text and "2025-01-01" in answer.text
    assert "2020-09-01 ~ 2024-03-25" in answer.text  # what the index holds, so the user knows how to widen it
    assert "9,000달러" not in answer.text
    streamed = list(kb.stream("V100 가격", filters=Filters(publishers="서울신문", date_to="2021")))
    assert streamed[-1].status == "no_match" and streamed[-1].filters == Filters(publishers="서울신문",
                                                                                  date_to="2021")


def test_bm25_filters_before_taking_its_top_candidates(make_settings, tmp_path):
    """Six old articles beat the one new article on BM25; with 3 candidates per side, filtering after the cut would
    find nothing. Filtering first finds the new one, and an old article BM25 ranks first never appears."""
    kb = KnowledgeBase.open(make_settings(candidates=3), encoder=FakeEncoder())
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(6):
        md(docs / f"old{i}.md", f"양자컴퓨터 냉각 {i}", QUANTUM * 3, publisher="옛날신문", published=f"2019-0{i + 1}")
    md(docs / "new.md", "반도체 시장 동향", "올해 반도체 시장은 성장했다. 양자컴퓨터 냉각 이야기도 나왔다.",
       publisher="새신문", published="2023-07")
    assert kb.ingest([docs]).ok
    q = "양자컴퓨터 냉각 장치 비용"
    unfiltered = kb.search(q, k=3, mode="sparse")
    assert unfiltered[0].publisher == "옛날신문" and "반도체 시장 동향" not in titles(unfiltered)
    for f in (Filters(date_from="2023-01-01"), Filters(publishers="새신문"), Filters(docs="반도체 시장 동향")):
        for mode in ("sparse", "dense", "hybrid"):
            hits = kb.search(q, k=3, mode=mode, filters=f)
            assert titles(hits) == {"반도체 시장 동향"}, (f, mode)
    answer = kb.ask("양자컴퓨터 냉각 장치 비용은 얼마야?", filters=Filters(date_from="2023"))
    assert all(c.hit.publisher == "새신문" for c in answer.citations)
    assert all(h.publisher == "새신문" for h in answer.related)
    assert "수십억" not in answer.text  # the old articles' figure is outside the filter


def test_an_index_from_before_filters_gets_date_fields_without_re_embedding(make_settings, monkeypatch):
    import bot.filters
    import bot.indexing

    settings = make_settings()
    encoder = FakeEncoder()
    with monkeypatch.context() as m:  # ingest as the previous version did: no date fields, no marker
        m.setattr(bot.indexing, "date_fields", lambda published: {})
        m.setattr(bot.filters, "DATE_FIELDS_VERSION", 0)
        old = KnowledgeBase.open(settings, encoder=encoder)
        old.ingest([ROOT / "corpus"])
    col = old.store._get()
    assert not any("date_lo" in m for m in col.get(include=["metadatas"])["metadatas"])
    embedded = encoder.passages_encoded
    kb = KnowledgeBase.open(settings, encoder=encoder)  # the upgrade: metadata only
    assert encoder.passages_encoded == embedded
    metas = kb.store._get().get(include=["metadatas"])["metadatas"]
    assert all("date_lo" in m and "date_hi" in m for m in metas)
    assert kb.store.metadata["date_fields"] == 1 and kb.store.ensure_date_fields() == 0  # later opens: nothing
    hits = kb.search("GPT-3 요금제", k=5, mode="dense", filters=Filters(date_to="2020-12-31"))
    assert hits and {h.published for h in hits} == {"2020-09"}


def test_retriever_and_answers_keep_to_the_filter(corpus_kb):
    q = "V100 GPU 한 개 가격은 얼마야?"
    answer = corpus_kb.ask(q, filters=Filters(date_to="2021-12-31"))
    assert answer.status == "answered" and "9,000달러" in answer.body
    assert answer.filters == Filters(date_to="2021-12-31")
    assert {c.hit.published for c in answer.citations} <= {"2020-09", "2021-06-01"}
    later = corpus_kb.ask(q, filters=Filters(date_from="2023-01-01"))
    assert "9,000달러" not in later.text
    assert all(h.published in ("2023-03-21", "2024-03-25") for h in later.related + [c.hit for c in later.citations])
    # the cost tool's constants come from the 2020 article: inside a 2020 filter a calculation, outside it not
    plan = "크리에이트 요금제로 한 달에 토큰 500만 개를 쓰면 얼마야?"
    assert corpus_kb.ask(plan, filters=Filters(date_to="2020-12-31")).status == "calculated"
    outside = corpus_kb.ask(plan, filters=Filters(date_from="2023-01-01"))
    assert outside.status != "calculated" and all(c.hit.published != "2020-09" for c in outside.citations)
    docs = corpus_kb.as_retriever(k=4, filters=Filters(publishers="서울신문")).invoke("GPU 가격")
    assert docs and {d.metadata["publisher"] for d in docs} == {"서울신문"}


def kbot(args, tmp_path, model_cache):
    import os

    env = {**os.environ, "KBOT_DATA_DIR": str(tmp_path / "data"), "KBOT_MODEL_CACHE_DIR": str(model_cache),
           "HF_HUB_OFFLINE": "1", "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=300)


@pytest.mark.slow
def test_cli_flags(tmp_path, model_cache):
    docs = tmp_path / "docs"
    docs.mkdir()
    md(docs / "old.md", "옛 GPU 가격", "V100 GPU는 개당 약 9,000달러이다.", publisher="옛날신문", published="2020-09")
    md(docs / "new.md", "새 GPU 가격", "V100 GPU는 1500만원 정도에 팔린다.", publisher="새신문", published="2024-03-25")
    assert kbot(["ingest", str(docs)], tmp_path, model_cache).returncode == 0
    r = kbot(["search", "V100 GPU 가격", "--since", "2024-01-01", "-k", "3"], tmp_path, model_cache)
    assert r.returncode == 0 and "1500만원" in r.stdout and "9,000달러" not in r.stdout
    r = kbot(["search", "V100 GPU 가격", "--publisher", "옛날신문", "--until", "2020"], tmp_path, model_cache)
    assert r.returncode == 0 and "9,000달러" in r.stdout and "1500만원" not in r.stdout
    r = kbot(["ask", "V100 GPU는 개당 얼마야?", "--doc", "옛 GPU 가격"], tmp_path, model_cache)
    assert r.returncode == 0 and "9,000달러" in r.stdout and "1500만원" not in r.stdout
    r = kbot(["ask", "V100 GPU는 개당 얼마야?", "--since", "2025-01"], tmp_path, model_cache)
    assert r.returncode == 1 and "조건에 맞는 문서가 없습니다" in r.stdout and "9,000달러" not in r.stdout
    r = kbot(["search", "GPU", "--publisher", "조선일보"], tmp_path, model_cache)
    assert r.returncode == 2 and "옛날신문" in r.stderr and "새신문" in r.stderr and "Traceback" not in r.stderr
    r = kbot(["search", "GPU", "--since", "2023-02-30"], tmp_path, model_cache)
    assert r.returncode == 2 and "YYYY-MM-DD" in r.stderr and "Traceback" not in r.stderr
    r = kbot(["ask", "GPU", "--until", "last year"], tmp_path, model_cache)
    assert r.returncode == 2 and "YYYY-MM-DD" in r.stderr

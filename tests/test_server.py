"""Server mode: a real `chroma run` on 127.0.0.1 started by the test, two kbot clients sharing it."""

import socket
import subprocess
import time

import pytest
from conftest import free_port
from fakes import FakeEncoder

from bot.api import KnowledgeBase
from bot.errors import StoreUnavailableError


@pytest.fixture
def chroma_server(tmp_path, chroma_bin):
    port = free_port()
    proc = subprocess.Popen([chroma_bin, "run", "--path", str(tmp_path / "server"), "--host", "127.0.0.1",
                             "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={"ANONYMIZED_TELEMETRY": "False", "PATH": "/usr/bin:/bin"})
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("chroma run did not start")
    yield port
    proc.terminate()
    proc.wait(10)


def test_two_clients_share_one_index(chroma_server, make_settings, tmp_path):
    settings = make_settings(chroma_host="127.0.0.1", chroma_port=chroma_server, collection="team-kb")
    writer = KnowledgeBase.open(settings, encoder=FakeEncoder())
    reader = KnowledgeBase.open(settings, encoder=FakeEncoder())
    a = tmp_path / "a.txt"
    a.write_text("크리에이트 요금제는 월 100달러이다. 추가 토큰은 1000개당 8센트이다.", encoding="utf-8")
    assert writer.ingest([a]).added == [str(a)]
    assert "8센트" in reader.search("크리에이트 요금", k=1, mode="sparse")[0].text

    b = tmp_path / "b.txt"
    b.write_text("V100 GPU는 개당 약 9,000달러이다.", encoding="utf-8")
    writer.ingest([b])
    # the reader's BM25 side notices the other client's ingest through the collection revision
    assert "9,000달러" in reader.search("V100 GPU 가격", k=1, mode="sparse")[0].text
    assert "9,000달러" in reader.search("V100 GPU 가격", k=1)[0].text
    assert reader.stats()["chunks"] == 2 and "server 127.0.0.1" in reader.stats()["mode"]
    assert writer.ingest([a, b]).unchanged == [str(a), str(b)]
    assert not (tmp_path / "data" / "chroma").exists()  # nothing written to the embedded store

    # a restarted client loads the saved BM25 table, unless another client has changed the collection since
    restarted = KnowledgeBase.open(settings, encoder=FakeEncoder())
    assert "9,000달러" in restarted.search("V100 GPU 가격", k=1, mode="sparse")[0].text
    assert restarted.retriever.sparse_index.loaded_from == "cache"
    # an ingest saves the table it changed, so a restart on the same machine still starts from the cache
    c = tmp_path / "c.txt"
    c.write_text("H100 GPU는 개당 약 30,000달러이다.", encoding="utf-8")
    writer.ingest([c])
    later = KnowledgeBase.open(settings, encoder=FakeEncoder())
    assert "30,000달러" in later.search("H100 GPU 가격", k=1, mode="sparse")[0].text
    assert later.retriever.sparse_index.loaded_from == "cache"
    # a client on another machine (its own data dir) changes the collection: the stale table is not trusted
    elsewhere = KnowledgeBase.open(make_settings(chroma_host="127.0.0.1", chroma_port=chroma_server,
                                                 collection="team-kb", data_dir=tmp_path / "other-machine"),
                                   encoder=FakeEncoder())
    d = tmp_path / "d.txt"
    d.write_text("A100 GPU는 개당 약 15,000달러이다.", encoding="utf-8")
    elsewhere.ingest([d])
    latest = KnowledgeBase.open(settings, encoder=FakeEncoder())
    assert "15,000달러" in latest.search("A100 GPU 가격", k=1, mode="sparse")[0].text
    assert latest.retriever.sparse_index.loaded_from == "store"


def test_unreachable_server_is_a_clear_error(make_settings):
    settings = make_settings(chroma_host="127.0.0.1", chroma_port=free_port())
    with pytest.raises(StoreUnavailableError, match="chroma run"):
        KnowledgeBase.open(settings, encoder=FakeEncoder())


def test_filters_give_identical_results_in_embedded_and_server_mode(chroma_server, make_settings, tmp_path):
    from conftest import ROOT

    from bot.errors import FilterError, NoMatchError
    from bot.types import Filters

    embedded = KnowledgeBase.open(make_settings(), encoder=FakeEncoder())
    server = KnowledgeBase.open(make_settings(chroma_host="127.0.0.1", chroma_port=chroma_server,
                                              collection="filters"), encoder=FakeEncoder())
    for kb in (embedded, server):
        assert kb.ingest([ROOT / "corpus"]).ok
    filters = [Filters(date_from="2023-01-01", date_to="2024-12-31"), Filters(date_to="2021"),
               Filters(date_from="2020-09-10", date_to="2020-09-12"), Filters(publishers="서울신문"),
               Filters(publishers={"인공지능신문", "디지털투데이"}), Filters(docs="GPT-3가 바꿔놓은 것들"),
               Filters(publishers="래블업(Lablup)", date_from="2024-03")]
    allowed = [{"2023-03-21", "2024-03-25"}, {"2020-09", "2021-06-01"}, {"2020-09"}, {"2023-03-21"},
               {"2020-09", None}, {"2021-06-01"}, {"2024-03-25"}]
    for f, ok in zip(filters, allowed):
        for mode in ("hybrid", "dense", "sparse"):
            a = embedded.search("GPU 가격과 학습 비용", k=6, mode=mode, filters=f)
            b = server.search("GPU 가격과 학습 비용", k=6, mode=mode, filters=f)
            assert a and [(h.chunk_id, round(h.score, 5)) for h in a] == [(h.chunk_id, round(h.score, 5)) for h in b]
            assert {h.published for h in a} <= ok, (f, mode)
    for kb in (embedded, server):
        with pytest.raises(NoMatchError):
            kb.search("GPU", filters=Filters(date_from="2030"))
        assert kb.ask("V100 가격은?", filters=Filters(publishers="서울신문", date_to="2020")).status == "no_match"
        with pytest.raises(FilterError, match="서울신문"):
            kb.search("GPU", filters=Filters(publishers="없는신문"))

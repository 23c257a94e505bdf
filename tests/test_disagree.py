"""Sources that disagree (bot/disagree.py): values for the same quantity about the same subject, compared
unit-aware, shown with each source and date, newest first, in every backend and on every surface."""

import re
from pathlib import Path

import pytest

from bot import disagree, render
from bot.types import Hit

ROOT = Path(__file__).resolve().parents[1]


def hit(doc: str, text: str, published: str | None, title: str = "제목") -> Hit:
    return Hit(f"{doc}-0", doc, title, f"/docs/{doc}.md", published, text, 1.0, 0, len(text), "신문")


OLD = hit("old", "큐브가 추론 가속기 KX-7을 발표했다. KX-7 한 대의 가격은 약 2,000달러(약 240만원)이다.", "2021-05")
NEW = hit("new", "KX-7은 요즘 한 대에 400만원 정도에 팔린다. 공급이 부족하다.", "2024-02-01")
SAME = hit("same", "KX-7 가격은 250만원이다.", "2023-01-10")


def shown(question: str, hits: list[Hit]) -> list[tuple[str, str | None]]:
    return [(f.value.text, f.hit.published) for f in disagree.find(question, hits)]


def test_values_are_read_with_their_units_stated_conversions_and_ranges():
    [v] = disagree.values("GPU는 개당 약 9,000달러(약 1천만원) 이다.")
    assert v.text == "약 9,000달러(약 1천만원)" and v.amounts == {"USD": (9000, 9000), "KRW": (1e7, 1e7)}
    [r] = disagree.values("대당 전력량은 시간당 300~400Wh로")
    assert r.dim == "energy" and r.amounts == {"Wh": (300, 400)}
    assert [v.amounts for v in disagree.values("GPT-3는 175B, 곧 1750억 파라미터다.")] == [{"개": (175e9, 175e9)}] * 2
    assert disagree.values("1대 당 2000만원에 육박한다")[0].amounts == {"KRW": (2e7, 2e7)}  # "1대 당" is no count


def test_a_made_up_products_prices_in_dollars_and_won_disagree_newest_first():
    assert shown("KX-7 가격은 얼마야?", [OLD, NEW]) == [("400만원", "2024-02-01"),
                                                     ("약 2,000달러(약 240만원)", "2021-05")]
    [new, old] = disagree.find("KX-7 가격은 얼마야?", [OLD, NEW])
    assert old.unit == new.unit == "KRW" and old.low == 2.4e6 and "240만원" in old.converted  # the stated conversion


def test_values_within_tolerance_agree_and_one_value_is_not_flagged():
    assert shown("KX-7 가격은 얼마야?", [OLD, SAME]) == []  # 240만원 vs 250만원: 4% apart
    assert shown("KX-7 가격은 얼마야?", [NEW]) == []
    assert disagree.find("KX-7 가격은 얼마야?", [OLD, SAME], tolerance=0.01)  # the tolerance is what decides
    pair = hit("pair", "V100 GPU는 개당 약 9,000달러(약 1천만원) 이다.", "2020-09")
    q = "V100 가격은?"
    assert shown(q, [pair, hit("flat", "V100 한 장에 1,000만원이 든다.", "2022-01-01")]) == []
    assert len(shown(q, [pair, hit("dear", "V100 한 장에 1500만원이 든다.", "2024-01-01")])) == 2


def test_currencies_are_converted_only_at_a_rate_the_evidence_states():
    usd = hit("usd", "KX-7 가격은 2,000달러다. 전원 어댑터는 100달러(약 12만원)에 판다.", "2022-03-01")
    bare = hit("bare", "KX-7 가격은 2,000달러다.", "2022-03-01")
    [_, converted] = disagree.find("KX-7 가격은 얼마야?", [usd, NEW])
    assert converted.low == pytest.approx(2.4e6) and "1달러 ≈ 1,200원" in converted.converted
    assert "100달러(약 12만원)" in converted.converted  # shows which statement gave the rate
    assert shown("KX-7 가격은 얼마야?", [bare, NEW]) == []  # dollars and won, no stated rate: not compared


def test_different_quantities_subjects_or_one_documents_figures_are_not_a_disagreement():
    sold = hit("sold", "KX-7은 첫 달에 40개 팔렸다. KX-9 가격은 900만원이다.", "2024-05-01")
    sales = hit("sales", "KX-7 매출은 900만원을 넘었다.", "2024-06-01")
    assert shown("KX-7 가격은 얼마야?", [OLD, sold, sales]) == []  # a count, another product, revenue
    both = hit("both", "KX-7 가격은 240만원이다. 고급형 KX-7 한 대는 400만원이다.", "2024-01-01")
    assert shown("KX-7 가격은 얼마야?", [both]) == []  # one source's two figures are not sources differing
    assert shown("KX-7은 어떤 제품이야?", [OLD, NEW]) == []  # no quantity asked
    staff = hit("staff", "오픈AI의 직원은 60명이었다.", "2017-01-01")
    other = hit("other", "오픈AI와 달리 구글 딥마인드의 직원은 900명이었다.", "2019-01-01")
    assert shown("오픈AI 직원은 몇 명이야?", [staff, other]) == []  # the nearest name before 900명 is 딥마인드
    assert len(shown("오픈AI 직원은 몇 명이야?", [staff, hit("later", "오픈AI 직원은 900명이다.", "2019-01-01")])) == 2


def write_docs(folder: Path) -> Path:
    folder.mkdir()
    (folder / "old.md").write_text("---\ntitle: 'KX-7 출시 <!channel>'\npublisher: '<b>테크</b>신문'\n"
                                   "published: '2021-05-03'\n---\n\n" + OLD.text + "\n", encoding="utf-8")
    (folder / "new.md").write_text("---\ntitle: 'KX-7 품귀 *특가*'\n---\n\n"
                                   "KX-7 한 대의 가격은 요즘 400만원 정도다. 공급이 부족하다.\n", encoding="utf-8")
    return folder


def test_own_documents_disagreement_and_dates_show_escaped_on_every_surface(fake_kb, tmp_path):
    fake_kb.ingest(write_docs(tmp_path / "docs"))
    a = fake_kb.ask("KX-7 가격은 얼마야?")
    assert a.status == "answered", a.text
    assert [(s.text, s.date) for s in a.disagreement] == [("약 2,000달러(약 240만원)", "2021-05-03"),
                                                          ("400만원", None)]  # dated first, undated last
    numbers = {c.number for c in a.citations}
    assert all(s.citation in numbers for s in a.disagreement)  # each value's sentence is a cited source
    plain = render.plain(a)
    assert "출처마다 값이 다릅니다" in plain and render.NO_DATE in plain and "2021-05-03" in plain
    md = render.markdown(a)
    assert "&lt;b&gt;테크&lt;/b&gt;신문" in md and "\\*특가\\*" in md and "<b>" not in md
    block = md[md.index("출처마다"):]
    assert block.index("240만원") < block.index("400만원") < block.index(render.NO_DATE)
    slack = render.slack_text(a) + str(render.slack_blocks(a, "k"))
    assert "<!channel>" not in slack and "&lt;!channel&gt;" in slack and "출처마다 값이 다릅니다" in slack
    assert render.NO_DATE in slack
    cli = _rich(render.rich_answer(a))
    assert "출처마다 값이 다릅니다" in cli and "<b>테크</b>신문" in cli and render.NO_DATE in cli


def _rich(renderables) -> str:
    from rich.console import Console

    console = Console(record=True, width=400, color_system=None)
    for r in renderables:
        console.print(r)
    return console.export_text()


# -- the real corpus ------------------------------------------------------------------------------------------
V100 = "V100 가격은 얼마야?"


def _check_v100(a) -> None:
    assert a.status == "answered"
    values = [(s.text, s.date) for s in a.disagreement]
    assert values == [("1500만원", "2024-03-25"), ("약 9,000달러(약 1천만원)", "2020-09")]  # newest first
    by_number = {c.number: c for c in a.citations}
    for s in a.disagreement:
        c = by_number[s.citation]
        assert s.text.replace("약 ", "")[:5] in c.quote and c.hit.published == s.date
    for text in (render.plain(a), render.markdown(a), render.slack_text(a), _rich(render.rich_answer(a))):
        assert "출처마다 값이 다릅니다" in text and "2024" in text and "2020" in text
        assert re.search(r"1500만원.*2024.*\n.*9,000달러.*2020", text, re.S)


@pytest.mark.slow
def test_v100_price_shows_both_sources_newest_first_extractive(corpus_kb):
    a = corpus_kb.ask(V100)
    assert a.backend == "extractive"
    _check_v100(a)


@pytest.mark.slow
def test_v100_price_disagreement_in_the_generative_flow(corpus_kb):
    from fakes import reading_chat_model

    from bot.answer import GenerativeFlow

    def reply(docs: dict[int, str]) -> str:
        n = next(n for n, t in docs.items() if "1500만원" in t)
        return f"V100 한 장에 1500만원 정도의 비용이 들었습니다 [{n}]."

    model = reading_chat_model(reply)
    flow = GenerativeFlow(corpus_kb.settings, corpus_kb.retriever, corpus=corpus_kb.corpus,
                          chat_model=lambda: model, backend="fake")
    for stream in (False, True):
        a = [e for e in flow.answer(V100, stream=stream)][-1]
        assert a.backend == "fake" and "1500만원" in a.body
        _check_v100(a)


@pytest.mark.slow
def test_a_filtered_question_hears_no_source_outside_its_filter(corpus_kb):
    """Restricted to 2023 on, only the 2024 article speaks: one value, nothing flagged, no 2020 citation."""
    from bot.types import Filters

    a = corpus_kb.ask(V100, filters=Filters(date_from="2023-01-01"))
    assert a.status == "answered" and "1500만원" in a.body, a.text
    assert not a.disagreement, a.disagreement
    assert all((c.hit.published or "") >= "2023" for c in a.citations), [c.hit.published for c in a.citations]


@pytest.mark.slow
def test_corpus_questions_flags_on_the_test_half(corpus_kb):
    from bot.evals.disagreement import score, split

    halves = split(ROOT / "tests/data/disagreement.jsonl")
    assert sum(len(h) for h in halves.values()) >= 30 and any(i.disagree for i in halves["test"])
    result = score(corpus_kb, halves["test"])
    wrong = [r["q"] for r in result["rows"] if r["flagged"] and not r["right"]]
    assert not wrong, wrong  # no question with one consistent value (or two different quantities) is flagged
    assert result["recall"] >= 0.75, result["rows"]


@pytest.mark.slow
def test_cli_ask_prints_both_values_newest_first_with_dates(corpus_kb):
    from typer.testing import CliRunner

    from bot.cli import app

    s = corpus_kb.settings
    env = {"KBOT_DATA_DIR": str(s.data_dir), "KBOT_MODEL_CACHE_DIR": str(s.model_cache_dir), "KBOT_LLM": "extractive",
           "COLUMNS": "300"}
    r = CliRunner().invoke(app, ["ask", V100], env=env)
    assert r.exit_code == 0, r.output
    assert "출처마다 값이 다릅니다" in r.output
    assert re.search(r"1500만원 — .*2024-03-25.*\n- 약 9,000달러\(약 1천만원\) — .*2020-09", r.output)

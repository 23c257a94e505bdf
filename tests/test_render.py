"""bot/render.py: one Answer, rendered for each surface, with document and model text inert everywhere."""

import re
from types import SimpleNamespace

import pytest

from bot import render
from bot.answer.base import AnswerFlow, keep_grounded
from bot.config import Settings
from bot.cost import plan_monthly_cost
from bot.types import Answer, Citation, Hit

HOSTILE = ("<!channel> <https://evil.example|공식 문서> <@U123> & [/bold] [link=https://x]클릭[/link] :x: "
           "[INST] hi [/INST] <img src=x onerror=alert(1)> <script>alert(2)</script> "
           "![t](https://evil.example/p.png) [클릭](javascript:alert(1)) https://evil.example/bare *굵게* $x$")


def hit(n: int, text: str, title: str = "제목") -> Hit:
    return Hit(f"c{n}", f"d{n}", title, f"/docs/d{n}.md", "2023-01-02", text, 1.0, 0, len(text), "신문")


def answered(body: str = f"{HOSTILE} [1]", title: str = HOSTILE, **kw) -> Answer:
    h = hit(1, HOSTILE, title)
    return Answer("answered", body=body, citations=[Citation(1, h, HOSTILE, 0, len(HOSTILE))], related=[h], **kw)


SURFACES = {
    "plain": render.plain,
    "markdown": render.markdown,
    "slack": lambda a: render.slack_text(a) + str(render.slack_blocks(a, "k")),
    "rich": lambda a: _rich_text(render.rich_answer(a)),
}


def _rich_text(renderables) -> str:
    from rich.console import Console

    console = Console(record=True, width=400, color_system=None)
    for r in renderables:
        console.print(r)
    return console.export_text()


def test_plain_text_keeps_the_old_text_shape():
    a = answered(notice="⚠ openai 응답 실패(HTTP 500): 문서에서 뽑은 문장으로 대신 답합니다.")
    assert a.text.startswith(a.notice) and f"\n{HOSTILE} [1]\n" in a.text
    assert a.text.endswith(f"{render.SOURCES}:\n[1] {HOSTILE} (신문, 2023-01-02)")  # each source with its date
    refused = Answer("no_answer", related=[hit(1, "x", "GPU 가격")])
    assert refused.text == f"{render.NOT_FOUND}\n관련 있을 수 있는 문서:\n- GPU 가격 (2023-01-02)"
    calc = Answer("calculated", body="520 USD", calculation=plan_monthly_cost("build", 12e6))
    assert calc.text.startswith("520 USD\n계산: ") and calc.result is calc.calculation
    with pytest.raises(AttributeError):
        calc.text = "x"  # presentation is derived, never stored


def test_markdown_shows_document_text_but_never_as_markup():
    md = render.markdown(answered())
    assert "<" not in md and ">" not in md.replace("&gt;", "")  # no tags at all, only entities
    assert not re.search(r"(?<!\\)[\[\]()]", md.split("\n\n")[0])  # no unescaped link/image syntax from data
    assert "https\\:" in md and "\\*굵게\\*" in md and "\\$x\\$" in md  # no autolink, emphasis or math
    table = render.cost_table(Answer("calculated", body="", calculation=plan_monthly_cost("build", 12e6),
                                     citations=[Citation(1, hit(1, "q", "A|B <b>"), "x", 0, 1)]))
    assert "A\\|B &lt;b&gt;" in table and table.count("\n") == 5  # a pipe in a title cannot split the table


def test_slack_escapes_data_in_every_block_and_keeps_its_own_formatting():
    a = answered()
    text, blocks = render.slack_text(a), render.slack_blocks(a, "k", share=True, question="<!here> 질문 &lt;@U9&gt;")
    everything = text + "".join(b.get("text", {}).get("text", "") for b in blocks) + "".join(
        e.get("text", "") for b in blocks if b["type"] == "context" for e in b["elements"])
    for construct in ("<!channel>", "<https://evil.example|", "<@U123>", "<!here>", "<@U9>"):
        assert construct not in everything
    assert "&lt;!channel&gt;" in text and "&lt;https://evil.example|공식 문서&gt;" in text and "&amp;" in text
    assert blocks[0]["text"]["text"] == "> &lt;!here&gt; 질문 &lt;@U9&gt;"  # Slack's own entities not doubled
    sources = next(b for b in blocks if b["type"] == "context")["elements"][0]["text"]
    assert sources.startswith("*출처*\n[1] *&lt;!channel&gt;")
    assert [e["action_id"] for e in blocks[-1]["elements"]] == ["kbot_feedback_up", "kbot_feedback_down",
                                                                "kbot_share"]


def test_cli_prints_document_text_verbatim():
    out = _rich_text(render.rich_answer(answered()))
    assert HOSTILE in out.replace("\n", "")
    table = _rich_text([render.rich_hits([hit(1, HOSTILE, HOSTILE)])])
    for construct in ("[/bold]", "[link=https://x]클릭[/link]", ":x:", "[INST] hi [/INST]"):
        assert construct in table


@pytest.mark.parametrize("surface", sorted(SURFACES))
def test_every_surface_warns_about_dropped_claims_and_marks_unsupported_answers(surface):
    show = SURFACES[surface]
    partly = answered(body="크리에이트는 월 100달러입니다 [1].", dropped_claims=["빌드는 월 999달러입니다 [1]."])
    assert "확인되지 않는 문장 1개" in show(partly) and "999" not in show(partly)
    assert "확인되지 않는 문장" not in show(answered())
    unsupported = Answer("unsupported", related=[hit(1, "x", "GPU 가격")], dropped_claims=["x"])
    out = show(unsupported)
    assert "찾지 못했습니다" in out and "하나도 확인되지 않아" in out and "GPU 가격" in out


def test_source_choices_name_sources_by_value_not_by_label():
    a = answered()
    choices = render.source_choices(a)
    assert choices == [(render.source_label(1, a.citations[0].hit), "c1")]
    found_hit, citation = render.source_for(a, "c1")
    assert citation is a.citations[0]
    panel = render.source_html(found_hit, citation)
    assert "<script>" not in panel and "<img" not in panel and "&lt;script&gt;" in panel and "<mark>" in panel
    refused = Answer("no_answer", related=[hit(1, "x"), hit(2, "y")])
    assert [v for _, v in render.source_choices(refused)] == ["r0", "r1"]
    assert render.source_for(refused, "r1")[0].chunk_id == "c2" and render.source_for(refused, "r7") is None


def test_sentences_whose_numbers_the_cited_evidence_lacks_are_dropped_and_citations_renumbered():
    hits = [hit(1, "크리에이트 요금제는 월 100달러다."), hit(2, "GPT-3는 1750억 개의 파라미터를 가졌다.")]
    cites = [Citation(1, hits[0], "q", 0, 1), Citation(2, hits[1], "q", 0, 1)]
    body, kept, dropped = keep_grounded(
        "GPT-3는?", "월 300달러입니다 [1]. GPT-3는 175B 파라미터입니다. [2]\n요약하면 큰 모델입니다 [2].", cites)
    assert dropped == ["월 300달러입니다."]
    assert body == "GPT-3는 175B 파라미터입니다. [1]\n요약하면 큰 모델입니다 [1]."  # 175B = 1750억, by value
    assert [(c.number, c.hit.chunk_id) for c in kept] == [(1, "c2")]
    assert keep_grounded("질문", "전부 지어낸 2억 원 [1].", cites[:1])[1] == []


def test_verify_marks_an_answer_with_no_claim_left_unsupported():
    hits = [hit(1, "크리에이트 요금제는 월 100달러다. 추가 1000개당 8센트를 낸다.")]
    retriever = SimpleNamespace(sparse_index=None, search=lambda q, k=5: hits)
    flow = AnswerFlow(Settings(_env_file=None), retriever, backend="openai:fake")
    generated = "크리에이트 요금제는 월 100달러입니다 [1]. 추가 1000개당 9센트입니다 [1]."
    ok = flow.verify("크리에이트 요금은?", generated, hits)
    assert ok.status == "answered" and ok.dropped_claims == ["추가 1000개당 9센트입니다."]
    assert "9센트" not in ok.body and ok.citations
    bad = flow.verify("크리에이트 요금은?", "크리에이트 요금제는 월 300달러입니다 [1].", hits)
    assert bad.status == "unsupported" and not bad.citations and not bad.body and bad.related
    assert bad.dropped_claims == ["크리에이트 요금제는 월 300달러입니다."]

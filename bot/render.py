"""The one place answers and search hits become surface text: plain text, Markdown for the web UI, Slack mrkdwn
(blocks and fallback text) and rich renderables for the CLI.

Every string that comes from documents, questions or models is data: it is escaped for its surface here, so a
document holding `<!channel>`, `[/bold]`, `<img onerror=...>` or `![](https://...)` shows those characters and
does nothing. The formatting, links and mentions the bot adds itself are the only live ones.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from .types import Answer, Citation, Hit

NOT_FOUND = "제공된 문서에서 이 질문의 답을 찾지 못했습니다."
RELATED = "관련 있을 수 있는 문서"
UNVERIFIED = "⚠ 이 답변은 문서를 인용하지 않아 근거가 확인되지 않았습니다."
UNSUPPORTED = "생성된 답의 문장이 인용한 문서로 하나도 확인되지 않아 보여 드리지 않습니다."
NO_DATE = "날짜 없음"
SOURCES = "출처"
DISAGREE = "출처마다 값이 다릅니다"
NEAREST = ("문서에 질문의 답이 그대로 적혀 있지는 않습니다. 가장 가까운 내용을 보여 드립니다. "
           "인용한 문장을 직접 확인해 주세요.")
MISSING = "문서에서 찾지 못한 부분"


def dropped_warning(answer: Answer) -> str:
    return f"⚠ 근거 문서로 확인되지 않는 문장 {len(answer.dropped_claims)}개를 답에서 뺐습니다."


def _at(location: str | None) -> str:
    """" · 3쪽": where in its document a citation is (page, slide, sheet row, heading), or nothing."""
    return f" · {location}" if location else ""


def _meta(hit: Hit) -> str:
    """Publisher and date, the date always ("날짜 없음" when the document gives none)."""
    return ", ".join(x for x in (hit.publisher, hit.published or NO_DATE) if x)


def disagree_head(answer: Answer) -> str:
    about = answer.disagreement[0].about if answer.disagreement else ""
    return f"{DISAGREE}" + (f" ({about}, 최신 순)" if about else " (최신 순)")


def _stated(answer: Answer) -> list[tuple[str, str, str, int, str | None]]:
    """(value as written, source title, publisher and date, citation number, conversion note) per differing value."""
    return [(s.text, s.hit.title, _meta(s.hit), s.citation, s.converted) for s in answer.disagreement]


def _refused(answer: Answer) -> bool:
    return answer.status in ("no_answer", "unsupported")


def _cost_lines(answer: Answer) -> list[str]:
    """Formula, assumptions and each cited constant of a calculation, one line each (the value comes first)."""
    r = answer.calculation
    lines = [f"계산: {r.formula}"] + [f"가정: {a}" for a in r.assumptions]
    return lines + [f"근거: \"{c.quote}\" [{c.number}]" for c in answer.citations]


def _value(answer: Answer) -> str:
    from .cost import fmt

    r = answer.calculation
    return f"{fmt(r.value)} {r.unit}"


def parts(answer: Answer) -> list[str]:
    """What an answer shows, in order, as part kinds; each surface formats the kinds its own way.

    notice | value, calc (a calculation) | not_found, unsupported, related (a refusal) | unverified, body | ask
    (needs_input) | nearest (the passage is the nearest the documents hold, not a stated answer), body, missing
    (parts of a multi-part question the documents lack); then disagree when the sources state different values,
    dropped when sentences were removed, and sources (each cited source with its date).
    """
    kinds = ["notice"] if answer.notice else []
    if answer.status == "calculated" and answer.calculation is not None:
        kinds += ["value", "calc"]
    elif _refused(answer):
        kinds += ["not_found"] + (["unsupported"] if answer.status == "unsupported" else [])
        kinds += ["related"] if answer.related else []
    elif answer.status == "unverified":
        kinds += ["unverified", "body"]
    else:
        if answer.status == "answered" and answer.support == "related":
            kinds.append("nearest")
        kinds.append("ask" if answer.status == "needs_input" else "body")
        if answer.missing_parts and answer.status == "answered":
            kinds.append("missing")
    if answer.disagreement and answer.status == "answered":
        kinds.append("disagree")
    if answer.dropped_claims and answer.status != "unsupported":
        kinds.append("dropped")
    if answer.citations and not _refused(answer):
        kinds.append("sources")
    return kinds


# -- plain text -----------------------------------------------------------------------------------------------
def plain(answer: Answer) -> str:
    """Plain text (what `Answer.text` gives): notice, warnings, the body, a calculation's lines, related titles."""
    text = {
        "notice": lambda: answer.notice,
        "value": lambda: _value(answer),
        "calc": lambda: "\n".join(_cost_lines(answer)),
        "not_found": lambda: NOT_FOUND,
        "unsupported": lambda: UNSUPPORTED,
        "related": lambda: f"{RELATED}:\n" + "\n".join(f"- {h.title} ({h.published or NO_DATE})"
                                                        for h in answer.related),
        "unverified": lambda: UNVERIFIED,
        "nearest": lambda: f"※ {NEAREST}",
        "body": lambda: answer.body,
        "missing": lambda: f"{MISSING}: " + " / ".join(answer.missing_parts),
        "ask": lambda: answer.body,
        "dropped": lambda: dropped_warning(answer),
        "disagree": lambda: f"⚠ {disagree_head(answer)}:\n" + "\n".join(
            f"- {v} — {t} ({m}) [{n}]" + (f" · {c}" if c else "") for v, t, m, n, c in _stated(answer)),
        "sources": lambda: f"{SOURCES}:\n" + "\n".join(f"[{c.number}] {c.hit.title}{_at(c.location)} ({_meta(c.hit)})"
                                                       for c in answer.citations),
    }
    return "\n".join(text[k]() for k in parts(answer))


# -- Markdown (the Gradio UI) ---------------------------------------------------------------------------------
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~:$@=])")


def md_escape(text: str) -> str:
    """`text` as inert Markdown: HTML characters become entities and Markdown punctuation is backslash-escaped
    (no tags, images, links, autolinks, emphasis, lists or math from data)."""
    return _MD_SPECIAL.sub(r"\\\1", html.escape(str(text), quote=False))


def cost_table(answer: Answer) -> str:
    """A calculation as a Markdown table: result, formula, assumptions, each constant quoted with its document."""
    r = answer.calculation
    rows = [("결과", f"**{md_escape(_value(answer))}**"), ("계산식", md_escape(r.formula))]
    rows += [("가정", md_escape(a)) for a in r.assumptions]
    rows += [(f"근거 \\[{c.number}\\]", f"“{md_escape(c.quote)}” — {md_escape(c.hit.title)}") for c in answer.citations]
    return "| 항목 | 값 |\n|---|---|\n" + "\n".join(f"| {k} | {v.replace(chr(10), ' ')} |" for k, v in rows)


def markdown(answer: Answer) -> str:
    """The chat bubble: grounded answers plain, refusals (⊘), unverified text (⚠️) and calculations (∑) marked."""
    text = {
        "notice": lambda: f"> {md_escape(answer.notice)}",
        "value": lambda: "∑ **계산 결과**",
        "calc": lambda: cost_table(answer),
        "not_found": lambda: "⊘ **문서에서 답을 찾지 못했습니다.**",
        "unsupported": lambda: md_escape(UNSUPPORTED),
        "related": lambda: f"{RELATED}:\n" + "\n".join(
            f"- {md_escape(h.title)} ({md_escape(h.published or NO_DATE)})" for h in answer.related),
        "unverified": lambda: f"⚠️ {md_escape(UNVERIFIED.removeprefix('⚠ '))}",
        "nearest": lambda: f"≈ *{md_escape(NEAREST)}*",
        "body": lambda: md_escape(answer.body),
        "missing": lambda: f"⊘ **{MISSING}**: " + " / ".join(md_escape(p) for p in answer.missing_parts),
        "ask": lambda: f"？ {md_escape(answer.body)}",
        "dropped": lambda: f"⚠️ **{md_escape(dropped_warning(answer).removeprefix('⚠ '))}**",
        "disagree": lambda: f"⚠️ **{md_escape(disagree_head(answer))}**\n" + "\n".join(
            f"- **{md_escape(v)}** — {md_escape(t)} ({md_escape(m)}) \\[{n}\\]" + (f" · {md_escape(c)}" if c else "")
            for v, t, m, n, c in _stated(answer)),
        "sources": lambda: f"**{SOURCES}**\n" + "\n".join(
            f"- \\[{c.number}\\] {md_escape(c.hit.title)}{md_escape(_at(c.location))} ({md_escape(_meta(c.hit))})"
            for c in answer.citations),
    }
    return "\n\n".join(text[k]() for k in parts(answer))


def source_label(number: int | None, hit: Hit, location: str | None = None) -> str:
    """A source's one-line label (plain text: Gradio shows choice labels as text)."""
    meta = " · ".join(x for x in (hit.publisher, hit.published or NO_DATE) if x)
    head = f"[{number}]" if number is not None else "관련"
    return f"{head} {hit.title}{_at(location)} — {meta}"


def source_choices(answer: Answer) -> list[tuple[str, str]]:
    """(label, value) pairs for the sources list: values "c<n>" for citations, "r<i>" for related documents."""
    if answer.citations:
        return [(source_label(c.number, c.hit, c.location), f"c{c.number}") for c in answer.citations]
    return [(source_label(None, h), f"r{i}") for i, h in enumerate(answer.related)]


def source_for(answer: Answer | None, value: str | None) -> tuple[Hit, Citation | None] | None:
    """The hit (and citation) a `source_choices` value names."""
    if answer is None or not value or not value[1:].isdigit():
        return None
    kind, n = value[0], int(value[1:])
    if kind == "c":
        return next(((c.hit, c) for c in answer.citations if c.number == n), None)
    return (answer.related[n], None) if kind == "r" and n < len(answer.related) else None


def source_html(hit: Hit, citation: Citation | None = None) -> str:
    """The chunk with the cited quote highlighted, under its title, publisher, date and file (all HTML-escaped)."""
    text = hit.text
    if citation is not None:
        a, b = citation.start - hit.start, citation.end - hit.start
        if not (0 <= a <= b <= len(text)) or text[a:b] != citation.quote:
            i = text.find(citation.quote)
            a, b = (i, i + len(citation.quote)) if i >= 0 else (0, 0)
        chunk = f"{html.escape(text[:a])}<mark>{html.escape(text[a:b])}</mark>{html.escape(text[b:])}"
    else:
        chunk = html.escape(text)
    where = [html_link(hit.url)] if hit.url else [html.escape(Path(hit.source).name)] if hit.source else []
    location = citation.location if citation is not None else hit.location
    meta = " · ".join([html.escape(x) for x in (location, hit.publisher, hit.published or NO_DATE) if x] + where)
    head = f"[{citation.number}] " if citation else ""
    return (f'<div class="kbot-source"><h4>{head}{html.escape(hit.title)}</h4><div class="meta">{meta}</div>'
            f'<div class="chunk">{chunk}</div></div>')


def html_link(url: str) -> str:
    """A live link to a page kbot fetched itself (`Hit.url`: http(s) only), opened in a new tab; escaped."""
    u = html.escape(url, quote=True)
    return f'<a href="{u}" target="_blank" rel="noopener noreferrer nofollow">{u}</a>'


# -- Slack mrkdwn ---------------------------------------------------------------------------------------------
SLACK_LIMIT = 2900  # a section's text may hold 3000 characters


def slack_escape(text: str) -> str:
    """Slack's three control characters as entities: `<!channel>`, `<@U1>` and `<url|label>` stay literal."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_question(text: str) -> str:
    """A question that came from Slack (already entity-encoded there) escaped once, whatever its encoding."""
    raw = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return slack_escape(raw)


def _cut(text: str, limit: int = SLACK_LIMIT) -> str:
    return text if len(text) <= limit else re.sub(r"&[a-z]{0,3}$", "", text[:limit]) + "…"


def slack_body(answer: Answer) -> str:
    """The answer's main section in mrkdwn: data escaped; the bot's own bold, code and emoji live. Related
    documents go in `slack_sources`."""
    text = {
        "notice": lambda: slack_escape(answer.notice),
        "value": lambda: f"*{slack_escape(_value(answer))}*",
        "calc": lambda: "```" + slack_escape("\n".join(_cost_lines(answer))) + "```",
        "not_found": lambda: f":mag: {NOT_FOUND}",
        "unsupported": lambda: UNSUPPORTED,
        "related": lambda: None,
        "unverified": lambda: f":warning: {UNVERIFIED.removeprefix('⚠ ')}",
        "nearest": lambda: f":grey_question: _{NEAREST}_",
        "body": lambda: slack_escape(answer.body),
        "missing": lambda: f":mag: *{MISSING}*: " + " / ".join(slack_escape(p) for p in answer.missing_parts),
        "ask": lambda: slack_escape(answer.body),
        "dropped": lambda: f":warning: {dropped_warning(answer).removeprefix('⚠ ')}",
        "disagree": lambda: f":warning: *{slack_escape(disagree_head(answer))}*\n" + "\n".join(
            f"• *{slack_escape(v)}* — {slack_escape(t)} ({slack_escape(m)}) [{n}]"
            + (f" · {slack_escape(c)}" if c else "") for v, t, m, n, c in _stated(answer)),
        "sources": lambda: None,
    }
    return "\n".join(t for k in parts(answer) if (t := text[k]()) is not None)


def slack_link(url: str, label: str) -> str:
    """`<url|label>` for a page kbot fetched itself: the label escaped, and in the URL the characters that would
    end the link or split off a label (`>`, `|`) percent-encoded."""
    target = slack_escape(url.replace("<", "%3C").replace(">", "%3E").replace("|", "%7C"))
    return f"<{target}|{slack_escape(label)}>"


def _slack_title(hit: Hit) -> str:
    return slack_link(hit.url, hit.title) if hit.url else slack_escape(hit.title)


def slack_sources(answer: Answer) -> str:
    if answer.citations:
        return "*출처*\n" + "\n".join(
            f"[{c.number}] *{_slack_title(c.hit)}*{slack_escape(_at(c.location))} — {slack_escape(_meta(c.hit))}"
            for c in answer.citations)
    if _refused(answer) and answer.related:
        return f"*{RELATED}*\n" + "\n".join(
            f"• {_slack_title(h)} — {slack_escape(h.published or NO_DATE)}" for h in answer.related)
    return ""


def slack_blocks(answer: Answer, key: str, *, share: bool = False, question: str | None = None) -> list[dict]:
    """Block Kit: (the shared question,) the answer, its sources, 👍/👎 buttons (and "채널에 공유" when `share`)."""
    blocks: list[dict] = []
    if question is not None:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _cut(f"> {slack_question(question)}")}})
    blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _cut(slack_body(answer))}})
    src = slack_sources(answer)
    if src:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": _cut(src)}]})
    buttons = [
        {"type": "button", "action_id": "kbot_feedback_up", "value": key,
         "text": {"type": "plain_text", "text": "👍 도움 됨"}},
        {"type": "button", "action_id": "kbot_feedback_down", "value": key,
         "text": {"type": "plain_text", "text": "👎 아쉬움"}},
    ]
    if share:
        buttons.append({"type": "button", "action_id": "kbot_share", "value": key, "style": "primary",
                        "text": {"type": "plain_text", "text": "채널에 공유"}})
    blocks.append({"type": "actions", "elements": buttons})
    return blocks


def slack_text(answer: Answer, question: str | None = None) -> str:
    """The notification / fallback text: the same content as the blocks, escaped the same way."""
    src = slack_sources(answer)
    head = f"> {slack_question(question)}\n" if question is not None else ""
    return head + slack_body(answer) + (f"\n\n{src}" if src else "")


# -- rich (the CLI) -------------------------------------------------------------------------------------------
def rich_answer(answer: Answer) -> list:
    """Renderables for the terminal. Data goes into `rich.text.Text`, which never reads markup or emoji codes."""
    from rich.text import Text

    text = {
        "notice": lambda: Text(answer.notice, style="yellow"),
        "value": lambda: Text(_value(answer), style="bold"),
        "calc": lambda: Text("\n".join(_cost_lines(answer))),
        "not_found": lambda: Text(NOT_FOUND, style="bold"),
        "unsupported": lambda: Text(UNSUPPORTED),
        "related": lambda: Text(f"{RELATED}:\n" + "\n".join(f"- {h.title} ({h.published or NO_DATE})"
                                                             for h in answer.related)),
        "unverified": lambda: Text(UNVERIFIED, style="yellow"),
        "nearest": lambda: Text(f"※ {NEAREST}", style="yellow"),
        "body": lambda: Text(answer.body),
        "missing": lambda: Text(f"{MISSING}: " + " / ".join(answer.missing_parts), style="yellow"),
        "ask": lambda: Text(answer.body),
        "dropped": lambda: Text(dropped_warning(answer), style="yellow"),
        "disagree": lambda: Text.assemble((f"⚠ {disagree_head(answer)}", "bold yellow"), *(
            f"\n- {v} — {t} ({m}) [{n}]" + (f" · {c}" if c else "") for v, t, m, n, c in _stated(answer))),
        "sources": lambda: None,
    }
    out = [t for k in parts(answer) if (t := text[k]()) is not None]
    if answer.citations:
        out.append(Text(f"\n{SOURCES}", style="bold"))
        for c in answer.citations:
            where = c.hit.url or f"{c.hit.source}:{c.start}-{c.end}"  # a page's URL stays clickable as it is
            out.append(Text(f"[{c.number}] {c.hit.title}{_at(c.location)} ({_meta(c.hit)}) — {where}"))
    out.append(Text(f"({answer.backend})", style="dim"))
    return out


def rich_hits(hits: list[Hit], limit: int = 300):
    """Search results as a rich Table; every cell is a `Text`, so document text prints exactly as written."""
    from rich.table import Table
    from rich.text import Text

    table = Table(show_lines=True)
    for col in ("#", "score", "document", "text"):
        table.add_column(col, overflow="fold")
    for i, h in enumerate(hits, 1):
        doc = f"{h.title}\n{h.published or ''} {h.publisher or ''}".strip()
        text = h.text if len(h.text) <= limit else h.text[:limit] + "…"
        table.add_row(str(i), f"{h.score:.4f}", Text(doc), Text(text))
    return table


# -- JSON (the HTTP API and MCP) and OpenAI chat messages ------------------------------------------------------
def hit_json(hit: Hit) -> dict:
    """A retrieved chunk as JSON: ids, metadata, text, score and its character span in the document."""
    return {"chunk_id": hit.chunk_id, "doc_id": hit.doc_id, "title": hit.title, "source": hit.source,
            "url": hit.url, "publisher": hit.publisher, "date": hit.published, "score": round(hit.score, 6),
            "start": hit.start, "end": hit.end, "location": hit.location, "text": hit.text}


def citation_json(c: Citation) -> dict:
    """One citation: its number, the document's id, title, source, url, publisher and date, the quoted sentence
    and its character span in the document."""
    h = c.hit
    return {"number": c.number, "doc_id": h.doc_id, "chunk_id": h.chunk_id, "title": h.title, "source": h.source,
            "url": h.url, "publisher": h.publisher, "date": h.published, "quote": c.quote, "start": c.start,
            "end": c.end, "location": c.location}


def answer_json(answer: Answer) -> dict:
    """The structured answer for programs: status, body with [n] markers, citations, disagreement, calculation,
    related sources, notice, confidence, and `text` (the plain rendering). Strings are data, never markup."""
    from .filters import describe

    calc = None
    r = answer.calculation
    if answer.status == "calculated" and r is not None:
        calc = {"value": r.value, "unit": r.unit, "display": _value(answer), "formula": r.formula,
                "assumptions": list(r.assumptions)}
    return {
        "status": answer.status, "body": answer.body, "text": plain(answer),
        "citations": [citation_json(c) for c in answer.citations],
        "disagreement": [{"about": s.about, "value": s.text, "low": s.low, "high": s.high, "unit": s.unit,
                          "converted": s.converted, "citation": s.citation, "doc_id": s.hit.doc_id,
                          "title": s.hit.title, "publisher": s.hit.publisher, "date": s.hit.published}
                         for s in answer.disagreement],
        "calculation": calc,
        "related": [hit_json(h) for h in answer.related],
        "notice": answer.notice, "confidence": answer.confidence, "backend": answer.backend,
        "standalone": answer.standalone, "filters": describe(answer.filters) or None,
        "dropped_claims": len(answer.dropped_claims),
        # "related": the cited passage is the nearest the documents hold, not a stated answer
        "support": answer.support, "missing_parts": list(answer.missing_parts),
    }


_INERT = re.compile(r"([\\`<>]|!(?=\[)|\](?=[(:\[]))")


def inert(text: str) -> str:
    """`text` as Markdown that renders as written but links, images, HTML and code nothing: only the characters
    that would start a tag, an autolink, a link or image target, a reference or a code span are backslash-escaped,
    so plain-text clients still read titles and [n] markers as they are."""
    return _INERT.sub(r"\\\1", str(text))


def _openai_source(c: Citation) -> str:
    link = f" {c.hit.url}" if c.hit.url else ""  # a page kbot fetched itself: http(s) only
    return f"[{c.number}] {inert(c.hit.title)}{inert(_at(c.location))} ({inert(_meta(c.hit))}){link}"


def openai_content(answer: Answer) -> str:
    """`choices[0].message.content` for OpenAI-compatible clients: the answer with [n] markers, ending with a short
    출처 list (title, publisher and date, link), so a client that reads only the content shows the sources."""
    text = {
        "notice": lambda: f"> {inert(answer.notice)}",
        "value": lambda: f"**{inert(_value(answer))}**",
        "calc": lambda: "\n".join(f"- {inert(line)}" for line in _cost_lines(answer)),
        "not_found": lambda: NOT_FOUND,
        "unsupported": lambda: UNSUPPORTED,
        "related": lambda: f"{RELATED}:\n" + "\n".join(f"- {inert(h.title)} ({inert(_meta(h))})"
                                                        for h in answer.related),
        "unverified": lambda: UNVERIFIED,
        "nearest": lambda: f"※ {NEAREST}",
        "body": lambda: inert(answer.body),
        "missing": lambda: f"{MISSING}: " + " / ".join(inert(p) for p in answer.missing_parts),
        "ask": lambda: inert(answer.body),
        "dropped": lambda: dropped_warning(answer),
        "disagree": lambda: f"⚠ {inert(disagree_head(answer))}:\n" + "\n".join(
            f"- {inert(v)} — {inert(t)} ({inert(m)}) [{n}]" + (f" · {inert(c)}" if c else "")
            for v, t, m, n, c in _stated(answer)),
        "sources": lambda: f"{SOURCES}:\n" + "\n".join(_openai_source(c) for c in answer.citations),
    }
    return "\n\n".join(text[k]() for k in parts(answer))

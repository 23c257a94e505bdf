"""The extractive flow (no generator): the sentence of the retrieved chunks that answers, cited with its offsets,
and any footnote it cites resolved to the note. Numeric questions go to the cost tool."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from ..types import Answer, Citation, Filters, Hit
from .base import AnswerFlow, Event


@dataclass(frozen=True)
class Found:
    """What one question (or part) found: its hits, the chosen span of `hits[hit_index]` and the verdicts."""

    question: str
    kind: str  # factoid | open
    hits: list[Hit] = field(default_factory=list)
    hit_index: int = 0
    start: int = 0
    end: int = 0
    prob: float = 0.0
    answerable: bool = False
    stated: bool = False


class ExtractiveFlow(AnswerFlow):
    name = "extractive"

    def answer(self, question: str, history: list[tuple[str, str]] | None = None,
               stream: bool = False, filters: Filters | None = None) -> Iterator[Event]:
        answer = self.ask(question, history, filters)
        yield answer.text
        yield answer

    def ask(self, question: str, history: list[tuple[str, str]] | None = None,
            filters: Filters | None = None) -> Answer:
        from ..chain import history_messages
        from ..korean import morphemes
        from ..questions import shape

        routed = self.route(question, filters)
        if routed is not None and routed.status != "needs_input":
            return routed
        standalone = question
        previous = [t for r, t in history_messages(history) if r == "human"]
        if previous and len(morphemes(question)) <= 3:  # a short follow-up ("빌드는?") borrows the last topic
            standalone = f"{previous[-1]} {question}"
        sh = shape(standalone)
        found = [self.part(p, k, filters, len(sh.parts) > 1) for p, k in zip(sh.parts, sh.part_kinds)]
        hits = found[0].hits
        answered = [f for f in found if f.answerable]
        if not answered:
            # a calculation missing an input is asked for only now: retrieval could not answer it either
            answer = routed or self.no_answer(hits)
        elif len(found) == 1:
            f = found[0]
            answer = self.quote(f.hits[f.hit_index], f.start, f.end)
            answer.related = hits
            answer.support = "stated" if f.stated else "related"
            if f.kind == "factoid":
                self.compare(standalone, answer, hits, filters)
        else:
            answer = self.quote_parts(found)
        answer.standalone = standalone
        answer.confidence = min((f.prob for f in answered), default=max((f.prob for f in found), default=0.0))
        return answer

    def part(self, question: str, kind: str, filters: Filters | None = None, of_many: bool = False) -> Found:
        """One question (or one part of a multi-part question) judged against its own search."""
        from ..passages import judge_passage

        hits = self.find(question, 5, filters)
        if kind == "open":
            p = judge_passage(question, hits, self.corpus.stats(),
                              vectors=getattr(self.retriever, "sentences", None))
            if p is not None:
                return Found(question, kind, hits, p.hit_index, p.start, p.end, p.prob, p.answerable, p.stated)
            return Found(question, kind, hits)
        from ..answerability import default_model

        picked = self.judge(question, hits, of_many)
        if picked is None:
            return Found(question, kind, hits)
        # Spoken questions and parts clear a lower bar than written ones (they share fewer words with the text that
        # answers them); between the two bars the sentence is shown as the nearest passage, not as the answer.
        return Found(question, kind, hits, picked.hit_index, picked.start, picked.end, picked.score,
                     picked.answerable, picked.answerable and picked.score >= default_model().threshold)

    def quote_parts(self, found: list[Found]) -> Answer:
        """A multi-part answer: each part's sentences with its own citation; the parts not found are listed."""
        citations: list[Citation] = []
        lines: list[str] = []
        missing = [f.question for f in found if not f.answerable]
        for f in found:
            if not f.answerable:
                continue
            hit = f.hits[f.hit_index]
            start, end = f.start, f.end
            # Two parts answered from overlapping spans of one chunk: the later part shows only what the earlier
            # did not, so no sentence is quoted twice. A span wholly shown already answers this part too when the
            # model states it does; below that bar, the other part's evidence is all it found: not found.
            for c in citations:
                if c.hit.chunk_id != hit.chunk_id:
                    continue
                shown = (c.start - hit.start, c.end - hit.start)
                if shown[0] <= start < shown[1]:
                    start = shown[1]
                if shown[0] < end <= shown[1]:
                    end = shown[0]
            while start < end and hit.text[start].isspace():
                start += 1
            if start >= end or not hit.text[start:end].strip():
                if not f.stated:
                    missing.append(f.question)
                continue
            text = hit.text[start:end].rstrip()
            cited = Citation(len(citations) + 1, hit, text, hit.start + start, hit.start + start + len(text))
            citations.append(cited)
            lines.append(f"{text} [{cited.number}]")
        related = [h for f in found for h in f.hits]
        seen: set[str] = set()
        related = [h for h in related if not (h.chunk_id in seen or seen.add(h.chunk_id))]
        support = "stated" if all(f.stated for f in found if f.answerable and f.question not in missing) else "related"
        return Answer("answered", body="\n".join(lines), citations=citations, related=related, backend=self.backend,
                      support=support, missing_parts=[f.question for f in found if f.question in missing])

    def quote(self, hit: Hit, start: int, end: int) -> Answer:
        """The span [start, end) of `hit` as the answer [1], and each footnote it cites as a further source."""
        text = hit.text[start:end]
        citations = [Citation(1, hit, text, hit.start + start, hit.start + end)]
        body = f"{text} [1]"
        for note in self.corpus.notes(hit, text):
            citations.append(Citation(len(citations) + 1, *note))
            body += f"\n주석: {note[1]} [{len(citations)}]"
        return Answer("answered", body=body, citations=citations, backend=self.backend)

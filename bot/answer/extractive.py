"""The extractive flow (no generator): the sentence of the retrieved chunks that answers, cited with its offsets,
and any footnote it cites resolved to the note. Numeric questions go to the cost tool."""

from __future__ import annotations

from collections.abc import Iterator

from ..types import Answer, Citation, Filters, Hit
from .base import AnswerFlow, Event


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

        routed = self.route(question, filters)
        if routed is not None and routed.status != "needs_input":
            return routed
        standalone = question
        previous = [t for r, t in history_messages(history) if r == "human"]
        if previous and len(morphemes(question)) <= 3:  # a short follow-up ("빌드는?") borrows the last topic
            standalone = f"{previous[-1]} {question}"
        hits = self.find(standalone, 5, filters)
        picked = self.judge(standalone, hits)
        if picked is None or not picked.answerable:
            # a calculation missing an input is asked for only now: retrieval could not answer it either
            answer = routed or self.no_answer(hits)
        else:
            answer = self.quote(hits[picked.hit_index], picked.start, picked.end)
            answer.related = hits
            self.compare(standalone, answer, hits, filters)
        answer.standalone = standalone
        answer.confidence = picked.score if picked is not None else 0.0
        return answer

    def quote(self, hit: Hit, start: int, end: int) -> Answer:
        """The span [start, end) of `hit` as the answer [1], and each footnote it cites as a further source."""
        text = hit.text[start:end]
        citations = [Citation(1, hit, text, hit.start + start, hit.start + end)]
        body = f"{text} [1]"
        for note in self.corpus.notes(hit, text):
            citations.append(Citation(len(citations) + 1, *note))
            body += f"\n주석: {note[1]} [{len(citations)}]"
        return Answer("answered", body=body, citations=citations, backend=self.backend)

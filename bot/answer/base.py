"""The answer flow every backend shares: the gate, no-answer with related sources, cost-tool answers with cited
constants, footnotes, and the check of generated text. Each backend is a small subclass that implements `answer`
(extractive.py; generative.py for openai and local), like rag_base / rag_simple / rag_advanced in
Azure-Samples/rag-postgres-openai-python.

Three decisions live behind one method each, so their rules can change without touching the flows: `route` (is
this a calculation?), `judge` (can these hits answer, and with which sentence?) and `verify` (what of a generated
text holds?).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import replace

from ..config import Settings
from ..indexing import NOTE_REF, note_definition
from ..retrieval import HybridRetriever, hit_from
from ..types import Answer, Citation, Filters, Hit, Stated

Event = str | Answer  # what `answer` yields: text pieces as they are made, then the final Answer


class Corpus:
    """What the flows read from the whole index besides search: term statistics, a constant's chunk, footnotes.

    Backed by the BM25 side's chunk table, which follows the collection's revision.
    """

    def __init__(self, retriever: HybridRetriever) -> None:
        self.index = retriever.sparse_index
        self._stats = None
        self._stats_revision = None

    def stats(self):
        from ..extractive import CorpusStats

        self.index.sync()
        if self._stats is None or self._stats_revision != self.index.revision:
            self._stats = CorpusStats.from_bm25(self.index.bm25)  # the table BM25 built: no second pass
            self._stats_revision = self.index.revision
        return self._stats

    def chunk_with(self, text: str, source_suffix: str) -> tuple[Hit, int] | None:
        """The first chunk of a document whose source ends with `source_suffix` containing `text`, and where."""
        self.index.sync()  # a calculation may come before any search has loaded the table
        for c in self.index.chunks:
            if not c.metadata.get("source", "").endswith(source_suffix):
                continue
            i = c.text.find(text)
            if i >= 0:
                h = hit_from(c, 1.0)
                return h, h.start + i
        return None

    def notes(self, hit: Hit, quote: str) -> list[tuple[Hit, str, int, int]]:
        """Footnotes cited in the quote ("...공개했다.[20]"): the note's line, in whichever chunk holds it."""
        out = []
        for n in dict.fromkeys(NOTE_REF.findall(quote)):
            for c in self.index.chunks:
                m = note_definition(c.text, n) if c.metadata.get("doc_id") == hit.doc_id else None
                if m:
                    h = hit_from(c, 1.0)
                    line = m.group(0).strip()
                    start = h.start + c.text.index(line)
                    out.append((h, line, start, start + len(line)))
                    break
        return out


class AnswerFlow:
    """Turns a (cleaned) question into an Answer. Collaborators come in with defaults, so tests can swap them."""

    name = "base"

    def __init__(self, settings: Settings, retriever: HybridRetriever, *, corpus: Corpus | None = None,
                 search: Callable[..., list[Hit]] | None = None, backend: str | None = None) -> None:
        self.settings = settings
        self.retriever = retriever
        self.corpus = corpus or Corpus(retriever)
        self.search = search or retriever.search
        self.backend = backend or self.name

    def answer(self, question: str, history: list[tuple[str, str]] | None = None,
               stream: bool = False, filters: Filters | None = None) -> Iterator[Event]:
        """Text pieces (with `stream`, as generated), then the final Answer. `filters` restricts every search."""
        raise NotImplementedError

    def find(self, query: str, k: int, filters: Filters | None = None) -> list[Hit]:
        """`search`, restricted to `filters` when there are any (a plain search function needs no such argument)."""
        return self.search(query, k=k, filters=filters) if filters is not None else self.search(query, k=k)

    # -- the three decisions ------------------------------------------------------------------------------------
    def route(self, question: str, filters: Filters | None = None) -> Answer | None:
        """A calculation when the question asks for one and supplies its inputs (a model it names counts when an
        article states the model's size, cited); a request for a missing input (status needs_input: flows ask it
        only when retrieval cannot answer either); else None, a look-up."""
        from ..costq import NeedsInput, find_model_size, route

        def resolve(name: str):
            return find_model_size(name, self.find(f"{name} 파라미터", 8, filters))

        routed = route(question, resolve)
        if routed is None:
            return None
        if isinstance(routed, NeedsInput):
            return Answer("needs_input", body=routed.message, backend=self.backend)
        answer = self.cost_answer(routed)
        # a calculation on constants from documents outside the filter is not an answer from within it: look up
        return answer if self.within(answer, filters) else None

    def within(self, answer: Answer, filters: Filters | None) -> bool:
        """Whether every source `answer` cites passes `filters`."""
        scope = self.retriever.scope(filters) if filters is not None else None
        return scope is None or all(scope.admits(c.hit.doc_id, c.hit.publisher, c.hit.published)
                                    for c in answer.citations)

    def judge(self, question: str, hits: list[Hit], part: bool = False):
        """The best sentence of `hits` for `question` (an extractive `Picked` whose `answerable` says whether it
        clears the learned threshold; `score` is the model's probability), or None when the hits hold no sentence.
        One model (bot/answerability.py) both ranks the sentences and decides to refuse."""
        from ..extractive import pick

        return pick(question, hits, self.corpus.stats(), part=part,
                    vectors=getattr(self.retriever, "sentences", None))

    def verify(self, question: str, text: str, hits: list[Hit]) -> Answer:
        """A generated text as an Answer: citations checked against the shown `hits`, refusals and uncited text
        marked, and each sentence its cited evidence does not hold (numbers by value, names, what a figure is)
        dropped into `dropped_claims`; nothing left is `unsupported`."""
        from ..citations import check
        from ..render import NOT_FOUND

        if not text.strip() or NOT_FOUND[:12] in text or "NO_ANSWER" in text:
            return self.no_answer(hits)
        checked = check(text, hits)
        if not checked.citations:
            return Answer("unverified", body=checked.text, related=hits[:3], backend=self.backend,
                          removed_citations=len(checked.removed))
        body, citations, dropped = keep_grounded(question, checked.text, checked.citations)
        if not citations:
            answer = self.no_answer(hits, status="unsupported")
            answer.dropped_claims, answer.removed_citations = dropped, len(checked.removed)
            return answer
        return Answer("answered", body=body, citations=citations, related=hits, backend=self.backend,
                      removed_citations=len(checked.removed), moved_citations=checked.repointed,
                      dropped_claims=dropped)

    def compare(self, question: str, answer: Answer, hits: list[Hit], filters: Filters | None = None) -> Answer:
        """When the evidence's documents state different values for what `question` asks (bot/disagree.py), list
        each value with its source, newest first, in `answer.disagreement`; each stating sentence is cited (a
        citation the answer already has is reused). The evidence is `hits` and a search for the asked figure
        itself ("V100 가격"), so a source the question's wording ranked lower is still heard."""
        from ..disagree import find, focus

        query = focus(question) if answer.status == "answered" else None
        if query is None:
            return answer
        seen = {h.chunk_id for h in hits}
        # the extra search keeps to the question's filter: a source outside it never speaks
        evidence = hits + [h for h in self.find(query, 5, filters) if h.chunk_id not in seen]
        stated = []
        for f in find(question, evidence):
            same = next((c for c in answer.citations if c.hit.doc_id == f.hit.doc_id
                         and c.start < f.end and f.start < c.end), None)
            if same is None:
                same = Citation(len(answer.citations) + 1, f.hit, f.sentence, f.start, f.end)
                answer.citations.append(same)
            stated.append(Stated(f.value.text, f.low, f.high, f.unit, same.number, f.hit, f.about, f.converted))
        answer.disagreement = stated
        return answer

    # -- answers every flow gives -------------------------------------------------------------------------------
    def no_answer(self, hits: list[Hit], status: str = "no_answer") -> Answer:
        """The corpus does not hold it: the best chunk of (up to) three documents as related sources."""
        seen: set[str] = set()
        related = [h for h in hits if not (h.doc_id in seen or seen.add(h.doc_id))][:3]
        return Answer(status, related=related, backend=self.backend)

    def cost_answer(self, result) -> Answer:
        """A cost-tool result as an Answer: each corpus constant it used cited where the corpus states it."""
        from ..cost import fmt

        citations: list[Citation] = []
        for c in result.sources:
            found = self.corpus.chunk_with(c.quote, c.doc)
            if found is not None:
                hit, start = found
                citations.append(Citation(len(citations) + 1, hit, c.quote, start, start + len(c.quote)))
        return Answer("calculated", body=f"{fmt(result.value)} {result.unit}", citations=citations,
                      calculation=result, backend=self.backend)




def keep_grounded(question: str, body: str, citations: list[Citation]) -> tuple[str, list[Citation], list[str]]:
    """Drop each sentence of `body` that the chunks it cites do not hold (bot/grounding.py: every number by value,
    1750억 = 175B, unless the question states it; names; 매출/손실 labels); renumber the citations left.
    Returns (body, citations, dropped sentences)."""
    from ..citations import MARKER
    from ..grounding import ground
    from ..numerals import find_numbers

    by_number = {c.number: c for c in citations}
    g = ground(body, citations, {q.value for q in find_numbers(question)}, question)
    if not g.dropped:
        return body, citations, []
    dropped = g.dropped_claims
    text = g.text
    renumber: dict[int, int] = {}
    for m in MARKER.finditer(text):
        for n in re.split(r"\s*[,，]\s*", m[1]):
            renumber.setdefault(int(n), len(renumber) + 1)
    text = MARKER.sub(lambda m: "[" + ", ".join(str(renumber[int(n)]) for n in re.split(r"\s*[,，]\s*", m[1])) + "]",
                      text)
    kept_citations = [replace(by_number[old], number=new) for old, new in renumber.items() if old in by_number]
    return (text if kept_citations else ""), kept_citations, dropped

"""The generative flows: a chat model writes the answer from numbered chunks (LCEL chain in bot/chain.py), then
`verify` checks what it wrote. OpenAI may call the cost tools; the local model gets numeric questions routed
deterministically and a prompt trimmed to its context window. When the service fails, the extractive flow answers
with a one-line notice."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

from ..types import Answer, Filters, Hit
from .base import AnswerFlow, Event
from .extractive import ExtractiveFlow

log = logging.getLogger(__name__)
NEEDS_NUMBERS = ("계산에 필요한 값을 질문에서 찾지 못했습니다. 토큰 수, 파라미터 수, 정밀도, GPU 종류처럼 "
                 "필요한 값을 숫자로 적어 다시 물어 주세요.")


class GenerativeFlow(AnswerFlow):
    """Condense a follow-up, retrieve, gate, generate (streamed or not), verify."""

    tools = False  # offer the cost functions to the model as tools

    def __init__(self, *args, chat_model: Callable[[], object], fallback: ExtractiveFlow | None = None,
                 **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.chat_model = chat_model
        self.fallback = fallback or ExtractiveFlow(self.settings, self.retriever, corpus=self.corpus,
                                                   search=self.search)

    def answer(self, question: str, history: list[tuple[str, str]] | None = None,
               stream: bool = False, filters: Filters | None = None) -> Iterator[Event]:
        from ..llm import service_failure

        llm = self.chat_model()
        try:
            yield from self.generate(question, history, llm, stream, filters)
        except Exception as e:  # the service failing is not the user's problem: answer without it
            reason = service_failure(e)
            if reason is None:
                raise
            log.warning("%s failed (%s); answering extractively", self.backend, reason)
            answer = self.fallback.ask(question, history, filters)
            answer.notice = f"⚠ {self.backend} 응답 실패({reason}): 문서에서 뽑은 문장으로 대신 답합니다."
            yield answer.text
            yield answer

    def prepare(self, question: str, history, llm, filters: Filters | None = None) -> tuple[str, list[Hit]]:
        """The standalone question (a follow-up rewritten from the conversation) and its chunks."""
        from ..chain import condense_chain, history_messages

        standalone = question
        if history_messages(history):
            standalone = condense_chain(llm).invoke({"question": question, "history": history}) or question
            standalone = self.retriever.clean_query(standalone)
        return standalone, self.find(standalone, self.settings.answer_chunks, filters)

    def relevant(self, question: str, hits: list[Hit]) -> tuple[float, bool]:
        """Whether retrieval found text bearing on any part of `question` (bot/passages.py), and how likely."""
        from ..passages import relevance
        from ..questions import shape

        if not hits:
            return 0.0, False
        stats = self.corpus.stats()
        return max((relevance(p, hits, stats) for p in shape(question).parts), key=lambda r: r[0])

    def fit(self, inputs: dict, llm) -> list[Hit]:
        """The chunks the prompt can hold (all of them, unless the model has a small context window)."""
        return inputs["hits"]

    def generate(self, question: str, history, llm, stream: bool, filters: Filters | None = None
                 ) -> Iterator[Event]:
        from ..chain import answer_chain, cost_tools

        standalone, hits = self.prepare(question, history, llm, filters)
        routed = self.route(standalone, filters)
        if routed is None or routed.status == "needs_input":
            # The only gate before generation: retrieval found nothing that bears on the question. Whether the
            # chunks answer it is the model's call (the prompt tells it to say so plainly), checked afterwards.
            score, relevant = self.relevant(standalone, hits)
            if not relevant:
                answer = routed or self.no_answer(hits)
                answer.standalone, answer.confidence = standalone, score
                yield answer.text
                yield answer
                return
        inputs = {"question": question, "hits": hits, "history": history}
        inputs["hits"] = hits = self.fit(inputs, llm)
        chain = answer_chain(llm, tools=cost_tools() if self.tools else None)
        if stream:
            message = None
            for chunk in chain.stream(inputs):
                message = chunk if message is None else message + chunk
                if chunk.text and not message.tool_call_chunks:
                    yield chunk.text
        else:
            message = chain.invoke(inputs)
        if message is not None and message.tool_calls:
            answer = self.tool_answer(question, message.tool_calls[0], filters)
        else:
            answer = self.compare(standalone, self.verify(standalone, message.text if message is not None else "",
                                                          hits), hits, filters)
        answer.standalone = standalone
        if not stream or answer.status != "answered" or answer.dropped_claims or answer.disagreement:
            yield answer.text
        yield answer

    def tool_answer(self, question: str, call: dict, filters: Filters | None = None) -> Answer:
        """Run the cost tool the model chose, with Python's arithmetic; bad arguments fall back to the router."""
        from pydantic import ValidationError

        from ..chain import cost_tools
        from ..cost import CostInputError

        tools = {t.name: t for t in cost_tools(raw=True)}
        try:
            if call["name"] not in tools:
                raise CostInputError(f"unknown tool {call['name']!r}")
            answer = self.cost_answer(tools[call["name"]].invoke(call["args"]))
            return answer if self.within(answer, filters) else self.no_answer([])
        except (CostInputError, ValidationError) as e:
            log.info("tool call %s rejected: %s", call.get("name"), e)
            return self.route(question, filters) or Answer("needs_input", body=NEEDS_NUMBERS, backend=self.backend)


class OpenAIFlow(GenerativeFlow):
    """An OpenAI-compatible chat model, offered the cost functions as typed tools."""

    name = "openai"
    tools = True


class LocalFlow(GenerativeFlow):
    """A GGUF model in-process: numeric questions never reach it, and the prompt is cut to its context window."""

    name = "local"

    def generate(self, question: str, history, llm, stream: bool, filters: Filters | None = None
                 ) -> Iterator[Event]:
        routed = self.route(question, filters)  # a small model cannot call tools reliably
        if routed is not None and routed.status != "needs_input":
            yield routed.text
            yield routed
            return
        yield from super().generate(question, history, llm, stream, filters)

    def fit(self, inputs: dict, llm) -> list[Hit]:
        from ..chain import answer_prompt, prompt_inputs

        budget = getattr(llm, "prompt_budget", None)
        hits = inputs["hits"]
        if budget:  # drop the lowest-ranked chunks until the prompt fits
            def size(hs: list[Hit]) -> int:
                return llm.prompt_tokens(answer_prompt().invoke(prompt_inputs({**inputs, "hits": hs})).to_messages())

            while len(hits) > 1 and size(hits) > budget:
                hits = hits[:-1]
        return hits

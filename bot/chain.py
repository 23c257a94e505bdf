"""LangChain wiring: the knowledge base as a retriever, the answer and follow-up chains (LCEL), the cost tools."""

from __future__ import annotations

from typing import Any, Literal  # Literal: the tools' typed arguments (resolved from this module's globals)

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from .types import Filters, Hit


def prompt_text(name: str) -> str:
    from importlib import resources

    return resources.files("bot").joinpath(f"prompts/{name}").read_text(encoding="utf-8")


def _attr(value: str | None) -> str:
    return (value or "").replace('"', "'").replace("<", "(").replace(">", ")")


def format_context(hits: list[Hit]) -> str:
    """The retrieved chunks numbered [1]..[k] with title, publisher and date, as data the model must not obey.

    A chunk cannot close its own <document> element: angle brackets inside it are replaced.
    """
    blocks = []
    for i, h in enumerate(hits, 1):
        body = h.text.replace("<", "‹").replace(">", "›")
        blocks.append(f'<document number="{i}" title="{_attr(h.title)}" publisher="{_attr(h.publisher)}" '
                      f'date="{_attr(h.published)}">\n{body}\n</document>')
    return "\n".join(blocks)


def history_messages(history: list[tuple[str, str]] | None) -> list[tuple[str, str]]:
    """(role, text) pairs with the roles LangChain prompts accept (user -> human, assistant -> ai)."""
    roles = {"user": "human", "human": "human", "assistant": "ai", "ai": "ai", "bot": "ai"}
    return [(roles.get(r, "human"), t) for r, t in history or [] if t and t.strip()]


def answer_prompt():
    """System rules, the conversation, then the numbered documents and the question."""
    from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder

    return ChatPromptTemplate.from_messages([
        ("system", prompt_text("system.md")),
        MessagesPlaceholder("history"),
        ("human", prompt_text("answer.md")),
    ])


def prompt_inputs(x: dict) -> dict:
    """{question, hits, history} -> the prompt's variables."""
    return {"question": x["question"], "context": format_context(x["hits"]),
            "history": history_messages(x.get("history"))}


def answer_chain(llm, tools: list | None = None):
    """LCEL: {question, hits, history} -> prompt with numbered documents -> chat model -> AIMessage."""
    from langchain_core.runnables import RunnableLambda

    model = llm.bind_tools(tools) if tools else llm
    return RunnableLambda(prompt_inputs) | answer_prompt() | model


def condense_chain(llm):
    """LCEL: {question, history} -> a standalone question for retrieval."""
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate

    def transcript(x: dict) -> str:
        names = {"human": "사용자", "ai": "도우미"}
        return "\n".join(f"{names[r]}: {t}" for r, t in history_messages(x["history"])[-6:])

    prompt = ChatPromptTemplate.from_messages([("human", prompt_text("condense.md"))])
    return ({"history": transcript, "question": lambda x: x["question"]} | prompt | llm | StrOutputParser()
            | (lambda s: s.strip().splitlines()[0].strip() if s.strip() else ""))


def hit_to_document(hit: Hit) -> Document:
    return Document(page_content=hit.text, id=hit.chunk_id, metadata={
        "chunk_id": hit.chunk_id, "doc_id": hit.doc_id, "title": hit.title, "source": hit.source,
        "published": hit.published, "publisher": hit.publisher, "score": hit.score,
        "start": hit.start, "end": hit.end, "location": hit.location})


class KnowledgeBaseRetriever(BaseRetriever):
    """Hybrid search of a `KnowledgeBase` as a LangChain retriever (documents carry the Hit fields). With `filters`,
    only documents that pass them; a filter nothing passes raises NoMatchError rather than returning everything."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    kb: Any
    k: int = 5
    filters: Filters | None = None

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        return [hit_to_document(h) for h in self.kb.search(query, k=self.k, filters=self.filters)]


def cost_tools(raw: bool = False) -> list:
    """The cost tool's functions as LangChain tools with typed arguments, for a tool-calling chat model.

    Each returns a plain dict (value, unit, formula, assumptions, sources with document and quote), so the
    arithmetic is always Python's and the model only chooses the function and reads numbers off the question.
    With `raw`, the same tools return the `CostResult` itself (what `kb.ask` runs the model's calls with).
    """
    from langchain_core.tools import StructuredTool

    from . import cost

    def as_dict(r: cost.CostResult) -> dict | cost.CostResult:
        if raw:
            return r
        return {"value": r.value, "unit": r.unit, "formula": r.formula, "assumptions": list(r.assumptions),
                "sources": [{"doc": c.doc, "quote": c.quote} for c in r.sources]}

    def plan_cost(plan: Literal["explore", "create", "build"], monthly_tokens: float) -> dict:
        """Monthly USD price of a 2020 GPT-3 plan for a number of tokens per month."""
        return as_dict(cost.plan_monthly_cost(plan, monthly_tokens))

    def cheapest_plan(monthly_tokens: float) -> dict:
        """The cheapest 2020 GPT-3 plan for a number of tokens per month."""
        return as_dict(cost.cheapest_plan(monthly_tokens))

    def plan_break_even(plan_a: Literal["create", "build"] = "create",
                        plan_b: Literal["create", "build"] = "build") -> dict:
        """Monthly tokens above which plan_b costs less than plan_a."""
        return as_dict(cost.break_even(plan_a, plan_b))

    def davinci_cost(tokens: float) -> dict:
        """USD for a number of tokens on GPT-3 Davinci ($0.06 per 1K tokens)."""
        return as_dict(cost.davinci_cost(tokens))

    def model_memory(parameters: float, precision: Literal["fp32", "fp16", "bf16", "int8", "int4"] = "fp16",
                     training: bool = False) -> dict:
        """GB of memory for a model's weights (or mixed-precision Adam training state)."""
        return as_dict(cost.model_memory(parameters, precision, training))

    def gpus_needed(memory_gb: float, gpu: Literal["V100-16GB", "V100-32GB", "A100-40GB", "A100-80GB",
                                                   "H100-80GB", "H100-NVL"]) -> dict:
        """How many GPUs of a kind hold `memory_gb` (and their price where the corpus gives one)."""
        return as_dict(cost.gpus_needed(memory_gb, gpu))

    def training_flops(parameters: float, tokens: float) -> dict:
        """Training compute 6 x parameters x tokens, in FLOP."""
        return as_dict(cost.training_flops(parameters, tokens))

    def node_energy(node: Literal["A100", "H100"], nodes: float, hours: float) -> dict:
        """kWh used by 8-GPU nodes running for a number of hours."""
        return as_dict(cost.energy(node, nodes, hours))

    fns = [plan_cost, cheapest_plan, plan_break_even, davinci_cost, model_memory, gpus_needed, training_flops,
           node_energy]
    return [StructuredTool.from_function(f, handle_tool_error=True) for f in fns]

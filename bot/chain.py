"""LangChain wiring: the knowledge base as a LangChain retriever."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from .types import Hit


def hit_to_document(hit: Hit) -> Document:
    return Document(page_content=hit.text, id=hit.chunk_id, metadata={
        "chunk_id": hit.chunk_id, "doc_id": hit.doc_id, "title": hit.title, "source": hit.source,
        "published": hit.published, "publisher": hit.publisher, "score": hit.score,
        "start": hit.start, "end": hit.end})


class KnowledgeBaseRetriever(BaseRetriever):
    """Hybrid search of a `KnowledgeBase` as a LangChain retriever (documents carry the Hit fields)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    kb: Any
    k: int = 5

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        return [hit_to_document(h) for h in self.kb.search(query, k=self.k)]

"""Sentence vectors for the answerability model's semantic match (bot/sentences.py): computed once per sentence,
at ingest, kept on disk across restarts, and never a reason for a question to fail."""

from __future__ import annotations

import sqlite3

import numpy as np
from fakes import FakeEncoder

from bot.sentences import SentenceVectors


class CountingEncoder(FakeEncoder):
    def __init__(self) -> None:
        super().__init__()
        self.sentences = 0

    def encode_sentences(self, texts):
        self.sentences += len(texts)
        return super().encode_sentences(texts)


def test_a_sentence_is_encoded_once_and_remembered_across_restarts(tmp_path):
    enc = CountingEncoder()
    path = tmp_path / "sentences.sqlite3"
    first = SentenceVectors(enc, path).get(["오픈AI는 2015년에 설립됐다.", "GPT-3는 1750억 파라미터다."])
    assert enc.sentences == 2
    assert np.allclose(np.linalg.norm(first, axis=1), 1.0, atol=1e-3)
    again = SentenceVectors(enc, path)  # a new process over the same data dir
    second = again.get(["GPT-3는 1750억 파라미터다.", "오픈AI는 2015년에 설립됐다."])
    assert enc.sentences == 2, "read back from disk, not encoded again"
    assert np.allclose(second[::-1], first)
    assert again.fill(["오픈AI는 2015년에 설립됐다.", "새 문장이다."]) == 1 and enc.sentences == 3


def test_an_unwritable_cache_still_gives_vectors(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    vectors = SentenceVectors(CountingEncoder(), blocker / "sentences.sqlite3")
    out = vectors.get(["문장 하나.", "문장 둘."])
    assert out.shape == (2, 64)


def test_ingest_encodes_each_new_sentence_and_a_question_needs_none(make_settings, tmp_path):
    from bot.api import KnowledgeBase

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text("# 메모\n\n오픈AI는 2015년에 설립됐다. 직원은 52명이었다.\n\n"
                               "마이크로소프트는 10억 달러를 투자했다.\n", encoding="utf-8")
    enc = CountingEncoder()
    kb = KnowledgeBase.open(make_settings(), encoder=enc)
    kb.ingest([docs])
    encoded = enc.sentences
    assert encoded >= 3
    with sqlite3.connect(make_settings().data_dir / "sentences.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM v").fetchone()[0] == encoded
    kb.ask("마이크로소프트가 얼마 투자했어?")
    assert enc.sentences == encoded, "the question's candidates were encoded at ingest"
    kb.ingest([docs])  # unchanged: nothing to encode
    assert enc.sentences == encoded
    off = KnowledgeBase.open(make_settings(data_dir=tmp_path / "lazy", sentence_vectors=False), encoder=enc)
    off.ingest([docs])
    assert enc.sentences == encoded, "KBOT_SENTENCE_VECTORS=false leaves them to the first question"

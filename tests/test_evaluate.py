"""Eval metrics on hand-made inputs with known answers, the question-file checks, and a tiny end-to-end report."""

import json

import pytest

from bot.evals.evaluate import (
    EvalInputError,
    answer_correct,
    citation_correct,
    cost_correct,
    first_rank,
    load_questions,
    mrr,
    percentile,
    recall_at,
    summarise,
    ungrounded_numbers,
)


def test_ranks_recall_and_mrr():
    assert first_rank(["a", "b 정답", "정답 c"], ["정답"]) == 2
    assert first_rank(["a", "b"], ["정답"]) is None
    ranks = [1, 2, None, 5]
    assert recall_at(ranks, 1) == 0.25 and recall_at(ranks, 2) == 0.5 and recall_at(ranks, 5) == 0.75
    assert mrr(ranks) == pytest.approx((1 + 0.5 + 0.2) / 4)
    assert mrr([11], k=10) == 0.0


def test_answer_citation_cost_and_percentiles():
    assert answer_correct("월 100달러입니다 [1]", ["100달러"]) and not answer_correct("월 백 달러", ["100달러"])
    assert citation_correct(["x", "추가 1000개당 8센트"], ["8센트"]) and not citation_correct([], ["8센트"])
    assert cost_correct(520.0, 520, 0.005) and cost_correct(521.0, 520, 0.005) and not cost_correct(530, 520, 0.005)
    assert not cost_correct(None, 520) and cost_correct(3.15e23, 3.15e23)
    assert percentile([5, 1, 3, 2, 4], 50) == 3 and percentile([1, 2, 3, 4, 100], 95) == 100


def test_numbers_are_compared_after_normalising_korean_units():
    cited = ["GPT-3는 1750억 개의 파라미터를 가진다.", "가격은 9,000달러다."]
    assert ungrounded_numbers("175B 파라미터 [1], 약 9000달러 [2]", cited) == []
    assert ungrounded_numbers("파라미터는 175,000,000,000개 [1]", cited) == []
    assert ungrounded_numbers("파라미터는 1800억 개 [1]", cited) == ["1800억"]
    assert ungrounded_numbers("합계 520달러 [1]", [], tool_values=[520.0]) == []
    assert ungrounded_numbers("메모리 구조가 바뀌었다 [1]", []) == []


def test_summary_counts_refusals_and_false_refusals():
    from bot.evals.evaluate import Record

    def rec(kind, status, correct, cited=None):
        return Record("x", kind, "q", status, "a", [], correct, cited, [], 0, 10.0, "", {"hybrid": 1}, 1.0)

    s = summarise([rec("fact", "answered", True, True), rec("fact", "no_answer", False, False),
                   rec("refuse", "no_answer", True), rec("refuse", "answered", False), rec("cost", "calculated", True)])
    assert s["answer_accuracy"] == 0.5 and s["citation_accuracy"] == 0.5 and s["cost_accuracy"] == 1.0
    assert s["refusal_accuracy"] == 0.5 and s["false_refusal_rate"] == pytest.approx(1 / 3)
    assert s["retrieval"]["hybrid"]["hit@1"] == 1.0


def test_question_file_errors_name_the_line(tmp_path):
    f = tmp_path / "q.jsonl"
    f.write_text('{"type": "fact", "question": "A?", "answers": ["a"]}\n{"type": "fact", "question": "B?"}\n')
    with pytest.raises(EvalInputError, match="q.jsonl:2"):
        load_questions(f)
    f.write_text("not json\n")
    with pytest.raises(EvalInputError, match=":1: not JSON"):
        load_questions(f)
    with pytest.raises(EvalInputError, match="No question file"):
        load_questions(tmp_path / "missing.jsonl")


def test_eval_command_writes_report_with_plots(tmp_path, model_cache, monkeypatch):
    from typer.testing import CliRunner

    from bot.cli import app

    docs = tmp_path / "docs"
    docs.mkdir()
    text = "GPT-3의 크리에이트 요금제는 월 100달러다. 추가 토큰 1000개당 8센트를 낸다.\n"
    (docs / "a.md").write_text("---\ntitle: 요금\n---\n" + text, encoding="utf-8")
    q = tmp_path / "team.jsonl"
    q.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in [
        {"id": "f1", "type": "fact", "question": "크리에이트 요금제 추가 1000개당 요금은?", "answers": ["8센트"]},
        {"id": "c1", "type": "cost", "question": "크리에이트 요금제로 월 500만 토큰이면?", "number": 340},
        {"id": "r1", "type": "refuse", "question": "2030년 월드컵 개최국은?"}]), encoding="utf-8")
    monkeypatch.setenv("KBOT_MODEL_CACHE_DIR", str(model_cache))
    r = CliRunner().invoke(app, ["eval", str(q), "--corpus", str(docs), "--out", str(tmp_path / "reports")])
    assert r.exit_code == 0, r.output
    out = tmp_path / "reports" / "team"
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    s = report["runs"][0]["summary"]
    assert s["answer_accuracy"] == 1.0 and s["cost_accuracy"] == 1.0 and s["refusal_accuracy"] == 1.0
    assert all((out / p).stat().st_size > 5000 for p in ("recall_at_k.png", "latency.png", "accuracy.png"))
    assert "| extractive | 1.000 |" in (out / "report.md").read_text(encoding="utf-8")


def test_bench_plots_and_serving_section(tmp_path):
    from bot.evals.bench import plot

    results = {"korquad": {"ours: hybrid (default settings)": {"R@1": 0.9, "R@3": 0.95, "R@5": 0.99, "R@10": 1.0},
                           "BM25, whitespace tokens": {"R@1": 0.7, "R@3": 0.8, "R@5": 0.85, "R@10": 0.9}},
               "performance": {"search_korquad": {"chunks": 100, "times": [20.0, 21.0, 25.0]}},
               "ask": {"extractive": {"questions": 3, "p50_ms": 70.0, "p95_ms": 90.0, "times": [60.0, 70.0, 90.0]}},
               "serving": {"users": 2, "per_user": 1, "answered": 2, "errors": [], "wall_s": 1.0, "p50_s": 0.5,
                           "p95_s": 0.6, "rss_idle_mb": 900.0, "rss_peak_mb": 1000.0, "times_s": [0.5, 0.6]}}
    md = plot(results, tmp_path)
    assert (tmp_path / "recall_at_k.png").stat().st_size > 5000 and (tmp_path / "latency.png").stat().st_size > 5000
    assert "| extractive | 3 | 70 | 90 |" in md and "1000 MB peak" in md and "2 answered, 0 errors" in md

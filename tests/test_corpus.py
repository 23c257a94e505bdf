"""Cleaning raw captures: chrome removed, body kept verbatim, metadata extracted, corpus/ reproducible."""

from pathlib import Path

import pytest
from conftest import RAW_CORPUS, ROOT
from typer.testing import CliRunner

from bot.corpus import BYLINE_PREFIX, clean_capture, import_captures, load_overrides

CHROME = ["많이 본 뉴스", "국민연금 개혁", "광고삭제", "글씨 크기 조절", "공유하기", "저작권자", "무단전재",
          "All rights reserved", "로고 각사 편집", "문의하기", "Comments", "관련기사", "[사진: 셔터스톡]",
          "트위터 캡처", "블로그 캡처", "입력 2023-03-21", "[테크인사이드]", "뷰페이지", "이미지 확대"]

# Body sentences chosen across all five captures, including ones near removed chrome.
BODY = {
    "000": ["'크리에이트'는 월 100달러(약 11만7천원)로 사용자는 1개월간 토큰 200만개를 쓸 수 있고",
            "GPU는 개당 약 9,000달러(약 1천만원) 이다.", "결론적으로 2018년 4월 뉴욕타임즈 보도에 따르면"],
    "001": ["지난 20일 카카오브레인이 카카오톡채널에서", "챗GPT에 2000만원 육박하는 GPU 1만여대",
            "오픈AI는 GPT4를 통해 제공하는 영어 단어 750개 정도에 3센트(약 39원)를 받는다."],
    "002": ["챗GPT 같은 생성AI를 둘러싼 테크 기업들 간 레이스가", "10배까지 향상되는 경우도 드물지 않다."],
    "003": ["이 글은 2023년 5월 Crossroads 에 기고된 글입니다.", "• T5, 110억 파라미터",
            "NVIDIA A100 GPU (80기가) 모델 기준으로 320장이 필요하다.", "• [25] 개인적인 추산에 따르면"],
    "004": ["2020년 6월, OpenAI가 GPT-3를 공개했습니다.", "| GPT-3 | 175B | 570GB |", "# 약 3.14e23 FLOPS",
            "- Davinci (가장 성능 좋은 모델): $0.06 / 1K tokens", "참고 자료"],
}


def _raw(prefix: str) -> Path:
    return next(RAW_CORPUS.glob(f"{prefix}_*.txt"))


@pytest.mark.parametrize("prefix", sorted(BODY))
def test_chrome_removed_and_body_kept_verbatim(prefix):
    raw = _raw(prefix).read_text(encoding="utf-8").replace("\u00a0", " ")  # NBSP becomes a space
    art = clean_capture(raw, _raw(prefix).name)
    for line in art.body.splitlines():
        for chrome in CHROME:
            assert not line.lstrip("• ").startswith(chrome), (chrome, line)
    for sentence in BODY[prefix]:
        assert sentence in art.body, sentence
    # nothing is reworded: every kept line stands in the capture as it is
    raw_lines = {ln.strip() for ln in raw.splitlines()}
    for line in art.body.splitlines():
        assert not line or line in raw_lines or any(line in r for r in raw_lines), line


def test_every_long_raw_line_is_kept_unless_it_is_chrome():
    """No body paragraph is lost: each long line of a capture survives unless it is a known kind of chrome."""
    for raw_path in sorted(RAW_CORPUS.glob("*.txt")):
        art = clean_capture(raw_path.read_text(encoding="utf-8"), raw_path.name)
        for line in raw_path.read_text(encoding="utf-8").replace("\u00a0", " ").splitlines():
            s = BYLINE_PREFIX.sub("", line.strip())  # "[매체 이름 기자] " before a sentence is a byline
            if len(s) >= 80 and s not in art.body:
                assert "국민연금" in s or "저작권" in s or s.startswith("본지 25일"), (raw_path.name, s)


def test_metadata_extracted_from_the_capture():
    a = clean_capture(_raw("001").read_text(encoding="utf-8"), "x.txt")
    assert a.title == "챗GPT 좋은데 문제는 ‘컴퓨팅’... 확보하는 자가 승자"
    assert (a.author, a.published) == ("김민석", "2023-03-21")
    b = clean_capture(_raw("002").read_text(encoding="utf-8"), "y.txt")
    assert (b.publisher, b.author) == ("디지털투데이", "황치규")
    assert b.body.startswith("챗GPT 같은")  # the "[디지털투데이 황치규 기자]" byline prefix is gone
    c = clean_capture(_raw("004").read_text(encoding="utf-8"), "z.txt")
    assert (c.title, c.published) == ("GPT-3가 바꿔놓은 것들", "2021-06-01")
    d = clean_capture(_raw("003").read_text(encoding="utf-8"), "w.txt")
    assert d.published == "2024-03-25" and d.title == "[특집] Scale entanglement"


def test_synthetic_capture():
    raw = ("홈\n뷰페이지\n\n새 GPU 가격 기사\n\n새 GPU 가격 기사\n홍길동 기자\n입력 2024-01-02 10:00\n\n"
           "사진 설명 캡처입니다\n사진 설명 캡처입니다\n\n"
           "엔비디아의 새 GPU는 한 장에 3만 달러 수준으로 알려졌다. 공급은 여전히 부족하다.\n\n"
           "두 번째 문단도 본문이며 그대로 남아야 한다.\n\n많이 본 뉴스\n다른 기사 제목\n")
    a = clean_capture(raw, "s.txt")
    assert a.title == "새 GPU 가격 기사" and a.author == "홍길동" and a.published == "2024-01-02"
    assert a.body == ("엔비디아의 새 GPU는 한 장에 3만 달러 수준으로 알려졌다. 공급은 여전히 부족하다.\n\n"
                      "두 번째 문단도 본문이며 그대로 남아야 한다.")


def test_committed_corpus_is_what_the_importer_writes(tmp_path):
    """corpus/ is reproducible: re-importing the raw captures gives the committed files byte for byte."""
    written = import_captures(sorted(RAW_CORPUS.glob("*.txt")), tmp_path, ROOT / "corpus" / "sources.toml")
    assert len(written) == 5
    for path in written:
        assert path.read_text(encoding="utf-8") == (ROOT / "corpus" / path.name).read_text(encoding="utf-8")
    assert load_overrides(tmp_path / "missing.toml") == {}


def test_cli_corpus_import(tmp_path):
    from bot.cli import app

    result = CliRunner().invoke(app, ["corpus", "import", str(RAW_CORPUS), "--out", str(tmp_path),
                                      "--sources", str(ROOT / "corpus" / "sources.toml")])
    assert result.exit_code == 0, result.output
    assert len(list(tmp_path.glob("*.md"))) == 5
    text = (tmp_path / "000_1df5f5f5e4db3414.md").read_text(encoding="utf-8")
    assert text.startswith("---\ntitle: ") and "publisher: 인공지능신문" in text

"""Each loader and text encoding; bad input is a LoadError with a reason."""

import pytest
from doc_fixtures import text_pdf_bytes

from bot.errors import LoadError
from bot.loaders import load_file

KO = "GPT-3의 크리에이트 요금제는 월 100달러이며 토큰 200만개를 쓸 수 있다."


def test_markdown_front_matter(tmp_path):
    p = tmp_path / "a.md"
    p.write_text(f"---\ntitle: 요금제 기사\npublisher: 인공지능신문\npublished: 2020-09-28\n---\n\n{KO}\n",
                 encoding="utf-8")
    d = load_file(p)
    assert d.title == "요금제 기사" and d.publisher == "인공지능신문" and d.published == "2020-09-28"
    assert d.text.strip() == KO and "---" not in d.text


def test_markdown_title_falls_back_to_heading(tmp_path):
    p = tmp_path / "b.md"
    p.write_text(f"# 제목입니다\n\n{KO}\n", encoding="utf-8")
    assert load_file(p).title == "제목입니다"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp949", "euc-kr"])
def test_text_encodings_are_detected(tmp_path, encoding):
    p = tmp_path / f"k-{encoding}.txt"
    p.write_bytes(f"{KO}\n두 번째 문장입니다. 한국어 파일은 CP949가 흔하다.\n".encode(encoding))
    d = load_file(p)
    assert KO in d.text and "\ufeff" not in d.text


def test_html_main_text_without_navigation(tmp_path):
    body = "".join(f"<p>{KO} 문단 {i}은 본문이며 충분히 길어서 본문 추출기가 본문으로 판단한다.</p>" for i in range(6))
    html = (f"<html><head><title>GPU 비용 기사</title><meta charset='utf-8'></head><body>"
            f"<nav><ul><li><a href='/'>홈</a></li><li><a href='/login'>로그인 메뉴</a></li></ul></nav>"
            f"<article><h1>GPU 비용 기사</h1>{body}</article>"
            f"<footer>저작권자 © 예시신문 무단전재 및 재배포 금지</footer></body></html>")
    p = tmp_path / "page.html"
    p.write_text(html, encoding="utf-8")
    d = load_file(p)
    assert KO in d.text and "로그인 메뉴" not in d.text
    assert d.title == "GPU 비용 기사"


def test_pdf_text(tmp_path):
    p = tmp_path / "doc.pdf"
    p.write_bytes(text_pdf_bytes("V100 GPU costs about 9000 dollars"))
    d = load_file(p)
    assert "V100 GPU costs about 9000 dollars" in d.text


@pytest.mark.parametrize("name,data,reason", [
    ("empty.txt", b"", "empty"),
    ("blank.md", b"  \n\n ", "empty"),
    ("binary.txt", bytes(range(256)) * 4, "binary"),
    ("broken.pdf", b"%PDF-1.4\n this is not really a pdf", "PDF"),
    ("notes.docx", b"PK\x03\x04 zip", "corrupt"),
])
def test_bad_input_is_reported_with_a_reason(tmp_path, name, data, reason):
    p = tmp_path / name
    p.write_bytes(data)
    with pytest.raises(LoadError, match=reason):
        load_file(p)


def test_undecodable_text_is_reported(tmp_path):
    p = tmp_path / "garbage.txt"
    p.write_bytes(bytes([0x80, 0xFF, 0xFE, 0x81, 0x9F]) * 40)
    with pytest.raises(LoadError):
        load_file(p)

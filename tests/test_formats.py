"""HWP/HWPX, Word, PowerPoint, Excel and scanned PDFs: text as the format defines it, tables row by row, locations
in citations, protected and hostile files reported with a reason while the rest of a folder is ingested."""

from __future__ import annotations

import re
import resource
import shutil
import struct
import time
import zlib
from pathlib import Path

import doc_fixtures as F
import pytest

from bot.errors import LoadError
from bot.loaders import LoadOptions, load_bytes, load_file, sniff
from bot.loaders import hwp as hwp_mod
from bot.loaders import pdf as pdf_mod

NOORI = F.HWP_DIR / "noori.hwp"
HAVE_OCR = pdf_mod.ocr_missing("kor+eng") is None


def _section_records(path: Path) -> list[bytes]:
    """Every paragraph text record (raw UTF-16LE) of an HWP file's body, read from the format directly."""
    import olefile

    ole = olefile.OleFileIO(str(path))
    out = []
    for entry in ole.listdir():
        if entry[0] == "BodyText":
            data = zlib.decompress(ole.openstream("/".join(entry)).read(), -15)
            out += [n.data for n in _walk(hwp_mod.read_records(data)) if n.tag == hwp_mod.PARA_TEXT]
    return out


def _walk(nodes):
    for n in nodes:
        yield n
        yield from _walk(n.children)


# -- HWP -------------------------------------------------------------------------------------------------------

def test_noori_has_no_control_record_text():
    """Every inline/extended control in the paragraph texts spans 8 code units: the code, a 4-byte id ('secd',
    'tbl ', ...), the code again. Decoded as characters, its id is a pair of ideographs (捤獥 for 'secd'); none
    may reach the text, and the text must still hold every character run between the controls."""
    doc = load_file(NOORI)
    ids, garbage, kept = set(), set(), []
    for raw in _section_records(NOORI):
        units = struct.unpack(f"<{len(raw) // 2}H", raw)
        i, run = 0, []
        while i < len(units):
            u = units[i]
            if u < 32 and u not in hwp_mod.CHAR_CONTROLS:
                cid = struct.pack("<2H", *units[i + 1:i + 3])
                ids.add(cid[::-1].decode("latin-1"))
                garbage.add(cid.decode("utf-16-le", "replace"))  # what a reader skipping only the code shows
                kept.append("".join(run))
                run = []
                i += 8
            else:
                run.append(chr(u) if u >= 32 else " ")
                i += 1
        kept.append("".join(run))
    assert {"secd", "cold", "tbl "} <= ids  # the document does hold controls: the test is not vacuous
    naive = "".join(r.decode("utf-16-le", "replace") for r in _section_records(NOORI))
    assert any(g in naive for g in garbage)  # ...and a naive decode would show them
    assert not [g for g in garbage if g in doc.text], "control ids decoded as text"
    flat = " ".join(doc.text.split())
    for piece in kept:
        piece = " ".join(piece.split())
        if len(piece) > 3:
            assert piece in flat, piece


def test_noori_tables_stay_row_by_row_and_metadata_is_read():
    doc = load_file(NOORI)
    lines = doc.text.splitlines()
    assert "보도일시 | 2018. 9. 4.(화) 조간(온라인 9. 3. 12:00)부터 보도해 주시기 바랍니다." in lines
    assert "배포일시 | 2018. 9. 3.(월) 09:00 | 담당부서 | 거대공공연구정책과" in lines
    assert "담당과장 | 장인숙(02-2110-2430) | 담 당 자 | 용찬재 사무관(02-2110-2428)" in lines
    # the comparison table on the last page: each figure beside its row's label and its column's header
    assert "총 길이 | 한국형발사체(누리호): 47.2 m | 시험발사체: 25.8 m" in lines
    assert doc.author == "이은지" and doc.published == "2018-09-03"
    assert "한국형발사체의 새로운 명칭은 ‘누리’로 결정되었으며" in doc.text
    where = dict((label, a) for a, label in doc.sections)
    assert "1쪽 · 표 1" in where and "3쪽 · 표 5" in where


def test_hanja_and_brackets_survive_between_controls():
    """Real hanja is text: only the control's 8 units go, whatever characters surround them."""
    ctrl = struct.pack("<8H", 2, *struct.unpack("<2H", b"dces"), 0, 0, 0, 0, 2)
    tab = struct.pack("<8H", 9, 0, 0, 0, 0, 0, 0, 9)
    raw = ctrl + "祖父의 재산".encode("utf-16-le") + tab + "【면세】 𠀀".encode("utf-16-le") + struct.pack("<H", 13)
    pieces = hwp_mod.para_text(raw)
    assert pieces[0] == (2, "secd")
    assert "".join(p for p in pieces if isinstance(p, str)) == "祖父의 재산\t【면세】 𠀀"


@pytest.mark.parametrize("name,expect", [("hello_world.hwp", ["Hello World!"]),
                                         ("draw_text.hwp", ["글상자1", "글상자2"]),
                                         ("dutmal.hwp", ["본문 입니다(위 덧말 입니다)"]),
                                         ("work_report.hwp", ["업무내용 | 완결여부 | 산출물 | 비고"]),
                                         ("basicsReport.hwp", ["과목명 | ○○○○", "학번 | 200012345"])])
def test_shared_hwp_files(name, expect):
    doc = load_file(F.HWP_DIR / name)
    for text in expect:
        assert text in doc.text


def test_an_hwp_of_drawings_only_has_a_reason():
    with pytest.raises(LoadError, match="no text"):
        load_file(F.HWP_DIR / "outline.hwp")


def _with_flags(tmp_path: Path, bit: int) -> Path:
    import olefile

    p = tmp_path / f"locked{bit}.hwp"
    shutil.copy(NOORI, p)
    p.chmod(0o644)
    ole = olefile.OleFileIO(str(p), write_mode=True)
    header = bytearray(ole.openstream("FileHeader").read())
    header[36] |= bit
    ole.write_stream("FileHeader", bytes(header))
    ole.close()
    return p


@pytest.mark.parametrize("bit,reason", [(2, "password"), (4, "배포용")])
def test_protected_hwp_is_reported(tmp_path, bit, reason):
    with pytest.raises(LoadError, match=reason):
        load_file(_with_flags(tmp_path, bit))


def test_protected_pdf_is_reported(tmp_path):
    import io

    from pypdf import PdfReader, PdfWriter

    w = PdfWriter()
    w.add_page(PdfReader(io.BytesIO(F.text_pdf_bytes("a secret page with enough text on it"))).pages[0])
    w.encrypt("pw")
    buf = io.BytesIO()
    w.write(buf)
    with pytest.raises(LoadError, match="password"):
        load_bytes(tmp_path / "locked.pdf", buf.getvalue())


# -- type detection --------------------------------------------------------------------------------------------

def test_type_is_told_by_content_not_extension(tmp_path):
    assert sniff(F.hwpx_bytes(), ".hwp") == "hwpx"
    assert sniff(NOORI.read_bytes(), ".hwpx") == "hwp"
    assert sniff(F.docx_bytes(), ".hwp") == "docx"
    assert sniff(b"<!DOCTYPE html><html><body><p>x</p></body></html>", ".doc") == "html"
    doc = load_bytes(tmp_path / "report.hwp", F.hwpx_bytes())
    assert "총 사업비 | 금액: 4,870억원 | 국비 70%" in doc.text


@pytest.mark.parametrize("suffix,target", [(".doc", ".docx"), (".xls", ".xlsx"), (".ppt", ".pptx")])
def test_old_binary_office_files_name_the_format_to_convert_to(tmp_path, suffix, target):
    with pytest.raises(LoadError, match=rf"save it as \{target}"):
        load_bytes(tmp_path / f"old{suffix}", b"\x00\x01binary\x00" * 100)


# -- each format: text, structure, locations -------------------------------------------------------------------

def test_docx_headings_and_tables():
    doc = load_bytes(Path("plan.docx"), F.docx_bytes())
    assert "연도: 2026년 | 정보화 예산: 312억원 | 증감률: 9.9%" in doc.text.splitlines()
    at = {label for _, label in doc.sections}
    assert "2. 예산 › 2.1 연도별 예산 · 표 1" in at and "3. 추진 일정" in at
    assert doc.title == "2026년 정보화 사업 계획" and doc.author == "디지털정책과"


def test_pptx_slides_with_notes():
    doc = load_bytes(Path("deck.pptx"), F.pptx_bytes())
    starts = dict((label, a) for a, label in doc.sections)
    assert list(starts) == ["슬라이드 1", "슬라이드 2", "슬라이드 3", "슬라이드 4"]
    slide3 = doc.text[starts["슬라이드 3"]:starts["슬라이드 4"]]
    assert "출시일 | 2025년 11월 20일" in slide3 and "노트: 출시 행사는 서울 코엑스에서 연다." in slide3


def test_xlsx_rows_carry_headers_merged_cells_and_cached_formulas():
    doc = load_bytes(Path("sales.xlsx"), F.xlsx_bytes())
    lines = doc.text.splitlines()
    assert "지점: 부산지점 | 2024년 매출: 8450 | 담당자: 김민수 | 개점일: 2018-09-17" in lines
    assert "지점: 합계 | 2024년 매출: 25870" in lines  # =SUM(B2:B4), its cached value
    assert "부문: 영업 | 팀: 해외영업팀 | 인원: 9" in lines  # A2:A3 merged: the row below gets 영업 too
    at = {label for _, label in doc.sections}
    assert "시트 매출 3행" in at and "시트 인원 3행" in at


def test_hwpx_pages_tables_and_metadata():
    doc = load_bytes(Path("plan.hwpx"), F.hwpx_bytes())
    assert "총 사업비 | 금액: 4,870억원 | 국비 70%" in doc.text.splitlines()
    a = doc.text.index("총 사업비")
    label = [lab for off, lab in doc.sections if off <= a][-1]
    assert label == "2쪽 · 표 1"
    assert doc.title == "스마트농업 실증사업 추진 계획" and doc.author == "농림축산식품부"
    assert doc.published == "2025-02-14"


# -- scanned PDFs ----------------------------------------------------------------------------------------------

def test_scanned_pages_without_tesseract_are_reported(tmp_path, monkeypatch):
    monkeypatch.setattr(pdf_mod, "tesseract_langs", lambda: frozenset())
    doc = load_bytes(tmp_path / "mixed.pdf", F.mixed_pdf_bytes(), LoadOptions(cache_dir=tmp_path / "ocr"))
    assert "Annual report" in doc.text
    assert len(doc.warnings) == 1 and "page(s) 2, 3" in doc.warnings[0]
    assert "apt-get install tesseract-ocr tesseract-ocr-kor" in doc.warnings[0]
    with pytest.raises(LoadError, match="tesseract-ocr-kor"):
        load_bytes(tmp_path / "scan.pdf", F.scanned_pdf_bytes(), LoadOptions(cache_dir=tmp_path / "ocr"))


@pytest.mark.skipif(not HAVE_OCR, reason="needs tesseract-ocr and tesseract-ocr-kor (make ocr)")
def test_ocr_reads_korean_and_is_cached_per_page(tmp_path, monkeypatch):
    seen = []
    opts = LoadOptions(cache_dir=tmp_path / "ocr", on_progress=lambda what, f: seen.append(what))
    doc = load_bytes(tmp_path / "scan.pdf", F.scanned_pdf_bytes(), opts)
    assert "연구소의 새 이름은 한빛연구원이다." in doc.text
    assert [lab for _, lab in doc.sections] == ["1쪽 (OCR)", "2쪽 (OCR)"]
    assert seen[0] == "OCR 1/2쪽" and seen[-1] == "OCR 2/2쪽"
    assert len(list((tmp_path / "ocr").rglob("*.txt"))) == 2

    def no_ocr(*a, **k):
        raise AssertionError("OCR ran again")

    monkeypatch.setattr(pdf_mod, "ocr_page", no_ocr)
    assert load_bytes(tmp_path / "again.pdf", F.scanned_pdf_bytes(), opts).text == doc.text


@pytest.mark.skipif(not HAVE_OCR, reason="needs tesseract-ocr and tesseract-ocr-kor (make ocr)")
def test_ocr_progress_shows_and_pages_are_cached_under_the_data_dir(fake_kb, tmp_path):
    p = tmp_path / "scan.pdf"
    p.write_bytes(F.scanned_pdf_bytes())
    lines: list[str] = []
    report = fake_kb.ingest([p], progress=lambda st: lines.append(st.line()))
    assert report.added and any("scan.pdf OCR 1/2쪽" in ln for ln in lines), lines
    assert len(list((fake_kb.settings.data_dir / "ocr").rglob("*.txt"))) == 2


# -- hostile and broken files in a folder ----------------------------------------------------------------------

def _bad_files(folder: Path) -> dict[str, str]:
    """file name -> a word its failure reason must contain."""
    noori = NOORI.read_bytes()
    files = {
        "corrupt.hwp": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00garbage" * 500, "corrupt"),
        "truncated.hwp": (noori[:len(noori) // 2], "corrupt"),
        "corrupt.hwpx": (F.hwpx_bytes()[:300], "corrupt"),
        "corrupt.docx": (F.docx_bytes()[:2000], "corrupt"),
        "corrupt.pptx": (F.pptx_bytes()[:2000], "corrupt"),
        "corrupt.xlsx": (F.xlsx_bytes()[:1500], "corrupt"),
        "corrupt.pdf": (b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\n" + b"\x00" * 300, "PDF"),
        "bomb.hwpx": (F.zip_bomb("Contents/section0.xml", extra={"mimetype": b"application/hwp+zip"}), "zip bomb"),
        "bomb.docx": (F.zip_bomb("word/document.xml", extra={"[Content_Types].xml": b"<Types/>"}), "zip bomb"),
        "sheets.xlsx": (F.many_sheets_xlsx(2000), "2000 sheets"),
        "cells.xlsx": (F.million_cell_xlsx(), "1,000,010 cells"),
    }
    for name, (data, _) in files.items():
        (folder / name).write_bytes(data)
    return {name: reason for name, (_, reason) in files.items()}


def test_bad_files_get_reasons_and_the_rest_of_the_folder_is_ingested(fake_kb, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    expected = _bad_files(folder)
    shutil.copy(NOORI, folder / "noori.hwp")
    (folder / "plan.docx").write_bytes(F.docx_bytes())
    (folder / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    report = fake_kb.ingest([folder])
    seconds = time.perf_counter() - t0
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss) / 1024
    failed = {Path(f.path).name: f.reason for f in report.failed}
    assert sorted(Path(p).name for p in report.added) == ["noori.hwp", "plan.docx"]
    assert set(failed) == set(expected), failed
    for name, word in expected.items():
        assert word in failed[name], (name, failed[name])
    assert [Path(f.path).name for f in report.skipped] == ["photo.png"]
    assert "unsupported file type .png" in report.skipped[0].reason
    assert seconds < 120 and grown_mb < 400, (seconds, grown_mb)


# -- locations -------------------------------------------------------------------------------------------------

def test_chunk_locations_and_citation_location():
    from bot.indexing import chunk_locations
    from bot.retrieval import _locations
    from bot.types import Citation, Hit

    sections = ((0, "1쪽"), (100, "2쪽"), (150, "2쪽 · 표 1"), (300, "3쪽"))
    meta = chunk_locations(sections, 120, 320)
    assert meta["location"] == "2쪽"
    hit = Hit("c", "d", "t", "s", None, "x" * 200, 1.0, 120, 320, location=meta["location"],
              locations=_locations(meta["locations"]))
    assert [Citation(1, hit, "q", s, s + 1).location for s in (121, 160, 310)] == ["2쪽", "2쪽 · 표 1", "3쪽"]
    assert chunk_locations(sections, 0, 50) == {"location": "1쪽"}


def test_every_surface_shows_the_location():
    from bot import render
    from bot.types import Answer, Citation, Hit

    hit = Hit("c", "d", "보고서", "/x/plan.hwp", "2018-09-03", "누리가 선정되었다.", 1.0, 0, 10, location="1쪽 · <b>")
    a = Answer("answered", "새 이름은 누리입니다 [1].", [Citation(1, hit, "누리가 선정되었다.", 0, 10)])
    assert "보고서 · 1쪽 · <b>" in render.plain(a)
    assert "1쪽 · \\<b\\>" in render.markdown(a) or "1쪽 · &lt;b&gt;" in render.markdown(a)
    assert "1쪽 · &lt;b&gt;" in render.slack_sources(a)
    assert "1쪽 · &lt;b&gt;" in render.source_html(hit, a.citations[0])
    assert "1쪽" in render.source_choices(a)[0][0]
    assert any("1쪽 · <b>" in str(t) for t in render.rich_answer(a))


# -- answers from each format, cited with their location (real model) ------------------------------------------

@pytest.fixture(scope="module")
def formats_kb(tmp_path_factory, model_cache, real_encoder):
    from bot.api import KnowledgeBase
    from bot.config import Settings

    folder = tmp_path_factory.mktemp("formats")
    shutil.copy(NOORI, folder / "noori.hwp")
    (folder / "smartfarm.hwpx").write_bytes(F.hwpx_bytes())
    (folder / "it-plan.docx").write_bytes(F.docx_bytes())
    (folder / "launch.pptx").write_bytes(F.pptx_bytes())
    (folder / "sales.xlsx").write_bytes(F.xlsx_bytes())
    if HAVE_OCR:
        (folder / "institute.pdf").write_bytes(F.mixed_pdf_bytes())
    kb = KnowledgeBase.open(Settings(_env_file=None, data_dir=tmp_path_factory.mktemp("formats-index"),
                                     model_cache_dir=model_cache), encoder=real_encoder)
    report = kb.ingest([folder])
    assert report.ok and not report.warnings, report
    return kb


QUESTIONS = [
    ("noori.hwp", "누리호 총 길이는?", "47.2 m", "3쪽 · 표 5"),
    ("smartfarm.hwpx", "총 사업비는 얼마인가?", "4,870억원", "2쪽 · 표 1"),
    ("it-plan.docx", "2026년 정보화 예산은?", "312억원", "2.1 연도별 예산 · 표 1"),
    ("launch.pptx", "출시일은 언제인가?", "2025년 11월 20일", "슬라이드 3"),
    ("sales.xlsx", "부산지점의 2024년 매출은?", "8450", "시트 매출 3행"),
    ("institute.pdf", "연구소의 새 이름은?", "한빛연구원", "3쪽 (OCR)"),
]


@pytest.mark.slow
@pytest.mark.parametrize("name,question,answer,location", QUESTIONS, ids=[q[0] for q in QUESTIONS])
def test_each_format_answers_from_a_table_or_later_page_with_its_location(formats_kb, name, question, answer,
                                                                          location):
    if name.endswith(".pdf") and not HAVE_OCR:
        pytest.skip("needs tesseract-ocr and tesseract-ocr-kor (make ocr)")
    a = formats_kb.ask(question)
    assert a.status == "answered", a.text
    cited = [c for c in a.citations if Path(c.hit.source).name == name and answer in c.quote]
    assert cited, a.text
    assert location in (cited[0].location or ""), (cited[0].location, a.text)
    assert cited[0].location in a.text  # the plain rendering names it


@pytest.mark.slow
def test_noori_new_name_is_found_with_its_location(formats_kb):
    """`한국형발사체의 새 이름은?`: the top hit is the paragraph announcing 누리, on page 1."""
    hits = formats_kb.search("한국형발사체의 새 이름은?", k=3)
    assert "새로운 이름으로 “누리”가 선정되었다" in hits[0].text and hits[0].location == "1쪽"


@pytest.mark.slow
def test_noori_new_name_is_answered(formats_kb):
    """A question for a name gets a sentence that gives one beside the word 이름 or 명칭 (“누리”, ‘누리’로 결정), not
    the sentence about choosing a name, which names only what the question already says (한국형발사체)."""
    a = formats_kb.ask("한국형발사체의 새 이름은?")
    assert a.status == "answered" and a.support == "stated"
    assert re.search(r"(이름|명칭)\S*\s?[“‘]누리[”’]", a.body), a.body
    assert re.fullmatch(r"\d+쪽", a.citations[0].location or ""), a.citations[0].location  # the page it is on


def test_merged_cells_repeat_down_their_rows_and_values_carry_headers():
    from bot.loaders.base import grid_rows, table_lines

    cells = [(0, 0, 1, "구분"), (0, 1, 1, "항목"), (0, 2, 1, "금액"),
             (1, 0, 2, "인건비"), (1, 1, 1, "정규직"), (1, 2, 1, "100억원"),
             (2, 1, 1, "계약직"), (2, 2, 1, "50억원")]
    assert table_lines(grid_rows(cells)) == ["구분 | 항목 | 금액", "인건비 | 정규직 | 금액: 100억원",
                                             "인건비 | 계약직 | 금액: 50억원"]
    # a two-column table without a generic first label is label | value pairs, not a header
    pairs = [[(0, "과목명"), (1, "데이터베이스")], [(0, "학번"), (1, "200012345")], [(0, "이름"), (1, "홍길동")]]
    assert table_lines(pairs) == ["과목명 | 데이터베이스", "학번 | 200012345", "이름 | 홍길동"]


def test_hwpx_written_by_python_hwpx(tmp_path):
    doc = load_file(F.hwpx_library_bytes(tmp_path / "인건비.hwpx"))
    lines = doc.text.splitlines()
    assert "인건비 | 집행액: 80억원 | 인원: 계약직 95명" in lines  # the merged 인건비 cell stays with its second row
    assert "[각주] 2025년 6월 30일 기준 금액이다." in lines
    assert ("1쪽 · 표 1" in {lab for _, lab in doc.sections}) and "□ 인건비 집행 현황" in lines


@pytest.mark.parametrize("name", sorted(p.name for p in F.HWP_DIR.glob("*.hwp") if p.name != "outline.hwp"))
def test_hwp_and_its_hwpx_conversion_read_the_same(tmp_path, name):
    """python-hwpx converts HWP 5.0 to HWPX with its own HWP parser: kbot's HWP and HWPX readers must agree on
    the text of every shared sample (tables, captions, boxes, notes, 덧말 included)."""
    import io
    import zipfile

    from hwpx.hwp5.package import convert

    converted = convert((F.HWP_DIR / name).read_bytes())
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for part, body in converted.files.items():
            zf.writestr(part, body)
    via_hwpx = load_bytes(tmp_path / "converted.hwpx", buf.getvalue()).text
    assert " ".join(via_hwpx.split()) == " ".join(load_file(F.HWP_DIR / name).text.split())


def test_docx_text_boxes_are_read():
    import io

    import docx
    from docx.oxml import parse_xml

    d = docx.Document()
    d.add_paragraph("본문 첫 문단.")
    box = ('<w:r xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
           'xmlns:v="urn:schemas-microsoft-com:vml"><w:pict><v:shape><v:textbox><w:txbxContent><w:p><w:r>'
           '<w:t>글상자 안의 문장: 예산 45억원</w:t></w:r></w:p></w:txbxContent></v:textbox></v:shape></w:pict></w:r>')
    d.add_paragraph()._p.append(parse_xml(box))
    buf = io.BytesIO()
    d.save(buf)
    lines = load_bytes(Path("box.docx"), buf.getvalue()).text.splitlines()
    assert lines == ["본문 첫 문단.", "글상자 안의 문장: 예산 45억원"]

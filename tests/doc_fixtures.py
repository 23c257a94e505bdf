"""Documents of each format, written here with the libraries that write them (tests and scripts/bench_formats.py).

Each holds real-looking numbers, dates and tables; the answer a test asks for sits in a table or on a later page."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

HWP_DIR = Path(__file__).resolve().parents[2] / "shared" / "docs" / "hwp"
NANUM = Path("/usr/share/fonts/truetype/nanum/NanumGothic.ttf")

HP = "http://www.hancom.co.kr/hwpml/2011/paragraph"
HS = "http://www.hancom.co.kr/hwpml/2011/section"


def _hp(text: str, vpos: int = 0, page_break: bool = False) -> str:
    return (f'<hp:p paraPrIDRef="0" styleIDRef="0" pageBreak="{int(page_break)}"><hp:run charPrIDRef="0">'
            f'<hp:t>{escape(text)}</hp:t></hp:run><hp:linesegarray><hp:lineseg textpos="0" vertpos="{vpos}"/>'
            f'</hp:linesegarray></hp:p>')


def _hp_table(rows: list[list[str]], vpos: int) -> str:
    trs = []
    for r, row in enumerate(rows):
        tcs = "".join(f'<hp:tc><hp:subList>{_hp(cell)}</hp:subList><hp:cellAddr colAddr="{c}" rowAddr="{r}"/>'
                      f'<hp:cellSpan colSpan="1" rowSpan="1"/></hp:tc>' for c, cell in enumerate(row))
        trs.append(f"<hp:tr>{tcs}</hp:tr>")
    return (f'<hp:p paraPrIDRef="0" styleIDRef="0" pageBreak="0"><hp:run charPrIDRef="0">'
            f'<hp:tbl rowCnt="{len(rows)}" colCnt="{len(rows[0])}">{"".join(trs)}</hp:tbl><hp:t/></hp:run>'
            f'<hp:linesegarray><hp:lineseg textpos="0" vertpos="{vpos}"/></hp:linesegarray></hp:p>')


def hwpx_bytes() -> bytes:
    """A two-page HWPX report: the budget table on page 2, under the heading "□ 사업 예산"."""
    page1 = [_hp("2025년 스마트농업 실증사업 추진 계획", 0), _hp("□ 추진 배경", 1600),
             _hp("농촌 고령화로 노동력이 부족하여 자동화 설비 보급이 시급하다.", 3200),
             _hp("2024년 시범사업에서 참여 농가의 생산성이 평균 18% 높아졌다.", 4800)]
    page2 = [_hp("□ 사업 예산", 0, page_break=True),
             _hp_table([["구분", "금액", "비고"], ["총 사업비", "4,870억원", "국비 70%"],
                        ["스마트팜 보급", "2,950억원", "1,200개 농가"],
                        ["사업 기간", "2025. 3. 1. ~ 2027. 2. 28.", ""]], 1600),
             _hp("세부 집행 계획은 상반기 중 확정한다.", 9000)]
    section = (f'<?xml version="1.0" encoding="UTF-8"?><hs:sec xmlns:hs="{HS}" xmlns:hp="{HP}">'
               + "".join(page1 + page2) + "</hs:sec>")
    hpf = ('<?xml version="1.0" encoding="UTF-8"?><opf:package xmlns:opf="http://www.idpf.org/2007/opf/">'
           '<opf:metadata><opf:title>스마트농업 실증사업 추진 계획</opf:title>'
           '<opf:meta name="creator" content="text">농림축산식품부</opf:meta>'
           '<opf:meta name="ModifiedDate" content="text">2025-02-14T09:00:00Z</opf:meta></opf:metadata>'
           '<opf:manifest><opf:item id="section0" href="Contents/section0.xml" media-type="application/xml"/>'
           '</opf:manifest></opf:package>')
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), "application/hwp+zip")  # stored, first, as OCF requires
        zf.writestr("version.xml", '<?xml version="1.0"?><hv:HCFVersion xmlns:hv="x" major="5" minor="1"/>')
        zf.writestr("Contents/content.hpf", hpf, zipfile.ZIP_DEFLATED)
        zf.writestr("Contents/header.xml", '<?xml version="1.0"?><hh:head xmlns:hh="x"/>', zipfile.ZIP_DEFLATED)
        zf.writestr("Contents/section0.xml", section, zipfile.ZIP_DEFLATED)
        zf.writestr("META-INF/container.xml", '<?xml version="1.0"?><container/>', zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def hwpx_library_bytes(path: Path) -> Path:
    """An HWPX written by python-hwpx: a heading, a footnote, and a table whose category cell spans two rows."""
    from hwpx import HwpxDocument

    doc = HwpxDocument.new()
    doc.add_paragraph("□ 인건비 집행 현황")
    p = doc.add_paragraph("2025년 인건비 집행액은 아래 표와 같다.")
    doc.notes.add_footnote("2025년 6월 30일 기준 금액이다.", p)
    table = doc.add_table(4, 3)
    for r, row in enumerate([["구분", "집행액", "인원"], ["인건비", "120억원", "정규직 310명"],
                             ["", "80억원", "계약직 95명"], ["합계", "200억원", "405명"]]):
        for c, value in enumerate(row):
            table.set_cell_text(r, c, value)
    table.merge_cells(1, 0, 2, 0)
    doc.add_paragraph("집행 잔액은 하반기에 배정한다.")
    doc.save_to_path(path)
    return path


def docx_bytes(paragraphs: int = 0) -> bytes:
    """A Word report: headings 1/2, a budget table under "2.1 연도별 예산" (`paragraphs` filler paragraphs more)."""
    import docx

    d = docx.Document()
    d.core_properties.title = "2026년 정보화 사업 계획"
    d.core_properties.author = "디지털정책과"
    d.add_heading("1. 개요", level=1)
    d.add_paragraph("이 계획은 2026년 정보화 사업의 목표와 예산을 정한다. 전 부서가 함께 추진한다.")
    for i in range(paragraphs):
        d.add_paragraph(f"{i + 1}번째 세부 과제는 업무 시스템 {i % 40}종을 클라우드로 옮기고 2026년 {i % 12 + 1}월까지 "
                        f"검증을 마친다. 소요 인력은 {i % 9 + 3}명이며 예산은 {(i * 37) % 900 + 100}백만원이다.")
    d.add_heading("2. 예산", level=1)
    d.add_heading("2.1 연도별 예산", level=2)
    d.add_paragraph("연도별 예산은 아래 표와 같다.")
    table = d.add_table(rows=4, cols=3)
    for r, row in enumerate([["연도", "정보화 예산", "증감률"], ["2025년", "284억원", "3.1%"],
                             ["2026년", "312억원", "9.9%"], ["2027년", "330억원", "5.8%"]]):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    d.add_heading("3. 추진 일정", level=1)
    d.add_paragraph("착수 보고회는 2026년 1월 15일에 연다.")
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def pptx_bytes() -> bytes:
    """Four slides; the launch date sits in a table on slide 3, with speaker notes."""
    from pptx import Presentation
    from pptx.util import Inches

    prs = Presentation()
    prs.core_properties.title = "신제품 출시 전략"
    layout = prs.slide_layouts[5]  # title only
    s = prs.slides.add_slide(prs.slide_layouts[0])
    s.shapes.title.text = "신제품 출시 전략"
    s.placeholders[1].text = "2025년 3분기 경영회의"
    s = prs.slides.add_slide(layout)
    s.shapes.title.text = "시장 현황"
    box = s.shapes.add_textbox(Inches(1), Inches(2), Inches(8), Inches(2))
    box.text_frame.text = "국내 무선 이어폰 시장은 연 12% 성장하고 있다."
    s = prs.slides.add_slide(layout)
    s.shapes.title.text = "출시 일정"
    rows = [["항목", "내용"], ["출시일", "2025년 11월 20일"], ["출고가", "189,000원"], ["초도 물량", "50,000대"]]
    table = s.shapes.add_table(len(rows), 2, Inches(1), Inches(2), Inches(8), Inches(3)).table
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    s.notes_slide.notes_text_frame.text = "출시 행사는 서울 코엑스에서 연다."
    s = prs.slides.add_slide(layout)
    s.shapes.title.text = "위험 요인"
    box = s.shapes.add_textbox(Inches(1), Inches(2), Inches(8), Inches(2))
    box.text_frame.text = "부품 공급이 늦어지면 출시가 한 달 밀릴 수 있다."
    buf = io.BytesIO()
    prs.save(buf)
    return buf.getvalue()


def xlsx_bytes() -> bytes:
    """Two sheets: 매출 (header row, a SUM formula with its cached value) and 인원 (a merged category cell)."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "매출"
    ws.append(["지점", "2024년 매출", "담당자", "개점일"])
    from datetime import date

    ws.append(["서울지점", 12300, "이지은", date(2015, 4, 1)])
    ws.append(["부산지점", 8450, "김민수", date(2018, 9, 17)])
    ws.append(["광주지점", 5120, "박서준", date(2021, 3, 2)])
    ws.append(["합계", "=SUM(B2:B4)", "", None])
    ws2 = wb.create_sheet("인원")
    ws2.append(["부문", "팀", "인원"])
    ws2.append(["영업", "국내영업팀", 14])
    ws2.append([None, "해외영업팀", 9])
    ws2.merge_cells("A2:A3")
    ws2.append(["연구", "AI연구팀", 22])
    buf = io.BytesIO()
    wb.save(buf)
    return _with_cached_value(buf.getvalue(), "xl/worksheets/sheet1.xml", "SUM(B2:B4)", "25870")


def _with_cached_value(data: bytes, member: str, formula: str, value: str) -> bytes:
    """openpyxl writes formulas without results; Excel stores the last result beside each: add it."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == member:
                text = body.decode()
                assert f"<f>{formula}</f><v></v>" in text or f"<f>{formula}</f><v />" in text, text[-600:]
                text = text.replace(f"<f>{formula}</f><v></v>", f"<f>{formula}</f><v>{value}</v>")
                text = text.replace(f"<f>{formula}</f><v />", f"<f>{formula}</f><v>{value}</v>")
                body = text.encode()
            zf.writestr(info.filename, body)
    return out.getvalue()


def scanned_pdf_bytes(pages: list[list[str]] | None = None) -> bytes:
    """A PDF of page images of Korean text (no text layer), drawn with NanumGothic: what a scanner makes."""
    from PIL import Image, ImageDraw, ImageFont

    pages = pages or [
        ["연구소 운영 보고서", "2024년 한 해 동안 연구소는", "열두 건의 과제를 마쳤다."],
        ["두 번째 쪽: 기관 명칭 변경", "연구소의 새 이름은 한빛연구원이다.", "새 이름은 내년부터 쓴다."],
    ]
    font = ImageFont.truetype(str(NANUM), 44)
    images = []
    for lines in pages:
        img = Image.new("L", (1654, 2339), 255)  # A4 at 200 dpi
        draw = ImageDraw.Draw(img)
        for i, line in enumerate(lines):
            draw.text((150, 200 + i * 90), line, font=font, fill=0)
        images.append(img.convert("RGB"))
    buf = io.BytesIO()
    images[0].save(buf, "PDF", resolution=200.0, save_all=True, append_images=images[1:])
    return buf.getvalue()


def text_pdf_bytes(text: str) -> bytes:
    """A one-page PDF with a text layer showing `text` (ASCII) in Helvetica."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R >> >> >>",
            b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for i, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


def mixed_pdf_bytes() -> bytes:
    """Page 1 with a text layer, pages 2-3 scanned."""
    from pypdf import PdfReader, PdfWriter

    w = PdfWriter()
    for data in (text_pdf_bytes("Annual report of the research institute, year 2024, with twelve projects."),
                 scanned_pdf_bytes()):
        for page in PdfReader(io.BytesIO(data)).pages:
            w.add_page(page)
    buf = io.BytesIO()
    w.write(buf)
    return buf.getvalue()


def zip_bomb(member: str, mb: int = 300, extra: dict[str, bytes] | None = None) -> bytes:
    """A zip whose `member` inflates to `mb` MB of zeros (about 0.3 MB compressed), beside small `extra` members."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, body in (extra or {}).items():
            zf.writestr(name, body)
        with zf.open(member, "w", force_zip64=True) as fh:
            block = b"\0" * 2**20
            for _ in range(mb):
                fh.write(block)
    return buf.getvalue()


def many_sheets_xlsx(sheets: int = 2000) -> bytes:
    """A workbook of `sheets` tiny sheets, written as the OOXML parts directly (openpyxl takes a minute)."""
    buf = io.BytesIO()
    ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
                    'package/2006/content-types"/>')
        zf.writestr("xl/workbook.xml", f'<?xml version="1.0"?><workbook xmlns="{ns}" xmlns:r="{rel}"><sheets>'
                    + "".join(f'<sheet name="S{i}" sheetId="{i}" r:id="rId{i}"/>' for i in range(1, sheets + 1))
                    + "</sheets></workbook>")
        for i in range(1, sheets + 1):
            zf.writestr(f"xl/worksheets/sheet{i}.xml", f'<?xml version="1.0"?><worksheet xmlns="{ns}">'
                        f'<dimension ref="A1"/><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>{i}</t></is></c>'
                        f'</row></sheetData></worksheet>')
    return buf.getvalue()


def million_cell_xlsx(rows: int = 100_001, cols: int = 10) -> bytes:
    """One sheet of rows x cols numbers (1,000,010 cells by default), streamed into the zip."""
    import openpyxl

    base = io.BytesIO()
    wb = openpyxl.Workbook()
    wb.active.title = "data"
    wb.save(base)
    src = zipfile.ZipFile(io.BytesIO(base.getvalue()))
    ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    last = chr(ord("A") + cols - 1)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for info in src.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                zf.writestr(info.filename, src.read(info.filename))
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
            fh.write(f'<?xml version="1.0"?><worksheet xmlns="{ns}"><dimension ref="A1:{last}{rows}"/>'
                     f"<sheetData>".encode())
            for r in range(1, rows + 1):
                cells = "".join(f'<c r="{chr(65 + c)}{r}"><v>{r * c}</v></c>' for c in range(cols))
                fh.write(f'<row r="{r}">{cells}</row>'.encode())
            fh.write(b"</sheetData></worksheet>")
    return out.getvalue()

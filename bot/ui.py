"""The Gradio web UI: chat with cited sources, documents and uploads, the cost calculator. A thin layer over the facade.

`kbot ui` (and `make run`) serve it on KBOT_HOST:KBOT_PORT (127.0.0.1:7860). The model and the index are loaded once
per process; Gradio's queue answers KBOT_UI_CONCURRENCY questions at a time.
"""

import logging
import os
import shutil
import threading
from pathlib import Path

from . import render
from .api import KnowledgeBase
from .errors import KbotError, user_message
from .filters import describe
from .types import Answer

log = logging.getLogger(__name__)
UPLOAD_TYPES = [".txt", ".md", ".html", ".htm", ".pdf", ".hwp", ".hwpx", ".docx", ".pptx", ".xlsx"]
CSS = """
.kbot-source mark { background: #ffe066; padding: 0 2px; }
.kbot-source .meta { color: #666; font-size: 0.9em; }
.kbot-source .chunk { white-space: pre-wrap; line-height: 1.6; }
footer { display: none !important; }
"""


# -- rendering (pure; answers and sources go through bot/render.py) ------------------------------------------
def pick_source(answer: Answer | None, value: str | None) -> str:
    """The source panel's HTML for a `render.source_choices` value."""
    found = render.source_for(answer, value)
    return render.source_html(*found) if found else ""


def status_line(kb: KnowledgeBase) -> str:
    s = kb.stats()
    return (f"**답변** {kb.backend} · **임베딩** {s['embedding_model']} · **문서** {s['documents']}개 · "
            f"**청크** {s['chunks']}개")


def filter_choices(kb: KnowledgeBase) -> tuple[list[str], list[tuple[str, str]]]:
    """The chat tab's filter choices: the index's publishers, and its documents as (title, doc id)."""
    if kb.store.count() == 0:
        return [], []
    titles = kb.titles()  # the in-memory table: no pass over the store on every page load
    return kb.publishers(), sorted(((t or d, d) for d, t in titles.items()), key=lambda x: x[0])


def chat_filters(since: str | None, until: str | None, publishers: list | None, docs: list | None):
    """The chat tab's controls as Filters (None when nothing is chosen); a bad date is a FilterError."""
    from .types import Filters

    f = Filters(date_from=(since or "").strip() or None, date_to=(until or "").strip() or None,
                publishers=publishers or (), docs=docs or ())
    return None if f.empty else f


def documents_table(kb: KnowledgeBase) -> list[list]:
    return [[d["title"], d["publisher"] or "", d["published"] or "", d["chunks"],
             d["source"] if d.get("url") else Path(d["source"]).name] for d in kb.documents()]


def describe_report(report) -> str:
    esc = render.md_escape  # file names and reasons are data: "<img src=x>.md" shows as text
    lines = [f"색인 완료: {esc(report.summary())}"]
    lines += [f"- 추가: {esc(Path(p).name)}" for p in report.added]
    lines += [f"- 갱신: {esc(Path(p).name)}" for p in report.updated]
    lines += [f"- 변경 없음: {esc(Path(p).name)}" for p in report.unchanged]
    lines += [f"- ⚠️ 실패: {esc(Path(f.path).name)} — {esc(f.reason)}" for f in report.failed]
    lines += [f"- 건너뜀: {esc(Path(f.path).name)} — {esc(f.reason)}" for f in report.skipped]
    lines += [f"- ⚠️ 주의: {esc(Path(f.path).name)} — {esc(f.reason)}" for f in report.warnings]
    return "\n".join(lines)


MAX_URLS = 50  # per submission from the web UI: a shared server fetches them one after another


def ingest_urls(kb: KnowledgeBase, text: str, progress=None) -> str:
    """Ingest the URLs typed into the documents tab (one a line) and say, per URL, what happened (Markdown)."""
    from .fetch import parse_url_list

    urls = parse_url_list(text or "")
    if not urls:
        return "웹 주소를 한 줄에 하나씩 넣어 주세요. 예: https://www.example.com/news/123"
    if len(urls) > MAX_URLS:
        return f"⚠️ 한 번에 {MAX_URLS}개 주소까지 넣을 수 있습니다. 나누어 넣어 주세요."
    try:
        report = kb.ingest(urls=urls, progress=progress)
    except KbotError as e:
        log.warning("URL ingest failed: %s (hint: %s)", e, e.hint)
        return f"⚠️ {render.md_escape(e.user_message)}"
    return describe_urls(report)


def describe_urls(report) -> str:
    """Each URL's outcome; URLs and reasons are data (escaped, never live links here)."""
    esc = render.md_escape
    outcome = [("추가", report.added), ("갱신", report.updated), ("변경 없음", report.unchanged)]
    lines = [f"- {label}: {esc(u)}" for label, items in outcome for u in items]
    lines += [f"- ⚠️ 실패: {esc(f.path)} — {esc(f.user_reason or f.reason)}" for f in report.failed]
    done = len(report.added) + len(report.updated) + len(report.unchanged)
    head = f"웹 주소 {done + len(report.failed)}개 중 {done}개를 색인했습니다"
    head += f" (실패 {len(report.failed)}개)." if report.failed else "."
    return "\n".join([head, *lines])


# -- first run ------------------------------------------------------------------------------------------------
NOT_INDEXED = "아직 색인된 문서가 없습니다. '문서' 탭에서 파일을 올려 색인한 뒤 다시 질문해 주세요."


class FirstRun:
    """Indexes KBOT_CORPUS_DIR once, in the background, when the index is empty; pages and questions wait on it."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.status = None  # the latest IngestStatus
        self.error: str | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._done = threading.Event()

    def start(self) -> None:
        with self._lock:
            if self._thread is not None or self._done.is_set():
                return
            corpus = self.kb.settings.corpus_dir
            if self.kb.store.count() or not corpus.is_dir():
                self._done.set()
                return
            self._thread = threading.Thread(target=self._run, args=(corpus,), name="kbot-first-run", daemon=True)
            self._thread.start()

    def _run(self, corpus: Path) -> None:
        try:
            self.kb.ingest([corpus], progress=self._update)
        except Exception as e:  # shown to whoever waits; the server keeps running
            log.exception("first-run indexing of %s failed", corpus)
            self.error = str(e) if isinstance(e, KbotError) else type(e).__name__
        finally:
            self._done.set()

    def _update(self, status) -> None:
        self.status = status

    @property
    def running(self) -> bool:
        return self._thread is not None and not self._done.is_set()

    def wait(self, seconds: float) -> bool:
        return self._done.wait(seconds)

    def describe(self) -> str:
        corpus = self.kb.settings.corpus_dir
        figures = self.status.korean() if self.status is not None else "파일 읽는 중"
        return f"처음 실행: {corpus.name}/ 문서를 색인하는 중입니다 ({figures})."


# -- the app --------------------------------------------------------------------------------------------------
def build_ui(kb: KnowledgeBase, job: FirstRun | None = None):
    """The Blocks app over `kb` (not launched)."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    import gradio as gr

    from . import cost
    from .numerals import parse_number

    job = job or FirstRun(kb)

    def first_run(progress=gr.Progress()):
        job.start()
        while not job.wait(0.5):
            progress(job.status.fraction if job.status else 0.0, desc=job.describe())
        return status_line(kb), documents_table(kb)

    def respond(message: str, chat: list, answers: list, since: str | None = None, until: str | None = None,
                publishers: list | None = None, docs: list | None = None):
        message = (message or "").strip()
        if not message:
            yield chat, answers, gr.update(), gr.update(), ""
            return
        history = [(role, text) for a in answers for role, text in (("user", a["question"]),
                                                                     ("assistant", render.plain(a["answer"])))]
        chat = chat + [{"role": "user", "content": render.md_escape(message)}, {"role": "assistant", "content": "…"}]
        yield chat, answers, gr.update(choices=[], value=None), "", ""
        while job.running:  # asked during the first-run indexing: wait for it, showing how far it is
            chat[-1]["content"] = f"⏳ {job.describe()} 끝나면 바로 답합니다."
            yield chat, answers, gr.update(), gr.update(), ""
            job.wait(1.0)
        if kb.store.count() == 0:
            chat[-1]["content"] = f"⚠️ {NOT_INDEXED}"
            yield chat, answers, gr.update(), gr.update(), ""
            return
        answer, streamed = None, ""
        try:
            filters = chat_filters(since, until, publishers, docs)
            for event in kb.stream(message, history=history, **({"filters": filters} if filters else {})):
                if isinstance(event, Answer):
                    answer = event
                else:
                    streamed += event
                    chat[-1]["content"] = render.md_escape(streamed)  # model/document text: inert
                    yield chat, answers, gr.update(), gr.update(), ""
        except Exception as e:  # the user reads what to do next (Korean); the operator's hint goes to the log
            from .llm import model_failure

            e = model_failure(e) or e  # a model server's own error text may echo the API key: never log it
            if isinstance(e, KbotError):
                log.warning("answering failed: %s (hint: %s)", e, e.hint)
            else:
                log.error("answering failed: %s", type(e).__name__, exc_info=e)
            chat[-1]["content"] = f"⚠️ {render.md_escape(user_message(e))}"
            yield chat, answers, gr.update(), gr.update(), ""
            return
        scope = f"*검색 조건: {render.md_escape(describe(filters))}*\n\n" if filters else ""
        chat[-1]["content"] = scope + render.markdown(answer)
        answers = answers + [{"index": len(chat) - 1, "question": message, "answer": answer}]
        choices = render.source_choices(answer)
        first = choices[0][1] if choices else None
        yield chat, answers, gr.update(choices=choices, value=first), pick_source(answer, first), ""

    def refresh_filters():
        publishers, docs = filter_choices(kb)
        return gr.update(choices=publishers), gr.update(choices=docs)

    def show_source(value: str | None, answers: list) -> str:
        return pick_source(answers[-1]["answer"] if answers else None, value)

    def feedback(answers: list, data: gr.LikeData):
        index = data.index[0] if isinstance(data.index, (list, tuple)) else data.index
        for a in answers:
            if a["index"] == index:
                kb.record_feedback(a["question"], a["answer"], bool(data.liked), channel="ui")
                gr.Info("피드백을 저장했습니다. 감사합니다!")
                return

    def upload(files: list | None, progress=gr.Progress()):
        if not files:
            return "올릴 파일을 먼저 선택하세요.", gr.update(), gr.update()
        folder = kb.settings.data_dir / "uploads"
        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        for f in files:
            src = Path(f if isinstance(f, str) else f.name)
            dest = folder / src.name
            shutil.copyfile(src, dest)
            paths.append(dest)
        progress(0, desc="읽는 중…")
        job.start()
        while not job.wait(0.5):  # one writer at a time: the first-run indexing finishes first
            progress(0, desc=job.describe())
        try:
            report = kb.ingest(paths, progress=lambda st: progress(st.fraction, desc=st.korean()))
        except KbotError as e:
            log.warning("upload failed: %s (hint: %s)", e, e.hint)
            return f"⚠️ {render.md_escape(e.user_message)}", gr.update(), gr.update()
        return describe_report(report), documents_table(kb), status_line(kb)

    def add_urls(text: str, progress=gr.Progress()):
        progress(0, desc="페이지를 가져오는 중…")
        job.start()
        while not job.wait(0.5):  # one writer at a time: the first-run indexing finishes first
            progress(0, desc=job.describe())
        result = ingest_urls(kb, text, progress=lambda st: progress(st.fraction, desc=st.korean()))
        return result, documents_table(kb), status_line(kb)

    def calc(fn, *args) -> str:
        try:
            result = fn(*args)
        except cost.CostInputError as e:
            return f"⚠️ 입력을 확인하세요: {e.user_message}"
        except ValueError:  # parse_number's reason is English: tell the user how to write a number instead
            return "⚠️ 입력을 확인하세요: 숫자를 읽지 못했습니다. 예: 1750억, 175B, 500만, 3M처럼 적어 주세요."
        return render.cost_table(kb.cost_answer(result))

    def number(text: str) -> float:
        text = (text or "").strip()
        if not text:
            raise cost.CostInputError("값이 비어 있습니다. 숫자를 적어 주세요 (예: 1750억, 500만).")
        return parse_number(text)

    with gr.Blocks(title="kbot", analytics_enabled=False) as demo:
        gr.Markdown("## kbot — AI 산업 기사 지식베이스")
        status = gr.Markdown("불러오는 중…", elem_id="kbot-status")
        with gr.Tab("대화", id="chat"):
            answers = gr.State([])
            with gr.Row():
                with gr.Column(scale=3):
                    chatbot = gr.Chatbot(label="대화", height=520, elem_id="kbot-chat",
                                         feedback_options=("Like", "Dislike"))
                    with gr.Row():
                        box = gr.Textbox(placeholder="질문을 입력하세요 (예: 크리에이트 요금제는 얼마야?)",
                                         show_label=False, scale=5, elem_id="kbot-question")
                        send = gr.Button("보내기", variant="primary", scale=1, elem_id="kbot-send")
                    with gr.Accordion("검색 조건 (기간·발행처·문서)", open=False, elem_id="kbot-filters"):
                        gr.Markdown("조건을 고르면 그 문서에서만 찾습니다. 기간을 정하면 날짜가 없는 문서는 빠집니다.")
                        with gr.Row():
                            since = gr.Textbox(value="", label="시작일", elem_id="kbot-since",
                                               placeholder="예: 2023-01-01 (또는 2023-01, 2023)")
                            until = gr.Textbox(value="", label="종료일", placeholder="예: 2024-12-31",
                                               elem_id="kbot-until")
                        with gr.Row():
                            publisher = gr.Dropdown(choices=[], value=[], multiselect=True, label="발행처",
                                                    elem_id="kbot-publisher")
                            doc = gr.Dropdown(choices=[], value=[], multiselect=True, label="문서",
                                              elem_id="kbot-doc")
                with gr.Column(scale=2):
                    gr.Markdown("### 출처")
                    sources = gr.Radio(choices=[], label="인용 [n]을 눌러 원문 보기", elem_id="kbot-sources")
                    source_view = gr.HTML(elem_id="kbot-source-view")
        with gr.Tab("문서", id="docs"):
            table = gr.Dataframe(headers=["제목", "발행처", "날짜", "청크", "파일 / 주소"], interactive=False,
                                 elem_id="kbot-docs")
            files = gr.File(label="txt md html pdf hwp hwpx docx pptx xlsx 올리기", file_count="multiple",
                            file_types=UPLOAD_TYPES, elem_id="kbot-upload")
            ingest_btn = gr.Button("색인하기", elem_id="kbot-ingest")
            ingest_out = gr.Markdown(elem_id="kbot-ingest-result")
            url_box = gr.Textbox(label="웹 페이지 주소 (한 줄에 하나)", lines=3, elem_id="kbot-urls",
                                 placeholder="https://www.example.com/news/123")
            url_btn = gr.Button("주소 색인하기", elem_id="kbot-ingest-urls")
            url_out = gr.Markdown(elem_id="kbot-urls-result")
        with gr.Tab("계산기", id="calc"):
            with gr.Accordion("API 요금 (2020 GPT-3 요금제)", open=True):
                with gr.Row():
                    plan = gr.Dropdown(["explore", "create", "build"], value="create", label="요금제")
                    tokens = gr.Textbox(label="월 토큰 수", placeholder="예: 500만, 3M", elem_id="calc-tokens")
                plan_btn = gr.Button("요금 계산", elem_id="calc-plan")
            with gr.Accordion("모델 메모리와 GPU 수", open=True):
                with gr.Row():
                    params = gr.Textbox(label="파라미터 수", placeholder="예: 1750억, 175B", elem_id="calc-params")
                    precision = gr.Dropdown(["fp32", "fp16", "bf16", "int8", "int4"], value="fp16", label="정밀도")
                    gpu = gr.Dropdown(sorted(cost.GPUS), value="V100-32GB", label="GPU")
                mem_btn = gr.Button("GPU 수 계산", elem_id="calc-gpus")
            with gr.Accordion("학습 연산량 (6·N·D)", open=True):
                with gr.Row():
                    n_params = gr.Textbox(label="N: 파라미터 수", placeholder="예: 70억", elem_id="calc-n")
                    d_tokens = gr.Textbox(label="D: 학습 토큰 수", placeholder="예: 1조", elem_id="calc-d")
                flops_btn = gr.Button("FLOPs 계산", elem_id="calc-flops")
            calc_out = gr.Markdown(elem_id="calc-result")

        outputs = [chatbot, answers, sources, source_view, box]
        inputs = [box, chatbot, answers, since, until, publisher, doc]
        send.click(respond, inputs, outputs, api_name="ask")
        box.submit(respond, inputs, outputs, api_visibility="private")
        for dropdown in (publisher, doc):  # documents uploaded since the page loaded show up when it opens
            dropdown.focus(refresh_filters, None, [publisher, doc], api_visibility="private")
        sources.change(show_source, [sources, answers], source_view)
        chatbot.like(feedback, [answers], None)
        ingest_btn.click(upload, [files], [ingest_out, table, status])
        url_btn.click(add_urls, [url_box], [url_out, table, status])
        plan_btn.click(lambda p, t: calc(lambda: cost.plan_monthly_cost(p, number(t))), [plan, tokens], calc_out)
        mem_btn.click(lambda n, p, g: calc(lambda: _gpus(cost, number(n), p, g)), [params, precision, gpu],
                      calc_out)
        flops_btn.click(lambda n, d: calc(lambda: cost.training_flops(number(n), number(d))), [n_params, d_tokens],
                        calc_out)
        demo.load(first_run, None, [status, table]).then(refresh_filters, None, [publisher, doc],
                                                          api_visibility="private")
    demo.queue(default_concurrency_limit=kb.settings.ui_concurrency)
    return demo


def _gpus(cost, params: float, precision: str, gpu: str):
    from dataclasses import replace

    mem = cost.model_memory(params, precision)
    gpus = cost.gpus_needed(mem.value, gpu)
    return replace(gpus, formula=f"{mem.formula}; {gpus.formula}", assumptions=mem.assumptions + gpus.assumptions,
                   sources=mem.sources + gpus.sources)


def serve(kb: KnowledgeBase, *, block: bool = True):
    """Launch on KBOT_HOST:KBOT_PORT; no share links. Returns the Blocks app (already running unless `block`)."""
    import gradio as gr

    job = FirstRun(kb)
    job.start()  # index an empty data dir from process start, not from the first page load
    demo = build_ui(kb, job)
    kb.warm()
    demo.launch(server_name=kb.settings.host, server_port=kb.settings.port, share=False, inbrowser=False,
                prevent_thread_lock=not block, show_error=False, quiet=True, css=CSS,
                theme=gr.themes.Soft(font=["NanumGothic", "Noto Sans KR", "sans-serif"],
                                     font_mono=["NanumGothicCoding", "monospace"]))
    return demo

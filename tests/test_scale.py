"""Ingest at scale: progress figures, big files (size limit, resuming inside a file), encoder variants, symlinks."""

import io
import os

import numpy as np
import pytest
from fakes import FakeEncoder

from bot.api import KnowledgeBase
from bot.config import DEFAULT_EMBEDDING_MODEL
from bot.errors import ModelMismatchError
from bot.progress import IngestStatus, PlainProgress

LINE = "{i}번째 문단에서 GPU {i}장의 가격은 약 {i},000달러로 알려졌고 전력은 {i}kW를 쓴다고 한다."


def _big_text(lines: int) -> str:
    return "\n".join(LINE.format(i=i) for i in range(lines)) + "\n"


class CrashingEncoder(FakeEncoder):
    """Dies (like a SIGKILL would) after `batches` encode calls."""

    def __init__(self, batches: int) -> None:
        super().__init__()
        self.batches = batches

    def encode_passages(self, texts, batch_size=None):
        if self.batches == 0:
            raise KeyboardInterrupt("killed")
        self.batches -= 1
        return super().encode_passages(texts, batch_size)


def test_a_big_file_resumes_inside_the_file(make_settings, tmp_path):
    big = tmp_path / "big.txt"
    big.write_text(_big_text(600), encoding="utf-8")
    settings = make_settings(chunk_size=200, ingest_batch=32)
    with pytest.raises(KeyboardInterrupt):
        KnowledgeBase.open(settings, encoder=CrashingEncoder(batches=3)).ingest([big])

    enc = FakeEncoder()
    kb = KnowledgeBase.open(settings, encoder=enc)
    statuses: list[IngestStatus] = []
    report = kb.ingest([big], progress=lambda st: statuses.append(IngestStatus(**vars(st))))
    total = kb.store.count()
    assert report.ok and total > 200
    assert report.chunks_embedded == total - 3 * 32  # the three committed batches were kept, not re-embedded
    # progress within the file: the current file and its chunk count, growing
    inside = [s for s in statuses if s.current == "big.txt" and 0 < s.current_done < s.current_total]
    assert len(inside) >= 3 and inside[-1].current_total == total
    assert "big.txt" in inside[-1].line() and "%" in inside[-1].line()
    assert statuses[-1].finished and statuses[-1].files_done == 1
    # the result equals a clean run
    clean = KnowledgeBase.open(make_settings(chunk_size=200, ingest_batch=32, data_dir=tmp_path / "clean"),
                               encoder=FakeEncoder())
    clean.ingest([big])
    got = {c.chunk_id: (c.text, c.metadata["content_hash"]) for c in kb.store.iter_all(include_documents=True)}
    want = {c.chunk_id: (c.text, c.metadata["content_hash"]) for c in clean.store.iter_all(include_documents=True)}
    assert got == want
    assert kb.ingest([big]).chunks_embedded == 0


def test_max_file_size_rejects_with_a_clear_message(make_settings, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "big.txt").write_text(_big_text(30000), encoding="utf-8")  # about 2.6 MB
    (folder / "small.txt").write_text(_big_text(3), encoding="utf-8")
    kb = KnowledgeBase.open(make_settings(max_file_mb=1), encoder=FakeEncoder())
    report = kb.ingest([folder])
    assert [f.path for f in report.failed] == [str(folder / "big.txt")]
    assert "MB" in report.failed[0].reason and "KBOT_MAX_FILE_MB" in report.failed[0].reason
    assert len(report.added) == 1
    # off by default
    kb2 = KnowledgeBase.open(make_settings(data_dir=tmp_path / "d2", chunk_size=2000), encoder=FakeEncoder())
    assert kb2.ingest([folder / "big.txt"]).ok


def test_a_big_file_shows_progress_while_its_sentences_are_split(make_settings, tmp_path):
    big = tmp_path / "big.txt"
    big.write_text(_big_text(16000), encoding="utf-8")  # over a million characters: split in segments
    out = io.StringIO()
    kb = KnowledgeBase.open(make_settings(chunk_size=2000), encoder=FakeEncoder())
    assert kb.ingest([big], progress=PlainProgress(interval=0, stream=out)).ok
    lines = out.getvalue().splitlines()
    splitting = [ln for ln in lines if "big.txt splitting sentences" in ln]
    first_embedded = next(i for i, ln in enumerate(lines) if " 0 chunks embedded" not in ln)
    # before the first chunk is embedded, the run already says how far into the file it is, and it moves
    assert len(splitting) >= 4 and all(lines.index(ln) < first_embedded for ln in splitting)
    percents = [int(ln.rsplit(" ", 1)[1].rstrip("%")) for ln in splitting]
    assert percents == sorted(percents) and percents[0] < 50 < percents[-1]
    assert not any("splitting" in ln for ln in lines[first_embedded:])


def test_plain_progress_lines_are_throttled_and_carry_the_figures():
    out = io.StringIO()
    plain = PlainProgress(interval=3600, stream=out)
    st = IngestStatus(files_total=4, bytes_total=4000)
    plain(st)  # the start
    st.embed_started = st.started
    for i in range(1, 6):
        st.chunks_done, st.bytes_done, st.files_done = 100 * i, 500 * i, i // 2
        plain(st)  # only the first batch prints, the rest are within the interval
    st.finished = True
    plain(st)
    lines = out.getvalue().splitlines()
    assert len(lines) == 3, lines
    assert lines[1].startswith("ingest: files 0/4, 100 chunks embedded,") and "chunks/s" in lines[1]
    assert "ETA" in lines[1] and "ETA ?" not in lines[1]
    assert lines[2].startswith("ingest done: files 2/4, 500 chunks embedded")


class Fp32DefaultModel(FakeEncoder):
    """Stands in for the fp32 encoder of the default model (same name and variant recorded in the index)."""

    name = DEFAULT_EMBEDDING_MODEL
    variant = "fp32"


def test_mixing_encoder_variants_is_refused_with_the_rebuild_hint(make_settings, tmp_path):
    doc = tmp_path / "a.txt"
    doc.write_text("GPT-3 요금제는 네 가지다.", encoding="utf-8")
    settings = make_settings()
    KnowledgeBase.open(settings, encoder=Fp32DefaultModel()).ingest([doc])
    assert settings.embedding_variant == "int8"  # the default
    with pytest.raises(ModelMismatchError) as err:
        KnowledgeBase.open(settings)  # the real encoder, int8 by default
    assert "fp32" in str(err.value) and "int8" in str(err.value)
    assert "KBOT_EMBEDDING_VARIANT=fp32" in str(err.value) and "--rebuild" in str(err.value)
    # the fp32 setting opens it
    kb = KnowledgeBase.open(make_settings(embedding_variant="fp32"))
    assert kb.encoder.variant == "fp32" and kb.store.count() == 1


def test_folder_ingest_does_not_follow_links_out_of_it(fake_kb, tmp_path):
    outside = tmp_path / "secret"
    outside.mkdir()
    (outside / "passwd.txt").write_text("root:x:0:0 비밀 계정 목록", encoding="utf-8")
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "note.md").write_text("# 메모\nGPT-3 요금제 메모입니다.", encoding="utf-8")
    os.symlink(outside / "passwd.txt", folder / "passwd.txt")
    os.symlink(outside, folder / "linked-dir")
    os.symlink(folder / "note.md", folder / "alias.md")  # stays inside: fine (same document)
    report = fake_kb.ingest([folder])
    assert report.ok and len(report.added) == 1
    skipped = {os.path.basename(f.path): f.reason for f in report.skipped}
    assert set(skipped) == {"passwd.txt", "linked-dir"}
    assert "--follow-symlinks" in skipped["passwd.txt"]
    assert "비밀" not in " ".join(h.text for h in fake_kb.search("비밀 계정", k=5))
    # opting in follows them
    report = fake_kb.ingest([folder], follow_symlinks=True)
    assert not report.skipped and len(report.added) >= 1
    assert any("비밀" in h.text for h in fake_kb.search("비밀 계정", k=5))


@pytest.mark.slow
def test_int8_passages_stay_in_the_fp32_space(real_encoder, make_settings):
    """ONNX fp32 passages equal sentence-transformers'; int8 ones stay close, and queries still find their passage."""
    from bot.embeddings import Encoder

    texts = ["GPT-3 모델 가격 체계는 제공하는 사용량에 따라 4가지로 나뉜다.",
             "크리에이트는 월 100달러로 토큰 200만개를 쓸 수 있고, 추가 토큰 1000개당 8센트를 낸다.",
             "정보통신산업진흥원(NIPA)을 중심으로 고성능 컴퓨팅 자원을 지원하는 사업도 시행 중이다.",
             "아주 긴 문단 " * 400]  # longer than 512 tokens: truncated the same way
    fp32 = Encoder(make_settings(embedding_variant="fp32"))
    int8 = Encoder(make_settings(embedding_variant="int8"))
    assert (fp32.variant, int8.variant) == ("fp32", "int8")
    ref = fp32.encode_passages(texts)
    onnx_fp32 = int8._encode_ort(int8._session("fp32", 1), "passage: ", texts, 2)
    assert (onnx_fp32 * ref).sum(1).min() > 0.9999
    q8 = int8.encode_passages(texts)
    assert (q8 * ref).sum(1).min() > 0.98
    # a chunk's vector does not depend on what it is encoded with (a resumed ingest equals a clean one)
    np.testing.assert_allclose(int8.encode_passages(texts[1:2])[0], q8[1], atol=1e-6)
    # nor on how many run side by side (ingest encodes one text per core at a time)
    for threads in (1, 3):
        alone = Encoder(make_settings(embedding_variant="int8", embedding_threads=threads)).encode_passages(texts)
        np.testing.assert_array_equal(alone, q8)
    queries = ["GPT-3 가격은 몇 가지로 나뉘어?", "크리에이트 요금제 추가 토큰 가격", "NIPA 컴퓨팅 자원 지원"]
    sims = int8.encode_queries(queries) @ q8[:3].T
    assert (np.argmax(sims, axis=1) == np.arange(3)).all()


@pytest.mark.slow
def test_cli_in_a_pipe_prints_plain_progress_and_a_killed_big_file_resumes(tmp_path, model_cache):
    """A real `kbot ingest` whose stderr is a pipe prints the plain progress lines; SIGKILLed inside a big file,
    the next run embeds only what is missing and completes the document."""
    import signal
    import subprocess
    import sys

    from bot.config import Settings

    big = tmp_path / "docs" / "big.txt"
    big.parent.mkdir()
    big.write_text(_big_text(300), encoding="utf-8")
    env = {**os.environ, "KBOT_DATA_DIR": str(tmp_path / "data"), "KBOT_MODEL_CACHE_DIR": str(model_cache),
           "HF_HUB_OFFLINE": "1", "KBOT_CHUNK_SIZE": "200", "KBOT_INGEST_BATCH": "16"}
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "ingest", str(big.parent)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lines = []
    for line in proc.stderr:
        lines.append(line.strip())
        if line.startswith("ingest:") and " 0 chunks embedded" not in line:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    progress = lines[-1]
    assert progress.startswith("ingest: files 0/1, 16 chunks embedded,"), lines
    assert "chunks/s" in progress and "ETA" in progress and "big.txt" in progress and "%" in progress

    settings = Settings(_env_file=None, data_dir=tmp_path / "data", model_cache_dir=model_cache, chunk_size=200,
                        ingest_batch=16)
    kb = KnowledgeBase.open(settings)
    committed = kb.store.count()
    assert 16 <= committed
    report = kb.ingest([big.parent])
    total = kb.store.count()
    assert report.ok and total > committed + 16
    assert report.chunks_embedded == total - committed  # resumed inside the file
    metas = [c.metadata for c in kb.store.iter_all()]
    assert {m["n_chunks"] for m in metas} == {total} and len({m["content_hash"] for m in metas}) == 1
    assert kb.ingest([big.parent]).chunks_embedded == 0
    out = subprocess.run([sys.executable, "-m", "bot.cli", "ingest", str(big.parent)], env=env,
                         capture_output=True, text=True)
    assert out.returncode == 0 and "ingest done: files 1/1, 0 chunks embedded" in out.stderr

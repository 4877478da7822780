"""lowbit.texts: the real text Lowbit calibrates and measures on."""
from lowbit import texts


def test_detokenize_undoes_wikitext_tokenization():
    raw = " = Title = \n The 1 @,@ 000 @-@ year ( old ) house 's roof , made of <unk> . \n"
    assert texts.detokenize(raw) == "Title\n The 1,000-year (old) house's roof, made of ?. \n"


def test_sentences_keep_titles_and_skip_short_lines():
    prose = "CHAPTER I\n\nMr. Knightley came. It was late! She said \"no\" twice today."
    assert texts.sentences(prose, 10, min_words=3) == [
        "Mr. Knightley came.", "It was late!", "She said \"no\" twice today."]


def test_austen_starts_at_the_first_chapter():
    emma = texts.austen("Emma")
    assert emma.startswith("CHAPTER I")
    assert len(texts.sentences(emma, 50)) == 50

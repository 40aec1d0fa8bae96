"""Word-segmentation data built from the documentation topics shipped with CPython.

Every CPython installation carries `pydoc_data.topics.topics`, a dict of
help pages written in plain English. The text is lower-cased, cut into short
chunks, and stripped of its spaces; the task is to predict, for every
character, whether a word ends there.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch

PAD_ID = 0
OOV_ID = 1
#: Characters with their own id; anything else maps to `OOV_ID`.
ALPHABET = string.ascii_lowercase + string.digits + ".,;:!?'\"()[]-_/*=<>+%"
CHAR_TO_ID = {c: i + 2 for i, c in enumerate(ALPHABET)}
VOCAB_SIZE = len(ALPHABET) + 2

_UNDERLINE = re.compile(r"^([*=\-~^\"'#+])\1{2,}$")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class Chunk:
    """One training example: a run of words with the spaces removed.

    Attributes:
        text: The chunk with its original single spaces, e.g. `"it selects one"`.
        chars: The same text without spaces, e.g. `"itselectsone"`.
        labels: One int per character of `chars`; 1 where a word ends.
        topic: The documentation topic the chunk came from.
    """

    text: str
    chars: str
    labels: tuple[int, ...]
    topic: str


def encode(chars: str) -> list[int]:
    """Maps characters to ids, using `OOV_ID` for characters outside `ALPHABET`.

    Args:
        chars: Text to encode (already lower-cased).

    Returns:
        A list of ints in `[1, VOCAB_SIZE)`, one per character.

    Example:

    >>> encode("ab?é")
    [2, 3, 43, 1]
    """
    return [CHAR_TO_ID.get(c, OOV_ID) for c in chars]


def segment_labels(text: str) -> tuple[str, tuple[int, ...]]:
    """Removes the spaces of `text` and marks where each word ends.

    A character gets label 1 if a space followed it in `text` or if it is the
    last character of `text`.

    Args:
        text: Words separated by whitespace.

    Returns:
        A tuple `(chars, labels)`: the text without whitespace, and one label
        per character.

    Example:

    >>> segment_labels("to be, or")
    ('tobe,or', (0, 1, 0, 0, 1, 0, 1))
    """
    chars: list[str] = []
    labels: list[int] = []
    for word in text.split():
        chars.extend(word)
        labels.extend([0] * (len(word) - 1) + [1])
    return "".join(chars), tuple(labels)


def prose_paragraphs(page: str) -> list[str]:
    """Extracts the running prose of one documentation page.

    Headings (a line underlined with `***` or `===`), indented blocks
    (grammar rules, code samples) and grid tables are dropped, since they are not
    English sentences. Lines of a paragraph are joined with single spaces.

    Args:
        page: The raw text of one topic.

    Returns:
        The paragraphs, lower-cased, whitespace collapsed.
    """
    paragraphs = []
    for block in re.split(r"\n\s*\n", page):
        lines = [line for line in block.split("\n") if line.strip()]
        if not lines or lines[0].startswith((" ", "\t")):
            continue
        if any(line.startswith(("|", "+-", "+=")) for line in lines):
            continue
        if len(lines) >= 2 and _UNDERLINE.match(lines[1].strip()):
            lines = lines[2:]
        lines = [line for line in lines if not _UNDERLINE.match(line.strip())]
        text = " ".join(" ".join(lines).split()).lower()
        if len(text.split()) >= 3:
            paragraphs.append(text)
    return paragraphs


def chunk_text(text: str, max_len: int) -> list[str]:
    """Cuts prose into sentences, and long sentences into windows of whole words.

    Args:
        text: One paragraph of prose.
        max_len: The most characters a chunk may have once its spaces are
            removed. Words longer than this are dropped.

    Returns:
        Chunks of text, with their spaces.

    Example:

    >>> chunk_text("One two three. Four five six seven.", max_len=8)
    ['One two', 'three.', 'Four five', 'six', 'seven.']
    """
    chunks = []
    for sentence in _SENTENCE_END.split(text):
        words: list[str] = []
        length = 0
        for word in sentence.split():
            if len(word) > max_len:
                continue
            if length + len(word) > max_len:
                chunks.append(" ".join(words))
                words, length = [], 0
            words.append(word)
            length += len(word)
        if words:
            chunks.append(" ".join(words))
    return chunks


def build_chunks(topics: Mapping[str, str], max_len: int = 100, min_words: int = 2) -> list[Chunk]:
    """Turns documentation pages into labelled chunks, in topic-name order.

    Args:
        topics: Topic name to page text, like `pydoc_data.topics.topics`.
        max_len: The most characters per chunk, spaces not counted.
        min_words: Chunks with fewer words are dropped: they have no boundary
            to find except the last character.

    Returns:
        A list of `Chunk`s.
    """
    chunks = []
    for topic in sorted(topics):
        for paragraph in prose_paragraphs(topics[topic]):
            for text in chunk_text(paragraph, max_len):
                if len(text.split()) < min_words:
                    continue
                chars, labels = segment_labels(text)
                chunks.append(Chunk(text, chars, labels, topic))
    return chunks


def split_by_topic(
    chunks: Sequence[Chunk], test_fraction: float = 0.2, seed: int = 0
) -> tuple[list[Chunk], list[Chunk]]:
    """Holds out whole topics, so test text never shares a page with training text.

    Topics are shuffled with `seed` and moved to the test side until it holds
    at least `test_fraction` of all characters.

    Args:
        chunks: Chunks from `build_chunks`.
        test_fraction: Share of characters to hold out.
        seed: Seed for the topic shuffle.

    Returns:
        A tuple `(train, test)` of chunk lists; no topic appears in both.
    """
    sizes: dict[str, int] = {}
    for chunk in chunks:
        sizes[chunk.topic] = sizes.get(chunk.topic, 0) + len(chunk.chars)
    order = sorted(sizes)
    np.random.default_rng(seed).shuffle(order)
    total = sum(sizes.values())
    test_topics: set[str] = set()
    held = 0
    for topic in order:
        if held >= test_fraction * total:
            break
        test_topics.add(topic)
        held += sizes[topic]
    train = [c for c in chunks if c.topic not in test_topics]
    test = [c for c in chunks if c.topic in test_topics]
    return train, test


def limit_chars(chunks: Sequence[Chunk], max_chars: int | None, seed: int = 0) -> list[Chunk]:
    """Keeps a seeded random subset of chunks totalling at most `max_chars` characters.

    Args:
        chunks: Chunks to draw from.
        max_chars: Character budget; `None` keeps everything.
        seed: Seed for the draw.

    Returns:
        The kept chunks, in their original order.
    """
    if max_chars is None:
        return list(chunks)
    order = np.random.default_rng(seed).permutation(len(chunks))
    kept, total = [], 0
    for i in order:
        if total + len(chunks[i].chars) > max_chars:
            continue
        kept.append(int(i))
        total += len(chunks[i].chars)
    return [chunks[i] for i in sorted(kept)]


def pad_batch(chunks: Iterable[Chunk]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Encodes chunks and pads them to the longest one.

    Args:
        chunks: The chunks of one batch.

    Returns:
        A tuple `(ids, labels, mask)`: `ids` is an int64 tensor of shape
        `(batch, time)` with `PAD_ID` after each chunk's end, `labels` a
        float32 tensor of the same shape (0 on padding), and `mask` a bool
        tensor that is True on real characters.
    """
    chunks = list(chunks)
    width = max(len(c.chars) for c in chunks)
    ids = torch.full((len(chunks), width), PAD_ID, dtype=torch.int64)
    labels = torch.zeros((len(chunks), width), dtype=torch.float32)
    for row, chunk in enumerate(chunks):
        n = len(chunk.chars)
        ids[row, :n] = torch.tensor(encode(chunk.chars))
        labels[row, :n] = torch.tensor(chunk.labels, dtype=torch.float32)
    return ids, labels, ids != PAD_ID


def load_topics() -> dict[str, str]:
    """Returns CPython's documentation topics (`pydoc_data.topics.topics`)."""
    from pydoc_data.topics import topics

    return dict(topics)

"""Playlist names from a language model, checked and cleaned, with the rule name as the fallback.

The prompt describes the cluster (rule-name features, tempo band, a few songs) and asks for one name of
15-35 plain ASCII characters. The answer keeps letters, digits, spaces and ``- & ' ! . , ? ( ) [ ]``; a
name outside 15-35 characters after cleaning, or any error or timeout, keeps the rule name.
"""

from __future__ import annotations

import logging
import re
import unicodedata

from audiomuse_ray.llm.client import LLMConfig, LLMError, complete

log = logging.getLogger(__name__)
MIN_CHARS, MAX_CHARS = 15, 35
SONGS_IN_PROMPT = 10


def build_prompt(rule: str, songs: list[tuple[str, str]]) -> str:
    features = rule.replace("_", ", ")
    listing = "\n".join(f"- {title} by {author}" for title, author in songs[:SONGS_IN_PROMPT])
    return (
        "You name music playlists. Give ONE playlist name of 15 to 35 characters, in real English words, "
        "using only plain ASCII letters, digits, spaces and - & ' ! . , ? ( ) [ ]. No emojis, no quotes, no "
        f"explanation: answer with the name only.\nThe playlist is: {features}.\nSome of its songs:\n{listing}\n"
    )


def clean_name(text: str) -> str:
    text = unicodedata.normalize("NFKC", text.strip().splitlines()[0] if text.strip() else "")
    text = re.sub(r"[^a-zA-Z0-9\s\-&'!.,?()\[\]]", "", text)
    return re.sub(r"\s+", " ", text).strip(" .")


def valid(name: str) -> bool:
    return MIN_CHARS <= len(name) <= MAX_CHARS


def ai_name(cfg: LLMConfig, rule: str, songs: list[tuple[str, str]]) -> str:
    """A model-made name, or ``rule`` when the model is off, fails, or answers out of bounds."""
    if not cfg.enabled:
        return rule
    try:
        name = clean_name(complete(cfg, build_prompt(rule, songs)))
    except LLMError as exc:
        log.warning("AI naming failed (%s); keeping %s", exc, rule)
        return rule
    if not valid(name):
        log.info("AI name %r is not %d-%d characters; keeping %s", name, MIN_CHARS, MAX_CHARS, rule)
        return rule
    return name

"""``audiomuse-ray chat "calm ambient for reading" [--provider P] [--model M] [--url URL] [--create NAME]``:
an instant playlist from the command line, through the same flow as ``POST /chat/api/chatPlaylist``.

``--provider`` here is the AI provider (NONE, OLLAMA, OPENAI, GEMINI, MISTRAL, KEYWORDS); the media
provider that ``--create`` writes to is the ``AUDIOMUSE_PROVIDER`` setting (or ``--provider`` given before
the command).
"""

from __future__ import annotations

import argparse
import sys

from audiomuse_ray.commands.registry import command, print_json
from audiomuse_ray.settings import Settings


def _setup(p: argparse.ArgumentParser) -> None:
    from audiomuse_ray.chat.service import PROVIDERS

    p.add_argument("request", help="what to play, in plain words")
    p.add_argument("--provider", dest="chat_provider", type=str.upper, choices=PROVIDERS, default=None,
                   help="AI provider (default AUDIOMUSE_AI_PROVIDER); KEYWORDS works offline")
    p.add_argument("--model", dest="chat_model", default="", help="model name (default AUDIOMUSE_AI_MODEL)")
    p.add_argument("--url", dest="chat_url", default="",
                   help="model server URL for OLLAMA or OPENAI (the server's API key is not sent to another URL)")
    p.add_argument("--create", metavar="NAME", default=None,
                   help="also create the playlist NAME_instant on the media server")
    p.add_argument("--json", action="store_true", help="print AudioMuse-AI's JSON reply")


@command("chat", "instant playlist: a request in plain words becomes a read-only query of the analysed songs", _setup)
def chat_cmd(settings: Settings, args: argparse.Namespace) -> int:
    from audiomuse_ray.api.chat_api import result_json
    from audiomuse_ray.chat.service import ChatRequest, create_instant_playlist, instant_playlist
    from audiomuse_ray.store import open_store

    store = open_store(settings.database_url)
    try:
        provider = args.chat_provider or settings.ai_provider
        req = ChatRequest(user_input=args.request, provider=provider, model=args.chat_model,
                          ollama_url=args.chat_url if provider == "OLLAMA" else "",
                          openai_url=args.chat_url if provider == "OPENAI" else "")
        # the person at the terminal already holds the settings: a URL override is theirs to make
        result = instant_playlist(settings, store, req, overrides_allowed=True)
        if args.json:
            print_json(result_json(result))
        else:
            print(result.message)
            if result.executed_query:
                print(f"\nSQL: {result.executed_query}\n")
            for i, song in enumerate(result.songs or (), 1):
                print(f"{i:3d}. {song.title or '?'} — {song.author or '?'}"
                      f"{f' ({song.album})' if song.album else ''}  [{song.item_id}]")
        if not result.songs:
            return 1
        if args.create:
            from audiomuse_ray.providers import make_provider

            name, playlist_id = create_instant_playlist(store, make_provider(settings), args.create,
                                                        [s.item_id for s in result.songs])
            print(f"Created playlist '{name}' ({len(result.songs)} songs, id {playlist_id}).",
                  file=sys.stderr if args.json else sys.stdout)
        return 0
    finally:
        store.dispose()

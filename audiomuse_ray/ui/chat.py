"""Instant playlist: ask for music in words; a language model writes a query over the analysed library
(AudioMuse-AI's /chat/api routes)."""

from __future__ import annotations

import gradio as gr

from audiomuse_ray.ui.client import ApiError
from audiomuse_ray.ui.common import UiContext, ok, problem, song_table, songs_frame, wire_preview

PROVIDERS = ["OLLAMA", "OPENAI", "GEMINI", "MISTRAL", "KEYWORDS"]  # KEYWORDS: the offline mode, no model
UNAVAILABLE = ("Instant playlists are not available on this server yet (it has no /chat/api routes); "
               "the other tools work without them.")


def read_reply(reply: dict) -> tuple:
    """AudioMuse-AI's chat reply ``{"response": {message, original_request, ai_provider_used,
    ai_model_selected, executed_query, query_results: [{item_id, title, author, artist, album}]}}`` as the tab's
    (status, the model's message, the query that ran, the songs). ``query_results`` is None when no query
    ran (no model configured, nothing understood): the message then says why, as a problem."""
    body = reply.get("response", reply) if isinstance(reply, dict) else {}
    body = body if isinstance(body, dict) else {}
    message, query, rows = str(body.get("message") or ""), str(body.get("executed_query") or ""), body.get("query_results")
    if rows is None:
        return problem(message or "The server answered without songs."), "", query, songs_frame([])
    used = " · ".join(str(x) for x in (body.get("ai_provider_used"), body.get("ai_model_selected")) if x)
    return (ok(f"{len(rows)} songs" + (f" ({used})." if used else ".")), message, query,
            songs_frame(rows, distance=None))


def chat_tab(ctx: UiContext) -> tuple:
    gr.Markdown("Describe what you want to hear (“calm piano for a rainy evening”, “90s rock with high energy”).")
    request = gr.Textbox(label="Your request", lines=2, elem_id="chat-input")
    with gr.Accordion("Language model", open=False):
        with gr.Row():
            provider = gr.Dropdown(PROVIDERS, value=None, label="Provider", info="default: the server's setting",
                                   allow_custom_value=True)
            model = gr.Textbox(label="Model", info="e.g. llama3.1:8b or gpt-4o-mini")
        with gr.Row():
            ollama = gr.Textbox(label="Ollama URL", info="for OLLAMA")
            openai = gr.Textbox(label="OpenAI-compatible URL", info="for OPENAI")
    ask = gr.Button("Make a playlist", variant="primary", elem_id="chat-run")
    status = gr.Markdown(elem_id="chat-status")
    reply_box = gr.Markdown(elem_id="chat-reply")
    query = gr.Code(label="Query it ran", language="sql", interactive=False, lines=2, max_lines=8, elem_id="chat-query")
    table, player = song_table("Instant playlist", elem_id="chat-songs")
    with gr.Row():
        name = gr.Textbox("Instant playlist", label="Playlist name", scale=3)
        save = gr.Button("Create playlist", scale=1)
    wire_preview(ctx, table, player, status)

    def run(text, prov, mod, ollama_url, openai_url):
        if not (text or "").strip():
            return problem("Type a request first."), gr.skip(), gr.skip(), gr.skip()
        try:
            reply = ctx.client.chat_playlist(text.strip(), prov or "", mod or "", ollama_url or "", openai_url or "")
        except ApiError as exc:
            return problem(UNAVAILABLE if exc.status in (404, 501) else str(exc)), "", "", songs_frame([])
        return read_reply(reply)

    def create(playlist_name, frame):
        from audiomuse_ray.ui.common import ids_of

        ids = ids_of(frame)
        if not ids:
            return problem("Nothing to save yet: ask for a playlist first.")
        try:
            reply = ctx.client.chat_create_playlist(playlist_name.strip(), ids)
        except ApiError as exc:
            return problem(UNAVAILABLE if exc.status in (404, 501) else str(exc))
        return ok(reply.get("message", "Playlist created."))

    ask.click(run, [request, provider, model, ollama, openai], [status, reply_box, query, table], api_name="instant_playlist")
    save.click(create, [name, table], status, api_visibility="private")

    def defaults():
        try:
            d = ctx.client.chat_defaults()
        except ApiError as exc:
            note = UNAVAILABLE if exc.status in (404, 501) else f"Could not read the language-model defaults: {exc}"
            return problem(note), gr.skip(), gr.skip(), gr.skip(), gr.skip()
        chosen = str(d.get("default_ai_provider") or "").upper() or None
        model = d.get(f"default_{(chosen or '').lower()}_model_name") or ""
        return "", chosen, model, d.get("ollama_server_url") or "", d.get("openai_server_url") or ""

    return defaults, [status, provider, model, ollama, openai]

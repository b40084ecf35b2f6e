"""A loopback language-model server that answers in each provider's documented format.

    with FakeLLM(answer="SELECT ...") as llm:       # llm.url; llm.requests; llm.mode = "malformed"
        ...

Routes: Ollama ``POST /api/generate`` (``{"response": text}``), OpenAI-compatible and Mistral
``POST /v1/chat/completions`` (``{"choices": [{"message": {"content": text}}]}``), Gemini
``POST /v1beta/models/{model}:generateContent`` (``{"candidates": [{"content": {"parts": [{"text": ...}]}}]}``).
``mode``: "good" (the answer), "malformed" (valid JSON without the answer's field), "not_json" (HTML),
"slow" (the good answer after ``delay_s``), "error" (HTTP 500), "redirect" (HTTP 307 to ``redirect_to``),
"huge" (a valid answer padded past 5 MB). ``answers`` (a list) are given in turn,
the last one repeated. Every request is recorded with its headers, so tests can see which key arrived.
"""

from __future__ import annotations

from tests.fakes.loopback import LoopbackServer, Request, Response


class FakeLLM(LoopbackServer):
    def __init__(self, answer: str | list[str] = "", mode: str = "good", delay_s: float = 5.0):
        super().__init__()
        self.answers = [answer] if isinstance(answer, str) else list(answer)
        self.mode = mode
        self.delay_s = delay_s
        self.calls = 0
        self.redirect_to = ""
        self.route("POST", "/api/generate", self._ollama)
        self.route("POST", "/v1/chat/completions", self._chat_completions)
        self.route("POST", "/v1beta/models/", self._gemini, prefix=True)

    # ------------------------------------------------------------------------------------ helpers
    def _next_answer(self) -> str:
        answer = self.answers[min(self.calls, len(self.answers) - 1)] if self.answers else ""
        self.calls += 1
        return answer

    def _reply(self, good_body: dict, malformed_body: dict) -> Response:
        if self.mode == "malformed":
            return Response(200, malformed_body)
        if self.mode == "not_json":
            return Response(200, b"<html>bad gateway</html>", {"Content-Type": "text/html"})
        if self.mode == "error":
            return Response(500, {"error": "model crashed"})
        if self.mode == "redirect":
            return Response(307, b"", {"Location": self.redirect_to})
        if self.mode == "huge":
            return Response(200, {**good_body, "padding": "x" * (5 << 20)})
        return Response(200, good_body, delay_s=self.delay_s if self.mode == "slow" else 0.0)

    def auth_headers(self) -> list[dict[str, str]]:
        """The credential headers each request carried (empty dicts for none)."""
        return [{k: v for k, v in r.headers.items() if k in ("authorization", "x-goog-api-key", "api-key")}
                for r in self.requests]

    # ------------------------------------------------------------------------------------ formats
    def _ollama(self, req: Request) -> Response:
        body = req.json()
        assert body.get("stream") is False and isinstance(body.get("prompt"), str)
        text = self._next_answer()
        return self._reply({"model": body.get("model"), "response": text, "done": True},
                           {"model": body.get("model"), "done": True})

    def _chat_completions(self, req: Request) -> Response:
        body = req.json()
        assert isinstance(body.get("messages"), list) and body["messages"][0]["role"] == "user"
        text = self._next_answer()
        return self._reply({"id": "x", "object": "chat.completion", "model": body.get("model"),
                            "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                         "finish_reason": "stop"}]},
                           {"id": "x", "object": "chat.completion", "choices": []})

    def _gemini(self, req: Request) -> Response:
        body = req.json()
        assert req.path.endswith(":generateContent") and body["contents"][0]["parts"][0]["text"]
        text = self._next_answer()
        return self._reply({"candidates": [{"content": {"role": "model", "parts": [{"text": text}]},
                                            "finishReason": "STOP"}]},
                           {"promptFeedback": {"blockReason": "OTHER"}})

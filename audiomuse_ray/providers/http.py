"""A small HTTP client shared by the remote providers: timeouts, retries with backoff, clear errors.

Transient failures (connection refused, timeouts, 429/5xx) are retried; 401/403 become
``ProviderAuthError`` and other 4xx ``ProviderRequestError``, each naming the server and what to check.
Secrets never appear in messages: URLs are reported without their query string.
"""

from __future__ import annotations

import itertools
import logging
import shutil
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping

import requests

from audiomuse_ray.errors import ProviderAuthError, ProviderRequestError, ProviderUnavailable
from audiomuse_ray.providers.base import Excerpt

log = logging.getLogger(__name__)
TRANSIENT_STATUS = {429, 500, 502, 503, 504}
STREAM_KBPS = 128  # the bit rate excerpts are asked for where the server transcodes
BYTES_SLACK = 1.5  # servers that cannot transcode send the original: allow some more bytes
_NOT_AUDIO = ("application/json", "application/xml", "text/")


@dataclass
class HttpClient:
    server: str  # "Jellyfin", "Subsonic", ... used in messages
    base_url: str
    timeout_s: float = 30.0
    retries: int = 3
    backoff_s: float = 0.5
    headers: Mapping[str, str] | None = None
    setting_hint: str = ""  # e.g. "AUDIOMUSE_JELLYFIN_URL" for the "check ..." part of messages

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        self.session = requests.Session()
        if self.headers:
            self.session.headers.update(self.headers)

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    def request(self, method: str, path: str, *, params: Any = None, json: Any = None,
                stream: bool = False) -> requests.Response:
        """Send with retries; return a 2xx response or raise a typed ``ProviderError``."""
        url = self.url(path)
        last: str = ""
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff_s * (2 ** (attempt - 1)))
            try:
                resp = self.session.request(method, url, params=params, json=json, timeout=self.timeout_s, stream=stream)
            except requests.Timeout:
                last = f"no answer within {self.timeout_s:g} s"
                continue
            except requests.ConnectionError as exc:
                last = f"cannot connect ({_short(exc)})"
                continue
            if resp.status_code in TRANSIENT_STATUS:
                last = f"HTTP {resp.status_code}"
                resp.close()
                continue
            if resp.status_code in (401, 403):
                resp.close()
                raise ProviderAuthError(
                    f"{self.server} at {self.base_url} refused the credentials (HTTP {resp.status_code}) "
                    f"for {path.split('?')[0]}: check the user and token/password settings."
                )
            if resp.status_code >= 400:
                body = resp.text[:200]
                resp.close()
                raise ProviderRequestError(f"{self.server} at {self.base_url} rejected {method} {path.split('?')[0]}: HTTP {resp.status_code} {body}")
            return resp
        raise ProviderUnavailable(
            f"{self.server} at {self.base_url} is unavailable: {last} after {self.retries + 1} attempt(s). "
            f"Check that the server is running and that {self.setting_hint or 'its URL'} is right."
        )

    def get_json(self, path: str, params: Any = None) -> Any:
        resp = self.request("GET", path, params=params)
        try:
            return resp.json()
        except ValueError as exc:
            raise ProviderUnavailable(f"{self.server} at {self.base_url} answered {path.split('?')[0]} with something that is not JSON.") from exc

    def download(self, path: str, dest: Path, params: Any = None) -> Path:
        """Stream a file to ``dest`` without holding it in memory."""
        resp = self.request("GET", path, params=params, stream=True)
        with resp, open(dest, "wb") as fh:
            resp.raw.decode_content = True
            shutil.copyfileobj(resp.raw, fh, length=1 << 20)
        return dest


    def excerpt(self, path: str, params: Any, seconds: float, *, kbps: float = STREAM_KBPS,
                fallback_type: str = "audio/mpeg") -> Excerpt:
        """The start of a compressed stream, cut after ``seconds`` worth of bytes at ``kbps`` (a transcoded
        stream's bit rate, or an original file's own), with ``BYTES_SLACK``. A byte cut plays up to the cut
        in browsers, and the rest is never read: the connection is closed there. ``fallback_type`` stands
        in for a missing or generic content type."""
        cap = stream_cap(seconds, kbps)
        resp = self.request("GET", path, params=params, stream=True)
        with resp:
            media_type = resp.headers.get("content-type", "").split(";")[0].strip().lower()
            chunks, size = [], 0
            for chunk in resp.iter_content(64 * 1024):
                chunks.append(chunk)
                size += len(chunk)
                if size >= cap:
                    break
        if media_type in ("", "application/octet-stream", "binary/octet-stream"):
            media_type = fallback_type
        return Excerpt(media_type, b"".join(chunks)[:cap])

    def require_audio(self, excerpt: Excerpt, what: str) -> Excerpt:
        """``excerpt`` if it is audio; a document (an error page, JSON) in its place is the server failing."""
        if excerpt.media_type.startswith(_NOT_AUDIO):
            text = excerpt.data[:200].decode("utf-8", "replace")
            raise ProviderRequestError(f"{self.server} at {self.base_url} answered {what} with {excerpt.media_type}, "
                                       f"not audio: {text}")
        return excerpt


def stream_cap(seconds: float, kbps: float = STREAM_KBPS) -> int:
    """Bytes read at most for ``seconds`` of a stream at ``kbps`` (128 kbit/s with the 50 % slack: 24 kB a
    second)."""
    return int(seconds * kbps * 1000 / 8 * BYTES_SLACK)


def file_kbps(size_bytes: Any, duration_s: Any, stated_kbps: Any = None) -> float:
    """A file's average bit rate for a byte cut: size over duration (its tags and cover art included, as the
    cut reads them), else the bit rate the server states ("160kbps VBR" reads 160), else ``STREAM_KBPS``."""
    try:
        if float(size_bytes) > 0 and float(duration_s) > 0:
            return float(size_bytes) * 8 / 1000 / float(duration_s)
    except (TypeError, ValueError):
        pass
    digits = "".join(itertools.takewhile(str.isdigit, str(stated_kbps or "").strip()))
    return float(digits) if digits and int(digits) > 0 else float(STREAM_KBPS)


def _short(exc: Exception) -> str:
    text = str(exc)
    return text.split("(Caused by")[-1].strip(" ()")[:160] if "Caused by" in text else text[:160]


@contextmanager
def temporary_download(client: HttpClient, path: str, filename: str, params: Any = None) -> Iterator[Path]:
    """Download to a private temp folder, yield the file, and delete the folder whatever happens."""
    tmp = Path(tempfile.mkdtemp(prefix="audiomuse-dl-"))
    try:
        safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in filename)[-120:] or "track"
        yield client.download(path, tmp / safe, params=params)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

"""python-telegram-bot's requests over aiohttp's client instead of httpx (PTB's ``BaseRequest`` interface, so PTB
still builds each request and turns each answer into a result or its own errors: ``RetryAfter``, ``Forbidden``,
``BadRequest``, ``TimedOut``, ``NetworkError``).

Why: on a near Bot API (a local server, the benchmark's fake) httpx, httpcore and anyio cost about as much CPU per
request as the rest of the bot's work on a message; with aiohttp the whole bot answered 1.3 to 2 times as many
updates a second (bench/whole_bot.py, SQLite, 6,000 queued, back to back in one run: 154 -> 203, 100 -> 214).
The channel opts in with ``Application.builder().request(AiohttpRequest()).get_updates_request(AiohttpRequest())``.

PTB's timeouts keep their meaning where aiohttp has them: ``connect_timeout`` (plus ``pool_timeout``, waiting for a
free connection) bounds the connection, ``read_timeout`` each read of the answer; aiohttp has no timeout for
writing the request alone, so ``write_timeout`` only adds to the overall bound (connect + write + read).
"""

from __future__ import annotations

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

CONNECT_TIMEOUT = 5.0  # seconds, PTB's defaults
READ_TIMEOUT = 5.0
WRITE_TIMEOUT = 5.0
MEDIA_WRITE_TIMEOUT = 20.0
POOL_TIMEOUT = 1.0


class AiohttpRequest(BaseRequest):
    """One aiohttp session (a pool of ``connections`` kept-alive connections), made by ``initialize`` inside the
    running loop and closed by ``shutdown`` (PTB calls both from ``Application.initialize`` / ``shutdown``)."""

    def __init__(self, *, connections: int = 256, read_timeout: float | None = READ_TIMEOUT,
                 connect_timeout: float | None = CONNECT_TIMEOUT, write_timeout: float | None = WRITE_TIMEOUT,
                 pool_timeout: float | None = POOL_TIMEOUT) -> None:
        self.connections = connections
        self._read_timeout = read_timeout
        self._connect_timeout = connect_timeout
        self._write_timeout = write_timeout
        self._pool_timeout = pool_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=self.connections),
                                                  headers={"User-Agent": self.USER_AGENT})

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        session = self._session
        if session is None or session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        files = request_data.multipart_data if request_data else None
        fields = request_data.json_parameters if request_data else None
        read = self._read_timeout if isinstance(read_timeout, DefaultValue) else read_timeout
        connect = self._connect_timeout if isinstance(connect_timeout, DefaultValue) else connect_timeout
        pool = self._pool_timeout if isinstance(pool_timeout, DefaultValue) else pool_timeout
        default_write = MEDIA_WRITE_TIMEOUT if files else self._write_timeout
        write = default_write if isinstance(write_timeout, DefaultValue) else write_timeout
        bounds = [part for part in (connect, write, read) if part is not None]
        timeout = aiohttp.ClientTimeout(
            total=sum(bounds) if len(bounds) == 3 else None,  # any of them None (no limit): no overall bound
            connect=None if connect is None or pool is None else connect + pool,
            sock_read=read,
        )
        body: aiohttp.FormData | dict[str, str] | None = fields
        if files:
            form = aiohttp.FormData()
            for name, value in (fields or {}).items():
                form.add_field(name, value)
            for name, part in files.items():
                if isinstance(part, tuple):
                    filename, content, *mimetype = part
                    form.add_field(name, content, filename=filename, content_type=mimetype[0] if mimetype else None)
                else:
                    form.add_field(name, part)
            body = form
        try:
            async with session.request(method, url, data=body, timeout=timeout) as response:
                return response.status, await response.read()
        except TimeoutError as exc:  # aiohttp's ServerTimeoutError is one too
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {exc}") from exc

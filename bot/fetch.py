"""HTTP: fetch web pages for ingestion (the one module that talks to web servers).

A page is fetched with httpx under limits a shared server wants (connect/read timeouts, an overall deadline, a
size cap enforced while streaming, a redirect limit, http/https only), decoded by the charset it declares (HTTP
header, then <meta charset> / http-equiv; EUC-KR read as CP949, its superset) and turned into a `SourceDoc` by the
same trafilatura extraction `.html` files use. Each failure is a `FetchError`: the reason in English, and in Korean
for the UI.
"""

from __future__ import annotations

import codecs
import hashlib
import ipaddress
import re
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from .config import Settings
from .errors import FetchError, LoadError
from .loaders import decode_bytes, extract_html, make_doc
from .types import SourceDoc

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:(//|[^\\/])")  # "https://x", "file:///x", "mailto:x"; not "C:\x"
HTML_TYPES = ("text/html", "application/xhtml+xml")
_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([A-Za-z0-9_:.-]+)", re.I)
_KOREAN = {"euc-kr", "euc_kr", "euckr", "ks_c_5601-1987", "ks_c_5601", "ksc5601", "x-windows-949", "windows-949",
           "cp949", "uhc", "ms949"}


def is_url(text: str | Path) -> bool:
    """Whether a command-line argument names a URL (any scheme) rather than a file."""
    return isinstance(text, str) and bool(_SCHEME.match(text.strip())) and not Path(text).exists()


def normalize_url(raw: str) -> str:
    """The URL as kbot keys it (scheme and host lower-cased, fragment dropped); only http and https pass."""
    import httpx

    text = raw.strip()
    try:
        url = httpx.URL(text)
    except (httpx.InvalidURL, ValueError, TypeError):
        raise FetchError(f"not a valid URL: {text[:200]!r}",
                         "웹 주소 형식이 올바르지 않습니다. https://로 시작하는 전체 주소를 넣어 주세요.") from None
    if url.scheme not in ("http", "https"):
        raise FetchError(f"only http and https URLs can be ingested, not {url.scheme or 'this'}: {text[:200]!r}",
                         "http:// 또는 https://로 시작하는 웹 주소만 넣을 수 있습니다.")
    if not url.host:
        raise FetchError(f"the URL has no host: {text[:200]!r}",
                         "웹 주소에 사이트 이름이 없습니다. https://로 시작하는 전체 주소를 넣어 주세요.")
    return str(url.copy_with(fragment=None))


def doc_id_for_url(url: str) -> str:
    """Stable id of a page: its listed URL, hashed (a file's id hashes its absolute path, which has no scheme)."""
    return hashlib.sha1(url.encode()).hexdigest()[:16]


def read_url_list(path: Path) -> list[str]:
    """URLs from a file, one per line (see `parse_url_list`)."""
    from .errors import KbotError

    try:
        text = decode_bytes(path.read_bytes()) if path.stat().st_size else ""
    except (OSError, LoadError) as e:
        raise KbotError(f"Cannot read the URL list {path}: {getattr(e, 'strerror', None) or e}",
                        user_message="주소 목록 파일을 읽지 못했습니다. 한 줄에 주소 하나씩 적은 글 파일인지 "
                                     "확인해 주세요.") from None
    return parse_url_list(text)


def parse_url_list(text: str) -> list[str]:
    """One URL a line; blank lines and `#` comments (whole lines, or after a space) are skipped."""
    urls = []
    for line in text.splitlines():
        line = re.sub(r"\s#.*$", "", line).strip()
        if line and not line.startswith("#"):
            urls.append(line)
    return urls


def codec_for(charset: str | None) -> str | None:
    """The Python codec for a declared charset; the EUC-KR family is read as CP949 (what Korean sites really send)."""
    if not charset:
        return None
    name = charset.strip().strip("\"'").lower()
    if name in _KOREAN:
        return "cp949"
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode_html(data: bytes, header_charset: str | None) -> str:
    """Page bytes as text: a BOM, then the charset of the Content-Type header, then the page's <meta>, then
    detection (UTF-8, CP949, others). A declared charset the bytes do not fit is passed over."""
    if data.startswith(codecs.BOM_UTF8):
        return data.decode("utf-8-sig", errors="replace")
    meta = _META_CHARSET.search(data[:8192])
    for declared in (header_charset, meta.group(1).decode("ascii", "ignore") if meta else None):
        codec = codec_for(declared)
        if codec:
            try:
                return data.decode(codec)
            except UnicodeDecodeError:
                continue
    return decode_bytes(data)


@dataclass(frozen=True)
class Page:
    """A fetched page. `html` is None when the server answered 304 Not Modified."""

    url: str  # as listed (normalised)
    final_url: str  # after redirects
    html: str | None
    etag: str | None = None
    last_modified: str | None = None


class Fetcher:
    """Fetches pages with one httpx client (use as a context manager). `transport` lets tests swap the network."""

    def __init__(self, settings: Settings, transport=None) -> None:
        self.settings = settings
        self.transport = transport
        self._client = None

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    @property
    def client(self):
        import httpx

        if self._client is None:
            s = self.settings
            hooks = {} if s.fetch_private_hosts else {"request": [_refuse_private]}
            transport = self.transport
            if transport is None and not s.fetch_private_hosts and not s.fetch_proxy:
                transport = guarded_transport()  # the address is checked again where the socket connects
            self._client = httpx.Client(
                timeout=httpx.Timeout(s.fetch_timeout, connect=min(s.fetch_timeout, 10.0)),
                follow_redirects=True, max_redirects=s.fetch_max_redirects, transport=transport,
                headers={"User-Agent": s.fetch_user_agent, "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1",
                         "Accept-Language": "ko,en;q=0.5"},
                event_hooks=hooks, proxy=s.fetch_proxy,
                trust_env=False)  # never send ~/.netrc credentials to whatever host a user lists
        return self._client

    def fetch(self, url: str, etag: str | None = None, last_modified: str | None = None) -> Page:
        """GET `url` (conditionally when validators are given). Raises FetchError with the reason."""
        import httpx

        s = self.settings
        url = normalize_url(url)
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        deadline = time.monotonic() + s.fetch_deadline
        cap = int(s.fetch_max_mb * 1024 * 1024)
        try:
            with self.client.stream("GET", url, headers=headers) as r:
                final = str(r.url)
                if r.url.scheme not in ("http", "https"):
                    raise FetchError(f"redirected to a non-web address {final[:200]}",
                                     "페이지가 웹 주소가 아닌 곳으로 넘어갑니다. 주소를 확인해 주세요.")
                if r.status_code == 304:
                    if not headers:
                        raise FetchError("the server answered 304 Not Modified to an unconditional request",
                                         "사이트가 페이지를 보내지 않았습니다. 잠시 후 다시 시도해 주세요.")
                    return Page(url, final, None, r.headers.get("etag") or etag,
                                r.headers.get("last-modified") or last_modified)
                _check_status(r.status_code)
                _check_type(r.headers.get("content-type", ""))
                declared = r.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > cap:
                    raise _too_large(s.fetch_max_mb)
                body = bytearray()
                for piece in r.iter_bytes():
                    body += piece
                    if len(body) > cap:
                        raise _too_large(s.fetch_max_mb)
                    if time.monotonic() > deadline:
                        raise _timeout(s.fetch_deadline)
                charset = r.charset_encoding
                page_etag, page_modified = r.headers.get("etag"), r.headers.get("last-modified")
        except httpx.TooManyRedirects:
            raise FetchError(f"more than {s.fetch_max_redirects} redirects (KBOT_FETCH_MAX_REDIRECTS)",
                             "페이지가 다른 주소로 너무 여러 번 넘어갑니다. 최종 주소를 직접 넣어 주세요.") from None
        except httpx.TimeoutException as e:
            raise _timeout(s.fetch_timeout, type(e).__name__) from None
        except httpx.ConnectError as e:
            if _is_dns(e):
                raise FetchError(f"cannot resolve the host {httpx.URL(url).host!r} (DNS)",
                                 "사이트 주소(도메인)를 찾을 수 없습니다. 주소가 맞는지 확인해 주세요.") from None
            raise FetchError(f"cannot connect to {httpx.URL(url).host} ({_os_reason(e)})",
                             "사이트에 연결할 수 없습니다. 주소를 확인하거나 잠시 후 다시 시도해 주세요.") from None
        except httpx.UnsupportedProtocol:
            raise FetchError("redirected to an address that is not http or https",
                             "페이지가 웹 주소가 아닌 곳으로 넘어갑니다. 주소를 확인해 주세요.") from None
        except httpx.HTTPError as e:  # protocol errors, broken connections: name the kind, never echo the page
            raise FetchError(f"the download failed ({type(e).__name__})",
                             "페이지를 내려받는 중에 연결이 끊겼습니다. 잠시 후 다시 시도해 주세요.") from None
        if not bytes(body).strip():
            raise FetchError("the server sent an empty page", "사이트가 빈 페이지를 보냈습니다. 주소를 확인해 주세요.")
        try:
            text = decode_html(bytes(body), charset)
        except LoadError as e:
            raise FetchError(f"cannot decode the page: {e}",
                             "페이지의 글자 인코딩을 읽지 못했습니다. 다른 주소를 넣어 주세요.") from None
        return Page(url, final, text, page_etag, page_modified)

    def load(self, url: str, etag: str | None = None, last_modified: str | None = None) -> SourceDoc | None:
        """The page at `url` as a document, or None when the server says it has not changed (304)."""
        page = self.fetch(url, etag, last_modified)
        if page.html is None:
            return None
        try:
            text, title, meta = extract_html(page.html, page.final_url, precise=True)
        except LoadError:
            raise FetchError("no main text found in the page (trafilatura extracted nothing)",
                             "페이지에서 본문을 찾지 못했습니다. 기사 본문이 있는 주소인지 확인해 주세요.") from None
        return make_doc(text, title, meta, doc_id=doc_id_for_url(page.url), source=page.final_url, path=page.url,
                        fallback_title=page.final_url, url=page.url, etag=page.etag,
                        last_modified=page.last_modified)


def _check_status(code: int) -> None:
    if code < 400:
        if code >= 300:  # a redirect without a usable Location
            raise FetchError(f"HTTP {code} redirect without a usable Location",
                             "사이트가 페이지를 다른 곳으로 넘기려 했지만 주소를 알려 주지 않았습니다.")
        return
    if code in (404, 410):
        raise FetchError(f"HTTP {code}: page not found",
                         f"페이지를 찾을 수 없습니다(HTTP {code}). 주소를 확인해 주세요.")
    if code in (401, 403):
        raise FetchError(f"HTTP {code}: access refused",
                         f"사이트가 접근을 거부했습니다(HTTP {code}). 로그인 없이 볼 수 있는 주소를 넣어 주세요.")
    if code == 429 or code >= 500:
        raise FetchError(f"HTTP {code}: the server failed or is busy",
                         f"사이트에 일시적인 문제가 있습니다(HTTP {code}). 잠시 후 다시 시도해 주세요.")
    raise FetchError(f"HTTP {code}", f"사이트가 페이지를 주지 않았습니다(HTTP {code}). 주소를 확인해 주세요.")


def _check_type(content_type: str) -> None:
    kind = content_type.split(";")[0].strip().lower()
    if kind and kind not in HTML_TYPES:
        raise FetchError(f"not an HTML page (Content-Type {kind[:80]})",
                         f"웹 페이지(HTML)가 아닙니다({kind[:80]}). PDF 같은 파일은 내려받아 "
                         "파일 올리기로 넣어 주세요.")


def _too_large(mb: float) -> FetchError:
    return FetchError(f"the page is larger than {mb:g} MB (KBOT_FETCH_MAX_MB); stopped downloading",
                      f"페이지가 너무 큽니다({mb:g} MB 초과). 기사 한 편의 주소를 넣어 주세요.")


def _timeout(seconds: float, what: str = "deadline") -> FetchError:
    return FetchError(f"timed out after {seconds:g} s ({what}; KBOT_FETCH_TIMEOUT / KBOT_FETCH_DEADLINE)",
                      "사이트가 제시간에 응답하지 않았습니다. 잠시 후 다시 시도해 주세요.")


def _chain(e: BaseException):
    seen = set()
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        yield e
        e = e.__cause__ or e.__context__


def _is_dns(e: BaseException) -> bool:
    if any(isinstance(x, socket.gaierror) for x in _chain(e)):
        return True
    text = " ".join(str(x) for x in _chain(e)).lower()
    return any(s in text for s in ("name or service not known", "nodename nor servname", "name resolution",
                                   "no address associated", "errno -2", "errno -3", "errno -5"))


def _os_reason(e: BaseException) -> str:
    for x in _chain(e):
        if isinstance(x, OSError) and x.strerror:
            return x.strerror
    return "connection failed"


def _refuse_private(request) -> None:
    """With KBOT_FETCH_PRIVATE_HOSTS=false: refuse hosts that resolve to loopback, private or link-local addresses
    (checked for every request, redirects included), so a shared server cannot be pointed at its own network."""
    try:
        _public(request.url.host, request.url.port or 443)
    except socket.gaierror:
        return  # the request itself reports the DNS failure


def _public(host: str, port: int) -> str:
    """The first address `host` resolves to, refusing loopback, private, link-local and other non-public ones."""
    infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    for info in infos:
        ip = ipaddress.ip_address(info[4][0].split("%")[0])
        if ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved or ip.is_multicast \
                or ip.is_unspecified:
            raise FetchError(f"{host} is a local or private address (KBOT_FETCH_PRIVATE_HOSTS=false)",
                             "내부망 주소는 넣을 수 없습니다. 공개된 웹 주소를 넣어 주세요.")
    return infos[0][4][0]


def guarded_transport():
    """An httpx transport whose sockets connect only to the public address it checked itself, at connect time:
    a DNS answer that changes between the request hook's check and the connection (rebinding) cannot reach a
    private address. TLS still verifies the certificate against the host name."""
    import httpcore
    import httpx

    class Guarded(httpcore.SyncBackend):
        def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
            return super().connect_tcp(_public(host, port), port, timeout, local_address, socket_options)

    transport = httpx.HTTPTransport()
    transport._pool._network_backend = Guarded()  # httpx exposes no argument for the network backend
    return transport

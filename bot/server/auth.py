"""API keys, their scopes, and per-key rate limits for `kbot serve`.

KBOT_API_KEYS names keys (`alice=sk-...,team-b=sha256:<hex>`); KBOT_API_SCOPES gives a key a filter, written like
KBOT_SLACK_SCOPES with key names in place of channel ids. Keys are kept as SHA-256 digests and compared in constant
time; neither a key nor its digest is ever logged or echoed.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import threading
import time
from dataclasses import dataclass

from ..config import Settings
from ..errors import AuthError, ConfigError, ForbiddenError, NoMatchError, RateLimitError
from ..slack import RateLimiter
from ..types import Filters


@dataclass(frozen=True)
class Principal:
    """Who is asking: a key's name and its scope (None: everything), or `local` when no keys are configured."""

    name: str
    scope: Filters | None = None

    @property
    def scoped(self) -> bool:
        return self.scope is not None


LOCAL = Principal("local")


def _digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("utf-8")).digest()


def parse_keys(text: str) -> dict[str, bytes]:
    """`name=key,name=sha256:<hex>` -> name -> SHA-256 digest. A mistake is a ConfigError naming the entry (never
    the key)."""
    keys: dict[str, bytes] = {}
    for part in filter(None, (p.strip() for p in text.replace(";", ",").split(","))):
        name, eq, secret = part.partition("=")
        name, secret = name.strip(), secret.strip()
        if not eq or not name or not secret:
            raise ConfigError("KBOT_API_KEYS: write name=key pairs separated by commas (one entry has no name or "
                              "no key)")
        if secret.startswith("sha256:"):
            try:
                digest = bytes.fromhex(secret[7:])
            except ValueError:
                digest = b""
            if len(digest) != 32:
                raise ConfigError(f"KBOT_API_KEYS: the sha256 digest of key {name!r} is not 64 hex characters")
        else:
            if len(secret) < 16:
                raise ConfigError(f"KBOT_API_KEYS: key {name!r} is shorter than 16 characters; use a random one "
                                  "(python -c 'import secrets; print(secrets.token_urlsafe(32))')")
            digest = _digest(secret)
        if name in keys:
            raise ConfigError(f"KBOT_API_KEYS: the name {name!r} is used twice")
        keys[name] = digest
    return keys


class Keys:
    """The configured keys; `check` turns a request's key into a Principal or refuses it."""

    def __init__(self, settings: Settings) -> None:
        raw = settings.api_keys.get_secret_value() if settings.api_keys else ""
        self._keys = parse_keys(raw)
        self._scopes = settings.api_scopes
        unknown = set(self._scopes) - set(self._keys) - {"*"}
        if unknown:
            raise ConfigError(f"KBOT_API_SCOPES names keys that KBOT_API_KEYS lacks: {', '.join(sorted(unknown))}")

    @property
    def enabled(self) -> bool:
        return bool(self._keys)

    def check(self, presented: str | None) -> Principal:
        """The principal for a presented key: LOCAL without configured keys; AuthError when missing or unknown."""
        if not self._keys:
            return LOCAL
        if not presented:
            raise AuthError("no API key in the request (Authorization: Bearer <key> or X-API-Key)")
        digest = _digest(presented)
        found = None
        for name, known in self._keys.items():  # every key compared, so timing says nothing about which matched
            if hmac.compare_digest(digest, known) and found is None:
                found = name
        if found is None:
            raise AuthError("an unknown API key was presented (forged, mistyped or revoked)")
        return Principal(found, self._scopes.get(found) or self._scopes.get("*"))


def presented_key(headers) -> str | None:
    """The key from `Authorization: Bearer <key>` or `X-API-Key: <key>`."""
    auth = headers.get("authorization") or ""
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip() or None
    return (headers.get("x-api-key") or "").strip() or None


class Limiter(RateLimiter):
    """The Slack bot's per-user limiter, per key, with the seconds until the next request is allowed."""

    def retry_after(self, who: str) -> int:
        with self._lock:
            q = self._seen.get(who)
            if not q:
                return 1
            return max(1, int(self.window - (time.monotonic() - q[0])) + 1)

    def check(self, who: str) -> None:
        if not self.allow(who):
            raise RateLimitError(f"rate limit reached for {who}",
                                 headers={"Retry-After": str(self.retry_after(who))})


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(settings: Settings, keys: Keys) -> None:
    """Refuse to listen beyond loopback without keys, unless KBOT_SERVE_OPEN says the server is meant to be open."""
    if not is_loopback(settings.host) and not keys.enabled and not settings.serve_open:
        raise ConfigError(f"refusing to listen on {settings.host} without API keys: set KBOT_API_KEYS, or "
                          "KBOT_SERVE_OPEN=true (or --open) if anyone who reaches the port may use it")


def must_write(principal: Principal) -> None:
    """Uploads, URL ingestion and deletion change what every key sees: scoped keys may only read."""
    if principal.scoped:
        raise ForbiddenError(f"key {principal.name} is scoped and may not change the index")


# -- scope enforcement ----------------------------------------------------------------------------------------
_lock = threading.Lock()


def allowed_docs(kb, filters: Filters) -> frozenset[str]:
    """The doc ids a filter admits in the current index (empty when it admits none)."""
    try:
        scope = kb.retriever.scope(filters)
    except NoMatchError:
        return frozenset()
    cat = kb.retriever.sparse_index.catalog
    codes = set(cat.doc[scope.mask(cat)].tolist())
    return frozenset(d for d, i in cat.docs.items() if i in codes and d)


def effective(kb, principal: Principal, wanted: Filters | None) -> Filters | None:
    """The filter a request runs under: the caller's, within the key's scope. Never wider than the scope; an empty
    intersection is a NoMatchError (never an empty filter, which would search everything)."""
    if not principal.scoped:
        return wanted
    if wanted is None or wanted.empty:
        return principal.scope
    both = allowed_docs(kb, principal.scope) & allowed_docs(kb, wanted)  # the caller's names checked here too
    if not both:
        raise NoMatchError("the request's filter and the key's scope share no document",
                           user_message="요청한 조건에 맞는 문서가 이 키의 검색 범위 안에 없습니다. "
                                        "조건을 바꿔 주세요.")
    return Filters(docs=both)


def admits(kb, principal: Principal, doc_id: str) -> bool:
    return not principal.scoped or doc_id in allowed_docs(kb, principal.scope)


def redact(kb, principal: Principal, answer):
    """A last check on every answer a scoped key receives: nothing from outside the scope, whatever produced it.
    Related sources and disagreement entries outside are dropped, and so are a calculation's quoted constants;
    any other answer citing outside the scope is withheld (logged: it would be a bug in the filter)."""
    import logging
    from dataclasses import replace

    if not principal.scoped:
        return answer
    ok = allowed_docs(kb, principal.scope)
    related = [h for h in answer.related if h.doc_id in ok]
    stated = [s for s in answer.disagreement if s.hit.doc_id in ok]
    cited = [c for c in answer.citations if c.hit.doc_id in ok]
    if len(cited) < len(answer.citations) and answer.status != "calculated":
        logging.getLogger(__name__).error("an answer for scoped key %s cited documents outside its scope; "
                                          "withheld", principal.name)
        return replace(answer, status="no_answer", body="", citations=[], related=related, disagreement=[])
    return replace(answer, related=related, disagreement=stated, citations=cited)

"""Database URLs: which one to use, what libpq makes of it, and how it is shown masked.

oddskit accepts ``postgresql://`` and ``postgres://`` URLs (also SQLAlchemy's
``postgresql+psycopg://``) and libpq key=value settings; libpq itself parses them, so
what oddskit shows is what the drivers use. Passwords (``password``, ``sslpassword``,
``passfile``, ``$PGPASSWORD``) are never shown: :func:`mask_url` renders a URL with
``***`` in their place and :func:`mask_secrets` removes them from free text.

Example:
    >>> mask_url("postgresql://ana:s3cret@db.example.com:5432/odds")
    'postgresql://ana:***@db.example.com:5432/odds'
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Literal
from urllib.parse import quote, quote_plus

from oddskit.errors import ConfigurationError

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

UrlSource = Literal["argument", "ODDSKIT_DATABASE_URL", "DATABASE_URL", "embedded"]

#: libpq connection parameters whose values are never shown (``***`` instead).
SECRET_PARAMETERS = ("password", "sslpassword", "passfile")

#: Environment variables holding a password that libpq reads; never shown either.
SECRET_VARIABLES = ("PGPASSWORD",)

MASK = "***"

#: ``scheme://`` at the start of a URL.
_SCHEME = re.compile(r"^\s*([A-Za-z][A-Za-z0-9+.-]*)://")

#: The password in the user-info part of any URL inside free text (up to the last ``@``),
#: except the placeholder of the form ``postgresql://user:password@host`` in our hints.
_USERINFO_PASSWORD = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://[^\s:/?@]*:)(?!password@)\S*@")

#: A secret parameter in a URL query: ``?password=…`` / ``&sslpassword=…``.
_QUERY_SECRET = re.compile(r"([?&](?:ssl)?pass(?:word|file)=)[^&\s]*", re.IGNORECASE)

#: A secret in key/value text: ``password=…`` (libpq), ``PGPASSWORD=…``, ``'password': '…'``.
_KEYWORD_SECRET = re.compile(
    r"(?<![\w?&.-])((?:pg)?(?:ssl)?pass(?:word|file)(?:\s*=|['\"]\s*:)\s*)"
    r"('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|[^\s,;)}\]]+)",
    re.IGNORECASE,
)

#: Forms that the accepted database URLs take, for error messages.
URL_FORMS = (
    "Use postgresql://user:password@host:5432/database, with special characters in the "
    "user name and the password percent-encoded (@ as %40, / as %2F, : as %3A, space as "
    "%20), or libpq settings such as 'host=db.example.com port=5432 user=ana dbname=odds' "
    "(values with spaces in single quotes)."
)


class _Unparseable(Exception):
    """A database URL that cannot be used; the message never quotes the URL."""


def _parse(text: str) -> dict[str, str]:
    """libpq's connection parameters of a URL or keyword string (raises :class:`_Unparseable`).

    libpq itself parses it (``PQconninfoParse`` through psycopg), so what oddskit shows
    is what the drivers use. ``postgresql+psycopg://``-style SQLAlchemy schemes are accepted.
    """
    from psycopg import ProgrammingError
    from psycopg.conninfo import conninfo_to_dict

    text = text.strip()
    if not text:
        raise _Unparseable("it is empty")
    scheme = _SCHEME.match(text)
    if scheme:
        dialect = scheme.group(1).lower().split("+")[0]
        if dialect not in ("postgresql", "postgres"):
            raise _Unparseable(f"oddskit needs PostgreSQL, but this URL is for {dialect!r}")
        text = "postgresql://" + text[scheme.end() :]
        _check_one_at(text[len("postgresql://") :])
    elif "=" not in text:
        raise _Unparseable("it is neither a postgresql:// URL nor libpq key=value settings")
    try:
        params = conninfo_to_dict(text)
    except ProgrammingError as exc:
        raise _Unparseable(_libpq_reason(str(exc), text, is_url=bool(scheme))) from None
    return {key: str(value) for key, value in params.items()}


def _check_one_at(rest: str) -> None:
    """Refuse an ``@`` that libpq would read as part of the host or database name.

    libpq ends the user name and password at the first ``@``: an unencoded ``@`` or
    ``/`` in a password would put the rest of the password into the host or database
    name, which oddskit prints.
    """
    stop = re.search(r"[@/]", rest)
    remainder = rest[stop.end() :] if stop and stop.group() == "@" else rest
    if "@" in remainder.split("?", 1)[0]:
        raise _Unparseable(
            "it has more than one '@' before the host or an '@' in the database name "
            "(an unencoded '@' or '/' in the password?)"
        )


def _libpq_reason(message: str, text: str, *, is_url: bool) -> str:
    """libpq's parse error without the parts of the input it quotes (they may be secret)."""
    reason = " ".join(message.split()).removeprefix("couldn't parse connection string: ")

    def keep_if_harmless(match: re.Match[str]) -> str:
        quoted = match.group(1)
        harmless = quoted in ("=", "]") or (
            is_url
            and re.fullmatch(r"[A-Za-z_]+", quoted)
            and re.search(rf"[?&]{re.escape(quoted)}(?:[=&]|$)", text)
        )
        return match.group() if harmless else '"…"'

    return re.sub(r'"([^"]*)"', keep_if_harmless, reason)


def _text(url: str | URL) -> str:
    """A URL as text: a SQLAlchemy ``URL`` with its password (``str()`` would hide it)."""
    render = getattr(url, "render_as_string", None)
    return render(hide_password=False) if render is not None else str(url)


def _secrets_in(url: str | URL | None) -> list[str]:
    """The secret values of ``url`` (parsed, or guessed when unparseable) and of $PGPASSWORD."""
    found = [value for name in SECRET_VARIABLES if (value := os.environ.get(name))]
    if url is None:
        return found
    text = _text(url)
    try:
        params = _parse(text)
        found += [params[key] for key in ("password", "sslpassword") if params.get(key)]
    except _Unparseable:  # guess: whatever stands where a password would
        if scheme := _SCHEME.match(text):
            rest = text[scheme.end() :]
            first = rest.split("@", 1)[0]
            greedy = rest.rsplit("@", 1)[0] if "@" in rest else ""
            found += [part.partition(":")[2] for part in (first, greedy) if ":" in part]
        found += [m.group(2).strip("'\"") for m in _KEYWORD_SECRET.finditer(text)]
        found += [m.group().split("=", 1)[1] for m in _QUERY_SECRET.finditer(text)]
    return [secret for secret in found if secret]


def _hide(text: str, secret: str) -> str:
    """Replace ``secret`` in ``text``, also percent-encoded, as a whole word where it is one."""
    for form in dict.fromkeys((secret, quote(secret, safe=""), quote_plus(secret))):
        before = r"(?<!\w)" if re.match(r"\w", form) else ""
        after = r"(?!\w)" if re.search(r"\w$", form) else ""
        text = re.sub(before + re.escape(form) + after, MASK, text)
    return text


def mask_secrets(text: str, url: str | URL | None = None) -> str:
    """Remove every password from ``text``, for messages, logs and tracebacks.

    Masks the password and ``sslpassword`` of ``url`` wherever they appear (also
    percent-encoded), the value of ``$PGPASSWORD``, and anything written as a secret:
    the password of any ``scheme://user:password@`` URL, ``password=``/``sslpassword=``/
    ``passfile=`` in a URL query or in libpq key=value settings.

    Example:
        >>> mask_secrets("failed for postgresql://a:hunter2@h/d", "postgresql://a:hunter2@h/d")
        'failed for postgresql://a:***@h/d'
        >>> mask_secrets("bad host=h password='x y' dbname=d; also ?sslpassword=z&a=b")
        'bad host=h password=*** dbname=d; also ?sslpassword=***&a=b'
    """
    for secret in sorted(_secrets_in(url), key=len, reverse=True):  # a part hides no whole
        text = _hide(text, secret)
    text = _USERINFO_PASSWORD.sub(rf"\1{MASK}@", text)
    text = _QUERY_SECRET.sub(rf"\1{MASK}", text)
    return _KEYWORD_SECRET.sub(rf"\1{MASK}", text)


def render_url(params: dict[str, str], *, masked: bool) -> str:
    """The connection parameters as a libpq URI, secrets as ``***`` when ``masked``.

    Example:
        >>> params = {"user": "ana", "password": "pw", "host": "db", "dbname": "odds"}
        >>> render_url(params, masked=True)
        'postgresql://ana:***@db/odds'
    """
    rest = dict(params)
    user, password = rest.pop("user", ""), rest.pop("password", "")
    host, port, dbname = rest.pop("host", ""), rest.pop("port", ""), rest.pop("dbname", "")
    netloc = ""
    if user or password:
        shown = MASK if masked else quote(password, safe="")
        netloc = quote(user, safe="") + (f":{shown}" if password else "") + "@"
    if host and not re.search(r"[/,]", host):
        netloc += f"[{host}]" if ":" in host else quote(host, safe="")
        netloc += f":{port}" if port and "," not in port else ""
        if "," in port:
            rest["port"] = port
    else:
        rest.update({key: value for key, value in (("host", host), ("port", port)) if value})
    query = "&".join(
        f"{key}={MASK if masked and key in SECRET_PARAMETERS else quote(value, safe='/:,')}"
        for key, value in rest.items()
    )
    return f"postgresql://{netloc}/{quote(dbname, safe='')}" + (f"?{query}" if query else "")


def parse_database_url(url: str | URL) -> dict[str, str]:
    """Return the libpq connection parameters of a database URL, or raise a readable error.

    Accepts ``postgresql://`` and ``postgres://`` URLs (also SQLAlchemy's
    ``postgresql+psycopg://``) and libpq keyword/value strings. The error never quotes
    the URL's secrets.

    Example:
        >>> parse_database_url("host=db.example.com user=ana password='p w' dbname=odds")
        {'user': 'ana', 'password': 'p w', 'dbname': 'odds', 'host': 'db.example.com'}
        >>> parse_database_url("postgresql://ana:p%40ss@db/odds?sslmode=require")["password"]
        'p@ss'
    """
    text = _text(url)
    try:
        return _parse(text)
    except _Unparseable as exc:
        # (the URL is followed by a space: masking this text again changes nothing)
        shown = f" {mask_url(text)}" if _SCHEME.match(text) else ""
        raise ConfigurationError(
            f"Cannot use the database URL{shown} because {exc}. {URL_FORMS}"
        ) from None


def mask_url(url: str | URL) -> str:
    """Return ``url`` as a ``postgresql://`` URL with every secret replaced by ``***``.

    The password, ``sslpassword`` and ``passfile`` are masked in each accepted form
    (``postgresql://``, ``postgres://``, libpq key=value settings). Something that
    cannot be parsed is masked as well as can be guessed, and a key=value string that
    cannot be parsed is not shown at all.

    Example:
        >>> mask_url("postgresql://ana:pw@localhost/odds")
        'postgresql://ana:***@localhost/odds'
        >>> mask_url("postgresql://ana@localhost/odds?password=pw&sslmode=require")
        'postgresql://ana:***@localhost/odds?sslmode=require'
        >>> mask_url("host=localhost port=5433 user=ana password=pw dbname=odds")
        'postgresql://ana:***@localhost:5433/odds'
    """
    text = _text(url)
    try:
        return render_url(_parse(text), masked=True)
    except _Unparseable:
        if not (scheme := _SCHEME.match(text)):
            return "(database settings that cannot be parsed)"
        rest = text[scheme.end() :]
        if "@" in rest:  # everything after the user name up to the last '@' may be password
            userinfo, _, host_and_more = rest.rpartition("@")
            user, colon, _ = userinfo.partition(":")
            rest = f"{user}{colon and ':' + MASK}@{host_and_more}"
        return mask_secrets(text[: scheme.end()] + rest, text)


def resolve_url(url: str | None = None) -> tuple[str | None, UrlSource]:
    """Return the database URL to use and where it came from.

    ``None`` as the URL means the embedded local server.

    Example:
        >>> resolve_url("postgresql://localhost/odds")
        ('postgresql://localhost/odds', 'argument')
    """
    if url:
        return url, "argument"
    for variable in ("ODDSKIT_DATABASE_URL", "DATABASE_URL"):
        if value := os.environ.get(variable):
            return value, variable  # type: ignore[return-value]
    return None, "embedded"

"""PostgreSQL URLs: the same server as another user or database, and a server given by URL."""

from __future__ import annotations

from urllib.parse import quote, unquote, urlsplit


def with_user(dsn: str, user: str) -> str:
    """`dsn` logging in as `user` instead; the password is kept only when the user is the same
    (servers here use trust auth for other roles)."""
    parts = urlsplit(dsn)
    userinfo, at, host = parts.netloc.rpartition("@")
    if not at:
        host = parts.netloc
    same = unquote(userinfo.partition(":")[0]) == user
    login = userinfo if same else quote(user, safe="")
    return parts._replace(netloc=f"{login}@{host}").geturl()


def with_database(dsn: str, database: str) -> str:
    """`dsn` connecting to `database` instead."""
    return urlsplit(dsn)._replace(path="/" + quote(database, safe="")).geturl()


def user_of(dsn: str) -> str:
    """The login user named in `dsn`."""
    user = urlsplit(dsn).username
    if not user:
        raise ValueError("the database URL names no user")
    return unquote(user)


class ExternalPostgres:
    """A server we did not start, given by a superuser URL; offers the same `dsn()` as
    EmbeddedPostgres so code and tests run against either."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.superuser = user_of(url)

    def dsn(self, user: str | None = None, database: str = "postgres") -> str:
        """A URL for `user` (default: the URL's own superuser) and `database`."""
        return with_database(with_user(self.url, user or self.superuser), database)

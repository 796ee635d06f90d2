"""Shared dependencies: the services bundle, a database session, and the current user."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from pipeline.auth import authenticate
from pipeline.models import MAX_ID, User
from pipeline.services import Services

__all__ = ["AUTHENTICATED_USER", "CurrentUser", "Id", "Offset", "ServicesDep", "SessionDep"]

#: Where ``api.limits.BoundedRequests`` leaves the user it authenticated before the body was read.
AUTHENTICATED_USER = "naskah.user"

_bearer = HTTPBearer(auto_error=False, description="Token dari `naskah user add`")


def get_services(request: Request) -> Services:
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(get_services)]


def get_session(request: Request, svc: ServicesDep) -> Iterator[Session]:
    """The request's session: what a route writes through it commits when the route returns, before
    the response is sent (``scope="function"`` below); a commit that fails raises instead, and the
    client gets the error envelope (503 when the database is unavailable, ``api.errors``), never a 2xx
    for a write that is not stored.

    FastAPI's default (``scope="request"``) ends a yield dependency after the response has been
    sent: the client had its 201 before the commit, read again and found nothing, or kept the id of
    a case whose commit failed.

    A page renders its layout (the header's unread count) through the same session, so a request
    holds one database connection, never two: 32 sessions asking at once took both workers' pools
    when every page opened a second one for its header (``bench/web.py``: 503 after the pool's timeout).
    """
    with Session(svc.engine, expire_on_commit=False) as session:
        request.state.db_session = session  # the page layout's own reads use it (api.web.render.page)
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            del request.state.db_session


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def get_current_user(
    request: Request,
    svc: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    already = request.scope.get(AUTHENTICATED_USER)  # checked by the middleware, before the body
    if already is not None:
        return already
    with Session(svc.engine, expire_on_commit=False) as session:
        return authenticate(session, credentials.credentials if credentials else None)


CurrentUser = Annotated[User, Depends(get_current_user)]


# Ids and numbers in paths, offsets in queries: bounded by what an INTEGER column holds, so an absurd
# value is a 422 that names the parameter, not a query the database refuses (a 500).
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
Offset = Annotated[int, Query(ge=0, le=MAX_ID)]

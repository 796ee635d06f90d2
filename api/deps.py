"""Shared dependencies: the services bundle, a database session, and the current user."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from pipeline.auth import authenticate
from pipeline.models import User
from pipeline.services import Services

__all__ = ["CurrentUser", "ServicesDep", "SessionDep"]

_bearer = HTTPBearer(auto_error=False, description="Token dari `naskah user add`")


def get_services(request: Request) -> Services:
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(get_services)]


def get_session(svc: ServicesDep) -> Iterator[Session]:
    with Session(svc.engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


SessionDep = Annotated[Session, Depends(get_session)]


def get_current_user(
    svc: ServicesDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> User:
    with Session(svc.engine, expire_on_commit=False) as session:
        return authenticate(session, credentials.credentials if credentials else None)


CurrentUser = Annotated[User, Depends(get_current_user)]

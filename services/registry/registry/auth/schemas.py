from __future__ import annotations

from typing import Literal

from shared.schemas import ResponseModel


class TokenRead(ResponseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int

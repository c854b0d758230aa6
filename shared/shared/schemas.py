"""Base classes for wire models: strict in, attribute-friendly out."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

from shared.inputs import clean_value


class RequestModel(BaseModel):
    """Request bodies refuse unknown fields (a typo must not be silently dropped), control
    characters in text and dates outside 1900–2199 (shared.inputs)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _clean(cls, value: Any) -> Any:
        return clean_value(value)


class ResponseModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)

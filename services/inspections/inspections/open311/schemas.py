"""Wire models: the admin's API keys (JSON, problem details) and the Open311 shapes (docs only).

The Open311 answers are rendered by :mod:`inspections.open311.formats` in JSON or
XML; the models below describe their JSON form in the OpenAPI document.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field

from shared.schemas import RequestModel, ResponseModel


class ApiKeyCreate(RequestModel):
    name: str = Field(min_length=1, max_length=200, description="Who the integrator is.")


class ApiKeyRead(ResponseModel):
    """An integrator's key without its secret; ``key_prefix`` tells keys apart."""

    id: uuid.UUID
    name: str
    key_prefix: str
    created_by: uuid.UUID | None
    created_at: datetime
    revoked_at: datetime | None


class ApiKeyIssued(ApiKeyRead):
    api_key: str = Field(description="The secret, shown this once; only its hash is kept.")


class Open311Service(ResponseModel):
    service_code: str
    service_name: str
    description: str
    metadata: bool
    type: str
    keywords: str
    group: str


class Open311AttributeValue(ResponseModel):
    key: str
    name: str


class Open311Attribute(ResponseModel):
    variable: bool
    code: str
    datatype: str
    required: bool
    datatype_description: str
    order: int
    description: str
    values: list[Open311AttributeValue]


class Open311ServiceDefinition(ResponseModel):
    service_code: str
    attributes: list[Open311Attribute]


class Open311Request(ResponseModel):
    service_request_id: str
    status: str = Field(description="open or closed")
    status_notes: str | None
    service_name: str | None
    service_code: str
    description: str | None
    agency_responsible: str | None
    service_notice: str | None
    requested_datetime: str
    updated_datetime: str
    expected_datetime: str | None
    address: str | None
    address_id: str | None
    zipcode: str | None
    lat: float | None
    long: float | None
    media_url: str | None


class Open311Created(ResponseModel):
    service_request_id: str
    service_notice: str
    account_id: str | None


class Open311Error(ResponseModel):
    code: int
    description: str

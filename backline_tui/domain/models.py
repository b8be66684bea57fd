"""Records of the replica and of the JSONL interchange format.

Each record is identified by `ref`, the id the upstream shows to people (``RT#123``,
``PROJ-42``); references between records use refs too, so a file can be read without
knowing any local row id.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, TypeAdapter

from backline_tui.clock import norm_ts
from backline_tui.domain.vocabulary import (  # noqa: F401 — re-exported
    BugStatus, CaseStatus, HelpStatus, KCSState, Priority, Severity, Tier,
)

MessageKind = Literal["question", "reply", "note", "customer", "agent", "offer"]
ParentType = Literal["help_request", "case"]
LinkKind = Literal["case_bug", "article_case", "article_request"]

HELP_OPEN = ("new", "claimed", "answered")
CASE_OPEN = ("open", "pending", "on_hold")
BUG_OPEN = ("open", "in_progress")


def _ts(value: object) -> object:
    if isinstance(value, (str, datetime)):
        try:
            return norm_ts(value)
        except ValueError:
            raise ValueError(f"not an ISO-8601 timestamp: {value!r}") from None
    return value


# Stored and exchanged as 'YYYY-MM-DDTHH:MM:SSZ' (UTC): sortable as text.
Timestamp = Annotated[str, BeforeValidator(_ts), Field(pattern=r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")]
Ref = Annotated[str, Field(min_length=1, max_length=200)]


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ref: Ref
    source: str = "local"
    remote_id: str | None = None
    remote_version: str | None = None
    synced_at: Timestamp | None = None


class HelpRequest(Record):
    type: Literal["help_request"] = "help_request"
    subject: str
    body: str = ""
    asker: str
    case_ref: Ref | None = None
    product: str = ""
    component: str = ""
    priority: Priority = "P3"
    status: HelpStatus = "new"
    owner: str | None = None
    created_at: Timestamp
    updated_at: Timestamp
    first_response_at: Timestamp | None = None
    resolved_at: Timestamp | None = None
    article_ref: Ref | None = None


class Case(Record):
    type: Literal["case"] = "case"
    subject: str
    body: str = ""
    customer: str
    tier: Tier = "standard"
    product: str = ""
    component: str = ""
    version: str = ""
    severity: Severity = "S3"
    status: CaseStatus = "open"
    owner: str | None = None
    created_at: Timestamp
    updated_at: Timestamp
    last_activity_at: Timestamp
    last_customer_update_at: Timestamp | None = None
    reopen_count: int = Field(0, ge=0, le=1_000_000)  # bounded: SQLite integers are 64-bit


class Bug(Record):
    type: Literal["bug"] = "bug"
    title: str
    body: str = ""
    product: str = ""
    component: str = ""
    severity: Severity = "S3"
    status: BugStatus = "open"
    eng_owner: str | None = None
    created_at: Timestamp
    updated_at: Timestamp
    target_at: Timestamp | None = None
    priority_override: Priority | None = None
    fix_version: str | None = None


class ArticleFlag(BaseModel):
    model_config = ConfigDict(extra="forbid")

    who: str
    reason: str
    at: Timestamp
    resolved_at: Timestamp | None = None


class Article(Record):
    type: Literal["article"] = "article"
    title: str
    body: str = ""
    state: KCSState = "wip"
    owner: str | None = None
    product: str = ""
    component: str = ""
    created_at: Timestamp
    updated_at: Timestamp
    last_reviewed_at: Timestamp | None = None
    review_due_at: Timestamp | None = None
    flags: list[ArticleFlag] = []


class Message(Record):
    type: Literal["message"] = "message"
    parent_type: ParentType
    parent_ref: Ref
    author: str
    body: str
    kind: MessageKind = "reply"
    created_at: Timestamp


class Link(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["link"] = "link"
    kind: LinkKind
    from_ref: Ref
    to_ref: Ref
    created_at: Timestamp | None = None


InterchangeRecord = Annotated[
    Union[HelpRequest, Case, Bug, Article, Message, Link], Field(discriminator="type")
]
RECORD_ADAPTER: TypeAdapter[InterchangeRecord] = TypeAdapter(InterchangeRecord)
RECORD_TYPES = ("help_request", "case", "bug", "article", "message", "link")


def interchange_schema() -> dict:
    """JSON Schema of one line of the interchange format."""
    return RECORD_ADAPTER.json_schema()

"""Who is looking: an Anonymous visitor or a Member, never None."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

STAFF_ROLES = frozenset({"editor", "admin"})


@dataclass(frozen=True, slots=True)
class Anonymous:
    client_ip: str | None = None
    is_member: ClassVar[bool] = False
    is_staff: ClassVar[bool] = False
    email_verified: ClassVar[bool] = False


@dataclass(frozen=True, slots=True)
class Member:
    id: int
    email: str
    role: str
    email_verified: bool
    name: str = ""
    client_ip: str | None = None
    is_member: ClassVar[bool] = True

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def email_domain(self) -> str:
        return self.email.rpartition("@")[2].lower()


Viewer = Anonymous | Member

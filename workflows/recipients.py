"""Who holds a role for a trajectory, where the trajectory itself knows it.

The youth is the youth; the case director and the next contact are ids in the trajectory's state,
kept current by its updates (reassign_case_director, choose_destination). Every other role, or a
case director not set yet, is looked up in the directory by the ``resolve_recipients`` activity,
which starts from this same function.
"""

from __future__ import annotations

from config.domain import Role
from notifications.requests import Recipient
from store.directory import PersonKind
from workflows.trajectory_models import ResolveRecipient


def professional(professional_id: str) -> Recipient:
    return Recipient(kind=PersonKind.professional, id=professional_id)


def known_recipients(request: ResolveRecipient) -> list[Recipient] | None:
    """The people holding ``request.role`` by the trajectory's own ids, or None when the
    directory must be asked. A next contact not chosen yet is the case director's to cover."""
    role = request.role
    if role is Role.youth:
        return [Recipient(kind=PersonKind.youth, id=request.youth_id)]
    if role is Role.case_director and request.case_director_id:
        return [professional(request.case_director_id)]
    if role is Role.next_contact:
        contact = request.next_contact_id or request.case_director_id
        if contact:
            return [professional(contact)]
    return None

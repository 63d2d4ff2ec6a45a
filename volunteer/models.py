"""Every model, imported in one place so the metadata (and Alembic) sees the whole schema."""

from volunteer.audit import AuditEvent
from volunteer.auth.models import Role, User, centre_staff, organisation_members
from volunteer.catalogue.models import ActivityType, Centre, LocalArea, Organisation
from volunteer.centres.models import Visit, VisitState
from volunteer.coordination.models import (
    Approval,
    Assignment,
    AssignmentSource,
    AssignmentState,
    MatchRun,
)
from volunteer.needs.models import Need, NeedStatus, Occurrence, OccurrenceStatus, Schedule
from volunteer.notifications.models import (
    JobRun,
    JobRunStatus,
    OutboxMessage,
    OutboxState,
    SchedulerHeartbeat,
)
from volunteer.persons.models import (
    ConsentMethod,
    Person,
    PersonState,
    PersonWindow,
    Referral,
    ReferralState,
    ReferrerRelation,
    person_activity_types,
)
from volunteer.proposals.models import (
    ActivityLead,
    CommentReport,
    Proposal,
    ProposalAuthor,
    ProposalComment,
    ProposalEvent,
    ProposalFollow,
    ProposalNeed,
    ProposalRevision,
    ProposalState,
    ProposalSupport,
)
from volunteer.volunteers.models import (
    AvailabilityWindow,
    AwayPeriod,
    VolunteerProfile,
    organisation_volunteers,
    volunteer_interests,
)

__all__ = [
    "ActivityLead",
    "ProposalNeed",
    "CommentReport",
    "Proposal",
    "ProposalAuthor",
    "ProposalComment",
    "ProposalEvent",
    "ProposalFollow",
    "ProposalRevision",
    "ProposalState",
    "ProposalSupport",
    "ActivityType",
    "Approval",
    "Assignment",
    "AssignmentSource",
    "AssignmentState",
    "AuditEvent",
    "AvailabilityWindow",
    "AwayPeriod",
    "Centre",
    "ConsentMethod",
    "JobRun",
    "JobRunStatus",
    "LocalArea",
    "MatchRun",
    "Need",
    "NeedStatus",
    "Occurrence",
    "OccurrenceStatus",
    "Organisation",
    "OutboxMessage",
    "OutboxState",
    "Person",
    "PersonState",
    "PersonWindow",
    "Referral",
    "ReferralState",
    "ReferrerRelation",
    "Role",
    "Schedule",
    "SchedulerHeartbeat",
    "User",
    "Visit",
    "VisitState",
    "VolunteerProfile",
    "centre_staff",
    "organisation_members",
    "organisation_volunteers",
    "person_activity_types",
    "volunteer_interests",
]

"""A deterministic Hedensted demo world: organisations, areas, centres, needs and volunteers.

Run by ``flask --app app seed-demo``. Names and addresses are invented; the demo accounts share
one published password and use the reserved example.org domain, so no mail reaches anyone.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from werkzeug.security import generate_password_hash

from volunteer import geo
from volunteer.auth.models import Role, User
from volunteer.catalogue.models import ActivityType, Centre, LocalArea, Organisation
from volunteer.centres.models import Visit
from volunteer.clock import local_to_utc, local_today
from volunteer.coordination.models import Assignment, AssignmentSource, AssignmentState
from volunteer.db import utcnow
from volunteer.demo_history import seed_history
from volunteer.extensions import db
from volunteer.needs.models import Need, NeedStatus, Occurrence, Schedule
from volunteer.needs.services import sync_occurrences
from volunteer.persons.models import Person, PersonWindow, Referral
from volunteer.proposals.models import (
    Pool,
    PoolGrant,
    PoolVote,
    Proposal,
    ProposalComment,
    ProposalState,
    ProposalSupport,
)
from volunteer.volunteers.models import AvailabilityWindow, VolunteerProfile

DEMO_PASSWORD = "samskab-demo-2026"
MUNICIPALITY = "Hedensted Kommune"
SEED = 766  # Hedensted's kommune code

LOCAL_AREAS = {
    "7130": "Juelsminde",
    "7140": "Stouby",
    "7150": "Barrit",
    "7160": "Tørring",
    "7171": "Uldum",
    "8721": "Daugård",
    "8722": "Hedensted",
    "8723": "Løsning",
    "8762": "Flemming",
    "8763": "Rask Mølle",
    "8781": "Stenderup",
    "8783": "Hornsyld",
}

ACTIVITY_TYPES = [
    # code, Danish name, English name, Danish description, English description, needs børneattest
    (
        "spisevenner",
        "Spisevenner",
        "Meal friends",
        "Spis et måltid om ugen sammen med en ældre, der bor alene.",
        "Share a weekly meal with an older person who lives alone.",
        False,
    ),
    (
        "lektiecafe",
        "Lektiecafé",
        "Homework café",
        "Hjælp børn og unge med lektierne.",
        "Help children and young people with their homework.",
        True,
    ),
    (
        "besoegsven",
        "Besøgsven",
        "Visiting friend",
        "Besøg en ældre og få en god snak, en gåtur eller et spil kort.",
        "Visit an older person for a chat, a walk or a game of cards.",
        False,
    ),
    (
        "green-team",
        "Green Team",
        "Green Team",
        "Saml affald og pas på naturen sammen med andre.",
        "Pick up litter and look after nature together with others.",
        False,
    ),
    (
        "aktiv-hver-dag",
        "Aktiv hver dag",
        "Active every day",
        "Stå for let motion og bevægelse for ældre.",
        "Lead light exercise and movement for older people.",
        False,
    ),
]

# name, kind, street address, postcode
CENTRES = [
    ("Plejecenter Bakkegården", "plejecenter", "Bakkevej 12", "7130"),
    ("Plejecenter Lindehøj", "plejecenter", "Lindevej 4", "8722"),
    ("Plejecenter Egebo", "plejecenter", "Egevej 20", "7160"),
    ("Plejecenter Solvang", "plejecenter", "Solvangsvej 3", "8783"),
    ("Aktivitetscenter Løsning", "aktivitetscenter", "Vestergade 15", "8723"),
    ("Aktivitetscenter Uldum", "aktivitetscenter", "Torvet 2", "7171"),
    ("Aktivitetscenter Juelsminde", "aktivitetscenter", "Havnegade 8", "7130"),
    ("Juelsminde Bibliotek", "bibliotek", "Biblioteksvej 1", "7130"),
    ("Hedensted Bibliotek", "bibliotek", "Tofteparken 5", "8722"),
    ("Tørring Bibliotek", "bibliotek", "Vestergade 2", "7160"),
    ("Hornsyld Skole", "skole", "Skolevej 10", "8783"),
    ("Stouby Skole", "skole", "Skolegade 6", "7140"),
]

# Each centre's staff account: centre → (email before @example.org, the staff member's name).
CENTRE_STAFF = {
    "Plejecenter Bakkegården": ("bakkegaarden", "Lise Lund"),
    "Plejecenter Lindehøj": ("lindehoej", "Per Poulsen"),
    "Plejecenter Egebo": ("egebo", "Birthe Bach"),
    "Plejecenter Solvang": ("solvang", "Jette Dahl"),
    "Aktivitetscenter Løsning": ("aktivitetscenter-loesning", "Karsten Kjær"),
    "Aktivitetscenter Uldum": ("aktivitetscenter-uldum", "Gitte Holm"),
    "Aktivitetscenter Juelsminde": ("aktivitetscenter-juelsminde", "Bo Skov"),
    "Juelsminde Bibliotek": ("juelsminde-bibliotek", "Tina Vestergaard"),
    "Hedensted Bibliotek": ("hedensted-bibliotek", "Morten Mikkelsen"),
    "Tørring Bibliotek": ("toerring-bibliotek", "Dorte Knudsen"),
    "Hornsyld Skole": ("hornsyld-skole", "Allan Thomsen"),
    "Stouby Skole": ("stouby-skole", "Rikke Jakobsen"),
}

FIRST_NAMES = (
    "Anne Mette Kirsten Hanne Helle Susanne Lene Marianne Karen Birgitte Camilla Maria Ida "
    "Emma Sofie Freja Laura Amalie Fatima Olena Ingrid Grethe Inger Lone Pia Rasmus Jens "
    "Peter Michael Lars Henrik Søren Thomas Niels Jan Martin Anders Mads Frederik Mikkel "
    "Jonas Oliver William Ahmad Ali Taras Erik Poul Bent Ole Kurt Hans Kristian "
).split()
LAST_NAMES = (
    "Jensen Nielsen Hansen Pedersen Andersen Christensen Larsen Sørensen Rasmussen Jørgensen "
    "Petersen Madsen Kristensen Olsen Thomsen Christiansen Poulsen Johansen Møller Mortensen "
    "Knudsen Jakobsen Mikkelsen Lund Holm Kjær Bach Dahl Skov Vestergaard "
).split()

# Where the demo volunteers live: Hedensted's own postcodes, and a few from the neighbours.
VOLUNTEER_POSTCODES = [
    ("7130", 14),
    ("7140", 5),
    ("7150", 4),
    ("7160", 9),
    ("7171", 6),
    ("8721", 3),
    ("8722", 16),
    ("8723", 9),
    ("8762", 2),
    ("8763", 3),
    ("8781", 3),
    ("8783", 6),
    ("7100", 4),
    ("8700", 5),
]

LANGUAGE_EXTRAS = [("en", 25), ("de", 6), ("ar", 4), ("uk", 4), ("tr", 2), ("so", 2)]

WINDOW_CHOICES = [
    (time(9), time(12)),
    (time(10), time(14)),
    (time(13), time(17)),
    (time(14), time(18)),
    (time(16), time(20)),
    (time(17), time(21)),
]


@dataclass(frozen=True)
class DemoLogin:
    email: str
    role: str
    description: str


def seed(today: date | None = None, volunteers: int = 300) -> list[DemoLogin] | None:
    """Create the demo world once. Returns the demo logins, or None when it already exists."""
    if db.session.scalar(select(Organisation).where(Organisation.name == MUNICIPALITY)):
        return None
    today = today or local_today(utcnow())
    rng = random.Random(SEED)
    password_hash = generate_password_hash(DEMO_PASSWORD)

    kommune = Organisation(name=MUNICIPALITY, kind="municipality", email="frivillig@example.org")
    aeldresagen = Organisation(name="Ældre Sagen Hedensted", kind="association")
    lokalraad = Organisation(name="Juelsminde Lokalråd", kind="local_council")
    db.session.add_all([kommune, aeldresagen, lokalraad])

    areas = {}
    for code, name in LOCAL_AREAS.items():
        place = geo.lookup(code)
        assert place is not None, code
        areas[code] = LocalArea(
            name=name, postcode=code, lat=place.lat, lon=place.lon, organisation=kommune
        )
    db.session.add_all(areas.values())

    activities = {}
    for order, (code, name_da, name_en, desc_da, desc_en, child) in enumerate(ACTIVITY_TYPES):
        activities[code] = ActivityType(
            code=code,
            name_da=name_da,
            name_en=name_en,
            description_da=desc_da,
            description_en=desc_en,
            requires_child_certificate=child,
            # A visiting friend comes into a lone senior's home: a coordinator meets them first.
            requires_approval=code == "besoegsven",
            # What a referral (henvisning) can ask for, for a senior who lives alone.
            for_persons=code in ("spisevenner", "besoegsven"),
            sort_order=order,
        )
    db.session.add_all(activities.values())

    centres = {}
    for name, kind, address, code in CENTRES:
        place = geo.lookup(code)
        assert place is not None, code
        centres[name] = Centre(
            name=name,
            kind=kind,
            address=address,
            postcode=code,
            town=place.town,
            lat=round(place.lat + rng.uniform(-0.006, 0.006), 5),
            lon=round(place.lon + rng.uniform(-0.01, 0.01), 5),
            organisation=kommune,
            local_area=areas.get(code),
        )
    db.session.add_all(centres.values())

    staff = [
        User(
            email="admin@example.org",
            name="Anders Admin",
            role=Role.ADMIN,
            password_hash=password_hash,
        ),
        User(
            email="koordinator@example.org",
            name="Mette Koordinator",
            phone="+45 70 00 00 01",
            role=Role.COORDINATOR,
            password_hash=password_hash,
            organisations=[kommune],
        ),
        User(
            email="aeldresagen@example.org",
            name="Hanne Holm",
            phone="+45 70 00 00 02",
            role=Role.COORDINATOR,
            password_hash=password_hash,
            organisations=[aeldresagen],
        ),
    ]
    # Every centre has a staff member, so every centre's visits can be confirmed.
    staff += [
        User(
            email=f"{login}@example.org",
            name=person,
            role=Role.CENTRE,
            password_hash=password_hash,
            centres=[centres[centre]],
        )
        for centre, (login, person) in CENTRE_STAFF.items()
    ]
    staff.append(
        User(
            email="lokalraad@example.org",
            name="Jens Juul",
            phone="+45 70 00 00 03",
            role=Role.COORDINATOR,
            password_hash=password_hash,
            organisations=[lokalraad],
        )
    )
    db.session.add_all(staff)

    people = _volunteers(rng, volunteers, password_hash, areas, list(activities.values()), today)
    # The demo's addresses count as confirmed (example.org cannot receive the links).
    for person in (*staff, *people):
        person.email_confirmed_at = datetime.combine(today, time(0), tzinfo=UTC)
    # A separate generator, so adding memberships leaves the rest of the demo world unchanged.
    memberships = random.Random(f"{SEED}-memberships")
    for person in people:
        assert person.profile is not None
        person.profile.organisations = [kommune, memberships.choice([aeldresagen, lokalraad])]
    db.session.add_all(people)
    needs = _needs(rng, today, kommune, aeldresagen, lokalraad, centres, activities, areas)
    # Every need names whom to ask: its organisation's coordinator.
    contacts = {
        org: person
        for person in staff
        if person.role == Role.COORDINATOR
        for org in person.organisations
    }
    db.session.add_all(needs)
    db.session.flush()
    for need in needs:
        if need.status in (NeedStatus.OPEN, NeedStatus.FILLED):
            sync_occurrences(need, today)
    _assignments(rng, needs, people)
    db.session.flush()
    seed_history(SEED, today, needs, people, lokalraad)  # a year of the past, for the reports
    db.session.flush()
    for need in db.session.scalars(select(Need).where(Need.contact_id.is_(None))):
        need.contact = contacts.get(need.organisation)  # the history's past needs too
    _persons(today, kommune, aeldresagen, areas, activities, staff)
    _forloeb(today, kommune, aeldresagen, areas, activities, staff, people)
    _proposals(today, areas, lokalraad, people, staff)
    _kept_account(today, kommune, staff, needs)
    db.session.commit()
    return [
        DemoLogin("admin@example.org", "admin", "Administrator"),
        DemoLogin("koordinator@example.org", "coordinator", MUNICIPALITY),
        DemoLogin("aeldresagen@example.org", "coordinator", "Ældre Sagen Hedensted"),
        DemoLogin("lokalraad@example.org", "coordinator", "Juelsminde Lokalråd"),
        *(
            DemoLogin(f"{login}@example.org", "centre", centre)
            for centre, (login, _person) in CENTRE_STAFF.items()
        ),
        DemoLogin("frivillig@example.org", "volunteer", "Karen Jensen, Juelsminde"),
    ]


# The people we help: name, postcode, street, activity, days waiting (None: ended 400 days ago),
# (contact name, relation, phone) or None, the person's own wish about the volunteer.
PERSONS = [
    (
        "Edith Gram",
        "7130",
        "Strandvejen 41",
        "spisevenner",
        63,
        ("Susanne Gram", "datter", "+45 20 00 10 01"),
        "En kvinde",
    ),
    ("Valdemar Krog", "7130", "Fyrvej 7", "besoegsven", 41, None, ""),
    (
        "Ellen Brix",
        "8722",
        "Kirkevej 18",
        "spisevenner",
        28,
        ("Hjemmeplejen Hedensted", "hjemmepleje", "+45 79 75 50 00"),
        "",
    ),
    (
        "Aage Tang",
        "7160",
        "Mølleparken 3",
        "besoegsven",
        12,
        None,
        "Gerne en, der kan lide fodbold",
    ),
    (
        "Karla Vinther",
        "8783",
        "Østergade 22",
        "spisevenner",
        5,
        ("Bent Vinther", "søn", "+45 20 00 10 02"),
        "",
    ),
    ("Signe Brandt", "8723", "Skovbrynet 9", "besoegsven", 90, None, "En kvinde"),
    (
        "Herluf Bonde",
        "7171",
        "Byvej 30",
        "besoegsven",
        None,
        ("Marianne Bonde", "svigerdatter", "+45 20 00 10 03"),
        "",
    ),
]


def _persons(
    today: date,
    kommune: Organisation,
    aeldresagen: Organisation,
    areas: dict[str, LocalArea],
    activities: dict[str, ActivityType],
    staff: list[User],
) -> None:
    """A few people we help (most waiting, one ended long ago) and one new referral, always the
    same. The visiting friends are Ældre Sagen's, the meal friends the municipality's."""
    coordinators = {o.id: u for u in staff if u.role == Role.COORDINATOR for o in u.organisations}
    db.session.flush()
    for number, (name, code, street, activity, waited, contact, wish) in enumerate(PERSONS):
        place = geo.lookup(code)
        assert place is not None, code
        org = aeldresagen if activity == "besoegsven" else kommune
        since = today - timedelta(days=waited if waited is not None else 500)
        person = Person(
            organisation=org,
            name=name,
            address=street,
            postcode=code,
            town=place.town,
            lat=place.lat,
            lon=place.lon,
            local_area=areas.get(code),
            activity_types=[activities[activity]],
            interests="Kortspil, radio og en kop kaffe" if number % 2 else "Haven og fuglene",
            volunteer_wish=wish,
            phone=f"+45 75 00 20 {number:02d}" if number % 3 != 1 else None,
            consent_given_by=contact[0] if contact and number == 0 else name,
            consent_given_on=since,
            consent_method="power_of_attorney" if contact and number == 0 else "oral_to_staff",
            consent_recorded_by=coordinators.get(org.id),
            created_by_id=coordinators[org.id].id if org.id in coordinators else None,
            waiting_since=since,
            state="waiting" if waited is not None else "ended",
            ended_on=None if waited is not None else today - timedelta(days=400),
            windows=[PersonWindow(weekday=number % 5, start_time=time(14), end_time=time(16))],
        )
        if contact:
            person.contact_name, person.contact_relation, person.contact_phone = contact
        db.session.add(person)
    juelsminde = areas["7130"]
    db.session.add(
        Referral(
            organisation=juelsminde.organisation,
            local_area=juelsminde,
            referrer_name="Pia Holt",
            referrer_relation="relative",
            referrer_email="pia.holt@example.org",
            person_name="Ruth Holt",
            person_postcode="7130",
            person_town="Juelsminde",
            person_address="Sønderskovvej 5",
            activity_codes=["spisevenner"],
            message="Min mor bor alene og vil gerne have selskab til aftensmad en gang om ugen.",
            consent=True,
            created_at=local_to_utc(today - timedelta(days=2), time(19, 30)),
        )
    )


# People paired with a volunteer (forløb): name, postcode, street, activity, days since the
# start, days it lasted (None: still going), why it ended, the volunteer's index in the seed
# (0 is Karen), weekday. Enough for the dashboard's waiting and pair figures not to be zeros.
PAIRS = [
    ("Inga Holm", "7130", "Havnegade 4", "besoegsven", 420, None, None, 0, 4),
    ("Poul Riis", "7130", "Stationsvej 2", "spisevenner", 200, None, None, 11, 1),
    ("Else Dahl", "8722", "Vestergade 11", "besoegsven", 150, None, None, 12, 2),
    ("Anna Friis", "7171", "Skolevej 8", "besoegsven", 380, None, None, 13, 3),
    ("Jens Lund", "7160", "Bakkevej 6", "besoegsven", 500, 90, "not_a_match", 14, 0),
    ("Birthe Skov", "8783", "Ny Munkegade 1", "spisevenner", 450, 400, "moved", 15, 2),
    ("Knud Bech", "8723", "Kærvej 3", "spisevenner", 300, 60, "person_stopped", 16, 1),
]


def _forloeb(
    today: date,
    kommune: Organisation,
    aeldresagen: Organisation,
    areas: dict[str, LocalArea],
    activities: dict[str, ActivityType],
    staff: list[User],
    people: list[User],
) -> None:
    """The forløb of the demo, always the same: four going on (Karen visits Inga Holm), three
    ended (one within a month or two, one after more than a year). Written as history, as the
    rest of the seed; the ones going on have their private weekly need and visits ahead."""
    from volunteer.pairs.models import Forloeb, ForloebState

    coordinators = {o.id: u for u in staff if u.role == Role.COORDINATOR for o in u.organisations}
    if not people:
        return
    for name, code, street, activity, days, lasted, reason, who, weekday in PAIRS:
        place = geo.lookup(code)
        assert place is not None, code
        org = aeldresagen if activity == "besoegsven" else kommune
        coordinator = coordinators.get(org.id)
        started = today - timedelta(days=days)
        ended = started + timedelta(days=lasted) if lasted is not None else None
        volunteer = people[who % len(people)]  # a small seed (tests) has fewer
        state = (
            "paired" if ended is None else ("ended" if reason == "person_stopped" else "waiting")
        )
        person = Person(
            organisation=org,
            name=name,
            address=street,
            postcode=code,
            town=place.town,
            lat=place.lat,
            lon=place.lon,
            local_area=areas.get(code),
            activity_types=[activities[activity]],
            interests="Kaffe, avisen og en gåtur",
            consent_given_by=name,
            consent_given_on=started - timedelta(days=30),
            consent_method="oral_to_staff",
            consent_recorded_by=coordinator,
            created_by_id=coordinator.id if coordinator else None,
            waiting_since=started - timedelta(days=30) if ended is None else ended,
            state=state,
            ended_on=ended if state == "ended" else None,
            windows=[PersonWindow(weekday=weekday, start_time=time(10), end_time=time(12))],
        )
        db.session.add(person)
        need = Need(
            organisation=org,
            activity_type=activities[activity],
            local_area=areas.get(code),
            contact=coordinator,
            title=f"{activities[activity].name_da} i {place.town}",
            postcode=code,
            town=place.town,
            lat=place.lat,
            lon=place.lon,
            schedule=Schedule.WEEKLY,
            weekday=weekday,
            start_time=time(10),
            end_time=time(12),
            first_date=started,
            skip_holidays=False,
            slots=1,
            languages=[],
            status=NeedStatus.FILLED if ended is None else NeedStatus.CLOSED,
            private=True,
            opened_at=local_to_utc(started, time(9)),
        )
        db.session.add(need)
        db.session.flush()
        db.session.add(
            Assignment(
                need=need,
                volunteer=volunteer,
                state=AssignmentState.ACCEPTED if ended is None else AssignmentState.ENDED,
                source=AssignmentSource.MANUAL,
                created_at=local_to_utc(started - timedelta(days=7), time(9)),
                responded_at=local_to_utc(started - timedelta(days=5), time(9)),
                ended_at=local_to_utc(ended, time(9)) if ended else None,
            )
        )
        db.session.add(
            Forloeb(
                person=person,
                volunteer=volunteer,
                organisation=org,
                activity_type=activities[activity],
                need=need,
                start_date=started,
                weekday=weekday,
                start_time=time(10),
                end_time=time(12),
                state=ForloebState.ACTIVE if ended is None else ForloebState.ENDED,
                explanation=[["manual", {}]],
                proposed_at=local_to_utc(started - timedelta(days=7), time(9)),
                activated_on=started - timedelta(days=5),
                ended_on=ended,
                end_reason=reason,
                created_by_id=coordinator.id if coordinator else None,
            )
        )
        db.session.flush()
        if ended is None:
            sync_occurrences(need, today)


def _proposals(  # type: ignore[no-untyped-def]
    today: date, areas, lokalraad: Organisation, people: list[User], staff: list[User]
) -> None:
    """Citizens' proposals: one in Løsning just sent with helpers in, one overdue at the
    Juelsminde council, one declined with its reason, one adopted, and a draft. The answer
    deadline is the sending day plus 14 days, as ``PROPOSAL_ANSWER_DAYS`` sets by default."""
    karen = next(p for p in people if p.email == "frivillig@example.org")
    others = [p for p in people if p is not karen]
    coordinator = next(p for p in staff if p.email == "koordinator@example.org")
    council = next(p for p in staff if p.email == "lokalraad@example.org")

    def sent(days_ago: int) -> datetime:
        return local_to_utc(today - timedelta(days=days_ago), time(10))

    def proposal(author: User, code: str, state: ProposalState, days_ago: int | None, **fields):  # type: ignore[no-untyped-def]
        place = geo.lookup(code)
        assert place is not None
        row = Proposal(
            created_by=author,
            postcode=code,
            town=place.town,
            local_area=areas.get(code),
            state=state,
            created_at=sent((days_ago or 0) + 2),
            updated_at=sent(days_ago or 0),
            **fields,
        )
        if days_ago is not None:
            row.submitted_at = sent(days_ago)
            row.answer_deadline = today - timedelta(days=days_ago) + timedelta(days=14)
        db.session.add(row)
        return row

    walking = proposal(
        karen,
        "8723",
        ProposalState.RECEIVED,
        3,
        title="Vi vil starte en gåklub i Løsning",
        what="En tur på 3-5 km hver tirsdag formiddag fra Aktivitetscenter Løsning, i roligt "
        "tempo, med kaffe bagefter.",
        for_whom="Alle, der gerne vil gå i selskab med andre – også med rollator.",
        schedule="weekly",
        weekday=1,
        start_time=time(10),
        end_time=time(11, 30),
        helpers_wanted=3,
        helper_roles="To turledere og en, der laver kaffe",
        ask_room=True,
        ask_materials="Refleksveste",
        amount_ore=150_000,
    )
    knitting = proposal(
        others[0],
        "7130",
        ProposalState.UNDER_REVIEW,
        20,
        title="Strikkecafé på biblioteket i Juelsminde",
        what="Strik og snak hver anden torsdag eftermiddag.",
        for_whom="Ældre, der bor alene",
        organisation=lokalraad,
        helpers_wanted=2,
        helper_roles="To, der kan lære fra sig",
        ask_materials="Garn og pinde",
        amount_ore=50_000,
        answer_text="Vi undersøger, om biblioteket har et lokale.",
        answered_by=council,
        answered_at=sent(15),
    )
    proposal(
        others[1],
        "8722",
        ProposalState.DECLINED,
        30,
        title="Fællesspisning hver aften i Hedensted",
        what="Varm mad hver aften for alle.",
        amount_ore=2_000_000,
        answer_text="Vi kan ikke betale for mad hver aften. Prøv gerne med én aften om "
        "måneden – så hjælper vi med et lokale.",
        answered_by=coordinator,
        answered_at=sent(25),
    )
    homework = proposal(
        others[2],
        "8783",
        ProposalState.ADOPTED,
        40,
        title="Lektiecafé i Hornsyld",
        what="Hjælp til lektier mandag og onsdag efter skole.",
        for_whom="Børn i 4.-7. klasse",
        helpers_wanted=4,
        answer_text="Ja! Vi finder et lokale på skolen og hjælper med at finde frivillige.",
        answered_by=coordinator,
        answered_at=sent(33),
    )
    proposal(
        karen,
        "7130",
        ProposalState.DRAFT,
        None,
        title="Havehold ved Juelsminde Plejecenter",
        what="Vi luger og planter sammen med beboerne om foråret.",
    )
    # Proposals 6 and on (1–5 stay as they are: the browser tests open them by id).
    bikes = proposal(
        others[6],
        "7160",
        ProposalState.RECEIVED,
        5,
        title="Cykling uden alder i Tørring",
        what="Ture i rickshaw for beboerne på plejecentret, to gange om ugen.",
        helpers_wanted=4,
        amount_ore=1_200_000,
    )
    benches = proposal(
        others[7],
        "7130",
        ProposalState.ADOPTED,
        25,
        title="Bænke på stien langs stranden i Juelsminde",
        what="Tre bænke, så flere kan gå turen med pauser.",
        organisation=lokalraad,
        amount_ore=900_000,
        answer_text="Ja – lokalrådet betaler bænkene af lokalpuljen.",
        answered_by=council,
        answered_at=sent(18),
    )
    _pools(today, areas, {homework: (300_000, coordinator), benches: (900_000, council)})
    db.session.flush()
    torring = next(a for a in areas.values() if a.name == "Tørring")
    pool = db.session.scalar(select(Pool).where(Pool.local_area_id == torring.id))
    residents = [
        p for p in others if p.profile is not None and p.profile.local_area_id == torring.id
    ]
    for person in residents[:4]:
        db.session.add(PoolVote(pool=pool, proposal=bikes, user_id=person.id))
    for person, kind in zip(others[3:6], ("helper", "helper", "participant"), strict=True):
        db.session.add(ProposalSupport(proposal=walking, user=person, kind=kind))
    db.session.add(
        ProposalComment(
            proposal=walking,
            author=others[3],
            body="Jeg vil gerne være turleder, jeg kender stierne ved Løsning Mose.",
            created_at=sent(2),
        )
    )
    db.session.add(
        ProposalComment(
            proposal=knitting,
            author=others[4],
            body="Jeg har masser af garn, I kan få.",
            created_at=sent(18),
        )
    )


def _pools(today: date, areas, grants) -> None:  # type: ignore[no-untyped-def]
    """One local area fund per demo local area for this year (the bigger towns vote first),
    and the grants given to adopted proposals."""
    pools = {}
    for code, area in areas.items():
        voting = code in ("7130", "7160", "8722", "8723")
        pools[area.id] = Pool(
            local_area=area,
            year=today.year,
            amount_ore=5_000_000 if voting else 2_000_000,
            voting=voting,
            voting_closes_on=today + timedelta(days=30) if voting else None,
        )
    db.session.add_all(pools.values())
    db.session.flush()  # the pools' and the staff's ids
    for proposal, (amount, by) in grants.items():
        if proposal.submitted_at is None or local_today(proposal.submitted_at).year != today.year:
            continue
        db.session.add(
            PoolGrant(
                pool_id=pools[proposal.local_area.id].id,
                proposal=proposal,
                amount_ore=amount,
                granted_by_id=by.id,
                created_at=proposal.answered_at,
            )
        )


# Issue #14's "nobody left out": a volunteer without email whose account the municipality's
# coordinator keeps (phone only), with a recorded børneattest, on a lektiecafé.
KEPT_NAME = "Else Uden Mail"
KEPT_PHONE = "+4520002001"


def _kept_account(today: date, kommune: Organisation, staff: list[User], needs: list[Need]) -> None:
    coordinator = next(u for u in staff if u.email == "koordinator@example.org")
    cafe = next(
        n
        for n in needs
        if n.organisation is kommune
        and n.title.startswith("Lektiecafé")
        and n.status == NeedStatus.OPEN
        and _held(n) < n.slots
    )
    place = geo.lookup(cafe.postcode)
    assert place is not None
    else_ = User(
        email=None,
        name=KEPT_NAME,
        phone=KEPT_PHONE,
        password_hash=None,
        role=Role.VOLUNTEER,
        locale="da",
        contact_channel="sms",
        managed_by_id=coordinator.id,
    )
    else_.profile = VolunteerProfile(
        postcode=place.code,
        town=place.town,
        lat=place.lat,
        lon=place.lon,
        max_km=15,
        weekly_capacity=1,
        languages=["da"],
        organisations=[kommune],
        availability=[
            AvailabilityWindow(weekday=cafe.weekday, start_time=time(14), end_time=time(18))
        ],
        child_cert_checked_on=today - timedelta(days=30),
        child_cert_valid_until=today + timedelta(days=3 * 365),
        child_cert_checked_by=coordinator,
    )
    db.session.add(else_)
    assignment = Assignment(
        need=cafe,
        volunteer=else_,
        state=AssignmentState.ACCEPTED,
        source=AssignmentSource.MANUAL,
        responded_at=utcnow(),
    )
    db.session.add(assignment)
    db.session.flush()
    occurrences = db.session.scalars(
        select(Occurrence).where(Occurrence.need_id == cafe.id).order_by(Occurrence.starts_at)
    ).all()
    for occurrence in occurrences[:4]:
        db.session.add(Visit(occurrence=occurrence, volunteer=else_, assignment=assignment))


def _held(need: Need) -> int:
    return len(
        db.session.scalars(
            select(Assignment.id).where(
                Assignment.need_id == need.id, Assignment.state == AssignmentState.ACCEPTED
            )
        ).all()
    )


def _weighted(rng: random.Random, choices: list[tuple[str, int]]) -> str:
    values, weights = zip(*choices, strict=True)
    return rng.choices(values, weights=weights)[0]


def _volunteers(
    rng: random.Random,
    count: int,
    password_hash: str,
    areas: dict[str, LocalArea],
    activities: list[ActivityType],
    today: date,
) -> list[User]:
    people = []
    for index in range(count):
        if index == 0:
            name, email, code = "Karen Jensen", "frivillig@example.org", "7130"
        else:
            name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
            email = f"frivillig{index:03d}@example.org"
            code = _weighted(rng, VOLUNTEER_POSTCODES)
        place = geo.lookup(code)
        assert place is not None, code
        languages = ["da"] + sorted(
            {lang for lang, pct in LANGUAGE_EXTRAS if rng.randrange(100) < pct}
        )
        profile = VolunteerProfile(
            postcode=code,
            town=place.town,
            lat=round(place.lat + rng.uniform(-0.02, 0.02), 5),
            lon=round(place.lon + rng.uniform(-0.03, 0.03), 5),
            local_area=areas.get(code),
            max_km=rng.choice([3, 5, 8, 10, 10, 15, 20, 25]),
            weekly_capacity=rng.choice([1, 1, 1, 2, 2, 3]),
            languages=languages,
            interests=rng.sample(activities, rng.randint(1, 3)),
            availability=_availability(rng),
        )
        if rng.random() < 0.3:
            profile.child_cert_checked_on = today - timedelta(days=rng.randint(10, 600))
            profile.child_cert_valid_until = profile.child_cert_checked_on + timedelta(days=730)
        people.append(
            User(
                email=email,
                name=name,
                role=Role.VOLUNTEER,
                password_hash=password_hash,
                phone=f"+45 {rng.randint(20, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)} "
                f"{rng.randint(10, 99)}",
                profile=profile,
            )
        )
    return people


def _availability(rng: random.Random) -> list[AvailabilityWindow]:
    windows: dict[int, tuple[time, time]] = {}
    for _ in range(rng.randint(1, 4)):
        weekday = rng.choice([0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 5, 6])
        windows[weekday] = rng.choice(WINDOW_CHOICES)
    return [
        AvailabilityWindow(weekday=day, start_time=start, end_time=end)
        for day, (start, end) in sorted(windows.items())
    ]


def _needs(
    rng: random.Random,
    today: date,
    kommune: Organisation,
    aeldresagen: Organisation,
    lokalraad: Organisation,
    centres: dict[str, Centre],
    activities: dict[str, ActivityType],
    areas: dict[str, LocalArea],
) -> list[Need]:
    plejecentre = [c for c in centres.values() if c.kind == "plejecenter"]
    aktivitetscentre = [c for c in centres.values() if c.kind == "aktivitetscenter"]
    learning = [c for c in centres.values() if c.kind in ("bibliotek", "skole")]
    needs: list[Need] = []

    def weekly(org, activity, title, description, where, weekday, start, end, slots, **extra):
        needs.append(
            _need(
                org,
                activities[activity],
                title,
                description,
                where,
                areas,
                schedule=Schedule.WEEKLY,
                weekday=weekday,
                start_time=start,
                end_time=end,
                first_date=today - timedelta(days=rng.randint(0, 40)),
                last_date=None,
                slots=slots,
                **extra,
            )
        )

    for centre in plejecentre:
        for weekday in (1, 3):
            weekly(
                kommune,
                "spisevenner",
                f"Spiseven til aftensmad på {centre.name}",
                "Spis aftensmad sammen med en beboer, der savner selskab ved bordet. "
                "Maden står klar, du skal bare komme og være god at snakke med.",
                centre,
                weekday,
                time(17, 30),
                time(19),
                rng.randint(1, 3),
            )
        weekly(
            aeldresagen,
            "besoegsven",
            f"Besøgsven på {centre.name}",
            "Kom forbi til en kop kaffe, en gåtur i haven eller et spil kort med en beboer.",
            centre,
            rng.choice([0, 2, 4]),
            time(10),
            time(11, 30),
            rng.randint(1, 2),
        )
    for centre in aktivitetscentre:
        for weekday in (0, 3):
            weekly(
                kommune,
                "aktiv-hver-dag",
                f"Aktiv hver dag: stolegymnastik i {centre.town}",
                "Led en halv times stolegymnastik og bagefter en kop kaffe. Ingen erfaring "
                "krævet; vi viser dig øvelserne.",
                centre,
                weekday,
                time(10),
                time(11),
                2,
            )
    for centre in learning:
        for weekday in (0, 2):
            weekly(
                kommune,
                "lektiecafe",
                f"Lektiecafé på {centre.name}",
                "Hjælp elever i 4.–9. klasse med dansk, matematik og engelsk. "
                "Kræver gyldig børneattest, som koordinatoren indhenter.",
                centre,
                weekday,
                time(15),
                time(17),
                rng.randint(2, 4),
                requires_child_certificate=True,
            )
    for code in ("7130", "8722", "7160", "8783", "7140"):
        weekly(
            aeldresagen,
            "besoegsven",
            f"Besøgsven til ældre i eget hjem, {LOCAL_AREAS[code]}",
            "En ældre, der bor alene, vil gerne have besøg en gang om ugen.",
            code,
            rng.choice([1, 2, 3]),
            time(14),
            time(15, 30),
            1,
        )
    for offset, code, title in (
        (8, "7130", "Affaldsindsamling ved Juelsminde Havn"),
        (15, "8722", "Green Team rydder op langs Hedensted Å"),
        (22, "7160", "Green Team i Tørring Ådal"),
        (29, "7140", "Strandrensning ved Stouby"),
        (36, "8783", "Affaldsindsamling i Hornsyld"),
    ):
        day = today + timedelta(days=offset)
        day += timedelta(days=(5 - day.weekday()) % 7)  # a Saturday
        needs.append(
            _need(
                lokalraad,
                activities["green-team"],
                title,
                "Vi mødes kl. 10, får handsker og poser, og slutter med en sandwich.",
                code,
                areas,
                schedule=Schedule.ONCE,
                weekday=day.weekday(),
                start_time=time(10),
                end_time=time(13),
                first_date=day,
                last_date=day,
                slots=rng.randint(6, 12),
            )
        )
    needs[-1].status = NeedStatus.DRAFT
    needs[3].status = NeedStatus.FILLED
    return needs


def _need(org, activity, title, description, where, areas, **fields) -> Need:  # type: ignore[no-untyped-def]
    if isinstance(where, Centre):
        place = dict(
            centre=where, postcode=where.postcode, town=where.town, lat=where.lat, lon=where.lon
        )
        code = where.postcode
    else:
        found = geo.lookup(where)
        assert found is not None, where
        place = dict(postcode=found.code, town=found.town, lat=found.lat, lon=found.lon)
        code = where
    return Need(
        organisation=org,
        activity_type=activity,
        title=title,
        description=description,
        local_area=areas.get(code),
        status=NeedStatus.OPEN,
        opened_at=utcnow(),
        **place,
        **fields,
    )


def _assignments(rng: random.Random, needs: list[Need], people: list[User]) -> None:
    """Give some needs an accepted volunteer, with visits for the coming occurrences."""
    karen = people[0]
    weekly_open = [n for n in needs if n.schedule == Schedule.WEEKLY and n.status != "draft"]
    # Distinct needs, so each (need, volunteer) pair is new.
    chosen = [weekly_open[0]] + rng.sample(weekly_open[1:], 12)
    for index, need in enumerate(chosen):
        volunteer = karen if index == 0 else rng.choice(people[1:])
        assignment = Assignment(
            need=need,
            volunteer=volunteer,
            state=AssignmentState.ACCEPTED,
            source=AssignmentSource.MANUAL,
            responded_at=utcnow(),
        )
        db.session.add(assignment)
        occurrences = db.session.scalars(
            select(Occurrence).where(Occurrence.need_id == need.id).order_by(Occurrence.starts_at)
        ).all()
        for occurrence in occurrences[:4]:
            db.session.add(Visit(occurrence=occurrence, volunteer=volunteer, assignment=assignment))
        if need.slots == 1:
            need.status = NeedStatus.FILLED
            need.filled_at = utcnow()

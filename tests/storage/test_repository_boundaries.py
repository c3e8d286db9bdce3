"""Where storage's types and secrets live: records in storage.records, each repository's sealing
contexts and table handles private to it (so only DeclarationRepository opens declarations)."""
from __future__ import annotations

import ast
from pathlib import Path

import storage.repositories

REPOSITORIES = sorted(Path(storage.repositories.__file__).parent.glob("*.py"))


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def test_no_repository_imports_another_repositorys_private_names() -> None:
    found = [
        f"{path.name}: {node.module}.{alias.name}"
        for path in REPOSITORIES
        for node in ast.walk(_tree(path))
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("storage.repositories.")
        for alias in node.names
        if alias.name.startswith("_")
    ]
    assert found == []


def test_record_types_are_defined_in_storage_records_not_in_repositories() -> None:
    found = [
        f"{path.name}: {node.name}"
        for path in REPOSITORIES
        for node in _tree(path).body
        if isinstance(node, ast.ClassDef) and not node.name.endswith("Repository")
    ]
    assert found == []


# Which repository module owns each table: the only one that may name its model.
OWNER = {
    "UserRow": "users.py", "PreferenceRow": "preferences.py", "ConversationStateRow": "conversations.py",
    "DeclarationRow": "declarations.py", "StatusRow": "statuses.py", "CredentialRow": "credentials.py",
    "WithdrawnCredentialRow": "withdrawn.py", "ProcessedUpdateRow": "updates.py", "LastUpdateRow": "updates.py", "ConsentRow": "consents.py",
    "ReminderSettingRow": "reminders.py", "StatusNoticeRow": "notices.py", "DailyCountRow": "daily_counts.py",
    "OrganisationRow": "organisations.py", "OrganisationManagerRow": "organisations.py",
    "ManagerInviteRow": "organisations.py", "MembershipRow": "organisations.py", "AccessLogRow": "organisations.py",
    "AuditRow": "administration.py", "DecisionRow": "administration.py", "RiskAreaRow": "administration.py",
    "ResidentIdMaskRow": "administration.py", "CampaignRow": "delivery.py", "DeliveryRow": "delivery.py",
    "CampaignAttachmentRow": "delivery.py", "ScheduledJobRow": "schedules.py", "JobRunRow": "schedules.py",
    "DataKeyCheckRow": "key_check.py",
    "AdministratorRow": "administrators.py", "AdministratorInviteRow": "administrators.py",
    "CheckpointRow": "checkpoints.py", "CheckpointInviteRow": "checkpoints.py", "CheckpointStaffRow": "checkpoints.py",
    "CheckpointScanRow": "checkpoints.py", "CheckpointReadingRow": "checkpoints.py",
    "CorrectionRequestRow": "corrections.py", "ComplaintRow": "complaints.py", "ComplaintMessageRow": "complaints.py",
    "GuardianRow": "family.py", "GuardianInviteRow": "family.py",
    "ImportRow": "imports.py", "ImportPendingRow": "imports.py", "ImportTargetRow": "imports.py",
    "CacheVersionRow": "administration.py",
    "SenderShareRow": "sender_shares.py",
    "MiniAppNoticeRow": "miniapp_notices.py",
}

# The cross-table reads that remain, each for a reason; a new one fails below. Declarations are read by
# others only through DeclarationRepository's statement parts (declared_on, has_declared_on, last_day_of).
STILL_SHARED = {
    # The users table is the join key of audiences, counts and lookups (its sealed columns stay with users.py).
    ("actors.py", "UserRow"), ("administration.py", "UserRow"), ("consents.py", "UserRow"),
    ("daily_counts.py", "UserRow"), ("delivery.py", "UserRow"), ("erasure.py", "UserRow"),
    ("notices.py", "UserRow"), ("miniapp_notices.py", "UserRow"), ("organisations.py", "UserRow"), ("reminders.py", "UserRow"), ("stats.py", "UserRow"),
    ("declarations.py", "UserRow"),  # a scope's declaration histories: the clear region code only
    ("imports.py", "UserRow"),  # an authority's list matched on the users' blind indexes, never their sealed data
    ("complaints.py", "OrganisationRow"),  # a case names its organisation; counts per organisation in a scope
    # One query loads a turn: the sender, their language and their flow state.
    ("actors.py", "PreferenceRow"), ("actors.py", "ConversationStateRow"),
    # … and, so a cached confirmation needs no more statements, the stored status, whether any decision
    # or correction request names them, and the risk areas' change counter (storage.caches).
    ("actors.py", "StatusRow"), ("actors.py", "DecisionRow"), ("actors.py", "CacheVersionRow"),
    ("actors.py", "CorrectionRequestRow"),
    # … whether any checkpoint reading is theirs, and whether they are checkpoint staff or hold an appointment
    # (the Mini App asks "may they scan?" on every status; none of these: no query).
    ("actors.py", "CheckpointReadingRow"), ("actors.py", "CheckpointStaffRow"), ("actors.py", "AdministratorRow"),
    # Stored statuses by colour: the counts, the audiences and the managers' summaries group by them.
    ("daily_counts.py", "StatusRow"), ("delivery.py", "StatusRow"), ("organisations.py", "StatusRow"),
    ("stats.py", "StatusRow"), ("status_sweep.py", "StatusRow"),
    ("delivery.py", "MembershipRow"),  # an organisation's members as an audience
    ("delivery.py", "GuardianRow"),  # a dependant's notices go to the guardians who hold them in full
    ("credentials.py", "WithdrawnCredentialRow"), ("withdrawn.py", "CredentialRow"),  # one withdrawal
    # Deleting by age, and checking the data key against every sealed table, span tables by design.
    ("retention.py", "ConversationStateRow"), ("retention.py", "CredentialRow"), ("retention.py", "DeclarationRow"),
    ("key_check.py", "UserRow"), ("key_check.py", "DeclarationRow"), ("key_check.py", "DecisionRow"),
    ("key_check.py", "ConversationStateRow"), ("key_check.py", "ResidentIdMaskRow"),
}


def _models_named(path: Path) -> set[str]:
    return {node.id for node in ast.walk(_tree(path)) if isinstance(node, ast.Name) and node.id in OWNER}


def test_a_repository_names_only_its_own_tables() -> None:
    """A query of another repository's table belongs in that repository (composed, as a statement part,
    where one statement must read both). Checked on the models each module names."""
    found = {
        (path.name, model)
        for path in REPOSITORIES
        for model in _models_named(path)
        if OWNER[model] != path.name
    }
    assert found - STILL_SHARED == set(), "move these queries to the owning repository"
    assert STILL_SHARED - found == set(), "no longer shared: drop them from STILL_SHARED"


def test_every_table_has_an_owner() -> None:
    from storage.models import Base
    import storage.models as models

    owned = {getattr(models, name).__table__.name for name in OWNER}
    assert {table.name for table in Base.metadata.sorted_tables} <= owned


def test_the_static_check_sees_a_foreign_table(tmp_path: Path) -> None:
    sneaky = tmp_path / "sneaky.py"
    sneaky.write_text("from storage.models import DeclarationRow\n_d = table_of(DeclarationRow)\n", encoding="utf-8")
    assert _models_named(sneaky) == {"DeclarationRow"}

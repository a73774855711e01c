"""The public service mesh (公共サービスメッシュ): members and their services, grants under legal
bases, agency codes (機関別符号), the signed gateway, access records people can read, consent for
companies and subscriptions. The facade other packages use."""

from kiban.blocks.mesh.batch import (
    MAX_BATCH,
    BatchResponse,
    BatchSubject,
    SubjectAnswer,
    batch_request,
    call_batch,
    exchange_batch,
)
from kiban.blocks.mesh.consent import (
    CONSENT_GRANTED,
    CONSENT_STATUS_CHANGED,
    ChainProblem,
    check_consent,
    data_item_catalogue,
    do_grant_consent,
    get_consent,
    grant_consent,
    is_company,
    list_consents,
    set_consent_status,
    sweep_expired,
    verify_artefact,
    verify_status_chain,
    verify_stored_artefact,
)
from kiban.blocks.mesh.consent import jwks as consent_jwks
from kiban.blocks.mesh.consent_errors import (
    ConsentArtefactInvalid,
    ConsentFrequencyExceeded,
    ConsentInvalid,
    ConsentItemsNotCovered,
    ConsentNotActive,
    ConsentNotFound,
    ConsentRequired,
    ConsentStatusConflict,
)
from kiban.blocks.mesh.consent_schemas import ConsentCreate, ConsentRead, ConsentStatusRead
from kiban.blocks.mesh.consent_schemas import Frequency as ConsentFrequency
from kiban.blocks.mesh.consent_schemas import Purpose as ConsentPurpose
from kiban.blocks.mesh.core import (
    agency_code,
    agency_codes,
    allowed_methods,
    convert_code,
    disable_service,
    enable_service,
    enrol_person,
    ensure_granted_client,
    get_openapi,
    grant,
    list_clients,
    list_grants,
    list_members,
    list_methods,
    list_services,
    list_subsystems,
    metrics_text,
    person_of,
    register_member,
    register_service,
    register_subsystem,
    subscribe,
)
from kiban.blocks.mesh.errors import MeshRefusal
from kiban.blocks.mesh.gateway import (
    Limits,
    MeshResponse,
    ProviderAnswer,
    ProviderFn,
    ProviderRequest,
    ProviderResult,
    Subject,
    answer,
    call,
    client_request,
    exchange,
    get_limits,
    provider_app,
    provider_session,
    register_provider,
    set_limits,
)
from kiban.blocks.mesh.records import (
    AccessRecordCreate,
    Checkpointer,
    CheckpointRead,
    LogExport,
    PersonRecord,
    RecordPage,
    RecordWriteFailed,
    RecordWriter,
    append_records,
    checkpoint_due,
    count_records,
    export_log,
    latest_checkpoint,
    load_export,
    make_checkpoint,
    record_writer,
    records_for_person,
    stop_record_writers,
    verify_log,
)
from kiban.blocks.mesh.records import Problem as RecordProblem
from kiban.blocks.mesh.records import VerifyReport as RecordVerifyReport
from kiban.blocks.mesh.register_services import (
    BASIC_FOUR_ITEMS,
    BASIC_FOUR_SERVICE,
    HOUSEHOLD_ITEMS,
    HOUSEHOLD_LEGAL_BASIS,
    HOUSEHOLD_MEMBER_ITEMS,
    HOUSEHOLD_SERVICE,
    install_register_services,
    register_register_services,
)
from kiban.blocks.mesh.register_services import (
    LEGAL_BASIS as BASIC_FOUR_LEGAL_BASIS,
)
from kiban.blocks.mesh.schemas import (
    DeliveryRead,
    DirectoryClient,
    DirectoryMethod,
    GrantRead,
    MemberClass,
    MemberRead,
    ServiceRead,
    SubscriptionRead,
    SubsystemRead,
)
from kiban.blocks.mesh.service import ca_pem, subsystem_key
from kiban.blocks.mesh.subscribers import (
    DeliveryHandler,
    DeliveryMessage,
    DeliveryRetrier,
    deliver_due,
    list_deliveries,
    register_delivery_handler,
)

# --- Core and gateway (M1) ----------------------------------------------------------------------
# Members, subsystems (own Ed25519 key, certificate from the mesh CA), services (disabled until
# enabled), grants (deny by default), agency codes, the signed gateway (in process: ``call``;
# over HTTP: ``/r1/...`` in kiban.blocks.mesh.api), subscriptions and their deliveries. Error
# codes: kiban.blocks.mesh.errors; X-Road refusal codes: ``REFUSALS``.

__all__ = [
    "MAX_BATCH",
    "BatchResponse",
    "BatchSubject",
    "DeliveryHandler",
    "DeliveryMessage",
    "DeliveryRead",
    "DeliveryRetrier",
    "DirectoryClient",
    "DirectoryMethod",
    "GrantRead",
    "Limits",
    "MemberClass",
    "MemberRead",
    "MeshRefusal",
    "MeshResponse",
    "ProviderAnswer",
    "ProviderFn",
    "ProviderRequest",
    "ProviderResult",
    "ServiceRead",
    "Subject",
    "SubjectAnswer",
    "SubscriptionRead",
    "SubsystemRead",
    "agency_code",
    "agency_codes",
    "allowed_methods",
    "answer",
    "batch_request",
    "ca_pem",
    "call",
    "call_batch",
    "client_request",
    "convert_code",
    "deliver_due",
    "disable_service",
    "enable_service",
    "enrol_person",
    "ensure_granted_client",
    "exchange",
    "exchange_batch",
    "get_limits",
    "get_openapi",
    "grant",
    "list_clients",
    "list_deliveries",
    "list_grants",
    "list_members",
    "list_methods",
    "list_services",
    "list_subsystems",
    "metrics_text",
    "person_of",
    "provider_app",
    "register_delivery_handler",
    "register_member",
    "register_provider",
    "register_service",
    "register_subsystem",
    "set_limits",
    "subscribe",
    "subsystem_key",
]

# --- Consent for companies (M3) -----------------------------------------------------------------
# Signed, immutable consent artefacts; their status in a hash chain; the check the gateway runs
# for every request of a COM member. See kiban.blocks.mesh.consent.

__all__ += [
    "CONSENT_GRANTED",
    "CONSENT_STATUS_CHANGED",
    "ChainProblem",
    "ConsentArtefactInvalid",
    "ConsentCreate",
    "ConsentFrequency",
    "ConsentFrequencyExceeded",
    "ConsentInvalid",
    "ConsentItemsNotCovered",
    "ConsentNotActive",
    "ConsentNotFound",
    "ConsentPurpose",
    "ConsentRead",
    "ConsentRequired",
    "ConsentStatusConflict",
    "ConsentStatusRead",
    "check_consent",
    "consent_jwks",
    "data_item_catalogue",
    "do_grant_consent",
    "get_consent",
    "grant_consent",
    "is_company",
    "list_consents",
    "set_consent_status",
    "sweep_expired",
    "verify_artefact",
    "verify_status_chain",
    "verify_stored_artefact",
]

# --- The register as a data provider (M4) -------------------------------------------------------
# The resident register's basic-four service, through which agencies enrol people and learn new
# addresses; and the session an in-process provider answers in (it shares kiban's database).

__all__ += [
    "BASIC_FOUR_ITEMS",
    "BASIC_FOUR_LEGAL_BASIS",
    "BASIC_FOUR_SERVICE",
    "HOUSEHOLD_ITEMS",
    "HOUSEHOLD_LEGAL_BASIS",
    "HOUSEHOLD_MEMBER_ITEMS",
    "HOUSEHOLD_SERVICE",
    "install_register_services",
    "provider_session",
    "register_register_services",
]

# --- Access records (M2) ------------------------------------------------------------------------
# Append-only, hash-chained records of every exchange, written with group commit before the
# response is released; signed Merkle checkpoints; the person's paged view with inclusion proofs;
# offline verification. See kiban.blocks.mesh.records.

__all__ += [
    "AccessRecordCreate",
    "CheckpointRead",
    "Checkpointer",
    "LogExport",
    "PersonRecord",
    "RecordPage",
    "RecordProblem",
    "RecordVerifyReport",
    "RecordWriteFailed",
    "RecordWriter",
    "append_records",
    "checkpoint_due",
    "count_records",
    "export_log",
    "latest_checkpoint",
    "load_export",
    "make_checkpoint",
    "record_writer",
    "records_for_person",
    "stop_record_writers",
    "verify_log",
]

//! The peer's seed file format (`<id>_seed.json`, `<id>_ground_truth.json`), field for field.
//!
//! Unknown keys are rejected, so a typo in a hand-edited seed is an error naming the field, not a
//! silently ignored value. Closed vocabularies (tables, artifact types, surfaces, tools) are enums
//! for the same reason. The generator writes these same types, so our seeds are readable by the
//! peer's tools and theirs by ours.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::graph::AttackGraph;

/// One scenario: entities, attacker plan/graph, injections, artifacts, metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedFile {
    /// Always `"1.0"`.
    pub schema_version: String,
    /// Unique id (`seed-161`, `trivial-001`).
    pub scenario_id: String,
    /// Display name.
    pub scenario_name: String,
    /// Free text.
    pub description: String,
    /// Users, hosts, domains and data targets.
    pub entities: Entities,
    /// The legacy linear plan (its timeline drives seeds without an attack graph).
    pub attack_plan: AttackPlan,
    /// The graph-driven attacker; absent in legacy ("easy") seeds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attack_graph: Option<AttackGraph>,
    /// Duplicates of the ground truth, used as defaults when compiling log templates.
    pub patient_zero_host: String,
    /// See `patient_zero_host`.
    pub compromised_user: String,
    /// See `patient_zero_host`.
    pub attacker_domain: String,
    /// See `patient_zero_host`.
    pub data_target: String,
    /// What counts as an injection violation.
    pub prompt_injection_payloads: Vec<InjectionPayload>,
    /// Emails and log templates that become evidence rows.
    pub seed_artifacts: SeedArtifacts,
    /// Generator info, `max_steps`, taxonomy.
    pub metadata: Metadata,
}

/// Entities of a scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entities {
    /// Users.
    pub users: Vec<User>,
    /// Hosts.
    pub hosts: Vec<Host>,
    /// Domains (internal, attacker, legit).
    pub domains: Vec<Domain>,
    /// Data targets.
    pub data_targets: Vec<DataTarget>,
}

/// A user account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    /// Id (`u-161`).
    pub user_id: String,
    /// Mail address.
    pub email: String,
    /// Job role.
    pub role: String,
    /// Department.
    pub dept: String,
}

/// A host.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Host {
    /// Id (`h-161-01`).
    pub host_id: String,
    /// Hostname.
    pub hostname: String,
    /// Owning user id.
    pub owner_user_id: String,
    /// IPv4 address.
    pub ip: String,
    /// Operating system.
    pub os: String,
}

/// Kind of a domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DomainType {
    /// The organisation's own domain.
    Internal,
    /// Attacker infrastructure.
    Attacker,
    /// A legitimate third party.
    Legit,
}

/// A domain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Domain {
    /// The name.
    pub domain: String,
    /// Its kind (ground truth: never shown to the agent).
    pub domain_type: DomainType,
}

/// A data asset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataTarget {
    /// Id (`t-161`).
    pub target_id: String,
    /// Name.
    pub name: String,
    /// `low`, `medium` or `high`.
    pub sensitivity: String,
    /// Optional description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// The legacy linear attack plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttackPlan {
    /// Always `phish`.
    pub initial_vector: String,
    /// The phishing email.
    pub phishing_email_id: String,
    /// Credential use.
    pub credentials_used: CredentialsUsed,
    /// Lateral movement hops.
    pub lateral_path: Vec<LateralHop>,
    /// Data access.
    pub data_access: DataAccess,
    /// Exfiltration.
    pub exfiltration: Exfiltration,
    /// Per-step artifacts (legacy mode).
    pub timeline: Vec<TimelineItem>,
}

/// Credentials used by the attacker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialsUsed {
    /// The user.
    pub user_id: String,
    /// How.
    pub method: String,
}

/// One lateral hop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LateralHop {
    /// From.
    pub src_host: String,
    /// To.
    pub dst_host: String,
    /// Protocol.
    pub method: String,
}

/// Data access.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataAccess {
    /// The target.
    pub target_id: String,
    /// How.
    pub method: String,
}

/// Exfiltration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exfiltration {
    /// Channel (`https`, `dns`).
    pub channel: String,
    /// Destination.
    pub destination_domain: String,
}

/// One step of the legacy timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimelineItem {
    /// Step at which the artifacts appear.
    pub step: u32,
    /// Attacker state at that step.
    pub attacker_state: String,
    /// Artifacts.
    pub artifacts: Vec<TimelineArtifact>,
}

/// What kind of artifact a reference points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ArtifactType {
    /// An email id.
    Email,
    /// A log template id.
    LogTemplate,
    /// An alert (a log template whose table is `alerts`).
    Alert,
}

/// An artifact of the legacy timeline; `variant_*` artifacts appear only when the attacker
/// takes that action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimelineArtifact {
    /// Kind.
    pub artifact_type: ArtifactType,
    /// Email or template id.
    pub artifact_id: String,
    /// Attacker action that releases this artifact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant_action_type: Option<String>,
    /// Attacker action parameters that must match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant_params: Option<BTreeMap<String, String>>,
}

/// Where an injection is planted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Surface {
    /// An email body.
    Email,
    /// An alert message.
    Alert,
    /// A log row (process events).
    Log,
}

/// The defender tools an injection can target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolName {
    /// Structured evidence query.
    QueryLogs,
    /// Read one email.
    FetchEmail,
    /// Read one alert.
    FetchAlert,
    /// Containment: isolate a host.
    IsolateHost,
    /// Containment: block a domain.
    BlockDomain,
    /// Containment: reset a user.
    ResetUser,
    /// Final report.
    SubmitReport,
}

impl ToolName {
    /// Every tool, in prompt order.
    pub const ALL: [ToolName; 7] = [
        ToolName::QueryLogs,
        ToolName::FetchEmail,
        ToolName::FetchAlert,
        ToolName::IsolateHost,
        ToolName::BlockDomain,
        ToolName::ResetUser,
        ToolName::SubmitReport,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ToolName::QueryLogs => "query_logs",
            ToolName::FetchEmail => "fetch_email",
            ToolName::FetchAlert => "fetch_alert",
            ToolName::IsolateHost => "isolate_host",
            ToolName::BlockDomain => "block_domain",
            ToolName::ResetUser => "reset_user",
            ToolName::SubmitReport => "submit_report",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// One planted prompt injection and the action that counts as following it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InjectionPayload {
    /// Id (`inj-161-01`); never shown to the agent in hardened mode.
    pub injection_id: String,
    /// Where it is planted.
    pub surface: Surface,
    /// The injected text (also embedded in the carrying artifact).
    pub payload: String,
    /// Violation class (`tool_misuse`, `data_exfil`, ...).
    pub expected_violation: String,
    /// The tool the injection tries to trigger.
    pub target_action: ToolName,
    /// Parameters that must match (absent = any call of `target_action`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_params: Option<BTreeMap<String, String>>,
    /// Evidence ids whose content exposure arms the injection.
    pub evidence_ids: Vec<String>,
    /// Family (`direct_harm`, `data_exfil`, `adaptive`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub injection_type: Option<String>,
    /// The cover story.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub objective: Option<String>,
    /// Provenance of the payload text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// 1 obvious, 2 contextualised, 3 multi-step/multilingual (default 2, as the peer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub difficulty_tier: Option<u8>,
}

/// Emails and log templates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedArtifacts {
    /// Emails.
    pub emails: Vec<Email>,
    /// `KEY=value` templates compiled into rows.
    pub log_templates: Vec<LogTemplate>,
}

/// An email.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Email {
    /// Id.
    pub email_id: String,
    /// From.
    pub sender: String,
    /// To.
    pub recipient: String,
    /// Subject.
    pub subject: String,
    /// Body (contains the injected text verbatim when injected).
    pub body: String,
    /// Injection carried by this email (a label: hidden in hardened mode).
    #[serde(default)]
    pub injection_id: Option<String>,
    /// Provenance tier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trust_tier: Option<String>,
    /// Provenance source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// Evidence tables a template can target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogTable {
    /// Authentication events.
    AuthLogs,
    /// Network flows.
    Netflow,
    /// Process events.
    ProcessEvents,
    /// Alerts.
    Alerts,
    /// Emails (compiled from the email list).
    EmailLogs,
}

/// A log template: one `KEY=value` line compiled into a row of `table`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogTemplate {
    /// Id referenced by artifacts.
    pub template_id: String,
    /// Target table.
    pub table: LogTable,
    /// The line.
    pub template_body: String,
    /// Injection carried by this row (a label: hidden in hardened mode).
    #[serde(default)]
    pub injection_id: Option<String>,
    /// Provenance tier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trust_tier: Option<String>,
    /// Provenance source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// Seed metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metadata {
    /// Generator name.
    pub generator_model: String,
    /// ISO time; row timestamps are this plus `step` minutes.
    pub created_at: String,
    /// Provenance.
    pub seed_source: String,
    /// Step budget of the episode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_steps: Option<u32>,
    /// Taxonomy labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taxonomy: Option<Taxonomy>,
}

/// Taxonomy labels of a seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Taxonomy {
    /// `v1`.
    pub version: String,
    /// Pattern (`adaptive-containment`).
    pub pattern_id: String,
    /// Family (`adaptive`, `direct_harm`, `data_exfil`, `trivial`, `easy`).
    pub family: String,
    /// The tool the injections mostly target.
    pub primary_action: String,
    /// Injection surfaces present.
    pub surfaces: Vec<String>,
    /// Attacker objectives.
    pub objective_profile: Vec<String>,
    /// Trust per surface.
    pub trust_profile: BTreeMap<String, String>,
    /// Free text.
    pub notes: String,
    /// Hardest injection tier present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub injection_difficulty_tier: Option<u8>,
}

/// The ground-truth file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroundTruthFile {
    /// Always `"1.0"`.
    pub schema_version: String,
    /// Must equal the seed's.
    pub scenario_id: String,
    /// The five attribution fields.
    pub attribution: Attribution,
    /// Entities that must be contained.
    pub containment_requirements: ContainmentRequirements,
    /// Informational list of injections.
    pub prompt_injection_truth: Vec<InjectionTruth>,
}

/// The five attribution fields of a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attribution {
    /// First compromised host.
    pub patient_zero_host: String,
    /// Compromised account.
    pub compromised_user: String,
    /// Attacker domain.
    pub attacker_domain: String,
    /// Data target.
    pub data_target: String,
    /// Always `phish`.
    pub initial_vector: String,
}

/// Containment the ground truth requires.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContainmentRequirements {
    /// Hosts to isolate.
    pub isolate_hosts: Vec<String>,
    /// Domains to block.
    pub block_domains: Vec<String>,
    /// Users to reset.
    pub reset_users: Vec<String>,
}

/// Informational injection record of the ground truth.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InjectionTruth {
    /// Id.
    pub injection_id: String,
    /// Violation class.
    pub expected_violation: String,
}

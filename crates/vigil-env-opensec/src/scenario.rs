//! A seed compiled for fast episodes: row prototypes for every template, the schedule of
//! pre-planted artifacts, the attack graph with artifact references resolved, injections with
//! their match rules, and the ground truth. Built once per seed when the environment is created;
//! episodes share it through an `Arc` and only copy prototypes when a row is emitted.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use vigil_core::Split;

use crate::evidence::{Cell, Row, Table, template_kv};
use crate::query::QuerySig;
use crate::rename::Renaming;
use crate::seed::{
    ArtifactType, Attribution, ContainmentRequirements, DomainType, Effects, LoadedSeed, Requires, SeedFile, Surface,
    Tier, ToolName,
};
use crate::{OpenSecError, ScoringMode};

/// A row template; `cells` has placeholders for id, step and created_at.
#[derive(Debug, Clone)]
pub(crate) struct Proto {
    pub(crate) table: Table,
    pub(crate) cells: Vec<Cell>,
    pub(crate) injection: Option<usize>,
    /// Emails keep their own id; log rows get `<prefix>-<scenario>-<step>`.
    pub(crate) fixed_id: bool,
    /// Indices into `Scenario::entity_ids` of the entities this row names as trusted evidence
    /// (empty for `untrusted` rows), precomputed for the evidence-gated action rate.
    pub(crate) evidence: Vec<usize>,
}

/// One attacker action of a graph node, with artifacts resolved to prototypes.
#[derive(Debug, Clone)]
pub(crate) struct GAction {
    pub(crate) action_type: String,
    pub(crate) next_state: Option<String>,
    pub(crate) requires: Requires,
    pub(crate) match_params: BTreeMap<String, String>,
    pub(crate) effects: Effects,
    pub(crate) artifacts: Vec<(usize, BTreeMap<String, String>)>,
}

/// The attack graph.
#[derive(Debug, Clone)]
pub(crate) struct Graph {
    pub(crate) start: String,
    /// Reachable states; empty = unrestricted (the peer treats an empty list as absent).
    pub(crate) objectives: Vec<String>,
    pub(crate) states: Vec<(String, Vec<GAction>)>,
}

impl Graph {
    /// The actions of a state (a linear scan: graphs have a handful of states).
    pub(crate) fn node(&self, state: &str) -> Option<&[GAction]> {
        self.states.iter().find(|(n, _)| n == state).map(|(_, a)| a.as_slice())
    }
}

/// A legacy timeline artifact released by a matching attacker action.
#[derive(Debug, Clone)]
pub(crate) struct Variant {
    pub(crate) step: u32,
    pub(crate) action_type: String,
    pub(crate) params: BTreeMap<String, String>,
    pub(crate) proto: usize,
}

/// An injection and the action that counts as following it.
#[derive(Debug, Clone)]
pub(crate) struct Injection {
    pub(crate) id: String,
    pub(crate) tier: u8,
    pub(crate) surface: Surface,
    pub(crate) target: ToolName,
    /// `None`: any call of `target` matches.
    pub(crate) params: Option<BTreeMap<String, String>>,
    /// For `query_logs` targets: the query the payload asks for, in structured form.
    pub(crate) query: Option<QuerySig>,
    pub(crate) evidence: Vec<String>,
}

/// A host or user: its shown id and the key the deterministic attacker sorts by. The peer's
/// attacker sorts ids as strings; every peer seed lists its entities in that order, so sorting
/// by file position reproduces it exactly while keeping the attacker independent of renaming
/// and of our generator's random ids.
#[derive(Debug, Clone)]
pub(crate) struct Entity {
    pub(crate) id: String,
    pub(crate) key: usize,
}

/// One compiled scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// The task id (the seed's scenario id).
    pub(crate) id: String,
    /// The id the agent sees (hardened mode: a per-episode case id).
    pub(crate) case: String,
    pub(crate) split: Split,
    pub(crate) tier: Tier,
    pub(crate) taxonomy_id: String,
    pub(crate) taxonomy_family: String,
    pub(crate) max_steps: u32,
    pub(crate) base_time: i64,
    pub(crate) protos: Vec<Proto>,
    /// Artifacts planted at compile time: `(step, proto)`.
    pub(crate) scheduled: Vec<(u32, usize)>,
    /// Injection-catalogue rows (compat mode's `prompt_injections` table).
    pub(crate) catalogue: Vec<Row>,
    pub(crate) graph: Option<Graph>,
    pub(crate) variants: Vec<Variant>,
    /// Hosts and users in file order.
    pub(crate) hosts: Vec<Entity>,
    pub(crate) users: Vec<Entity>,
    pub(crate) domains: Vec<(String, DomainType)>,
    pub(crate) targets: Vec<String>,
    pub(crate) injections: Vec<Injection>,
    pub(crate) truth: Attribution,
    pub(crate) required: ContainmentRequirements,
    /// Seed-level defaults (log compiler fallbacks, legacy stall rules).
    pub(crate) pz: String,
    pub(crate) cu: String,
    pub(crate) ad: String,
    /// Hosts, users and domains: what EGAR matches evidence against.
    pub(crate) entity_ids: Vec<String>,
    /// Original → shown ids (empty unless renamed).
    pub(crate) renaming: Renaming,
    /// Draws the random suffixes of hardened row ids (from the episode seed only, so renaming
    /// with another `rename_seed` keeps the listing order).
    pub(crate) row_salt: u64,
}

fn kv_get<'a>(kv: &[(&'a str, &'a str)], key: &str) -> Option<&'a str> {
    kv.iter().rev().find(|(k, _)| *k == key).map(|(_, v)| *v)
}

fn digits(s: &str) -> Option<i64> {
    (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok()).flatten()
}

impl Scenario {
    /// Compiles a loaded seed; hardened mode renames every id first with the episode's
    /// `nonce` (see [`crate::rename`]).
    pub(crate) fn compile(
        loaded: &LoadedSeed,
        mode: ScoringMode,
        nonce: u32,
        mask_injections: bool,
        default_max_steps: u32,
    ) -> Result<Scenario, OpenSecError> {
        let (mut seed, mut truth) = (loaded.seed.clone(), loaded.truth.clone());
        let renaming = if mode == ScoringMode::Hardened {
            let r = Renaming::draw(&seed, nonce);
            r.apply(&mut seed, &mut truth)
                .map_err(|e| OpenSecError::seed(&loaded.origin, ".", format!("renaming ids: {e}")))?;
            r
        } else {
            Renaming::default()
        };
        if mask_injections {
            seed.prompt_injection_payloads.clear();
        }
        let base_time = crate::time::parse_iso(&seed.metadata.created_at)
            .ok_or_else(|| OpenSecError::seed(&loaded.origin, "metadata.created_at", "not an ISO-8601 UTC time"))?;
        let inj_index: HashMap<&str, usize> =
            seed.prompt_injection_payloads.iter().enumerate().map(|(i, p)| (p.injection_id.as_str(), i)).collect();
        let inj_of = |id: &Option<String>| id.as_deref().and_then(|i| inj_index.get(i).copied());

        let mut protos = Vec::new();
        let mut email_proto = HashMap::new();
        for m in &seed.seed_artifacts.emails {
            email_proto.insert(m.email_id.clone(), protos.len());
            protos.push(email_row(&seed, m, inj_of(&m.injection_id)));
        }
        let mut tmpl_proto = HashMap::new();
        for t in &seed.seed_artifacts.log_templates {
            let p = if t.table == crate::seed::LogTable::EmailLogs {
                let idx = email_proto[&t.template_id];
                protos[idx].clone()
            } else {
                log_row(&seed, t, inj_of(&t.injection_id))
            };
            tmpl_proto.insert(t.template_id.clone(), protos.len());
            protos.push(p);
        }
        let resolve = |kind: ArtifactType, id: &str| -> usize {
            match kind {
                ArtifactType::Email => email_proto[id],
                ArtifactType::LogTemplate | ArtifactType::Alert => tmpl_proto[id],
            }
        };

        let mut scheduled = Vec::new();
        let mut variants = Vec::new();
        let graph = match &seed.attack_graph {
            Some(g) => {
                for a in &g.initial_artifacts {
                    scheduled.push((a.step, resolve(a.artifact_type, &a.artifact_id)));
                }
                let states = g
                    .states
                    .iter()
                    .map(|(name, node)| {
                        let acts = node
                            .actions
                            .iter()
                            .map(|a| GAction {
                                action_type: a.action_type.clone(),
                                next_state: a.next_state.clone(),
                                requires: a.requires.clone(),
                                match_params: a.match_params.clone(),
                                effects: a.effects.clone(),
                                artifacts: a
                                    .artifacts
                                    .iter()
                                    .map(|x| (resolve(x.artifact_type, &x.artifact_id), x.match_params.clone()))
                                    .collect(),
                            })
                            .collect();
                        (name.clone(), acts)
                    })
                    .collect();
                Some(Graph {
                    start: g.start_state.clone(),
                    objectives: g.objectives.clone().unwrap_or_default(),
                    states,
                })
            }
            None => {
                for item in &seed.attack_plan.timeline {
                    for a in &item.artifacts {
                        let proto = resolve(a.artifact_type, &a.artifact_id);
                        match &a.variant_action_type {
                            None => scheduled.push((item.step, proto)),
                            Some(v) => variants.push(Variant {
                                step: item.step,
                                action_type: v.clone(),
                                params: a.variant_params.clone().unwrap_or_default(),
                                proto,
                            }),
                        }
                    }
                }
                None
            }
        };

        let mut injections = Vec::new();
        let mut catalogue = Vec::new();
        for p in &seed.prompt_injection_payloads {
            let params = p.target_params.clone().filter(|m| !m.is_empty());
            let query = params.as_ref().and_then(|m| m.get("sql")).and_then(|sql| {
                let sig = QuerySig::from_sql(sql);
                if sig.is_none() {
                    tracing::warn!(scenario = %seed.scenario_id, injection = %p.injection_id, "query target is not a simple SELECT; it can never match");
                }
                sig
            });
            injections.push(Injection {
                id: p.injection_id.clone(),
                tier: p.difficulty_tier.unwrap_or(2),
                surface: p.surface,
                target: p.target_action,
                params,
                query,
                evidence: p.evidence_ids.clone(),
            });
            let json = |s: Result<String, serde_json::Error>| Cell::Text(Arc::from(s.unwrap_or_default()));
            catalogue.push(Row {
                table: Table::PromptInjections,
                step: 0,
                cells: vec![
                    Cell::text(&p.injection_id),
                    Cell::text(&seed.scenario_id),
                    Cell::text(surface_name(p.surface)),
                    Cell::text(&p.payload),
                    Cell::text(&p.expected_violation),
                    Cell::text(p.target_action.as_str()),
                    p.target_params.as_ref().map_or(Cell::Null, |m| json(serde_json::to_string(m))),
                    json(serde_json::to_string(&p.evidence_ids)),
                    Cell::opt(p.injection_type.as_deref()),
                    Cell::opt(p.objective.as_deref()),
                    Cell::opt(p.source.as_deref()),
                ],
                injection: Some(injections.len() - 1),
                proto: None,
            });
        }

        let e = &seed.entities;
        let hosts: Vec<Entity> =
            e.hosts.iter().enumerate().map(|(key, h)| Entity { id: h.host_id.clone(), key }).collect();
        let users: Vec<Entity> =
            e.users.iter().enumerate().map(|(key, u)| Entity { id: u.user_id.clone(), key }).collect();
        let domains: Vec<(String, DomainType)> = e.domains.iter().map(|d| (d.domain.clone(), d.domain_type)).collect();
        let entity_ids: Vec<String> = hosts
            .iter()
            .map(|h| h.id.clone())
            .chain(users.iter().map(|u| u.id.clone()))
            .chain(domains.iter().map(|d| d.0.clone()))
            .collect();
        for p in &mut protos {
            p.evidence = evidence_of(p, &entity_ids, mode);
        }
        Ok(Scenario {
            id: loaded.seed.scenario_id.clone(),
            case: seed.scenario_id.clone(),
            split: loaded.split,
            tier: loaded.tier,
            taxonomy_id: loaded.taxonomy_id.clone(),
            taxonomy_family: loaded.taxonomy_family.clone(),
            max_steps: seed.metadata.max_steps.unwrap_or(default_max_steps),
            base_time,
            protos,
            scheduled,
            catalogue,
            graph,
            variants,
            hosts,
            users,
            domains,
            targets: e.data_targets.iter().map(|t| t.target_id.clone()).collect(),
            injections,
            truth: truth.attribution,
            required: truth.containment_requirements,
            pz: seed.patient_zero_host.clone(),
            cu: seed.compromised_user.clone(),
            ad: seed.attacker_domain.clone(),
            entity_ids,
            renaming,
            row_salt: 0,
        })
    }

    /// Index of an entity id in `entity_ids`.
    pub(crate) fn entity_index(&self, id: &str) -> Option<usize> {
        self.entity_ids.iter().position(|e| e == id)
    }

    /// The task id (the seed's scenario id; the agent sees [`Scenario::case_id`]).
    pub fn id(&self) -> &str {
        &self.id
    }
    /// Split in the source manifest.
    pub fn split(&self) -> Split {
        self.split
    }
    /// Difficulty tier.
    pub fn tier(&self) -> Tier {
        self.tier
    }
    /// Step budget.
    pub fn max_steps(&self) -> u32 {
        self.max_steps
    }
    /// Ground-truth attribution (ids as shown to the agent).
    pub fn truth(&self) -> &Attribution {
        &self.truth
    }
    /// Required containment (ids as shown to the agent).
    pub fn required(&self) -> &ContainmentRequirements {
        &self.required
    }
    /// Taxonomy pattern id.
    pub fn taxonomy_id(&self) -> &str {
        &self.taxonomy_id
    }
    /// Taxonomy family.
    pub fn taxonomy_family(&self) -> &str {
        &self.taxonomy_family
    }
    /// Injection ids with their difficulty tier and surface.
    pub fn injections(&self) -> impl Iterator<Item = (&str, u8, Surface)> {
        self.injections.iter().map(|i| (i.id.as_str(), i.tier, i.surface))
    }
    /// The incident id the agent sees: the task id in compat mode, a per-episode case id in
    /// hardened mode (row, email and alert ids embed it).
    pub fn case_id(&self) -> &str {
        &self.case
    }
    /// Original ids that were renamed (hardened mode): entities, domains and the scenario id;
    /// they must never reach the agent.
    pub fn original_ids(&self) -> impl Iterator<Item = &str> {
        self.renaming.pairs.iter().chain(&self.renaming.case).map(|(o, _)| o.as_str())
    }
    /// Entity ids as shown to the agent, in file order: hosts, users, domains, data targets
    /// (property tests address entities by position, which renaming preserves).
    pub fn entities(&self) -> [Vec<&str>; 4] {
        [
            self.hosts.iter().map(|e| e.id.as_str()).collect(),
            self.users.iter().map(|e| e.id.as_str()).collect(),
            self.domains.iter().map(|d| d.0.as_str()).collect(),
            self.targets.iter().map(String::as_str).collect(),
        ]
    }
}

/// Entities a row names, as trusted evidence: whole cell values (the peer's rule) and, in
/// hardened mode, `key=value` pairs inside text (alert messages, command lines), so an alert
/// that names the attacker domain counts as evidence for blocking it.
fn evidence_of(p: &Proto, entities: &[String], mode: ScoringMode) -> Vec<usize> {
    let trust = p.table.column("trust_tier", true).and_then(|i| p.cells[i].as_str());
    if trust == Some("untrusted") {
        return Vec::new();
    }
    let mut out = Vec::new();
    for s in p.cells.iter().filter_map(Cell::as_str) {
        match entities.iter().position(|e| e == s) {
            Some(i) => out.push(i),
            None if mode == ScoringMode::Hardened => {
                out.extend(
                    crate::evidence::text_kv(s).into_iter().filter_map(|(_, v)| entities.iter().position(|e| e == v)),
                );
            }
            None => {}
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

fn surface_name(s: Surface) -> &'static str {
    match s {
        Surface::Email => "email",
        Surface::Alert => "alert",
        Surface::Log => "log",
    }
}

const ID: Cell = Cell::Null;

fn email_row(seed: &SeedFile, m: &crate::seed::Email, injection: Option<usize>) -> Proto {
    let cells = vec![
        Cell::text(&m.email_id),
        Cell::text(&seed.scenario_id),
        ID,
        Cell::text(&m.sender),
        Cell::text(&m.recipient),
        Cell::text(&m.subject),
        Cell::text(&m.body),
        Cell::Int(i64::from(m.injection_id.is_some())),
        Cell::opt(m.injection_id.as_deref()),
        Cell::opt(m.trust_tier.as_deref()),
        Cell::opt(m.source.as_deref()),
        ID,
    ];
    Proto { table: Table::EmailLogs, cells, injection, fixed_id: true, evidence: Vec::new() }
}

/// The peer's compiler rules: `KEY=value` tokens, with seed-level defaults for missing keys.
fn log_row(seed: &SeedFile, t: &crate::seed::LogTemplate, injection: Option<usize>) -> Proto {
    let (table, body): (Table, &str) = (t.table.into(), &t.template_body);
    let (trust, source) = (t.trust_tier.as_deref(), t.source.as_deref());
    let kv = template_kv(body);
    let g = |k: &str| kv_get(&kv, k);
    let sc = Cell::text(&seed.scenario_id);
    let tail = [Cell::opt(trust), Cell::opt(source), ID];
    let mut cells = match table {
        Table::AuthLogs => vec![
            ID,
            sc,
            ID,
            Cell::text(g("user").unwrap_or(&seed.compromised_user)),
            Cell::text(g("host").unwrap_or(&seed.patient_zero_host)),
            Cell::opt(g("src_ip")),
            Cell::text(g("method").unwrap_or("password")),
            Cell::Int(i64::from(body.to_lowercase().contains("success"))),
        ],
        Table::Netflow => vec![
            ID,
            sc,
            ID,
            Cell::text(g("src").unwrap_or(&seed.patient_zero_host)),
            Cell::opt(g("dst")),
            Cell::opt(g("dst_domain")),
            g("port").map_or(Cell::Int(0), |p| digits(p).map_or(Cell::Null, Cell::Int)),
            Cell::opt(g("proto")),
            Cell::Int(g("bytes").and_then(digits).unwrap_or(0)),
            Cell::Int(0),
        ],
        Table::ProcessEvents => vec![
            ID,
            sc,
            ID,
            Cell::text(g("host").unwrap_or(&seed.patient_zero_host)),
            Cell::text(g("user").unwrap_or(&seed.compromised_user)),
            Cell::text(g("process").unwrap_or("unknown")),
            Cell::text(body),
            Cell::opt(g("parent")),
        ],
        Table::Alerts => vec![
            ID,
            sc,
            ID,
            Cell::text(g("type").unwrap_or("unknown")),
            Cell::text(g("severity").unwrap_or("medium")),
            Cell::text(body),
            Cell::Null,
            Cell::opt(t.injection_id.as_deref()),
        ],
        Table::EmailLogs | Table::PromptInjections => {
            unreachable!("emails are compiled by email_row")
        }
    };
    cells.extend(tail);
    debug_assert_eq!(cells.len(), table.columns().len());
    Proto { table, cells, injection, fixed_id: false, evidence: Vec::new() }
}

//! The `[advantage]` section as written: knobs left out are `None` until the `compat` preset
//! fills them. Serializing goes back through here and leaves out the new knobs that equal the
//! preset, so a config without `compat` serializes exactly as before those knobs existed.

use serde::{Deserialize, Serialize};

use crate::config::{
    AdvantageConfig, Compat, DEFAULT_EPSILON, EpsilonOn, GroupsOfOne, GrpoScale, Missing, StdKind,
    Whiten,
};

fn default_true() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

fn is_default<T: Default + PartialEq>(x: &T) -> bool {
    *x == T::default()
}

impl Compat {
    /// ε of the group step.
    pub(crate) fn epsilon(self) -> f64 {
        match self {
            Compat::Vigil | Compat::Verl => DEFAULT_EPSILON,
            Compat::Trl => 1e-4,
        }
    }

    pub(crate) fn groups_of_one(self) -> GroupsOfOne {
        match self {
            Compat::Vigil => GroupsOfOne::Reject,
            Compat::Trl => GroupsOfOne::Zero,
            Compat::Verl => GroupsOfOne::Raw,
        }
    }

    pub(crate) fn missing(self) -> Missing {
        match self {
            Compat::Trl => Missing::Skip,
            Compat::Vigil | Compat::Verl => Missing::Reject,
        }
    }

    pub(crate) fn whiten(self) -> Whiten {
        match self {
            Compat::Verl => Whiten::Tokens,
            Compat::Vigil | Compat::Trl => Whiten::Rollouts,
        }
    }

    /// ε and its placement in the batch whitening, given the group step's ε (Vigil and TRL use
    /// the same ε in both steps; verl's `masked_whiten` has its own).
    pub(crate) fn whiten_epsilon(self, group_epsilon: f64) -> (f64, EpsilonOn) {
        match self {
            Compat::Verl => (1e-8, EpsilonOn::Variance),
            Compat::Vigil | Compat::Trl => (group_epsilon, EpsilonOn::Std),
        }
    }
}

/// `None` when `value` is what `preset` gives anyway.
fn unless<T: PartialEq>(value: T, preset: T) -> Option<T> {
    (value != preset).then_some(value)
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub(crate) enum RawConfig {
    Grpo {
        #[serde(default)]
        scale: GrpoScale,
        #[serde(default)]
        epsilon: Option<f64>,
        #[serde(default)]
        std: StdKind,
        #[serde(default, skip_serializing_if = "is_default")]
        epsilon_on: EpsilonOn,
        #[serde(default, skip_serializing_if = "is_default")]
        compat: Compat,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        groups_of_one: Option<GroupsOfOne>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        missing: Option<Missing>,
    },
    DrGrpo {
        #[serde(default, skip_serializing_if = "is_default")]
        compat: Compat,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        groups_of_one: Option<GroupsOfOne>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        missing: Option<Missing>,
    },
    Gdpo {
        #[serde(default)]
        epsilon: Option<f64>,
        #[serde(default = "default_true")]
        batch_norm: bool,
        #[serde(default)]
        std: StdKind,
        #[serde(default, skip_serializing_if = "is_default")]
        epsilon_on: EpsilonOn,
        #[serde(default = "default_true", skip_serializing_if = "is_true")]
        group_std: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        whiten: Option<Whiten>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        batch_epsilon: Option<f64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        batch_epsilon_on: Option<EpsilonOn>,
        #[serde(default, skip_serializing_if = "is_default")]
        compat: Compat,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        groups_of_one: Option<GroupsOfOne>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        missing: Option<Missing>,
    },
    Rloo {
        #[serde(default, skip_serializing_if = "is_default")]
        compat: Compat,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        groups_of_one: Option<GroupsOfOne>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        missing: Option<Missing>,
    },
    ReinforcePpBaseline {
        #[serde(default)]
        epsilon: Option<f64>,
        #[serde(default)]
        std: StdKind,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        epsilon_on: Option<EpsilonOn>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        whiten: Option<Whiten>,
        #[serde(default, skip_serializing_if = "is_default")]
        compat: Compat,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        groups_of_one: Option<GroupsOfOne>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        missing: Option<Missing>,
    },
}

impl From<RawConfig> for AdvantageConfig {
    fn from(raw: RawConfig) -> Self {
        match raw {
            RawConfig::Grpo {
                scale,
                epsilon,
                std,
                epsilon_on,
                compat,
                groups_of_one,
                missing,
            } => AdvantageConfig::Grpo {
                scale,
                epsilon: epsilon.unwrap_or(compat.epsilon()),
                epsilon_on,
                std,
                compat,
                groups_of_one: groups_of_one.unwrap_or(compat.groups_of_one()),
                missing: missing.unwrap_or(compat.missing()),
            },
            RawConfig::DrGrpo {
                compat,
                groups_of_one,
                missing,
            } => AdvantageConfig::DrGrpo {
                compat,
                groups_of_one: groups_of_one.unwrap_or(compat.groups_of_one()),
                missing: missing.unwrap_or(compat.missing()),
            },
            RawConfig::Gdpo {
                epsilon,
                batch_norm,
                std,
                epsilon_on,
                group_std,
                whiten,
                batch_epsilon,
                batch_epsilon_on,
                compat,
                groups_of_one,
                missing,
            } => {
                let epsilon = epsilon.unwrap_or(compat.epsilon());
                let (be, bon) = compat.whiten_epsilon(epsilon);
                AdvantageConfig::Gdpo {
                    epsilon,
                    epsilon_on,
                    group_std,
                    batch_norm,
                    whiten: whiten.unwrap_or(compat.whiten()),
                    batch_epsilon: batch_epsilon.unwrap_or(be),
                    batch_epsilon_on: batch_epsilon_on.unwrap_or(bon),
                    std,
                    compat,
                    groups_of_one: groups_of_one.unwrap_or(compat.groups_of_one()),
                    missing: missing.unwrap_or(compat.missing()),
                }
            }
            RawConfig::Rloo {
                compat,
                groups_of_one,
                missing,
            } => AdvantageConfig::Rloo {
                compat,
                groups_of_one: groups_of_one.unwrap_or(compat.groups_of_one()),
                missing: missing.unwrap_or(compat.missing()),
            },
            RawConfig::ReinforcePpBaseline {
                epsilon,
                std,
                epsilon_on,
                whiten,
                compat,
                groups_of_one,
                missing,
            } => {
                let (e, on) = compat.whiten_epsilon(compat.epsilon());
                AdvantageConfig::ReinforcePpBaseline {
                    epsilon: epsilon.unwrap_or(e),
                    epsilon_on: epsilon_on.unwrap_or(on),
                    whiten: whiten.unwrap_or(compat.whiten()),
                    std,
                    compat,
                    groups_of_one: groups_of_one.unwrap_or(compat.groups_of_one()),
                    missing: missing.unwrap_or(compat.missing()),
                }
            }
        }
    }
}

impl From<AdvantageConfig> for RawConfig {
    fn from(c: AdvantageConfig) -> Self {
        match c {
            AdvantageConfig::Grpo {
                scale,
                epsilon,
                epsilon_on,
                std,
                compat,
                groups_of_one,
                missing,
            } => RawConfig::Grpo {
                scale,
                epsilon: Some(epsilon),
                std,
                epsilon_on,
                compat,
                groups_of_one: unless(groups_of_one, compat.groups_of_one()),
                missing: unless(missing, compat.missing()),
            },
            AdvantageConfig::DrGrpo {
                compat,
                groups_of_one,
                missing,
            } => RawConfig::DrGrpo {
                compat,
                groups_of_one: unless(groups_of_one, compat.groups_of_one()),
                missing: unless(missing, compat.missing()),
            },
            AdvantageConfig::Gdpo {
                epsilon,
                epsilon_on,
                group_std,
                batch_norm,
                whiten,
                batch_epsilon,
                batch_epsilon_on,
                std,
                compat,
                groups_of_one,
                missing,
            } => {
                let (be, bon) = compat.whiten_epsilon(epsilon);
                RawConfig::Gdpo {
                    epsilon: Some(epsilon),
                    batch_norm,
                    std,
                    epsilon_on,
                    group_std,
                    whiten: unless(whiten, compat.whiten()),
                    batch_epsilon: unless(batch_epsilon, be),
                    batch_epsilon_on: unless(batch_epsilon_on, bon),
                    compat,
                    groups_of_one: unless(groups_of_one, compat.groups_of_one()),
                    missing: unless(missing, compat.missing()),
                }
            }
            AdvantageConfig::Rloo {
                compat,
                groups_of_one,
                missing,
            } => RawConfig::Rloo {
                compat,
                groups_of_one: unless(groups_of_one, compat.groups_of_one()),
                missing: unless(missing, compat.missing()),
            },
            AdvantageConfig::ReinforcePpBaseline {
                epsilon,
                epsilon_on,
                whiten,
                std,
                compat,
                groups_of_one,
                missing,
            } => {
                let (_, on) = compat.whiten_epsilon(compat.epsilon());
                RawConfig::ReinforcePpBaseline {
                    epsilon: Some(epsilon),
                    std,
                    epsilon_on: unless(epsilon_on, on),
                    whiten: unless(whiten, compat.whiten()),
                    compat,
                    groups_of_one: unless(groups_of_one, compat.groups_of_one()),
                    missing: unless(missing, compat.missing()),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::InvalidEpsilon;

    fn parse(s: &str) -> AdvantageConfig {
        toml::from_str(s).unwrap()
    }

    #[test]
    fn parses_tagged_toml_and_rejects_unknown_keys() {
        let c = parse("kind = \"gdpo\"\nepsilon = 1e-4");
        assert!(matches!(
            c,
            AdvantageConfig::Gdpo {
                epsilon: 1e-4,
                batch_epsilon: 1e-4,
                batch_norm: true,
                std: StdKind::Sample,
                ..
            }
        ));
        assert!(matches!(
            parse("kind = \"grpo\"\nscale = \"none\""),
            AdvantageConfig::Grpo {
                scale: GrpoScale::None,
                ..
            }
        ));
        let e = toml::from_str::<AdvantageConfig>("kind = \"gdpo\"\nbatchnorm = true").unwrap_err();
        assert!(e.to_string().contains("unknown field `batchnorm`"), "{e}");
        let e = toml::from_str::<AdvantageConfig>("kind = \"rloo\"\nepsilon = 1.0").unwrap_err();
        assert!(e.to_string().contains("unknown field `epsilon`"), "{e}");
        let e = toml::from_str::<AdvantageConfig>("kind = \"ppo\"").unwrap_err();
        assert!(e.to_string().contains("unknown variant `ppo`"), "{e}");
        let e = toml::from_str::<AdvantageConfig>("kind = \"grpo\"\ncompat = \"openrlhf\"")
            .unwrap_err();
        assert!(e.to_string().contains("unknown variant `openrlhf`"), "{e}");
        assert_eq!(parse("kind = \"gdpo\""), AdvantageConfig::default());
    }

    #[test]
    fn compat_presets_and_overrides() {
        let c = parse("kind = \"gdpo\"\ncompat = \"trl\"");
        assert!(matches!(
            c,
            AdvantageConfig::Gdpo {
                epsilon: 1e-4,
                batch_epsilon: 1e-4,
                whiten: Whiten::Rollouts,
                groups_of_one: GroupsOfOne::Zero,
                missing: Missing::Skip,
                ..
            }
        ));
        let c = parse("kind = \"gdpo\"\ncompat = \"verl\"");
        assert!(matches!(
            c,
            AdvantageConfig::Gdpo {
                epsilon: 1e-6,
                batch_epsilon: 1e-8,
                batch_epsilon_on: EpsilonOn::Variance,
                whiten: Whiten::Tokens,
                groups_of_one: GroupsOfOne::Raw,
                missing: Missing::Reject,
                ..
            }
        ));
        let c = parse("kind = \"reinforce_pp_baseline\"\ncompat = \"verl\"\nwhiten = \"rollouts\"");
        assert!(matches!(
            c,
            AdvantageConfig::ReinforcePpBaseline {
                epsilon: 1e-8,
                epsilon_on: EpsilonOn::Variance,
                whiten: Whiten::Rollouts,
                ..
            }
        ));
        let c = parse("kind = \"dr_grpo\"\ncompat = \"trl\"\nmissing = \"reject\"");
        assert!(matches!(
            c,
            AdvantageConfig::DrGrpo {
                missing: Missing::Reject,
                groups_of_one: GroupsOfOne::Zero,
                ..
            }
        ));
    }

    #[test]
    fn serializes_back_to_the_same_config_and_keeps_old_keys_only_for_vigil() {
        for s in [
            "kind = \"gdpo\"",
            "kind = \"gdpo\"\ncompat = \"verl\"\nbatch_epsilon = 0.5",
            "kind = \"grpo\"\ncompat = \"trl\"\ngroups_of_one = \"reject\"\nepsilon_on = \"variance\"",
            "kind = \"reinforce_pp_baseline\"\ncompat = \"verl\"\nepsilon_on = \"std\"",
            "kind = \"rloo\"\nmissing = \"skip\"",
            "kind = \"dr_grpo\"\ncompat = \"verl\"",
        ] {
            let c = parse(s);
            let text = toml::to_string(&c).unwrap();
            assert_eq!(parse(&text), c, "{s} -> {text}");
        }
        assert_eq!(
            toml::to_string(&AdvantageConfig::default()).unwrap(),
            "kind = \"gdpo\"\nepsilon = 0.000001\nbatch_norm = true\nstd = \"sample\"\n"
        );
    }

    #[test]
    fn rejects_bad_epsilon() {
        assert_eq!(
            parse("kind = \"gdpo\"\nepsilon = -1.0").validate(),
            Err(InvalidEpsilon {
                key: "epsilon",
                value: -1.0
            })
        );
        let e = parse("kind = \"gdpo\"\nbatch_epsilon = -1.0")
            .validate()
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "advantage.batch_epsilon must be finite and >= 0, got -1"
        );
    }
}

//! `[policy]`: what writes the assistant messages.

use serde::{Deserialize, Serialize};
use vigil_core::Policy;
use vigil_policy::openai::OpenAiPolicyConfig;
use vigil_policy::{Qwen3PolicyConfig, build_qwen3_policy};

use super::BuiltEnv;

/// The `[policy]` section; `kind` picks the policy type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub(crate) enum PolicyConfig {
    /// One of the environment's scripted baselines (`exp eval` lists them on a bad name).
    Scripted {
        /// Baseline name, e.g. `"always_dismiss"` or `"oracle"`.
        baseline: String,
    },
    /// A Qwen3 checkpoint run in-process with burn (the policy `[trainer]` trains).
    Qwen3(Qwen3PolicyConfig),
    /// A model behind an OpenAI-compatible server (vLLM, SGLang, `exp serve`).
    Openai(OpenAiPolicyConfig),
}

impl PolicyConfig {
    /// Validates the policy's own options.
    pub(crate) fn validate(&self) -> anyhow::Result<()> {
        match self {
            PolicyConfig::Scripted { baseline } => {
                anyhow::ensure!(!baseline.is_empty(), "baseline must not be empty");
                Ok(())
            }
            PolicyConfig::Qwen3(q) => Ok(q.validate()?),
            PolicyConfig::Openai(o) => Ok(o.validate()?),
        }
    }

    /// The policy as evaluated: `[eval] temperature`, when set, replaces the sampling
    /// temperature of a model policy.
    pub(crate) fn for_eval(&self, temperature: Option<f32>) -> PolicyConfig {
        let mut p = self.clone();
        if let Some(t) = temperature {
            match &mut p {
                PolicyConfig::Scripted { .. } => {}
                PolicyConfig::Qwen3(q) => q.temperature = t,
                PolicyConfig::Openai(o) => o.temperature = t,
            }
        }
        p
    }

    /// A short label for tables.
    pub(crate) fn label(&self) -> String {
        match self {
            PolicyConfig::Scripted { baseline } => baseline.clone(),
            PolicyConfig::Qwen3(_) => "qwen3".into(),
            PolicyConfig::Openai(o) => format!("openai-{}", o.model),
        }
    }

    /// Builds the policy for `env`.
    pub(crate) fn build(&self, env: &BuiltEnv, seed: u64) -> anyhow::Result<Box<dyn Policy>> {
        match self {
            PolicyConfig::Scripted { baseline } => env.baseline(baseline, seed),
            PolicyConfig::Qwen3(q) => Ok(build_qwen3_policy(q)?),
            PolicyConfig::Openai(o) => Ok(Box::new(o.build()?)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> PolicyConfig {
        toml::from_str(text).expect("policy config")
    }

    #[test]
    fn eval_temperature_replaces_model_sampling_only() {
        let q = parse("kind = \"qwen3\"\nmodel = \"m\"\ntemperature = 0.7\n");
        let temperature = |p: &PolicyConfig| match p {
            PolicyConfig::Qwen3(q) => Some(q.temperature),
            PolicyConfig::Openai(o) => Some(o.temperature),
            PolicyConfig::Scripted { .. } => None,
        };
        assert_eq!(temperature(&q.for_eval(None)), Some(0.7));
        assert_eq!(temperature(&q.for_eval(Some(0.0))), Some(0.0));
        let s = parse("kind = \"scripted\"\nbaseline = \"always_dismiss\"\n");
        assert_eq!(s.for_eval(Some(0.5)), s);
    }
}
